"""Leases: how several bot processes share one database without working on the same job at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.jobs import JobState, JobStore
from tests.store.backends import ManualClock
from tests.store.conftest import OpenHandle
from tests.store.factories import ALICE, BOB, drive_to, make_job

S = JobState
LEASE = timedelta(seconds=30)


async def submitted_job(store: JobStore, clock: ManualClock, **overrides: object) -> str:
    job = await store.create_job(make_job(clock, **overrides), [])
    await drive_to(store, job, S.SUBMITTED)
    return job.id


async def test_a_leased_job_is_not_handed_to_another_process_until_the_lease_runs_out(
    store: JobStore, clock: ManualClock
) -> None:
    job_id = await submitted_job(store, clock)
    before = await store.get_job(job_id)
    assert before is not None

    [mine] = await store.lease([S.SUBMITTED], owner="a", now=clock(), until=clock() + LEASE, limit=10)
    assert (mine.id, mine.lease_owner, mine.attempt) == (job_id, "a", before.attempt + 1)
    assert mine.lease_until == clock() + LEASE

    clock.advance(29)
    assert await store.lease([S.SUBMITTED], owner="b", now=clock(), until=clock() + LEASE, limit=10) == []

    clock.advance(1)  # a holder that stopped renewing: the lease has run out
    [taken] = await store.lease([S.SUBMITTED], owner="b", now=clock(), until=clock() + LEASE, limit=10)
    assert (taken.lease_owner, taken.attempt) == ("b", mine.attempt + 1)


async def test_the_late_write_of_a_process_that_lost_its_lease_is_refused(store: JobStore, clock: ManualClock) -> None:
    job_id = await submitted_job(store, clock)
    [stale] = await store.lease([S.SUBMITTED], owner="a", now=clock(), until=clock() + LEASE, limit=1)
    clock.advance(31)
    [fresh] = await store.lease([S.SUBMITTED], owner="b", now=clock(), until=clock() + LEASE, limit=1)

    # "a" wakes up from its pause and reports what it saw: refused, nothing changes.
    assert await store.update_progress(job_id, provider_status="processing", progress_percent=50, eta_seconds=9,
                                       next_poll_at=clock(), poll_count=9, fence=stale.attempt) is None
    assert await store.transition(job_id, from_states=[S.SUBMITTED], to=S.SUCCEEDED, fence=stale.attempt,
                                  video_url="https://cdn.example/a.mp4") is None
    assert await store.get_job(job_id) == fresh

    # "b"'s write goes through and ends its lease with it.
    done = await store.transition(job_id, from_states=[S.SUBMITTED], to=S.SUCCEEDED, fence=fresh.attempt,
                                  video_url="https://cdn.example/b.mp4")
    assert done is not None and (done.state, done.lease_owner, done.lease_until) == (S.SUCCEEDED, None, None)
    assert done.video_url == "https://cdn.example/b.mp4"


async def test_a_fenced_poll_record_releases_the_job_for_its_next_poll(store: JobStore, clock: ManualClock) -> None:
    job_id = await submitted_job(store, clock)
    [held] = await store.lease([S.SUBMITTED], owner="a", now=clock(), until=clock() + LEASE, limit=1, due_only=True)
    later = clock() + timedelta(seconds=5)
    polled = await store.update_progress(job_id, provider_status="processing", progress_percent=10, eta_seconds=5,
                                         next_poll_at=later, poll_count=1, fence=held.attempt)
    assert polled is not None and (polled.lease_owner, polled.lease_until, polled.poll_count) == (None, None, 1)

    # Not due yet: nobody takes it; once due, any process may.
    assert await store.lease([S.SUBMITTED], owner="b", now=clock(), until=clock() + LEASE, limit=1,
                             due_only=True) == []
    clock.advance(5)
    [next_poll] = await store.lease([S.SUBMITTED], owner="b", now=clock(), until=clock() + LEASE, limit=1,
                                    due_only=True)
    assert next_poll.id == job_id and next_poll.attempt == held.attempt + 1


async def test_due_leases_come_longest_waiting_first_and_respect_the_limit(
    store: JobStore, clock: ManualClock
) -> None:
    ids = [await submitted_job(store, clock, user_id=ALICE + n) for n in range(4)]
    for n, job_id in enumerate(ids):  # the last one has waited longest
        await store.update_progress(job_id, provider_status="queued", progress_percent=None, eta_seconds=None,
                                    next_poll_at=clock() - timedelta(seconds=n), poll_count=1)
    first = await store.lease([S.SUBMITTED], owner="a", now=clock(), until=clock() + LEASE, limit=2, due_only=True)
    assert {j.id for j in first} == {ids[3], ids[2]}
    rest = await store.lease([S.SUBMITTED], owner="b", now=clock(), until=clock() + LEASE, limit=10, due_only=True)
    assert sorted(j.id for j in rest) == sorted(ids[:2])


async def test_processes_leasing_at_the_same_time_get_disjoint_jobs(
    store: JobStore, open_handle: OpenHandle, clock: ManualClock
) -> None:
    ids = {await submitted_job(store, clock, user_id=ALICE + n) for n in range(40)}
    others = [await open_handle() for _ in range(3)]
    handles = [store, *others]

    async def take(owner: int) -> list[str]:
        got: list[str] = []
        while batch := await handles[owner % 4].lease(
            [S.SUBMITTED], owner=f"p{owner}", now=clock(), until=clock() + LEASE, limit=3
        ):
            got += [j.id for j in batch]
        return got

    taken = await asyncio.gather(*(take(n) for n in range(8)))
    flat = [job_id for batch in taken for job_id in batch]
    assert sorted(flat) == sorted(ids), "every job leased exactly once"


async def test_renewing_keeps_only_the_leases_still_held(store: JobStore, clock: ManualClock) -> None:
    one = await submitted_job(store, clock)
    two = await submitted_job(store, clock, user_id=BOB)
    await store.lease([S.SUBMITTED], owner="a", now=clock(), until=clock() + LEASE, limit=2)

    clock.advance(20)
    assert await store.renew_leases("a", [one, two], until=clock() + LEASE) == {one, two}
    assert await store.renew_leases("b", [one, two], until=clock() + LEASE) == set()  # not b's

    clock.advance(29)  # still within the renewed lease: nobody else may take them
    assert await store.lease([S.SUBMITTED], owner="b", now=clock(), until=clock() + LEASE, limit=2) == []

    # Renewing to "now" hands a job back at once (a failed delivery to retry soon, anywhere).
    await store.renew_leases("a", [one], until=clock())
    [back] = await store.lease([S.SUBMITTED], owner="b", now=clock(), until=clock() + LEASE, limit=2)
    assert back.id == one
    assert await store.renew_leases("a", [one, two], until=clock() + LEASE) == {two}


async def test_claiming_a_submit_takes_a_member_slot_under_a_lease(store: JobStore, clock: ManualClock) -> None:
    first = await store.create_job(make_job(clock), [])
    claimed = await store.claim_submit(first.id, max_active=2, owner="a", until=clock() + LEASE)
    assert claimed is not None
    assert (claimed.state, claimed.attempt, claimed.lease_owner) == (S.SUBMITTING, first.attempt + 1, "a")
    assert await store.claim_submit(first.id, max_active=2, owner="b", until=clock() + LEASE) is None  # taken

    # A submit abandoned by a dead process: leased again only once its lease ran out.
    assert await store.lease([S.SUBMITTING], owner="b", now=clock(), until=clock() + LEASE, limit=5) == []
    clock.advance(30)
    [abandoned] = await store.lease([S.SUBMITTING], owner="b", now=clock(), until=clock() + LEASE, limit=5)
    assert abandoned.id == first.id


async def test_no_member_gets_more_running_jobs_than_allowed_however_many_processes_claim(
    store: JobStore, open_handle: OpenHandle, clock: ManualClock
) -> None:
    queued = [await store.create_job(make_job(clock), []) for _ in range(8)]
    bobs = [await store.create_job(make_job(clock, user_id=BOB), []) for _ in range(2)]
    handles = [store, *[await open_handle() for _ in range(3)]]

    results = await asyncio.gather(*(
        handles[n % 4].claim_submit(job.id, max_active=2, owner=f"p{n % 4}", until=clock() + LEASE)
        for n, job in enumerate([*queued, *bobs, *queued])
    ))
    claimed = [job for job in results if job is not None]
    assert sorted(job.user_id for job in claimed) == [ALICE, ALICE, BOB, BOB]
    assert await store.count_active(queued[0].guild_id, ALICE) == 2
    assert len(await store.queued_for(queued[0].guild_id, ALICE)) == 6


async def test_a_restarted_sole_process_frees_its_earlier_runs_leases_but_its_late_writes_stay_refused(
    store: JobStore, clock: ManualClock
) -> None:
    first, second, mine, elsewhere = [await submitted_job(store, clock) for _ in range(4)]
    old = "bot-7f3a:41:a1b2c3"  # this host's earlier run (worker_name: host:pid:random)
    now = "bot-7f3a:41:d4e5f6"  # the same host restarted: even the same pid, a new random part
    [old_a, old_b] = await store.lease([S.SUBMITTED], owner=old, now=clock(), until=clock() + LEASE, limit=2)
    [held] = await store.lease([S.SUBMITTED], owner=now, now=clock(), until=clock() + LEASE, limit=1)
    # Another host's process, still running during a deploy: its lease is not ours to free.
    [other] = await store.lease([S.SUBMITTED], owner="bot-7f3a2:9:aaaaaa", now=clock(), until=clock() + LEASE,
                                limit=1)
    assert (old_a.id, old_b.id, held.id, other.id) == (first, second, mine, elsewhere)

    assert await store.release_leases(host="bot-7f3a", except_owner=now) == sorted([first, second])
    assert await store.release_leases(host="bot-7f3a", except_owner=now) == []  # nothing left to free
    assert (await store.get_job(elsewhere)).lease_owner == "bot-7f3a2:9:aaaaaa"  # type: ignore[union-attr]
    # Free at once, long before the 30 s lease would have run out; the new run's own lease is untouched.
    taken = await store.lease([S.SUBMITTED], owner=now, now=clock(), until=clock() + LEASE, limit=10)
    assert sorted(j.id for j in taken) == sorted([first, second])
    assert (await store.get_job(mine)).lease_owner == now  # type: ignore[union-attr]
    # Were the earlier run still writing somewhere, its fence is stale now.
    assert await store.transition(first, from_states=[S.SUBMITTED], to=S.SUCCEEDED, fence=old_a.attempt,
                                  video_url="https://cdn.example/late.mp4") is None
