"""A restart loses nothing: what was written is there after closing and reopening the database."""

from __future__ import annotations

from datetime import timedelta

from bot.jobs import ACTIVE_STATES, JobState, JobStore
from tests.store.backends import ManualClock
from tests.store.conftest import OpenHandle
from tests.store.factories import ALICE, GUILD, drive_to, make_inputs, make_job


async def test_jobs_survive_closing_and_reopening(open_handle: OpenHandle, clock: ManualClock) -> None:
    first = await open_handle()
    by_state: dict[JobState, str] = {}
    for state in JobState:
        job = await first.create_job(make_job(clock), make_inputs(2))
        by_state[state] = (await drive_to(first, job, state)).id
        clock.advance(1)
    queued_with_inputs = by_state[JobState.ACCEPTED]
    await first.update_progress(
        by_state[JobState.SUBMITTED],
        provider_status="TASK_STATUS_PROCESSING",
        progress_percent=50,
        eta_seconds=20,
        next_poll_at=clock.now + timedelta(seconds=3),
        poll_count=4,
    )
    before = {job_id: await first.get_job(job_id) for job_id in by_state.values()}
    await first.close()

    second = await open_handle()

    after = {job_id: await second.get_job(job_id) for job_id in by_state.values()}
    assert after == before
    assert await second.get_inputs(queued_with_inputs) == make_inputs(2)
    assert [j.id for j in await second.queued_for(GUILD, ALICE)] == [queued_with_inputs]
    # What a restarted bot picks up: the submit in flight (to mark submit_unknown), the task to keep
    # following, and the finished video not yet posted. Nothing else.
    resumed = await second.jobs_in_states(ACTIVE_STATES)
    assert [(j.state, j.id) for j in resumed] == [
        (JobState.SUBMITTING, by_state[JobState.SUBMITTING]),
        (JobState.SUBMITTED, by_state[JobState.SUBMITTED]),
        (JobState.SUCCEEDED, by_state[JobState.SUCCEEDED]),
    ]
    assert resumed[1].poll_count == 4


async def test_a_write_from_one_handle_is_seen_by_another_at_once(open_handle: OpenHandle, clock: ManualClock) -> None:
    writer, reader = await open_handle(), await open_handle()
    job = await writer.create_job(make_job(clock), make_inputs(1))
    assert await reader.get_job(job.id) == job
    moved = await writer.transition(job.id, from_states={JobState.ACCEPTED}, to=JobState.SUBMITTING)
    assert await reader.get_job(job.id) == moved


async def test_opening_twice_applies_migrations_once_and_records_them(
    open_handle: OpenHandle, clock: ManualClock
) -> None:
    first = await open_handle()
    job = await first.create_job(make_job(clock), [])
    versions = await first.schema_versions()
    await first.close()

    second = await open_handle()
    third = await open_handle()  # open while another handle is open, too

    assert versions[0] == (1, "init")
    assert await second.schema_versions() == versions
    assert await third.schema_versions() == versions
    assert await second.migrate() == []  # nothing left to apply
    assert await second.get_job(job.id) == job


async def test_closing_twice_is_harmless(store: JobStore) -> None:
    await store.close()
    await store.close()
