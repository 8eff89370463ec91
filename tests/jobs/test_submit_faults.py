"""Issue 26, money: a job ends unknown (and keeps its charge) only when a request may have reached the provider,
and no answer the provider gives wedges a job. The job loop against the strict fake provider and a real store
(SQLite here; PostgreSQL in the PostgreSQL pass), with the database going away at each step of a submit
(tests/store/flaky.py), absurd Retry-After headers, NUL and overlong strings in answers, and task ids the client
cannot follow."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.i18n import reason_code
from bot.jobs import JobState
from bot.jobs.outage import DatabaseUnavailable
from bot.jobs.steps import REASON_UNUSABLE_TASK_ID
from bot.jobs.worker import JobWorker, WorkerSettings
from bot.provider import MAX_RETRY_AFTER_SECONDS, RateLimiter, RetryPolicy, ViduClient
from bot.ui.status import status_text
from tests.fakes.provider import FakeProvider, Fault
from tests.jobs.test_worker import API_KEY, Harness, RecordingListener, add_img2video, charged
from tests.store.backends import ManualClock, chosen_backend
from tests.store.flaky import FlakyDatabase

S = JobState
LEASE = 30.0


@pytest.fixture
async def flaky(tmp_path: Path) -> AsyncIterator[tuple[Harness, FlakyDatabase]]:
    clock = ManualClock()
    fake = FakeProvider(api_key=API_KEY, time_scale=0.0)
    fake.queue_seconds, fake.processing_seconds = 5.0, 20.0
    await fake.start()
    real = await chosen_backend().open(tmp_path, clock)
    database = FlakyDatabase(real)
    listener = RecordingListener()
    async with aiohttp.ClientSession() as session:
        client = ViduClient(session, base_url=fake.base_url, api_key=API_KEY, limiter=RateLimiter(60_000),
                            timeout=5.0, retry=RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0))
        settings = WorkerSettings(poll_first_seconds=2, poll_max_seconds=30, lease_seconds=LEASE)
        worker = JobWorker(database, client, listener, settings, workdir=tmp_path, clock=clock)  # type: ignore[arg-type]
        yield Harness(fake, database, worker, listener, clock), database  # type: ignore[arg-type]
    await real.close()
    await fake.stop()


async def tick_through_outage(harness: Harness) -> None:
    """One tick of the loop, which (as JobWorker.run does) waits out a database outage instead of dying."""
    with contextlib.suppress(DatabaseUnavailable):
        await harness.worker.tick()


# -- 1. a database blip before anything is sent: back to the queue, never submit_unknown -----------------------

BEFORE_SENDING = [
    pytest.param([("get_inputs", False)], id="reading-the-inputs"),
    pytest.param([("get_inputs", False), ("transition", False)], id="reading-the-inputs-and-requeueing"),
    pytest.param([("mark_sent", False)], id="noting-the-send"),
    pytest.param([("mark_sent", True)], id="noting-the-send-commit-lost"),
    pytest.param([("claim_submit", True)], id="claiming-commit-lost"),
]


@pytest.mark.parametrize("blips", BEFORE_SENDING)
async def test_a_database_blip_before_anything_is_sent_puts_the_job_back_in_the_queue(
    flaky: tuple[Harness, FlakyDatabase], blips: list[tuple[str, bool]]
) -> None:
    harness, database = flaky
    job = await add_img2video(harness.store)
    for method, after_commit in blips:
        database.fail(method, after_commit=after_commit)
    await tick_through_outage(harness)
    assert database.pending() == 0, database.failed
    assert harness.fake.requests_to("submit") == []  # nothing went out
    # Now or once its lease has run out (the database was away for the return too), it is back in the queue,
    # and goes out once: never given up as "unknown whether it started".
    await harness.step(LEASE + 1)
    done = await harness.until(job.id, [S.DELIVERED, S.SUBMIT_UNKNOWN, S.FAILED])
    assert done.state is S.DELIVERED, (done.state, done.reason)
    assert len(harness.fake.requests_to("submit")) == 1 and len(harness.fake.tasks) == 1
    assert await charged(harness.store) == 1  # the one video the provider billed
    assert S.SUBMIT_UNKNOWN not in [state for _, state in harness.listener.changes]


# -- 1. ... and after the provider answered: the write waits for the database --------------------------------

TURNED_AWAY = [
    pytest.param(Fault.status(429, "RATE_LIMIT_EXCEEDED"), id="429"),
    pytest.param(Fault.status(503, "SERVICE_NOT_AVAILABLE"), id="503"),
    pytest.param(Fault.status(403, "NOT_ENOUGH_BALANCE"), id="no-credit"),
]


@pytest.mark.parametrize("answer", TURNED_AWAY)
@pytest.mark.parametrize("after_commit", [False, True], ids=["lost", "commit-lost"])
async def test_a_job_turned_away_goes_back_to_the_queue_though_the_database_blinks(
    flaky: tuple[Harness, FlakyDatabase], answer: Fault, after_commit: bool
) -> None:
    harness, database = flaky
    job = await add_img2video(harness.store)
    harness.fake.inject("submit", answer, times=2)  # (the client tries twice while no task can exist)
    database.fail("transition", after_commit=after_commit)  # the write that returns it to the queue
    await tick_through_outage(harness)
    assert database.failed == [f"transition{' (after commit)' if after_commit else ''}"]
    back = await harness.store.get_job(job.id)
    assert back is not None and back.state is S.ACCEPTED, back and back.state  # waited for the database, not left
    assert harness.fake.tasks == {}
    await harness.step(LEASE + 1)
    for _ in range(3):  # the busy pause (30 s) or the no-credit probe (a few minutes) runs out
        await harness.step(300)
    done = await harness.until(job.id, [S.DELIVERED, S.SUBMIT_UNKNOWN, S.FAILED])
    assert done.state is S.DELIVERED, (done.state, done.reason)
    assert len(harness.fake.tasks) == 1 and await charged(harness.store) == 1


async def test_a_refusal_is_recorded_and_refunded_though_the_database_blinks(
    flaky: tuple[Harness, FlakyDatabase]
) -> None:
    harness, database = flaky
    job = await add_img2video(harness.store, prompt="forbidden dance")  # the fake refuses "forbidden"
    database.fail("transition")  # the write of the refusal
    await tick_through_outage(harness)
    refused = await harness.store.get_job(job.id)
    assert refused is not None and refused.state is S.REJECTED, refused and refused.state
    assert await charged(harness.store) == 0


async def test_a_created_task_is_recorded_though_the_database_blinks_twice(
    flaky: tuple[Harness, FlakyDatabase]
) -> None:
    harness, database = flaky
    job = await add_img2video(harness.store)
    database.fail("transition")
    database.fail("transition", after_commit=True)
    await tick_through_outage(harness)
    recorded = await harness.store.get_job(job.id)
    assert recorded is not None and recorded.state is S.SUBMITTED
    assert recorded.task_id in harness.fake.tasks
    assert (await harness.until(job.id, [S.DELIVERED])).state is S.DELIVERED


async def test_a_restart_after_the_request_went_out_still_ends_unknown(flaky: tuple[Harness, FlakyDatabase]) -> None:
    """The other side of the rule: once the request may have reached the provider, never sent again."""
    harness, database = flaky
    job = await add_img2video(harness.store)
    harness.fake.inject("submit", Fault.drop_after())  # a task is created; the answer never arrives...
    database.fail("transition")  # ... and recording that the outcome is unknown fails too
    await tick_through_outage(harness)
    await harness.step(LEASE + 1)  # recovery: the note says it was sent
    ended = await harness.until(job.id, [S.SUBMIT_UNKNOWN, S.DELIVERED])
    assert ended.state is S.SUBMIT_UNKNOWN
    assert len(harness.fake.requests_to("submit")) == 1
    assert await charged(harness.store) == 1  # kept: the provider may have billed it


# -- 2. Retry-After is believed within a bound ---------------------------------------------------------------


@pytest.mark.parametrize("header", ["1e300", "31536000", "Fri, 31 Dec 9999 23:59:59 GMT"],
                         ids=["1e300", "a-year", "year-9999"])
async def test_an_absurd_retry_after_is_clamped_and_the_job_waits_in_the_queue(
    flaky: tuple[Harness, FlakyDatabase], header: str, caplog: pytest.LogCaptureFixture
) -> None:
    harness, _ = flaky
    caplog.set_level(logging.WARNING, logger="bot.provider")
    job = await add_img2video(harness.store)
    harness.fake.inject("submit", Fault.status(429, "RATE_LIMIT_EXCEEDED", retry_after=header))
    await harness.worker.tick()
    back = await harness.store.get_job(job.id)
    assert back is not None and back.state is S.ACCEPTED  # no task exists: back in the queue, nothing charged
    assert any("retry_after_clamped" in r.getMessage() for r in caplog.records)
    await harness.step(MAX_RETRY_AFTER_SECONDS - 5)
    assert len(harness.fake.requests_to("submit")) == 1  # the (clamped) wait is honoured...
    await harness.step(10)
    assert len(harness.fake.requests_to("submit")) == 2  # ... and no longer than the bound
    assert (await harness.until(job.id, [S.DELIVERED])).state is S.DELIVERED


@pytest.mark.parametrize("header", ["soon", "1e400", "-5", "NaN"])
async def test_an_unreadable_retry_after_is_a_plain_429(flaky: tuple[Harness, FlakyDatabase], header: str) -> None:
    harness, _ = flaky
    job = await add_img2video(harness.store)
    harness.fake.inject("submit", Fault.status(429, "RATE_LIMIT_EXCEEDED", retry_after=header), times=2)
    await harness.worker.tick()
    assert (await harness.store.get_job(job.id)).state is S.ACCEPTED  # type: ignore[union-attr]
    await harness.step(WorkerSettings().busy_pause_seconds + 1)  # the usual busy pause
    assert len(harness.fake.requests_to("submit")) == 3
    assert (await harness.until(job.id, [S.DELIVERED])).state is S.DELIVERED


# -- 3. text a database cannot store -----------------------------------------------------------------------

NASTY = "renderer\x00 crashed\ud800 on\u202e picture\n" + "x" * 100_000


async def test_a_failure_reason_with_nul_and_a_megabyte_is_stored_readable_and_refunded(
    flaky: tuple[Harness, FlakyDatabase]
) -> None:
    harness, _ = flaky
    harness.fake.plan_next_task(fail_reason=NASTY)
    job = await add_img2video(harness.store)
    failed = await harness.until(job.id, [S.FAILED], max_steps=60)
    assert failed.reason is not None
    assert "\x00" not in failed.reason and "\ud800" not in failed.reason and "\u202e" not in failed.reason
    assert failed.reason.startswith(reason_code("provider_said", "renderer crashed on picture x"))
    assert len(failed.reason) < 600 and failed.reason.endswith("…")
    assert "renderer crashed on picture" in status_text(failed)
    assert await charged(harness.store) == 0  # the task failed: refunded, and the member's slot is free


@pytest.mark.parametrize("url", ["http://127.0.0.1/files/a.mp4?sig=\x00x", "http://127.0.0.1/" + "v" * 20_000,
                                 "http://127.0.0.1/files/a b.mp4", "http://[::1"])
async def test_a_video_link_that_cannot_be_stored_is_asked_for_again(
    flaky: tuple[Harness, FlakyDatabase], url: str
) -> None:
    harness, _ = flaky
    harness.fake.plan_next_task(queue_seconds=0, processing_seconds=1)
    job = await add_img2video(harness.store)
    await harness.worker.tick()
    harness.fake.inject("result", Fault.answer(video_url=url), times=2)
    done = await harness.until(job.id, [S.DELIVERED])
    assert done.video_url is not None and "\x00" not in done.video_url and len(done.video_url) < 1000
    assert await charged(harness.store) == 1


async def test_nul_and_junk_in_every_field_of_a_task_answer_never_wedge_a_job(
    flaky: tuple[Harness, FlakyDatabase]
) -> None:
    harness, _ = flaky
    job = await add_img2video(harness.store)
    await harness.worker.tick()
    junk = "\x00" * 10 + "\ud800" + "y" * 50_000
    harness.fake.inject("result", Fault.answer(task_id=junk, reason=junk, task_type=junk, status=junk, eta=junk,
                                               progress_percent=junk, video_type=junk), times=3)
    assert (await harness.until(job.id, [S.DELIVERED])).state is S.DELIVERED


# -- 4. a task id the client cannot follow --------------------------------------------------------------------

@pytest.mark.parametrize("task_id", ["t" * 201, "task\x00id", "task id", "", None, 12345],
                         ids=["too-long", "nul", "space", "empty", "missing", "a-number"])
async def test_a_submit_answered_with_an_unusable_task_id_ends_unknown_and_tells_the_mod_log(
    flaky: tuple[Harness, FlakyDatabase], task_id: object
) -> None:
    harness, _ = flaky
    job = await add_img2video(harness.store)
    harness.fake.inject("submit", Fault.answer(task_id=task_id))
    await harness.worker.tick()
    ended = await harness.store.get_job(job.id)
    assert ended is not None and ended.state is S.SUBMIT_UNKNOWN and ended.reason == REASON_UNUSABLE_TASK_ID
    assert len(harness.fake.tasks) == 1 and len(harness.fake.requests_to("submit")) == 1  # created; never again
    assert await charged(harness.store) == 1  # probably billed: kept, and said so
    text = status_text(ended)
    assert "no task id I can follow" in text and "counted against your quota" in text
    ((guild, line),) = harness.listener.told_moderators
    assert guild == 10 and job.id in line and "probably billed" in line and "\x00" not in line
    for _ in range(5):
        await harness.step(60)
    assert len(harness.fake.requests_to("submit")) == 1


async def test_a_stored_task_id_the_client_refuses_reaches_the_give_up(flaky: tuple[Harness, FlakyDatabase]) -> None:
    """A job stored before ids were checked at submit: every poll is refused by the client itself."""
    harness, _ = flaky
    job = await add_img2video(harness.store)
    claimed = await harness.store.transition(job.id, from_states=[S.ACCEPTED], to=S.SUBMITTING)
    assert claimed is not None
    await harness.store.transition(job.id, from_states=[S.SUBMITTING], to=S.SUBMITTED, task_id="t" * 300,
                                   next_poll_at=harness.clock.now)
    give_up = WorkerSettings().give_up_after
    await harness.step(60)
    assert (await harness.store.get_job(job.id)).state is S.SUBMITTED  # type: ignore[union-attr]
    harness.clock.advance((give_up + timedelta(minutes=5)).total_seconds())
    expired = await harness.until(job.id, [S.EXPIRED], max_steps=40, seconds=60)
    assert expired.reason == reason_code("gave_up", str(round(give_up.total_seconds() / 3600)))
    assert await charged(harness.store) == 1  # the provider may have made and billed it
    assert any(job.id in line for _, line in harness.listener.told_moderators)
    assert harness.fake.requests_to("result") == []  # the client never sent the id it cannot send


# -- issue 25, item 5: the moderators' rules reach jobs waiting in the queue -----------------------------------

async def _queued_behind_two(harness: Harness) -> tuple[list[str], str]:
    """Two jobs at the provider (the member's two slots, WorkerSettings' default), a third waiting in the queue."""
    running = [(await add_img2video(harness.store, prompt=f"running {n}")).id for n in range(2)]
    harness.fake.plan_next_task(queue_seconds=30)
    harness.fake.plan_next_task(queue_seconds=30)
    await harness.worker.tick()
    waiting = await add_img2video(harness.store, prompt="a ｄｒａ\u200bｇｏｎ over 一只猫")
    await harness.worker.tick()
    assert (await harness.store.get_job(waiting.id)).state is S.ACCEPTED  # type: ignore[union-attr]
    return running, waiting.id


@pytest.mark.parametrize("term", ["dragon", "猫"])
async def test_a_term_blocked_while_a_job_waits_stops_it_and_refunds_it(
    flaky: tuple[Harness, FlakyDatabase], term: str
) -> None:
    from bot.jobs.submit import REASON_STOPPED_BLOCKLISTED
    from bot.moderation import BlockedTerm

    harness, _ = flaky
    running, waiting = await _queued_behind_two(harness)
    await harness.store.set_blocklisted(10, BlockedTerm(term, is_regex=False), True, actor_id=99)
    stopped = await harness.until(waiting, [S.FAILED, S.SUBMITTED, S.DELIVERED], max_steps=120)
    assert stopped.state is S.FAILED and stopped.reason == REASON_STOPPED_BLOCKLISTED
    assert len(harness.fake.requests_to("submit")) == 2  # never sent
    text = status_text(stopped)
    assert "blocked a word or phrase" in text and "Nothing was counted" in text and term not in text
    for job_id in running:
        assert (await harness.until(job_id, [S.DELIVERED])).state is S.DELIVERED
    assert await charged(harness.store) == 2  # the two videos made; the stopped one refunded


async def test_a_member_blocked_while_a_job_waits_has_it_stopped_and_refunded(
    flaky: tuple[Harness, FlakyDatabase]
) -> None:
    from bot.jobs.submit import REASON_STOPPED_BLOCKED

    harness, _ = flaky
    _, waiting = await _queued_behind_two(harness)
    await harness.store.set_blocked(10, 1, True, actor_id=99)
    stopped = await harness.until(waiting, [S.FAILED, S.SUBMITTED, S.DELIVERED], max_steps=120)
    assert stopped.state is S.FAILED and stopped.reason == REASON_STOPPED_BLOCKED
    assert len(harness.fake.requests_to("submit")) == 2
    assert "paused your video requests" in status_text(stopped)
