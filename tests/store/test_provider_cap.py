"""PROVIDER_MAX_IN_FLIGHT in the store: claims count every server's tasks at the provider, exactly, even when
several processes claim at the same instant (issue 28 item 4)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.jobs import JobState, JobStore
from tests.store.backends import ManualClock
from tests.store.conftest import OpenHandle
from tests.store.factories import GUILD, OTHER_GUILD, drive_to, make_job

S = JobState
LEASE = timedelta(seconds=30)


async def test_a_claim_waits_while_the_provider_holds_the_cap_and_goes_once_a_task_ends(
    store: JobStore, clock: ManualClock
) -> None:
    running = [await drive_to(store, await store.create_job(make_job(clock, user_id=n), []), S.SUBMITTED)
               for n in (1, 2)]
    leaving = await store.create_job(make_job(clock, user_id=3), [])
    claimed = await store.claim_submit(leaving.id, max_active=2, owner="a", until=clock() + LEASE, provider_cap=3)
    assert claimed is not None and claimed.state is S.SUBMITTING  # a request leaving counts too, from now on

    waiting = await store.create_job(make_job(clock, guild_id=OTHER_GUILD, user_id=4), [])
    assert await store.claim_submit(waiting.id, max_active=2, owner="a", until=clock() + LEASE,
                                    provider_cap=3) is None
    assert (await store.get_job(waiting.id)).state is S.ACCEPTED  # type: ignore[union-attr]  # still queued
    # Without the cap (the default) the same claim goes: the member has free slots.
    assert await store.claim_submit(waiting.id, max_active=2, owner="a", until=clock() + LEASE) is not None
    await store.transition(waiting.id, from_states=[S.SUBMITTING], to=S.ACCEPTED)

    # A finished video waiting to be posted no longer takes the provider's time.
    await store.transition(running[0].id, from_states=[S.SUBMITTED], to=S.SUCCEEDED, video_url="https://v/1.mp4")
    again = await store.claim_submit(waiting.id, max_active=2, owner="a", until=clock() + LEASE, provider_cap=3)
    assert again is not None and again.state is S.SUBMITTING


async def test_no_more_tasks_than_the_cap_however_many_processes_claim_at_once(
    store: JobStore, open_handle: OpenHandle, clock: ManualClock
) -> None:
    queued = [await store.create_job(make_job(clock, guild_id=GUILD + n % 3, user_id=100 + n), [])
              for n in range(12)]
    handles = [store, *[await open_handle() for _ in range(3)]]

    results = await asyncio.gather(*(
        handles[n % 4].claim_submit(job.id, max_active=2, owner=f"p{n % 4}", until=clock() + LEASE, provider_cap=5)
        for n, job in enumerate(queued)
    ))
    assert len([job for job in results if job is not None]) == 5
    counts = await store.count_by_state([S.SUBMITTING, S.ACCEPTED])
    assert (counts[S.SUBMITTING], counts[S.ACCEPTED]) == (5, 7)


async def test_a_queued_jobs_place_is_its_turn_in_the_fair_order(store: JobStore, clock: ManualClock) -> None:
    big = [await store.create_job(make_job(clock, guild_id=GUILD, user_id=200 + n), []) for n in range(3)]
    small = await store.create_job(make_job(clock, guild_id=OTHER_GUILD, user_id=300), [])
    order = [job.id for job in await store.queued_fairly(limit=10)]
    assert order == [big[0].id, small.id, big[1].id, big[2].id]  # servers take turns
    assert [await store.fair_place(job_id) for job_id in order] == [1, 2, 3, 4]
    await drive_to(store, big[0], S.SUBMITTED)
    assert await store.fair_place(big[0].id) is None  # no longer queued
    # The big server has a task running now: the small server's one job goes first, then the big server's turns.
    assert [await store.fair_place(job.id) for job in (small, big[1], big[2])] == [1, 2, 3]
