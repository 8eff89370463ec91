"""What the bot reads back: inputs, the poller's due list, queues, active counts, history."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.jobs import JobInput, JobState, JobStore
from bot.params import MultiframeParams
from tests.store.backends import ManualClock
from tests.store.factories import ALICE, BOB, GUILD, OTHER_GUILD, drive_to, make_inputs, make_job


async def test_inputs_are_kept_in_order_until_deleted(store: JobStore, clock: ManualClock) -> None:
    inputs = make_inputs(4)
    job = await store.create_job(make_job(clock), list(reversed(inputs)))

    assert await store.get_inputs(job.id) == inputs

    assert await store.delete_inputs(job.id) == 4
    assert await store.get_inputs(job.id) == []
    assert await store.delete_inputs(job.id) == 0
    assert await store.get_job(job.id) == job  # the job itself stays


async def test_inputs_of_one_job_do_not_leak_into_another(store: JobStore, clock: ManualClock) -> None:
    one = await store.create_job(make_job(clock), make_inputs(2))
    two = await store.create_job(make_job(clock), [JobInput(0, "cat.webp", "image/webp", b"RIFF....WEBP")])
    await store.delete_inputs(one.id)
    assert await store.get_inputs(two.id) == [JobInput(0, "cat.webp", "image/webp", b"RIFF....WEBP")]


async def test_inputs_sharing_a_position_are_refused_and_nothing_is_stored(store: JobStore, clock: ManualClock) -> None:
    job = make_job(clock)
    with pytest.raises(ValueError, match="position"):
        await store.create_job(job, [JobInput(0, "a.png", "image/png", b"a"), JobInput(0, "b.png", "image/png", b"b")])
    assert await store.get_job(job.id) is None


async def test_a_new_job_must_start_accepted(store: JobStore, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="accepted"):
        await store.create_job(make_job(clock, state=JobState.SUBMITTED), [])


async def test_params_that_are_not_json_are_refused_naming_the_field(store: JobStore, clock: ManualClock) -> None:
    job = make_job(clock, params=MultiframeParams(prompts=({1, 2}, None), durations=(4, 5)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="params"):
        await store.create_job(job, [])
    assert await store.get_job(job.id) is None


async def test_a_taken_id_is_replaced_by_a_fresh_one(store: JobStore, clock: ManualClock) -> None:
    first = await store.create_job(make_job(clock), make_inputs(1))
    clash = make_job(clock, id=first.id, user_id=BOB)

    second = await store.create_job(clash, make_inputs(2))

    assert second.id != first.id
    assert len(second.id) == 8
    assert (await store.get_job(first.id)) == first
    stored = await store.get_job(second.id)
    assert stored is not None
    assert stored.user_id == BOB
    assert len(await store.get_inputs(second.id)) == 2
    assert len(await store.get_inputs(first.id)) == 1


async def _submitted(store: JobStore, clock: ManualClock, next_poll_in: float | None) -> str:
    job = await drive_to(store, await store.create_job(make_job(clock), []), JobState.SUBMITTING)
    next_poll = None if next_poll_in is None else clock.now + timedelta(seconds=next_poll_in)
    moved = await store.transition(
        job.id,
        from_states={JobState.SUBMITTING},
        to=JobState.SUBMITTED,
        task_id=f"t-{job.id}",
        next_poll_at=next_poll,
    )
    assert moved is not None
    return moved.id


async def _due(store: JobStore, now: datetime, limit: int) -> set[str]:
    """What the worker's poll round takes: due SUBMITTED jobs (the longest-waiting picked first, returned
    in any order), leased only for an instant so the next question at the same `now` sees them again."""
    leased = await store.lease({JobState.SUBMITTED}, owner="test", now=now, until=now, limit=limit, due_only=True)
    return {j.id for j in leased}


async def test_due_polls_are_leased_longest_waiting_first_up_to_the_limit(
    store: JobStore, clock: ManualClock
) -> None:
    later = await _submitted(store, clock, 30)
    soon = await _submitted(store, clock, 10)
    soonest = await _submitted(store, clock, 5)
    unscheduled = await _submitted(store, clock, None)  # never scheduled: due at once, not forgotten
    not_yet = await _submitted(store, clock, 120)
    # A job that has moved on is never polled, even with an old next_poll_at.
    finished = await _submitted(store, clock, 1)
    await store.transition(finished, from_states={JobState.SUBMITTED}, to=JobState.SUCCEEDED)

    now = clock.now + timedelta(seconds=60)
    assert await _due(store, clock.now, limit=10) == {unscheduled}
    assert await _due(store, now, limit=10) == {unscheduled, soonest, soon, later}
    assert await _due(store, now, limit=2) == {unscheduled, soonest}
    assert not_yet not in await _due(store, now, limit=10)


async def test_update_progress_reschedules_a_submitted_job(store: JobStore, clock: ManualClock) -> None:
    job_id = await _submitted(store, clock, 0)
    next_poll = clock.now + timedelta(seconds=20)

    updated = await store.update_progress(
        job_id,
        provider_status="TASK_STATUS_PROCESSING",
        progress_percent=35,
        eta_seconds=40,
        next_poll_at=next_poll,
        poll_count=3,
    )

    assert updated is not None
    assert (updated.provider_status, updated.progress_percent, updated.eta_seconds) == (
        "TASK_STATUS_PROCESSING",
        35,
        40,
    )
    assert (updated.next_poll_at, updated.poll_count) == (next_poll, 3)
    assert await store.get_job(job_id) == updated
    assert await _due(store, clock.now + timedelta(seconds=19), 10) == set()
    assert await _due(store, next_poll, 10) == {job_id}


async def test_a_late_progress_update_does_not_touch_a_job_that_moved_on(store: JobStore, clock: ManualClock) -> None:
    job_id = await _submitted(store, clock, 0)
    done = await store.transition(job_id, from_states={JobState.SUBMITTED}, to=JobState.SUCCEEDED)

    late = await store.update_progress(
        job_id,
        provider_status="TASK_STATUS_PROCESSING",
        progress_percent=90,
        eta_seconds=3,
        next_poll_at=clock.now,
        poll_count=9,
    )

    assert late is None
    assert await store.get_job(job_id) == done


async def test_set_message_ids_sets_only_what_is_given(store: JobStore, clock: ManualClock) -> None:
    job = await store.create_job(make_job(clock), [])

    with_card = await store.set_message_ids(job.id, card_message_id=10, thread_id=20)
    with_status = await store.set_message_ids(job.id, status_message_id=30)

    assert with_card is not None
    assert with_status is not None
    assert (with_status.card_message_id, with_status.status_message_id, with_status.thread_id) == (10, 30, 20)
    assert await store.get_job(job.id) == with_status
    assert await store.set_message_ids("NOSUCHID", card_message_id=1) is None


async def test_queue_positions_follow_arrival_and_close_up_on_cancel(store: JobStore, clock: ManualClock) -> None:
    a1 = await store.create_job(make_job(clock), [])
    clock.advance(1)
    b1 = await store.create_job(make_job(clock, user_id=BOB), [])
    a2 = await store.create_job(make_job(clock), [])
    a3 = await store.create_job(make_job(clock), [])  # same millisecond as a2: arrival order still holds
    other_guild = await store.create_job(make_job(clock, guild_id=OTHER_GUILD), [])

    assert [j.id for j in await store.queued_for(GUILD, ALICE)] == [a1.id, a2.id, a3.id]
    assert [j.id for j in await store.queued_for(GUILD, BOB)] == [b1.id]
    assert [j.id for j in await store.queued_for(OTHER_GUILD, ALICE)] == [other_guild.id]

    await store.transition(a2.id, from_states={JobState.ACCEPTED}, to=JobState.CANCELLED)
    assert [j.id for j in await store.queued_for(GUILD, ALICE)] == [a1.id, a3.id]

    next_up = await store.next_queued(GUILD, ALICE)
    assert next_up is not None
    assert next_up.id == a1.id
    await store.transition(a1.id, from_states={JobState.ACCEPTED}, to=JobState.SUBMITTING)
    next_up = await store.next_queued(GUILD, ALICE)
    assert next_up is not None
    assert next_up.id == a3.id
    await store.transition(a3.id, from_states={JobState.ACCEPTED}, to=JobState.CANCELLED)
    assert await store.next_queued(GUILD, ALICE) is None


async def test_count_active_counts_the_slots_a_member_holds(store: JobStore, clock: ManualClock) -> None:
    for state in JobState:
        await drive_to(store, await store.create_job(make_job(clock), []), state)
    await drive_to(store, await store.create_job(make_job(clock, user_id=BOB), []), JobState.SUBMITTED)
    await drive_to(store, await store.create_job(make_job(clock, guild_id=OTHER_GUILD), []), JobState.SUBMITTED)

    # One job in each of submitting, submitted, succeeded; accepted (queued) and ended ones hold no slot.
    assert await store.count_active(GUILD, ALICE) == 3
    assert await store.count_active(GUILD, BOB) == 1
    assert await store.count_active(OTHER_GUILD, BOB) == 0


async def test_recent_jobs_are_the_members_newest_first(store: JobStore, clock: ManualClock) -> None:
    ids = []
    for _ in range(5):
        ids.append((await store.create_job(make_job(clock), [])).id)
        clock.advance(1)
    await store.create_job(make_job(clock, user_id=BOB), [])
    await store.create_job(make_job(clock, guild_id=OTHER_GUILD), [])

    assert [j.id for j in await store.recent_jobs(GUILD, ALICE, limit=3)] == ids[::-1][:3]
    assert [j.id for j in await store.recent_jobs(GUILD, ALICE)] == ids[::-1]


async def test_guild_jobs_filters_by_guild_and_state(store: JobStore, clock: ManualClock) -> None:
    queued = await store.create_job(make_job(clock), [])
    running = await drive_to(store, await store.create_job(make_job(clock, user_id=BOB), []), JobState.SUBMITTED)
    await drive_to(store, await store.create_job(make_job(clock), []), JobState.DELIVERED)
    await store.create_job(make_job(clock, guild_id=OTHER_GUILD), [])

    found = await store.guild_jobs(GUILD, {JobState.ACCEPTED, JobState.SUBMITTED})
    assert [j.id for j in found] == [queued.id, running.id]
    assert await store.guild_jobs(GUILD, set()) == []


async def test_a_jobs_repr_never_shows_its_signed_video_url(store: JobStore, clock: ManualClock) -> None:
    job = await drive_to(store, await store.create_job(make_job(clock), []), JobState.SUBMITTED)
    done = await store.transition(
        job.id,
        from_states={JobState.SUBMITTED},
        to=JobState.SUCCEEDED,
        video_url="https://cdn.example/v.mp4?X-Amz-Signature=SECRETSIG",
    )
    assert done is not None
    assert "SECRETSIG" not in repr(done)
    assert done.id in repr(done)


async def test_jobs_in_states_spans_guilds_oldest_first(store: JobStore, clock: ManualClock) -> None:
    a = await store.create_job(make_job(clock), [])
    b = await store.create_job(make_job(clock, guild_id=OTHER_GUILD, user_id=BOB), [])
    c = await drive_to(store, await store.create_job(make_job(clock), []), JobState.SUCCEEDED)
    d = await store.create_job(make_job(clock, user_id=BOB), [])
    await drive_to(store, await store.create_job(make_job(clock), []), JobState.DELIVERED)

    assert [j.id for j in await store.jobs_in_states([JobState.ACCEPTED])] == [a.id, b.id, d.id]
    assert [j.id for j in await store.jobs_in_states([JobState.ACCEPTED], limit=2)] == [a.id, b.id]
    both = await store.jobs_in_states({JobState.ACCEPTED, JobState.SUCCEEDED})
    assert [j.id for j in both] == [a.id, b.id, c.id, d.id]
    assert await store.jobs_in_states([]) == []


async def test_create_job_returns_exactly_what_a_later_read_sees(store: JobStore, clock: ManualClock) -> None:
    # Times are kept to the millisecond: the returned job must already say so, or a caller comparing
    # it with a re-read job would see a change that never happened.
    job = make_job(clock, created_at=clock.now.replace(microsecond=123_456))
    created = await store.create_job(job, [])
    assert created == await store.get_job(job.id)
    assert created.created_at == clock.now.replace(microsecond=123_000)


async def test_inputs_of_jobs_that_ended_before_the_cutoff_are_dropped(store: JobStore, clock: ManualClock) -> None:
    old_done = await drive_to(store, await store.create_job(make_job(clock), make_inputs(2)), JobState.DELIVERED)
    clock.advance(3600)
    cutoff = clock.now
    clock.advance(1)
    new_done = await drive_to(store, await store.create_job(make_job(clock), make_inputs(1)), JobState.FAILED)
    running = await drive_to(store, await store.create_job(make_job(clock), make_inputs(3)), JobState.SUBMITTED)

    assert await store.delete_inputs_finished_before(cutoff) == 2

    assert await store.get_inputs(old_done.id) == []
    assert len(await store.get_inputs(new_done.id)) == 1  # ended after the cutoff: kept for Re-roll
    assert len(await store.get_inputs(running.id)) == 3  # not ended: never touched
    assert await store.delete_inputs_finished_before(cutoff) == 0


async def test_jobs_are_counted_by_state_across_guilds(store: JobStore, clock: ManualClock) -> None:
    for state, guild in [(JobState.ACCEPTED, GUILD), (JobState.ACCEPTED, OTHER_GUILD), (JobState.SUBMITTED, GUILD),
                         (JobState.DELIVERED, GUILD)]:
        await drive_to(store, await store.create_job(make_job(clock, guild_id=guild), []), state)

    counts = await store.count_by_state([JobState.ACCEPTED, JobState.SUBMITTED, JobState.SUCCEEDED])
    assert counts == {JobState.ACCEPTED: 2, JobState.SUBMITTED: 1, JobState.SUCCEEDED: 0}
    assert await store.count_by_state([]) == {}
