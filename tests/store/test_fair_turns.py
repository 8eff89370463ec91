"""The order jobs go to the provider in: fair between servers and members (issue 16), on both stores."""

from __future__ import annotations

from datetime import timedelta

from bot.jobs import Job, JobState, JobStore
from tests.store.backends import ManualClock
from tests.store.factories import ALICE, BOB, GUILD, OTHER_GUILD, drive_to, make_job

CAROL = 555_555_555_555_555_555
SMALL_GUILD = 777_777_777_777_777_777


async def _queue(store: JobStore, clock: ManualClock, guild_id: int, user_id: int, count: int) -> list[Job]:
    jobs = []
    for _ in range(count):
        clock.advance(0.005)  # distinct creation times: the tie-break is age
        jobs.append(await store.create_job(make_job(clock, guild_id=guild_id, user_id=user_id), []))
    return jobs


def _who(jobs: list[Job]) -> list[tuple[int, int]]:
    return [(j.guild_id, j.user_id) for j in jobs]


async def test_a_servers_burst_does_not_go_ahead_of_a_small_servers_job(store: JobStore, clock: ManualClock) -> None:
    burst = await _queue(store, clock, GUILD, ALICE, 30)
    small = (await _queue(store, clock, SMALL_GUILD, BOB, 1))[0]

    order = await store.queued_fairly(limit=100)

    assert [j.id for j in order[:2]] == [burst[0].id, small.id]  # the small server's job goes second, not 31st
    assert [j.id for j in order if j.guild_id == GUILD] == [j.id for j in burst]  # a member's own: oldest first


async def test_members_of_one_server_take_turns(store: JobStore, clock: ManualClock) -> None:
    await _queue(store, clock, GUILD, ALICE, 3)
    await _queue(store, clock, GUILD, BOB, 2)
    await _queue(store, clock, GUILD, CAROL, 1)

    order = await store.queued_fairly(limit=100)

    assert _who(order) == [(GUILD, ALICE), (GUILD, BOB), (GUILD, CAROL), (GUILD, ALICE), (GUILD, BOB), (GUILD, ALICE)]


async def test_a_server_with_jobs_in_flight_waits_behind_one_with_none(store: JobStore, clock: ManualClock) -> None:
    running = await _queue(store, clock, GUILD, ALICE, 3)
    for job in running:
        await drive_to(store, job, JobState.SUBMITTED)
    busy = await _queue(store, clock, GUILD, BOB, 1)  # BOB's server has three jobs at the provider already
    idle = await _queue(store, clock, OTHER_GUILD, CAROL, 2)

    order = await store.queued_fairly(limit=100)

    assert [j.id for j in order] == [idle[0].id, idle[1].id, busy[0].id]


async def test_the_fair_queue_holds_only_queued_jobs_up_to_the_limit(store: JobStore, clock: ManualClock) -> None:
    jobs = await _queue(store, clock, GUILD, ALICE, 4)
    await store.transition(jobs[0].id, from_states=[JobState.ACCEPTED], to=JobState.CANCELLED)

    assert [j.id for j in await store.queued_fairly(limit=2)] == [jobs[1].id, jobs[2].id]
    assert await store.queued_fairly(limit=0) == []


async def _at_provider(store: JobStore, clock: ManualClock, guild_id: int, due_in: float) -> Job:
    job = await drive_to(store, await store.create_job(make_job(clock, guild_id=guild_id), []), JobState.SUBMITTING)
    moved = await store.transition(job.id, from_states={JobState.SUBMITTING}, to=JobState.SUBMITTED,
                                   task_id=f"t-{job.id}", next_poll_at=clock.now + timedelta(seconds=due_in))
    assert moved is not None
    return moved


async def test_due_polls_take_turns_between_servers(store: JobStore, clock: ManualClock) -> None:
    # A big server's 20 tasks came due before the small server's one: with polls waiting for the rate limit,
    # the small server's is still among the first taken, and each server's own go longest-waiting first.
    big = [await _at_provider(store, clock, GUILD, due_in=n) for n in range(20)]
    small = await _at_provider(store, clock, SMALL_GUILD, due_in=30)
    now = clock.now + timedelta(seconds=60)

    leased = await store.lease({JobState.SUBMITTED}, owner="w", now=now, until=now, limit=4, due_only=True)

    assert {j.id for j in leased} == {big[0].id, small.id, big[1].id, big[2].id}
