"""A member's queue limit and cooldown hold when their requests arrive at the same instant: create_job
checks them in the transaction that stores the job, under the server's lock (as it does the quota), on
four handles (as four processes would) of each backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.jobs import Job, JobInput, JobKind, JobState
from bot.params import Img2VideoParams
from bot.quotas import MemberPace, QueueFull, TooSoon
from tests.store.backends import BACKENDS, ManualClock, backend_params

G, ALICE, BOB = 10, 1, 2


async def ask(store: object, clock: ManualClock, pace: MemberPace, user: int = ALICE) -> Job:
    job = Job.new(guild_id=G, channel_id=5, user_id=user, kind=JobKind.IMG2VIDEO,
                  params=Img2VideoParams(prompt="p", duration=5), resolution="720p", duration_seconds=5, now=clock())
    return await store.create_job(job, [JobInput(0, "a.png", "image/png", b"x")], pace=pace)  # type: ignore[attr-defined]


async def at_once(tmp_path: Path, backend_name: str, pace: MemberPace, clock: ManualClock,
                  requests: int = 50) -> tuple[list[Job], list[BaseException], list[Job]]:
    handles = [await BACKENDS[backend_name].open(tmp_path, clock) for _ in range(4)]
    try:
        results = await asyncio.gather(*(ask(handles[n % 4], clock, pace) for n in range(requests)),
                                       return_exceptions=True)
        bob = await ask(handles[0], clock, pace, user=BOB)  # another member is not held back by Alice's limit
        stored = await handles[0].recent_jobs(G, ALICE, limit=1000)
    finally:
        for handle in handles:
            await handle.close()
    accepted = [r for r in results if isinstance(r, Job)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert bob.user_id == BOB
    assert sorted(j.id for j in stored) == sorted(j.id for j in accepted)  # nothing half-written
    return accepted, refused, stored


@pytest.mark.parametrize("backend_name", backend_params())
async def test_50_requests_at_once_with_a_queue_limit_of_5_store_exactly_5(tmp_path: Path, backend_name: str) -> None:
    clock = ManualClock(datetime(2026, 5, 5, 12, tzinfo=UTC))
    accepted, refused, _ = await at_once(tmp_path, backend_name, MemberPace(max_queued=5), clock)
    assert len(accepted) == 5 and all(job.state is JobState.ACCEPTED for job in accepted)
    assert len(refused) == 45 and all(isinstance(r, QueueFull) for r in refused), {type(r) for r in refused}
    assert {(r.queued, r.limit) for r in refused} == {(5, 5)}  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend_name", backend_params())
async def test_50_requests_at_once_with_a_60_s_cooldown_store_exactly_1(tmp_path: Path, backend_name: str) -> None:
    clock = ManualClock(datetime(2026, 5, 5, 12, tzinfo=UTC))
    accepted, refused, _ = await at_once(tmp_path, backend_name, MemberPace(cooldown_seconds=60), clock)
    assert len(accepted) == 1
    assert len(refused) == 49 and all(isinstance(r, TooSoon) for r in refused), {type(r) for r in refused}
    assert {(r.cooldown_seconds, r.wait_seconds) for r in refused} == {(60, 60.0)}  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend_name", backend_params())
async def test_the_cooldown_ends_when_it_says_and_a_started_job_frees_its_queue_place(
    tmp_path: Path, backend_name: str
) -> None:
    clock = ManualClock(datetime(2026, 5, 5, 12, tzinfo=UTC))
    store = await BACKENDS[backend_name].open(tmp_path, clock)
    try:
        first = await ask(store, clock, MemberPace(cooldown_seconds=60, max_queued=1))
        clock.advance(59.5)
        with pytest.raises(TooSoon) as early:
            await ask(store, clock, MemberPace(cooldown_seconds=60, max_queued=5))
        assert early.value.wait_seconds == pytest.approx(0.5)
        clock.advance(0.5)
        with pytest.raises(QueueFull):  # 60 s on: the cooldown is over, but the one queue place is taken
            await ask(store, clock, MemberPace(cooldown_seconds=60, max_queued=1))
        await store.transition(first.id, from_states=[JobState.ACCEPTED], to=JobState.SUBMITTING)
        await ask(store, clock, MemberPace(cooldown_seconds=60, max_queued=1))  # submitting is not queued
    finally:
        await store.close()
