"""The gateway as discord.py and a raw client see it: handshake, bad token, sharding, RESUME."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import discord

from tests.fakes.discord import FakeDiscord

from .tiny_bot import TinyBot


async def _frame(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def test_handshake_ready_guild_create_and_shard_echo(fake_discord: FakeDiscord) -> None:
    url = fake_discord.gateway_url + "?v=10&encoding=json&compress=zlib-stream"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        hello = await _frame(ws)
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert (await _frame(ws))["op"] == 11
        identify = {
            "token": fake_discord.bot_token,
            "intents": 515,
            "properties": {},
            "shard": [0, 1],
        }  # with GUILD_MEMBERS
        await ws.send_json({"op": 2, "d": identify})
        ready = await _frame(ws)
        assert (ready["t"], ready["s"]) == ("READY", 1)
        assert ready["d"]["shard"] == [0, 1]
        assert ready["d"]["application"]["id"] == str(fake_discord.application_id)
        assert ready["d"]["guilds"] == [{"id": str(fake_discord.world.guild.id), "unavailable": True}]
        guild = await _frame(ws)
        assert (guild["t"], guild["s"]) == ("GUILD_CREATE", 2)
        names = {c["name"]: c["type"] for c in guild["d"]["channels"]}
        assert names == {"general": 0, "showcase": 15}
        roles = {r["name"]: int(r["permissions"]) for r in guild["d"]["roles"]}
        assert roles["Moderators"] & (1 << 5)  # Manage Server
        assert {m["user"]["username"] for m in guild["d"]["members"]} >= {"alice", "bob", "mod"}
        assert guild["d"]["premium_tier"] == 0


async def test_bad_token_closes_with_4004(fake_discord: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(fake_discord.gateway_url) as ws:
        await _frame(ws)
        await ws.send_json({"op": 2, "d": {"token": "not-the-token", "intents": 1, "properties": {}}})
        msg = await asyncio.wait_for(ws.receive(), 5)
        assert msg.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 4004
    async with (
        aiohttp.ClientSession() as session,
        session.get(fake_discord.api_base + "/users/@me", headers={"Authorization": "Bot nope"}) as resp,
    ):
        assert resp.status == 401 and (await resp.json())["message"] == "401: Unauthorized"


async def test_bad_token_stops_discord_py_with_login_failure(fake_discord: FakeDiscord) -> None:
    from tests.fakes.discord import point_discord_py_at

    restore = point_discord_py_at(fake_discord.api_base, fake_discord.gateway_url)
    bot = TinyBot(fake_discord.world.guild.id)
    try:
        try:
            await asyncio.wait_for(bot.login("wrong"), 10)
        except discord.LoginFailure:
            pass
        else:
            raise AssertionError("discord.py logged in with a wrong token")
    finally:
        await bot.close()
        restore()


async def test_resume_after_a_dropped_socket_replays_missed_events(
    fake_discord: FakeDiscord, tiny_bot: TinyBot
) -> None:
    world = fake_discord.world
    assert await fake_discord.drop_gateway() == 1
    missed = await fake_discord.member_says(world.bob, world.general, "while you were away")

    await asyncio.wait_for(tiny_bot.resumed_event.wait(), 10)
    seen = await tiny_bot.wait_seen(missed.id)
    assert seen.author.id == world.bob.id
    assert (fake_discord.gateway.identifies, fake_discord.gateway.resumes) == (1, 1)

    after = await fake_discord.member_says(world.alice, world.general, "welcome back")
    assert (await tiny_bot.wait_seen(after.id)).author.id == world.alice.id


async def test_resume_with_unknown_session_is_invalidated(fake_discord: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(fake_discord.gateway_url) as ws:
        await _frame(ws)
        await ws.send_json({"op": 6, "d": {"token": fake_discord.bot_token, "session_id": "nope", "seq": 3}})
        assert await _frame(ws) == {"op": 9, "d": False}


async def test_message_content_intent_is_respected(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    plain = await fake_discord.member_says(world.bob, world.general, "secret words")
    mention = await fake_discord.member_says(world.bob, world.general, f"{fake_discord.bot_user.mention} hi")
    assert (await tiny_bot.wait_seen(plain.id)).content == ""  # default intents: no MESSAGE_CONTENT
    assert (await tiny_bot.wait_seen(mention.id)).content.endswith(" hi")


async def test_reconnect_opcode_makes_the_bot_resume(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    await fake_discord.gateway.send_reconnect()
    gateway = fake_discord.gateway
    await fake_discord.wait_for(
        lambda: gateway.resumes == 1 and gateway.connected.is_set(), timeout=10,
        what="a RESUME after op 7", seen=lambda: f"identifies={gateway.identifies} resumes={gateway.resumes}",
    )  # fmt: skip
    assert gateway.identifies == 1


async def test_stopping_the_fake_under_a_connected_bot_does_not_hang() -> None:
    from tests.fakes.discord import build_test_server, point_discord_py_at

    from .tiny_bot import start_tiny_bot, stop_tiny_bot

    fake = await FakeDiscord().start()
    world = build_test_server(fake)
    restore = point_discord_py_at(fake.api_base, fake.gateway_url)
    bot, task = await start_tiny_bot(fake.bot_token, world.guild.id)
    try:
        await asyncio.wait_for(fake.stop(), 10)  # aiohttp would otherwise wait 60 s for the open socket
    finally:
        await stop_tiny_bot(bot, task)
        restore()
