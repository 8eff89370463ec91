"""Sharding as Discord does it: each guild's events travel on shard (guild_id >> 22) % num_shards, only to
the session holding that shard; bad shards are refused with 4010, missing ones with 4011 when required."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakes.discord import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    InteractionRecord,
    build_test_server,
    point_discord_py_at,
    shard_of,
)

from .shard_bots import OneShardBot, ShardedBot, run_until_closed, start_bot, stop_bot


@dataclass
class Place:
    guild: FakeGuild
    general: FakeChannel
    alice: FakeMember


@dataclass
class TwoShards:
    fake: FakeDiscord
    zero: Place  # a guild on shard 0 of 2
    one: Place  # a guild on shard 1 of 2

    @property
    def guild_ids(self) -> list[int]:
        return [self.zero.guild.id, self.one.guild.id]


def _place(fake: FakeDiscord, name: str, shard: tuple[int, int]) -> Place:
    guild = fake.add_guild(name, shard=shard)
    return Place(guild, guild.add_text_channel("general"), guild.add_member("alice"))


@pytest.fixture
async def two_shards() -> AsyncIterator[TwoShards]:
    fake = FakeDiscord()
    world = TwoShards(fake, _place(fake, "Zero", (0, 2)), _place(fake, "One", (1, 2)))
    await fake.start()
    restore = point_discord_py_at(fake.api_base, fake.gateway_url)
    try:
        yield world
    finally:
        restore()
        await fake.stop()
    assert not fake.violations, fake.violations


def _events(fake: FakeDiscord, shard: tuple[int, int], event: str) -> list[dict[str, Any]]:
    """Payloads of ``event`` the fake sent to (or queued for) the active session holding ``shard``."""
    (session,) = [s for s in fake.gateway.sessions.values() if s.shard == shard and s.active]
    return [f["d"] for f in session.sent if f["t"] == event]


async def _where(world: TwoShards, place: Place) -> InteractionRecord:
    return await world.fake.slash(place.alice, "where", channel=place.general)


# --- the helpers ---------------------------------------------------------------------------------------


def test_guild_ids_land_on_the_chosen_shard_and_stay_time_ordered() -> None:
    fake = FakeDiscord(openapi_path=None)
    ids = []
    for n in (1, 2, 3, 16):
        for i in range(n):
            guild_id = fake.guild_id_for_shard(i, n)
            assert shard_of(guild_id, n) == i
            ids.append(guild_id)
    ids.append(fake.new_id())
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # still unique and increasing
    assert shard_of(fake.add_guild("Far", shard=(5, 7)).id, 7) == 5
    world = build_test_server(fake, shard=(2, 3), name="Third")
    assert shard_of(world.guild.id, 3) == 2 and world.guild.name == "Third"
    for bad in ((2, 2), (-1, 2), (0, 0)):
        with pytest.raises(ValueError, match="no shard"):
            fake.guild_id_for_shard(*bad)


# --- one process, two shards -----------------------------------------------------------------------------


async def test_auto_sharded_client_gets_each_guild_on_its_own_shard(two_shards: TwoShards) -> None:
    fake = two_shards.fake
    bot = ShardedBot(two_shards.guild_ids, "auto", shard_count=2)
    task = await start_bot(bot, fake.bot_token)
    try:
        assert fake.gateway.connected_shards() == {(0, 2), (1, 2)}
        assert ("GET", "/gateway/bot", 200) not in fake.requests  # the count was given
        for shard, place in (((0, 2), two_shards.zero), ((1, 2), two_shards.one)):
            (ready,) = _events(fake, shard, "READY")
            assert ready["shard"] == list(shard)
            assert [g["id"] for g in ready["guilds"]] == [str(place.guild.id)]
            assert [g["id"] for g in _events(fake, shard, "GUILD_CREATE")] == [str(place.guild.id)]
            seen = bot.get_guild(place.guild.id)
            assert seen is not None and seen.shard_id == shard[0]

        ix = await _where(two_shards, two_shards.one)
        assert ix.shard == (1, 2)
        await fake.wait_for_response(ix, timeout=10)
        assert bot.answered == [ix.id]
        assert [d["id"] for d in _events(fake, (1, 2), "INTERACTION_CREATE")] == [str(ix.id)]
        assert _events(fake, (0, 2), "INTERACTION_CREATE") == []
    finally:
        await stop_bot(bot, task)


# --- two processes, one shard each -----------------------------------------------------------------------


async def test_two_clients_each_get_only_their_shard(two_shards: TwoShards) -> None:
    fake = two_shards.fake
    first = OneShardBot(two_shards.guild_ids, "first", shard_id=0, shard_count=2)
    second = OneShardBot(two_shards.guild_ids, "second", shard_id=1, shard_count=2)
    first_task = await start_bot(first, fake.bot_token)
    second_task = await start_bot(second, fake.bot_token)
    try:
        assert [g.id for g in first.guilds] == [two_shards.zero.guild.id]
        assert [g.id for g in second.guilds] == [two_shards.one.guild.id]
        await fake.wait_for_shards({(0, 2), (1, 2)})

        on_one = await _where(two_shards, two_shards.one)
        answer = await fake.wait_for_message(two_shards.one.general, timeout=10)
        assert answer.interaction_id == on_one.id and answer.content == "answered by second"
        on_zero = await _where(two_shards, two_shards.zero)
        await fake.wait_for_response(on_zero, timeout=10)
        assert (first.answered, second.answered) == ([on_zero.id], [on_one.id])
        assert (on_zero.shard, on_one.shard) == ((0, 2), (1, 2))

        assert on_one.delivered and on_zero.delivered
        await stop_bot(second, second_task)  # shard 1 is offline; its session waits for a RESUME
        await fake.wait_for_shards({(0, 2)})
        orphan = await _where(two_shards, two_shards.one)
        assert orphan.shard == (1, 2) and not orphan.delivered  # queued for the second process only
        with pytest.raises(TimeoutError):
            await fake.wait_for_response(orphan, timeout=1.0)
        assert orphan.id not in first.answered and not orphan.acknowledged
        still = await _where(two_shards, two_shards.zero)
        await fake.wait_for_response(still, timeout=10)  # the other process carries on
        assert first.answered == [on_zero.id, still.id]
    finally:
        await stop_bot(first, first_task)
        await stop_bot(second, second_task)


async def test_resume_keeps_the_shard_and_replays_only_its_events(two_shards: TwoShards) -> None:
    fake = two_shards.fake
    first = OneShardBot(two_shards.guild_ids, "first", shard_id=0, shard_count=2)
    second = OneShardBot(two_shards.guild_ids, "second", shard_id=1, shard_count=2)
    first_task = await start_bot(first, fake.bot_token)
    second_task = await start_bot(second, fake.bot_token)
    try:
        assert await fake.drop_gateway(shard=(1, 2)) == 1  # only the second process loses its socket
        missed = await fake.member_says(two_shards.one.alice, two_shards.one.general, "while you were away")
        elsewhere = await fake.member_says(two_shards.zero.alice, two_shards.zero.general, "on shard 0")

        await asyncio.wait_for(second.resumed_event.wait(), 10)
        await second.wait_until(lambda: missed.id in second.seen_messages)
        await first.wait_until(lambda: elsewhere.id in first.seen_messages)
        assert (fake.gateway.identifies, fake.gateway.resumes) == (2, 1)
        assert not first.resumed_event.is_set()
        assert fake.gateway.connected_shards() == {(0, 2), (1, 2)}

        after = await _where(two_shards, two_shards.one)
        await fake.wait_for_response(after, timeout=10)
        assert second.answered == [after.id]
        assert elsewhere.id not in second.seen_messages and missed.id not in first.seen_messages
    finally:
        await stop_bot(first, first_task)
        await stop_bot(second, second_task)


# --- refusals and /gateway/bot ----------------------------------------------------------------------------


async def _identify(fake: FakeDiscord, **extra: Any) -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(fake.gateway_url + "?v=10&encoding=json")
    hello = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
    assert hello["op"] == 10
    await ws.send_json({"op": 2, "d": {"token": fake.bot_token, "intents": 513, "properties": {}, **extra}})
    return session, ws


async def _close_code(fake: FakeDiscord, **extra: Any) -> int | None:
    session, ws = await _identify(fake, **extra)
    async with session:
        while True:
            msg = await asyncio.wait_for(ws.receive(), 5)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return ws.close_code
            if json.loads(msg.data).get("t") == "READY":
                await ws.close()
                return None


async def test_invalid_shard_is_closed_with_4010(two_shards: TwoShards) -> None:
    fake = two_shards.fake
    for bad in ([2, 2], [-1, 2], [0, 0], [0], [0, 2, 1], "0,2", [True, 2], [0, "2"], None):
        code = await _close_code(fake, shard=bad)
        assert code == (None if bad is None else 4010), bad  # JSON null: as if absent, shard (0, 1)
    error = await run_until_closed(OneShardBot([], "lost", shard_id=2, shard_count=2), fake.bot_token)
    assert isinstance(error, discord.ConnectionClosed) and error.code == 4010
    assert fake.gateway.identifies == 1  # only the null shard got a session


async def test_sharding_required_closes_with_4011_and_gateway_bot_says_how_many() -> None:
    fake = FakeDiscord(shards_required=2, recommended_shards=3)
    places = [_place(fake, f"Guild {i}", (i, 3)) for i in range(3)]
    async with fake:
        restore = point_discord_py_at(fake.api_base, fake.gateway_url)
        try:
            assert await _close_code(fake) == 4011  # no shard
            assert await _close_code(fake, shard=[0, 1]) == 4011  # too few
            assert await _close_code(fake, shard=[1, 2]) is None  # enough, though not the recommended 3
            error = await run_until_closed(OneShardBot([], "unsharded"), fake.bot_token)
            assert isinstance(error, discord.ConnectionClosed) and error.code == 4011

            bot = ShardedBot([p.guild.id for p in places], "auto")  # no count: asks GET /gateway/bot
            task = await start_bot(bot, fake.bot_token)
            try:
                assert ("GET", "/gateway/bot", 200) in fake.requests and bot.shard_count == 3
                assert fake.gateway.connected_shards() == {(0, 3), (1, 3), (2, 3)}
                assert {g.id: g.shard_id for g in bot.guilds} == {p.guild.id: i for i, p in enumerate(places)}
                ix = await fake.slash(places[2].alice, "where", channel=places[2].general)
                await fake.wait_for_response(ix, timeout=10)
                assert ix.shard == (2, 3)
            finally:
                await stop_bot(bot, task)
        finally:
            restore()


# --- events without a guild, guilds added later, one shard identified twice ----------------------------


async def _dispatches(ws: aiohttp.ClientWebSocketResponse, until: str) -> list[tuple[str, dict[str, Any]]]:
    """Dispatches received up to and including the first ``until`` event."""
    got = []
    while True:
        frame = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
        if frame["op"] == 0:
            got.append((frame["t"], frame["d"]))
            if frame["t"] == until:
                return got


async def test_events_without_a_guild_go_to_shard_zero_and_new_guilds_to_their_shard(
    two_shards: TwoShards,
) -> None:
    fake = two_shards.fake
    s0, ws0 = await _identify(fake, shard=[0, 2])
    s1, ws1 = await _identify(fake, shard=[1, 2])
    async with s0, s1:
        await _dispatches(ws0, "GUILD_CREATE")
        await _dispatches(ws1, "GUILD_CREATE")
        await fake.emit("USER_UPDATE", fake.bot_user.to_json())  # the bot's own user: no guild
        late = fake.add_guild("Late", shard=(1, 2))
        await fake.wait_for_shards({(0, 2), (1, 2)})

        assert [t for t, _ in await _dispatches(ws0, "USER_UPDATE")] == ["USER_UPDATE"]
        (created,) = await _dispatches(ws1, "GUILD_CREATE")
        assert created[1]["id"] == str(late.id)
        late.add_text_channel("news")  # CHANNEL_CREATE in the late guild: shard 1 only
        news = await _dispatches(ws1, "CHANNEL_CREATE")
        assert [t for t, _ in news] == ["CHANNEL_CREATE"] and news[0][1]["guild_id"] == str(late.id)
        assert [f["t"] for f in _session_frames(fake, (0, 2))] == ["READY", "GUILD_CREATE", "USER_UPDATE"]


def _session_frames(fake: FakeDiscord, shard: tuple[int, int]) -> list[dict[str, Any]]:
    (session,) = [s for s in fake.gateway.sessions.values() if s.shard == shard and s.active]
    return session.sent


async def test_the_newest_session_of_a_shard_gets_its_events(two_shards: TwoShards) -> None:
    fake = two_shards.fake
    old_http, old = await _identify(fake, shard=[1, 2])
    async with old_http:
        ready_old = (await _dispatches(old, "READY"))[0][1]
        new_http, new = await _identify(fake, shard=[1, 2])
        async with new_http:
            await _dispatches(new, "GUILD_CREATE")
            two_shards.one.guild.add_text_channel("news")
            (created,) = await _dispatches(new, "CHANNEL_CREATE")
            assert created[1]["name"] == "news"
            assert [f["t"] for f in _session_frames(fake, (1, 2))][-1] == "CHANNEL_CREATE"
            old_session = fake.gateway.sessions[ready_old["session_id"]]
            assert old_session.superseded and [f["t"] for f in old_session.sent] == ["READY", "GUILD_CREATE"]
            assert fake.gateway.connected_shards() == {(1, 2)}

            await old.close(code=4000)  # the superseded client reconnects: its session cannot be resumed
            async with old_http.ws_connect(fake.gateway_url) as again:
                await asyncio.wait_for(again.receive(), 5)  # HELLO
                resume = {"token": fake.bot_token, "session_id": ready_old["session_id"], "seq": 2}
                await again.send_json({"op": 6, "d": resume})
                assert json.loads((await asyncio.wait_for(again.receive(), 5)).data) == {"op": 9, "d": False}


async def test_a_clean_close_ends_the_session(two_shards: TwoShards) -> None:
    fake = two_shards.fake
    http, ws = await _identify(fake, shard=[1, 2])
    async with http:
        session_id = (await _dispatches(ws, "READY"))[0][1]["session_id"]
        await fake.gateway.drop_connections(4000, shard=(1, 2))
        queued = await _where_unsynced(two_shards)
        assert (queued.shard, queued.session_id, queued.delivered) == ((1, 2), session_id, False)

        async with http.ws_connect(fake.gateway_url) as again:  # RESUME gets the queued interaction...
            await asyncio.wait_for(again.receive(), 5)
            await again.send_json({"op": 6, "d": {"token": fake.bot_token, "session_id": session_id, "seq": 2}})
            replayed = await _dispatches(again, "RESUMED")
            assert [t for t, _ in replayed] == ["INTERACTION_CREATE", "RESUMED"]
            await again.close(code=1000)  # ...then the bot leaves for good
        await fake.wait_for_shards(set())
        assert fake.gateway.sessions[session_id].ended
        nobody = await _where_unsynced(two_shards)
        assert (nobody.shard, nobody.session_id, nobody.delivered) == (None, None, False)


async def _where_unsynced(world: TwoShards) -> InteractionRecord:
    """/where in shard 1's guild with no bot to sync it: the test syncs it over REST itself."""
    fake = world.fake
    if not fake.commands.names(world.one.guild.id):
        headers = {"Authorization": f"Bot {fake.bot_token}"}
        url = f"{fake.api_base}/applications/{fake.application_id}/guilds/{world.one.guild.id}/commands"
        body = [{"name": "where", "description": "Says which bot answered", "type": 1}]
        async with aiohttp.ClientSession(headers=headers) as http, http.put(url, json=body) as resp:
            assert resp.status == 200
    return await _where(world, world.one)
