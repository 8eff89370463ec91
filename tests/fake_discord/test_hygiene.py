"""Secrets stay out of logs, reprs and records; the OpenAPI check is optional; sharded bots connect."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import discord
import pytest

from tests.fakes.discord import FakeDiscord, build_test_server, point_discord_py_at
from tests.fakes.discord.openapi import find_openapi_document

from .raw import callback, command, post_message, sync


async def test_tokens_never_reach_logs_reprs_or_records(
    http: aiohttp.ClientSession, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tests.fakes")
    world = fake_discord.world
    assert (await sync(http, fake_discord, [command()]))[0] == 200
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general)
    await callback(http, ix, {"type": 5})
    async with http.post(f"/api/v10/webhooks/{fake_discord.application_id}/bad-token", json={"content": "x"}) as r:
        body = await r.text()
    await post_message(http, world.general.id, {"embeds": "not a list"})  # logged as a violation
    fake_discord.violations.clear()
    everything = " ".join(
        [caplog.text, repr(fake_discord), repr(ix), repr(fake_discord.interactions), str(fake_discord.requests), body]
    )
    for secret in (fake_discord.bot_token, ix.token):
        assert secret not in everything


async def test_openapi_check_is_skipped_cleanly_without_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_OPENAPI_PATH", "/nonexistent/discord-openapi.json")
    assert find_openapi_document() is None
    async with FakeDiscord() as fake:
        world = build_test_server(fake)
        headers = {"Authorization": f"Bot {fake.bot_token}"}
        async with aiohttp.ClientSession(base_url=fake.base_url, headers=headers) as http:
            status, _ = await post_message(http, world.general.id, {"content": "hi", "embeds": [{"title": 5}]})
        assert status == 200 and fake.violations == [] and not fake.openapi.enabled
    monkeypatch.delenv("DISCORD_OPENAPI_PATH")
    found = find_openapi_document()
    assert found is None or found == Path(__file__).resolve().parents[3] / "shared" / "discord-openapi.json"


async def test_auto_sharded_bot_reads_gateway_bot_and_gets_its_shard(fake_discord: FakeDiscord) -> None:
    restore = point_discord_py_at(fake_discord.api_base, fake_discord.gateway_url)
    client = discord.AutoShardedClient(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    ready = asyncio.Event()
    client.event(_setter(ready))
    task = asyncio.create_task(client.start(fake_discord.bot_token))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        assert client.shard_count == 1 and client.get_guild(fake_discord.world.guild.id) is not None
        assert ("GET", "/gateway/bot", 200) in fake_discord.requests
        (session,) = fake_discord.gateway.sessions.values()
        assert session.shard == (0, 1)
    finally:
        await asyncio.wait_for(client.close(), 10)
        await asyncio.gather(task, return_exceptions=True)
        restore()


def _setter(event: asyncio.Event) -> Callable[[], Awaitable[None]]:
    async def on_ready() -> None:
        event.set()

    return on_ready


async def test_gateway_records_keep_interaction_tokens_out_of_reprs(fake_discord: FakeDiscord, tiny_bot) -> None:
    world = fake_discord.world
    ix = await fake_discord.slash(world.alice, "later", channel=world.general)
    await fake_discord.wait_for_response(ix, timeout=10)
    sessions = list(fake_discord.gateway.sessions.values())
    assert any(f["t"] == "INTERACTION_CREATE" for s in sessions for f in s.sent)  # the token travelled...
    assert ix.token not in repr(sessions) and ix.token not in repr(fake_discord.messages(world.general))  # ...quietly
