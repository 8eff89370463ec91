"""What moderators change is kept per server and audited: what it was, what it became, who and when
(/mod audit). Limits, grants, server settings, blocked members and the prompt blocklist, on every backend."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.db import SQLiteStore
from bot.jobs import Job, JobInput, JobKind, JobState
from bot.moderation import BlockedTerm
from bot.params import Img2VideoParams
from bot.pricing import BUILT_IN
from bot.quotas import GuildSettings, Limit, Period, Scope, Usage, charge_for
from tests.store.backends import BACKENDS, ManualClock, backend_params
from tests.store.factories import drive_to

G, OTHER, ALICE, MOD = 10, 20, 1, 99
NOON = datetime(2026, 5, 5, 12, tzinfo=UTC)
NOON_MS = int(NOON.timestamp() * 1000)


@pytest.fixture(params=backend_params())
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with await BACKENDS[request.param].open(tmp_path, ManualClock(NOON)) as opened:
        yield opened


async def audit(store: SQLiteStore, guild_id: int = G) -> list[tuple[Any, ...]]:
    """The audit log newest first, its JSON read back."""
    return [(e["actor_id"], e["action"], e["before"] and json.loads(e["before"]), e["after"] and json.loads(e["after"]),
             e["at"]) for e in await store.audit(guild_id)]


def limit_json(videos: int | None, seconds: int | None, credits: int | None) -> dict[str, Any]:
    return {"scope": "role", "target_id": 77, "period": "week", "videos": videos, "seconds": seconds,
            "credits": credits}


async def test_limits_set_replaced_and_cleared_are_audited_with_before_and_after(store: SQLiteStore) -> None:
    first = Limit(G, Scope.ROLE, 77, Period.WEEK, 5, None, 2000)
    assert await store.set_limit(first, actor_id=MOD) is None
    second = Limit(G, Scope.ROLE, 77, Period.WEEK, None, 300, None)
    assert await store.set_limit(second, actor_id=MOD + 1) == first
    assert await store.limits(G) == [second]
    assert await store.clear_limit(G, Scope.ROLE, 77, Period.MONTH, actor_id=MOD) is None  # nothing there: no entry
    assert await store.clear_limit(OTHER, Scope.ROLE, 77, Period.WEEK, actor_id=MOD) is None  # another server's
    assert await store.clear_limit(G, Scope.ROLE, 77, Period.WEEK, actor_id=MOD + 2) == second
    assert await store.limits(G) == []
    assert await audit(store) == [
        (MOD + 2, "quota.clear", limit_json(None, 300, None), None, NOON_MS),
        (MOD + 1, "quota.set", limit_json(5, None, 2000), limit_json(None, 300, None), NOON_MS),
        (MOD, "quota.set", None, limit_json(5, None, 2000), NOON_MS),
    ]
    assert await audit(store, OTHER) == []


async def test_a_grant_is_audited_and_gives_only_what_it_names(store: SQLiteStore) -> None:
    job = Job.new(guild_id=G, channel_id=5, user_id=ALICE, kind=JobKind.IMG2VIDEO, params=Img2VideoParams(prompt="p"),
                  resolution="720p", duration_seconds=5, now=NOON)
    charge = charge_for(G, ALICE, kind="img2video", resolution="720p", seconds=5, settings=GuildSettings(),
                        prices=BUILT_IN)
    await store.create_job(job, [JobInput(0, "a.png", "image/png", b"x")], charge=charge, checks=[])
    await store.grant(G, ALICE, videos=2, seconds=30, actor_id=MOD)
    assert await store.usage(G, ALICE, NOON) == Usage(-1, -25, 90)  # no credits granted: none named
    await store.grant(G, ALICE, videos=0, seconds=0, credits=500, actor_id=MOD)
    assert await store.usage(G, ALICE, NOON) == Usage(-1, -25, -410)
    assert await store.usage(G, None, NOON) == Usage(1, 5, 90)  # the pool ignores grants
    assert await audit(store) == [
        (MOD, "quota.grant", None, {"user_id": ALICE, "videos": 0, "seconds": 0, "credits": 500}, NOON_MS),
        (MOD, "quota.grant", None, {"user_id": ALICE, "videos": 2, "seconds": 30, "credits": 0}, NOON_MS),
    ]


async def test_server_settings_are_kept_per_server_and_audited_under_the_moderators_action(store: SQLiteStore) -> None:
    assert await store.guild_settings(G) == GuildSettings()
    chosen = GuildSettings(timezone="Asia/Shanghai", cooldown_seconds=30, channel_ids=(5, 6), max_queued=2)
    assert await store.set_guild_settings(G, chosen, actor_id=MOD, action="config.limits") == GuildSettings()
    assert await store.guild_settings(G) == chosen
    assert await store.guild_settings(OTHER) == GuildSettings()
    later = GuildSettings(timezone="Europe/Paris")
    assert await store.set_guild_settings(G, later, actor_id=MOD, action="config.timezone") == chosen
    assert await store.guild_settings(G) == later
    assert await audit(store) == [
        (MOD, "config.timezone", chosen.to_json(), later.to_json(), NOON_MS),
        (MOD, "config.limits", GuildSettings().to_json(), chosen.to_json(), NOON_MS),
    ]


async def test_blocking_and_unblocking_a_member_is_audited_with_the_reason(store: SQLiteStore) -> None:
    assert await store.set_blocked(G, ALICE, True, actor_id=MOD, reason="spam") is False
    assert await store.is_blocked(G, ALICE) and not await store.is_blocked(OTHER, ALICE)
    assert await store.set_blocked(G, ALICE, True, actor_id=MOD, reason="still spam") is True  # the reason changes
    assert await store.set_blocked(G, ALICE, False, actor_id=MOD) is True
    assert not await store.is_blocked(G, ALICE)
    assert await audit(store) == [
        (MOD, "mod.unblock", {"user_id": ALICE, "blocked": True},
         {"user_id": ALICE, "blocked": False, "reason": None}, NOON_MS),
        (MOD, "mod.block", {"user_id": ALICE, "blocked": True},
         {"user_id": ALICE, "blocked": True, "reason": "still spam"}, NOON_MS),
        (MOD, "mod.block", {"user_id": ALICE, "blocked": False},
         {"user_id": ALICE, "blocked": True, "reason": "spam"}, NOON_MS),
    ]


async def test_blocklist_terms_are_added_and_removed_per_server_and_audited(store: SQLiteStore) -> None:
    word, pattern = BlockedTerm("gore", is_regex=False), BlockedTerm("b[l1]ood", is_regex=True)
    assert await store.set_blocklisted(G, word, True, actor_id=MOD) is False
    assert await store.set_blocklisted(G, pattern, True, actor_id=MOD) is False
    assert await store.set_blocklisted(G, word, True, actor_id=MOD) is True  # already there: kept once
    assert await store.blocklist(G) == [pattern, word]  # by pattern
    assert await store.blocklist(OTHER) == []
    assert await store.set_blocklisted(G, BlockedTerm("gore", is_regex=True), False, actor_id=MOD) is False
    assert await store.set_blocklisted(G, word, False, actor_id=MOD) is True
    assert await store.blocklist(G) == [pattern]
    assert [entry[1:4] for entry in await audit(store)] == [
        ("mod.blocklist", {"term": "“gore”", "present": True}, {"term": "“gore”", "present": False}),
        ("mod.blocklist", {"term": "/gore/", "present": False}, {"term": "/gore/", "present": False}),
        ("mod.blocklist", {"term": "“gore”", "present": True}, {"term": "“gore”", "present": True}),
        ("mod.blocklist", {"term": "/b[l1]ood/", "present": False}, {"term": "/b[l1]ood/", "present": True}),
        ("mod.blocklist", {"term": "“gore”", "present": False}, {"term": "“gore”", "present": True}),
    ]


async def test_the_audit_shows_the_latest_20_changes_newest_first(store: SQLiteStore) -> None:
    clock: ManualClock = store._clock  # type: ignore[assignment]
    for n in range(21):
        await store.set_blocked(G, 1000 + n, True, actor_id=MOD)
        clock.advance(1)
    entries = await store.audit(G)
    assert [json.loads(e["after"])["user_id"] for e in entries] == list(range(1020, 1000, -1))
    assert entries[0]["at"] == NOON_MS + 20_000
    assert len(await store.audit(G, limit=21)) == 21


async def test_usage_by_member_lists_the_ten_who_spent_most(store: SQLiteStore) -> None:
    for user in range(1, 13):  # member n asks for n seconds at 720p: 40 + 10 n credits
        job = Job.new(guild_id=G, channel_id=5, user_id=user, kind=JobKind.IMG2VIDEO,
                      params=Img2VideoParams(prompt="p"), resolution="720p", duration_seconds=user, now=NOON)
        charge = charge_for(G, user, kind="img2video", resolution="720p", seconds=user, settings=GuildSettings(),
                            prices=BUILT_IN)
        created = await store.create_job(job, [], charge=charge, checks=[])
        if user == 12:
            await drive_to(store, created, JobState.CANCELLED)  # refunded: not counted
    rows = await store.usage_by_member(G, NOON)
    assert rows == [(user, Usage(1, user, 40 + 10 * user)) for user in range(11, 1, -1)]
    assert [user for user, _ in await store.usage_by_member(G, NOON, limit=11)] == list(range(11, 0, -1))


async def test_a_time_without_a_zone_is_refused_naming_it(store: SQLiteStore) -> None:
    naive = datetime(2026, 5, 5)
    with pytest.raises(ValueError, match=r"^since: a naive datetime"):
        await store.usage(G, ALICE, naive)
    with pytest.raises(ValueError, match=r"^since: a naive datetime"):
        await store.budget_usage(naive)
