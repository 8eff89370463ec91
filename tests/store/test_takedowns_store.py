"""Issue 25, item 7, in the store (every backend): a removal recorded once and audited, a job found by any of its
messages, reports kept once per member and video, a member's reports limited per hour, and a job's spoiler
kept with it."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.jobs import JobStore
from bot.takedowns import REPORT_WINDOW, REPORTS_PER_WINDOW, ReportOutcome, Role, Takedown
from tests.store.backends import ManualClock
from tests.store.factories import GUILD, make_inputs, make_job

MOD, BOB, CAROL = 99, 2, 3


async def test_a_removal_is_recorded_once_and_audited(store: JobStore, clock: ManualClock) -> None:
    job = await store.create_job(make_job(clock), make_inputs(1))
    assert await store.takedown(job.id) is None
    first = Takedown(job.id, GUILD, MOD, Role.MODERATOR, "rule 3 — 猫", clock())
    assert await store.record_takedown(first)
    clock.advance(5)
    assert not await store.record_takedown(Takedown(job.id, GUILD, job.user_id, Role.REQUESTER, None, clock()))
    assert await store.takedown(job.id) == first  # the first one stands, to the millisecond
    (entry,) = await store.audit(GUILD)
    assert (entry["actor_id"], entry["action"]) == (MOD, "post.takedown")
    assert json.loads(entry["after"]) == {"job_id": job.id, "as": "moderator", "reason": "rule 3 — 猫"}


async def test_a_job_is_found_by_any_of_its_messages_in_its_own_server_only(
    store: JobStore, clock: ManualClock
) -> None:
    job = await store.create_job(make_job(clock), make_inputs(1))
    await store.set_message_ids(job.id, card_message_id=501, status_message_id=502)
    assert await store.job_for_message(GUILD, 501) == job.id
    assert await store.job_for_message(GUILD, 502) == job.id
    assert await store.job_for_message(GUILD, 503) is None
    assert await store.job_for_message(GUILD + 1, 501) is None  # another server's message id: not ours


async def test_reports_are_kept_once_per_member_and_limited_per_hour(store: JobStore, clock: ManualClock) -> None:
    jobs = [await store.create_job(make_job(clock), make_inputs(1)) for _ in range(REPORTS_PER_WINDOW + 1)]
    first = await store.record_report(GUILD, jobs[0].id, BOB, "gore", now=clock())
    assert (first.outcome, first.reporters, first.modlog_message_id) == (ReportOutcome.NEW, 1, None)
    await store.set_report_message(jobs[0].id, 777)
    repeat = await store.record_report(GUILD, jobs[0].id, BOB, "gore again", now=clock())
    assert repeat.outcome is ReportOutcome.REPEAT
    other = await store.record_report(GUILD, jobs[0].id, CAROL, "不适合", now=clock())
    assert (other.outcome, other.reporters, other.modlog_message_id) == (ReportOutcome.NEW, 2, 777)
    assert [(r.reporter_id, r.reason) for r in await store.reports(jobs[0].id)] == [(BOB, "gore"), (CAROL, "不适合")]
    started = clock()
    for job in jobs[1:REPORTS_PER_WINDOW]:
        clock.advance(60)
        assert (await store.record_report(GUILD, job.id, BOB, "spam", now=clock())).outcome is ReportOutcome.NEW
    flood = await store.record_report(GUILD, jobs[-1].id, BOB, "spam", now=clock())
    assert flood.outcome is ReportOutcome.TOO_MANY
    assert flood.retry_at == started + REPORT_WINDOW  # when the first of the five leaves the hour
    assert await store.reports(jobs[-1].id) == []  # not recorded
    assert (await store.record_report(GUILD, jobs[-1].id, CAROL, "x", now=clock())).outcome is ReportOutcome.NEW
    clock.now = flood.retry_at - timedelta(milliseconds=1)
    assert (await store.record_report(GUILD, jobs[-1].id, BOB, "x", now=clock())).outcome is ReportOutcome.TOO_MANY
    clock.now = flood.retry_at
    assert (await store.record_report(GUILD, jobs[-1].id, BOB, "x", now=clock())).outcome is ReportOutcome.NEW


async def test_a_jobs_spoiler_is_kept_with_it(store: JobStore, clock: ManualClock) -> None:
    hidden = await store.create_job(make_job(clock, spoiler=True), make_inputs(1))
    plain = await store.create_job(make_job(clock), make_inputs(1))
    assert (await store.get_job(hidden.id)).spoiler is True  # type: ignore[union-attr]
    assert (await store.get_job(plain.id)).spoiler is False  # type: ignore[union-attr]
