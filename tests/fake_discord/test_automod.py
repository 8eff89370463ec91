"""AutoMod rules in the fake: moderators manage them, the bot reads them only with Manage Server, and hears
of changes only with the AUTO_MODERATION_CONFIGURATION intent."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakes.discord import FakeDiscord, FakeUsageError
from tests.fakes.discord import permissions as perms

from .raw import API, answer
from .test_permissions import until
from .tiny_bot import TinyBot

AUTOMOD_CONFIGURATION = 1 << 20


async def grant_manage_server(fake: FakeDiscord) -> None:
    role = fake.bot_role(fake.world.guild)
    await fake.update_role(role, permissions=role.permissions | perms.MANAGE_GUILD)


async def test_reading_rules_needs_manage_server(fake_discord: FakeDiscord, http: aiohttp.ClientSession) -> None:
    world = fake_discord.world
    rule = await fake_discord.create_automod_rule(world.guild, world.mod, "No cats", keywords=["cat*"],
                                                  custom_message="Not here.", exempt_roles=[world.moderators])
    rules_url = f"{API}/guilds/{world.guild.id}/auto-moderation/rules"
    async with http.get(rules_url) as resp:
        assert await answer(resp) == (403, {"code": 50013, "message": "Missing Permissions"})
    async with http.get(f"{rules_url}/{rule.id}") as resp:
        assert (await answer(resp))[0] == 403
    await grant_manage_server(fake_discord)
    async with http.get(rules_url) as resp:
        status, listed = await answer(resp)
    assert status == 200 and [r["name"] for r in listed] == ["No cats"]
    shown = listed[0]
    assert shown["trigger_metadata"] == {"keyword_filter": ["cat*"], "regex_patterns": [], "allow_list": []}
    assert shown["actions"] == [{"type": 1, "metadata": {"custom_message": "Not here."}}]
    assert shown["exempt_roles"] == [str(world.moderators.id)] and shown["enabled"] is True
    async with http.get(f"{rules_url}/{rule.id}") as resp:
        assert await answer(resp) == (200, shown)
    async with http.get(f"{rules_url}/{rule.id + 1}") as resp:
        assert (await answer(resp))[1]["code"] == 10066


async def test_discord_py_reads_the_rules_as_discord_sends_them(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    await fake_discord.create_automod_rule(world.guild, world.mod, "Words", keywords=["*dragon*"],
                                           regex_patterns=["b[a4]d"], allow_list=["dragonfly"],
                                           exempt_channels=[world.general], custom_message="Be nice")
    guild = tiny_bot.get_guild(world.guild.id)
    assert guild is not None
    with pytest.raises(discord.Forbidden):
        await guild.fetch_automod_rules()
    await grant_manage_server(fake_discord)
    (rule,) = await guild.fetch_automod_rules()
    assert rule.trigger.type is discord.AutoModRuleTriggerType.keyword
    assert (rule.trigger.keyword_filter, rule.trigger.regex_patterns, rule.trigger.allow_list) == (
        ["*dragon*"], ["b[a4]d"], ["dragonfly"])
    assert rule.exempt_channel_ids == {world.general.id}
    assert [a.custom_message for a in rule.actions] == ["Be nice"]
    assert (await guild.fetch_automod_rule(rule.id)).name == "Words"


async def test_rule_events_reach_a_bot_with_the_intent(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    heard: list[tuple[str, str, bool]] = []

    def noting(kind: str) -> Any:
        async def note(rule: discord.AutoModRule) -> None:
            heard.append((kind, rule.name, rule.enabled))
        return note

    for kind in ("create", "update", "delete"):
        tiny_bot.add_listener(noting(kind), f"on_automod_rule_{kind}")
    rule = await fake_discord.create_automod_rule(world.guild, world.mod, "Words", keywords=["cat"])
    await fake_discord.update_automod_rule(rule, world.mod, enabled=False)
    await fake_discord.delete_automod_rule(rule, world.mod)
    await until(lambda: len(heard) == 3, "three AutoMod events", timeout=10)
    assert heard == [("create", "Words", True), ("update", "Words", False), ("delete", "Words", False)]


async def _events_seen(fake: FakeDiscord, intents: int) -> list[str]:
    """The dispatches a session with `intents` gets while a rule is created, up to a role change after it."""
    world = fake.world
    async with aiohttp.ClientSession() as session, session.ws_connect(fake.gateway_url) as ws:
        await ws.receive()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": fake.bot_token, "intents": intents, "properties": {}}})
        seen: list[str] = []
        while "GUILD_CREATE" not in seen:
            seen.append(await _event(ws))
        await fake.create_automod_rule(world.guild, world.mod, "Words", keywords=["cat"])
        await fake.update_role(world.moderators, permissions=world.moderators.permissions)  # a marker after it
        while seen[-1] != "GUILD_ROLE_UPDATE":
            seen.append(await _event(ws))
        return seen


async def _event(ws: aiohttp.ClientWebSocketResponse) -> str:
    frame: dict[str, Any] = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
    return str(frame.get("t"))


async def test_rule_events_need_the_intent(fake_discord: FakeDiscord) -> None:
    assert "AUTO_MODERATION_RULE_CREATE" not in await _events_seen(fake_discord, 1)
    assert "AUTO_MODERATION_RULE_CREATE" in await _events_seen(fake_discord, 1 | AUTOMOD_CONFIGURATION)


async def test_only_a_moderator_may_change_rules_and_only_as_discord_allows(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    with pytest.raises(FakeUsageError, match="Manage Server"):
        await fake_discord.create_automod_rule(world.guild, world.alice, "Mine", keywords=["cat"])
    with pytest.raises(FakeUsageError, match="150"):
        await fake_discord.create_automod_rule(world.guild, world.mod, "Long", keywords=["cat"],
                                               custom_message="x" * 151)
    if fake_discord.openapi.enabled:  # Discord's own limits, from its OpenAPI description
        with pytest.raises(FakeUsageError, match="keyword_filter"):
            await fake_discord.create_automod_rule(world.guild, world.mod, "Long", keywords=["c" * 61])
    for n in range(6):
        await fake_discord.create_automod_rule(world.guild, world.mod, f"Rule {n}", keywords=["cat"])
    with pytest.raises(FakeUsageError, match="at most 6"):
        await fake_discord.create_automod_rule(world.guild, world.mod, "Seventh", keywords=["cat"])
    assert len(fake_discord.automod.in_guild(world.guild.id)) == 6
