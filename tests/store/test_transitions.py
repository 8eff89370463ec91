"""Every allowed step of the state machine, the refused ones, and the fields each step records."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs import ALLOWED_TRANSITIONS, TERMINAL_STATES, JobState, JobStore
from bot.jobs.states import ACTIVE_STATES
from tests.store.backends import ManualClock
from tests.store.conftest import OpenHandle
from tests.store.factories import drive_to, make_inputs, make_job

S = JobState
# What may follow what, written out rather than read from bot/jobs/states.py, so that an edge dropped from
# or added to ALLOWED_TRANSITIONS fails here: the store must apply exactly these steps and refuse every other.
EXPECTED_STEPS = {
    S.ACCEPTED: {S.SUBMITTING, S.CANCELLED},
    # back to the queue only when the provider provably created no task
    S.SUBMITTING: {S.SUBMITTED, S.REJECTED, S.FAILED, S.SUBMIT_UNKNOWN, S.ACCEPTED},
    S.SUBMITTED: {S.SUCCEEDED, S.FAILED, S.EXPIRED},
    S.SUCCEEDED: {S.DELIVERED, S.EXPIRED},  # a made video never fails: the provider billed it
}
FINAL = {S.DELIVERED, S.REJECTED, S.FAILED, S.SUBMIT_UNKNOWN, S.EXPIRED, S.CANCELLED}
ALLOWED = [(src, dst) for src, nexts in EXPECTED_STEPS.items() for dst in sorted(nexts)]
REFUSED = [(src, dst) for src in JobState for dst in JobState if dst not in EXPECTED_STEPS.get(src, set())]


def test_the_state_table_is_the_one_written_here() -> None:
    assert {src: set(nexts) for src, nexts in ALLOWED_TRANSITIONS.items() if nexts} == EXPECTED_STEPS
    assert set(TERMINAL_STATES) == FINAL == set(JobState) - set(EXPECTED_STEPS)


RUNNING = {S.SUBMITTING, S.SUBMITTED, S.SUCCEEDED}  # at the provider, or its video not posted yet


@pytest.mark.parametrize("state", list(JobState), ids=[s.value for s in JobState])
async def test_a_job_holds_one_of_its_members_running_slots_exactly_while_at_the_provider(
    store: JobStore, clock: ManualClock, state: JobState
) -> None:
    job = await drive_to(store, await store.create_job(make_job(clock), []), state)
    assert await store.count_active(job.guild_id, job.user_id) == (1 if state in RUNNING else 0)
    assert set(ACTIVE_STATES) == RUNNING


@pytest.mark.parametrize(("src", "dst"), ALLOWED, ids=[f"{s}->{d}" for s, d in ALLOWED])
async def test_every_allowed_transition_is_applied_and_stored(
    store: JobStore, clock: ManualClock, src: JobState, dst: JobState
) -> None:
    job = await drive_to(store, await store.create_job(make_job(clock), make_inputs()), src)
    attempt_before = job.attempt
    clock.advance(30)

    moved = await store.transition(job.id, from_states={src}, to=dst, reason="because")

    assert moved is not None
    assert moved.state is dst
    assert moved.reason == "because"
    assert await store.get_job(job.id) == moved
    if dst in TERMINAL_STATES:
        assert moved.finished_at == clock.now
    else:
        assert moved.finished_at is None
    if dst is JobState.SUBMITTED:
        assert moved.submitted_at == clock.now
    assert moved.attempt == attempt_before + (1 if dst is JobState.SUBMITTING else 0)


@pytest.mark.parametrize(("src", "dst"), REFUSED, ids=[f"{s}->{d}" for s, d in REFUSED])
async def test_transition_not_in_the_table_is_refused_and_changes_nothing(
    store: JobStore, clock: ManualClock, src: JobState, dst: JobState
) -> None:
    job = await drive_to(store, await store.create_job(make_job(clock), []), src)

    with pytest.raises(ValueError, match=f"{src.value} -> {dst.value}"):
        await store.transition(job.id, from_states={src}, to=dst)

    assert await store.get_job(job.id) == job


async def test_a_refused_step_among_several_from_states_refuses_the_whole_call(
    store: JobStore, clock: ManualClock
) -> None:
    job = await store.create_job(make_job(clock), [])
    with pytest.raises(ValueError, match=r"submitted -> cancelled"):
        await store.transition(job.id, from_states={JobState.ACCEPTED, JobState.SUBMITTED}, to=JobState.CANCELLED)
    assert (await store.get_job(job.id)) == job


async def test_a_transition_from_no_state_at_all_is_refused(store: JobStore, clock: ManualClock) -> None:
    job = await store.create_job(make_job(clock), [])
    with pytest.raises(ValueError, match=r"^transition to 'cancelled': from_states is empty$"):
        await store.transition(job.id, from_states=set(), to=JobState.CANCELLED)
    assert await store.get_job(job.id) == job


async def test_transition_from_the_wrong_state_returns_none_and_changes_nothing(
    store: JobStore, clock: ManualClock
) -> None:
    job = await drive_to(store, await store.create_job(make_job(clock), []), JobState.SUBMITTED)

    assert await store.transition(job.id, from_states={JobState.SUCCEEDED}, to=JobState.DELIVERED) is None
    assert await store.get_job(job.id) == job


async def test_transition_of_an_unknown_job_returns_none(store: JobStore) -> None:
    assert await store.transition("NOSUCHID", from_states={JobState.ACCEPTED}, to=JobState.CANCELLED) is None


async def test_transition_records_the_provider_fields(store: JobStore, clock: ManualClock) -> None:
    job = await drive_to(store, await store.create_job(make_job(clock), make_inputs()), JobState.SUBMITTING)
    next_poll = clock.now + timedelta(seconds=5)

    submitted = await store.transition(
        job.id,
        from_states={JobState.SUBMITTING},
        to=JobState.SUBMITTED,
        task_id="task-123",
        provider_status="TASK_STATUS_QUEUED",
        next_poll_at=next_poll,
    )
    assert submitted is not None
    assert (submitted.task_id, submitted.provider_status, submitted.next_poll_at) == (
        "task-123",
        "TASK_STATUS_QUEUED",
        next_poll,
    )
    expires = clock.now + timedelta(hours=1)
    done = await store.transition(
        job.id,
        from_states={JobState.SUBMITTED},
        to=JobState.SUCCEEDED,
        video_url="https://cdn.example/v.mp4?X-Signature=abc",
        video_expires_at=expires,
        progress_percent=100,
    )
    assert done is not None
    assert done.video_url == "https://cdn.example/v.mp4?X-Signature=abc"
    assert done.video_expires_at == expires
    delivered = await store.transition(
        job.id, from_states={JobState.SUCCEEDED}, to=JobState.DELIVERED, delivered_message_id=999
    )
    assert delivered is not None
    assert delivered.delivered_message_id == 999
    # The request itself is untouched by the whole trip.
    assert (delivered.params, delivered.created_at) == (job.params, job.created_at)


async def test_putting_a_job_back_keeps_its_place_in_the_queue(store: JobStore, clock: ManualClock) -> None:
    first = await store.create_job(make_job(clock), [])
    second = await store.create_job(make_job(clock), [])
    await store.transition(first.id, from_states={JobState.ACCEPTED}, to=JobState.SUBMITTING)
    assert [j.id for j in await store.queued_for(first.guild_id, first.user_id)] == [second.id]

    # The provider provably did not create a task (e.g. 429 on submit): back into the queue.
    back = await store.transition(first.id, from_states={JobState.SUBMITTING}, to=JobState.ACCEPTED)

    assert back is not None
    assert back.attempt == 1  # the fencing number is not reused
    assert [j.id for j in await store.queued_for(first.guild_id, first.user_id)] == [first.id, second.id]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"state": "delivered"}, "state"),
        ({"params": {}}, "params"),
        ({"colour": "red"}, "colour"),
        ({"next_poll_at": datetime(2026, 1, 1)}, "next_poll_at"),
        ({"progress_percent": "35"}, "progress_percent"),
        ({"task_id": 42}, "task_id"),
    ],
)
async def test_bad_fields_are_refused_with_a_message_naming_the_field(
    store: JobStore, clock: ManualClock, fields: dict[str, object], problem: str
) -> None:
    job = await store.create_job(make_job(clock), [])
    with pytest.raises(ValueError, match=problem):
        await store.transition(job.id, from_states={JobState.ACCEPTED}, to=JobState.SUBMITTING, **fields)
    assert await store.get_job(job.id) == job


async def test_two_concurrent_transitions_from_the_same_state_exactly_one_wins(
    store: JobStore, clock: ManualClock
) -> None:
    job = await store.create_job(make_job(clock), [])

    results = await asyncio.wait_for(
        asyncio.gather(
            store.transition(job.id, from_states={JobState.ACCEPTED}, to=JobState.SUBMITTING),
            store.transition(job.id, from_states={JobState.ACCEPTED}, to=JobState.CANCELLED),
        ),
        timeout=30,
    )

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert await store.get_job(job.id) == winners[0]


async def test_two_handles_racing_for_many_jobs_never_both_win(open_handle: OpenHandle, clock: ManualClock) -> None:
    # Two independent connections (as two bot processes would have) claim the same 20 jobs.
    one, two = await open_handle(), await open_handle()
    jobs = [await one.create_job(make_job(clock), []) for _ in range(20)]

    async def claim_all(handle: JobStore) -> list[str]:
        won = []
        for job in jobs:
            if await handle.transition(job.id, from_states={JobState.ACCEPTED}, to=JobState.SUBMITTING):
                won.append(job.id)
        return won

    won_one, won_two = await asyncio.wait_for(asyncio.gather(claim_all(one), claim_all(two)), timeout=60)

    assert set(won_one).isdisjoint(won_two)
    assert sorted(won_one + won_two) == sorted(j.id for j in jobs)
    for job in jobs:
        stored = await two.get_job(job.id)
        assert stored is not None
        assert (stored.state, stored.attempt) == (JobState.SUBMITTING, 1)


async def test_times_come_back_as_aware_utc(store: JobStore, clock: ManualClock) -> None:
    job = await store.create_job(make_job(clock), [])
    stored = await store.get_job(job.id)
    assert stored is not None
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.created_at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_cancelled_callers_never_leave_the_store_stuck_mid_transaction(
    store: JobStore, clock: ManualClock
) -> None:
    # Shutdown cancels whatever is in flight. Whatever was cancelled either happened or did not, and
    # the store keeps working afterwards.
    jobs = [await store.create_job(make_job(clock), []) for _ in range(30)]
    tasks = [
        asyncio.create_task(store.transition(j.id, from_states={JobState.ACCEPTED}, to=JobState.SUBMITTING))
        for j in jobs
    ]
    for _ in range(3):
        await asyncio.sleep(0)
    for task in tasks[::2]:
        task.cancel()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)

    for job, task in zip(jobs, tasks, strict=True):
        stored = await store.get_job(job.id)
        assert stored is not None
        assert stored.state in (JobState.ACCEPTED, JobState.SUBMITTING)
        if not task.cancelled():
            assert task.result() == stored
        # Every job can still be moved: no transaction was left open on the shared connection.
        end = JobState.CANCELLED if stored.state is JobState.ACCEPTED else JobState.FAILED
        moved = await store.transition(job.id, from_states={stored.state}, to=end, reason="shutdown")
        assert moved is not None
        assert moved.state is end
