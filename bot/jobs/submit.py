"""The job loop's first step: send queued jobs to the provider, each once.

A submit is where money is spent (the provider bills the task it creates), so it is the step with the
strictest rules: a job is claimed (SUBMITTING, leased) under the member's and the server's in-flight limit
before anything is sent, it is never sent twice (a submit whose outcome is unknown ends as submit_unknown),
the created task's id is recorded even through a database outage, and while the provider's account cannot
be used (no credit, a refused key) submits pause for every process and one job at a time probes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import Enum, auto
from typing import TypeVar

from bot.i18n import provider_refusal, reason_code
from bot.jobs.models import Job
from bot.jobs.outage import DatabaseOutage, is_database_outage
from bot.jobs.pause_control import ProviderPauses
from bot.jobs.refusals import end_for_content, stopped_by_flags, tell_about
from bot.jobs.states import IN_FLIGHT_STATES, JobState
from bot.jobs.steps import REASON_NO_WATERMARK, REASON_UNKNOWN, REASON_UNUSABLE_TASK_ID, StepContext
from bot.logs import job_ids
from bot.media.encode import data_uri
from bot.moderation import blocked_by
from bot.params import Img2VideoParams
from bot.provider import (
    OperatorError,
    OutcomeUnknown,
    RequestRejected,
    RequestValidationError,
    TaskStatus,
    TransientProviderError,
    UnusableTaskId,
)
from bot.requests import provider_request
from bot.safety.automod import refusing_rule_later
from bot.strikes import refused_at_submit

log = logging.getLogger("bot.jobs")
S = JobState
T = TypeVar("T")
# A queued job the moderators' rules stopped before it was sent (refunded).
REASON_STOPPED_BLOCKED = reason_code("stopped_blocked")
REASON_STOPPED_BLOCKLISTED = reason_code("stopped_blocklisted")
REASON_STOPPED_AUTOMOD = reason_code("stopped_automod")  # a server's AutoMod rule added or changed since
REASON_STOPPED_STRIKES = reason_code("stopped_strikes")  # paused by content strikes (bot/strikes.py)

# How long a write the provider's answer calls for (a created task's id, a refusal, a job back to the queue)
# waits in memory for the database to come back before the job is left to recovery (submit_unknown): longer
# than a restart or a failover of PostgreSQL takes. The first retry comes soon: most outages are blips.
SUBMITTED_RECORD_PATIENCE = timedelta(minutes=15)
FIRST_RECORD_RETRY_SECONDS = 0.2
# Queued jobs submitted between two readings of the fair order (JobStore.queued_fairly).
SUBMIT_BATCH = 5
# Submits in one round of the loop: then polls that came due meanwhile go first (JobWorker.tick), and the next
# round comes at once. At the default rate cap 20 submits take 20 s.
SUBMITS_PER_ROUND = 20


class Sent(Enum):
    """What one submit came to, for the queue loop."""

    CREATED = auto()  # the provider created the task
    ENDED = auto()  # the provider answered and the job ended: refused, or unknown whether a task exists
    NOT_SENT = auto()  # the job ended before anything was sent (its stored request is invalid)
    BUSY = auto()  # the provider is busy: the job is back in the queue, submits wait a little
    PAUSED = auto()  # the operator must act (credit, key): the job is back in the queue, submits pause


class Submitter:
    def __init__(self, steps: StepContext) -> None:
        self._steps = steps
        settings = steps.settings
        self._pauses = ProviderPauses(steps.store, steps.listener, probe_seconds=settings.provider_pause_probe_seconds,
                                      clock=steps.clock, owner=steps.leases.owner)
        self._paused_until: datetime | None = None  # the provider was busy: this process waits until then
        # While a created task's id waits for the database, the loop is held up here, not in its own round:
        # /healthz must still say why (JobWorker.database_outage reads this).
        self.recording_outage: DatabaseOutage | None = None

    async def submit_queued(self) -> None:
        steps = self._steps
        pause = await self._pauses.current()  # every tick, in every process: the gauge follows the store
        now = steps.clock()
        if self._paused_until and now < self._paused_until:
            return
        if pause is not None and not self._pauses.probe_may_be_due(pause):
            return
        # While submits are paused (credit, key), one process at a time submits one queued job when a probe is
        # due: the first in turn that may go. The first task created ends the pause and the rest go on in this round.
        if await self._submit_in_turn(probing=pause is not None):
            await self._pauses.show_queued()  # the jobs still waiting: their cards no longer say paused

    async def _submit_in_turn(self, *, probing: bool) -> bool:
        """Submit queued jobs in their fair turn until none may go or the provider says wait; True when a
        probe's task ended a pause."""
        steps, store = self._steps, self._steps.store
        probe_claimed, resumed = False, False
        allowed: dict[int, int] = {}  # per server: moderators may set their own jobs-in-flight limit
        passed: set[str] = set()  # jobs that could not go this round (slots full, taken): not asked again
        sent_count = 0
        while True:
            if sent_count >= SUBMITS_PER_ROUND:
                steps.wake()  # more may be waiting: the next round at once, after the polls due by then
                break
            # Read the fair order again every few submits: at the default rate cap a hundred submits take minutes,
            # and a job that arrives meanwhile must take its turn then, not after the whole list read before it.
            room = min(SUBMIT_BATCH, SUBMITS_PER_ROUND - sent_count)
            batch = [job for job in await store.queued_fairly(limit=room + len(passed)) if job.id not in passed][:room]
            if not batch:
                break
            for job in batch:
                if not await self._provider_has_room():
                    return resumed  # the rest wait in our queue, in their fair turn, until a task ends
                if job.guild_id not in allowed:
                    own = await store.guild_settings(job.guild_id)
                    allowed[job.guild_id] = own.active_limit(steps.settings.max_active_per_member)
                if await store.count_active(job.guild_id, job.user_id) >= allowed[job.guild_id]:
                    passed.add(job.id)
                    continue  # a cheap read first; claim_submit counts again, exactly, under a per-member lock
                if probing and not probe_claimed:
                    if not await self._pauses.claim_probe():
                        return resumed  # not due yet, or another process is probing
                    probe_claimed = True
                claimed = await store.claim_submit(
                    job.id, max_active=allowed[job.guild_id], owner=steps.leases.owner, until=steps.leases.until(),
                    provider_cap=steps.settings.provider_max_in_flight,
                )
                if claimed is None:
                    passed.add(job.id)
                    continue  # cancelled, taken by another process, or the member's slots filled meanwhile
                sent: Sent | None = None
                sent_count += 1
                try:
                    with steps.leases.holding(claimed):
                        sent = await self.submit(claimed)
                except Exception as error:
                    if is_database_outage(error):
                        raise  # no job can move without it: the loop waits for it (JobWorker.run)
                    log.exception("job %s: submit step failed", job.id)
                    passed.add(job.id)  # wherever it was left, not again this round
                if sent is Sent.BUSY or sent is Sent.PAUSED:
                    return resumed  # leave the rest queued, in order
                if probing:
                    if sent is Sent.NOT_SENT:
                        continue  # nothing reached the provider: the probe goes on with the next job
                    if sent is not Sent.CREATED:
                        return resumed  # no word on the account: the next probe, when due
                    probing = False
                    resumed = await self._pauses.end()
        return resumed

    async def _provider_has_room(self) -> bool:
        """Below PROVIDER_MAX_IN_FLIGHT (when set)? A cheap read first; claim_submit counts again, exactly, under
        a lock every process takes, so two processes cannot both fill the last slot."""
        cap = self._steps.settings.provider_max_in_flight
        if cap is None:
            return True
        counts = await self._steps.store.count_by_state(IN_FLIGHT_STATES)
        return sum(counts.values()) < cap

    async def submit(self, claimed: Job) -> Sent:
        """Submit one claimed (SUBMITTING, leased) job; what it came to.

        Until `mark_sent` the job provably sent nothing, so whatever fails before it (the database, Discord, a
        bug) returns the job to the queue, now or by recovery. After it, every write the provider's answer
        calls for waits for the database (`_after_sending`): left undone, the job would end submit_unknown."""
        steps, job = self._steps, claimed
        try:
            stopped = await self._stopped_by_moderators(job)
            if stopped is None:
                inputs = await steps.store.get_inputs(job.id)
                # The provider refused this prompt, a picture or this very request since it was queued (any server).
                stopped = await stopped_by_flags(steps.store, job, inputs)
            if stopped is None:
                mark, mark_lost = await self._server_mark(job)
        except Exception:
            await self._requeue_unsent(claimed)
            raise
        if stopped is not None:
            await steps.finish(claimed, S.SUBMITTING, S.FAILED, reason=stopped)
            return Sent.NOT_SENT
        try:
            # Building the request checks every data URI (megabytes of text): off the event loop too.
            request = await asyncio.to_thread(
                lambda: provider_request(job.params, [data_uri(i.mime_type, i.data) for i in inputs], job_id=job.id,
                                         server_mark=mark)
            )
        except (RequestValidationError, ValueError, KeyError) as exc:  # our fault: the detail is the operator's
            log.error("job %s: its stored request cannot be sent: %s", job.id, exc)
            await steps.finish(claimed, S.SUBMITTING, S.FAILED, reason=reason_code("not_sendable"))
            return Sent.NOT_SENT
        if not await self._mark_sent(claimed):
            return Sent.NOT_SENT
        try:
            result = await steps.client.submit(request)
        except RequestRejected as exc:
            content = refused_at_submit(exc.reason, exc.message)
            if content is not None:  # a strike, not a retry: flagged, counted, refunded (bot/jobs/refusals.py)
                ended = await self._after_sending(
                    claimed, "refused for its content; recording it",
                    lambda: end_for_content(steps, claimed, S.SUBMITTING, S.REJECTED, content, inputs))
                await tell_about(steps, claimed, content, ended)
                return Sent.ENDED
            refusal = provider_refusal(exc.reason, exc.message)
            await self._after_sending(claimed, "refused; recording it",
                                      lambda: steps.finish(claimed, S.SUBMITTING, S.REJECTED, reason=refusal))
            return Sent.ENDED
        except UnusableTaskId as exc:
            await self._unusable_task_id(claimed, exc)
            return Sent.ENDED
        except OutcomeUnknown:
            # (Recovery would end it the same way if this write fails: no need to wait for the database.)
            await steps.finish(claimed, S.SUBMITTING, S.SUBMIT_UNKNOWN, reason=REASON_UNKNOWN)
            return Sent.ENDED
        except OperatorError as exc:
            # The operator must act: the account is out of credit (NOT_ENOUGH_BALANCE) or the key is refused.
            # No task was created: the job goes back to the queue with its place and its reservation, and
            # submits pause for every process until a probe gets through (bot/jobs/pause.py). Nothing fails.
            await self._after_sending(claimed, "not created (the account); back to the queue",
                                      lambda: self._requeue(claimed))
            await self._pauses.start(exc, job)
            return Sent.PAUSED
        except TransientProviderError as exc:
            # The client retries a submit only while it provably created no task, so none exists:
            # the job goes back to the queue and submitting pauses for a while (the client bounds Retry-After).
            pause = max(steps.settings.busy_pause_seconds, exc.retry_after or 0.0)
            self._paused_until = steps.clock() + timedelta(seconds=pause)
            await self._after_sending(claimed, "not created (busy); back to the queue",
                                      lambda: self._requeue(claimed))
            # Logged once the job is back in the queue (a test that kills the bot waits for this line).
            log.warning("job %s: provider busy (%s); submits paused %.0f s", job.id, exc.reason, pause)
            return Sent.BUSY
        else:
            try:
                submitted = await self._after_sending(
                    claimed, f"task {result.task_id} was created; recording it",
                    lambda: self._record_submitted(claimed, result.task_id, mark_lost=mark_lost))
            except Exception:
                log.error("job %s: submitted as task %s but could not record it", claimed.id, result.task_id,
                          extra=job_ids(claimed))
                raise
            if submitted is None:  # (its write may have landed on a try whose answer the database lost)
                stored = await steps.store.get_job(job.id)
                submitted = stored if stored is not None and stored.task_id == result.task_id else None
            if submitted:
                log.info("job %s: submitted as task %s", job.id, result.task_id, extra=job_ids(job))
                await steps.notify(submitted)
            else:
                # This process stalled past its lease and another one has given the job up as
                # submit_unknown meanwhile: the task exists; say which, for the operator.
                log.error("job %s: submitted as task %s after its lease was lost; the job is not tracking it",
                          job.id, result.task_id, extra=job_ids(job))
        return Sent.CREATED

    async def _stopped_by_moderators(self, job: Job) -> str | None:
        """Why the moderators' rules stop a job that waited in the queue, or None. Admission checked them when it
        was asked; a member blocked, a term or an AutoMod rule added since must stop it too (refunded: nothing is
        sent). The term is not named: the status card is public, and the term is what the moderators keep out of
        the server."""
        store = self._steps.store
        if await store.is_blocked(job.guild_id, job.user_id):
            paused = await store.strike_pause(job.guild_id, job.user_id) is not None
            return REASON_STOPPED_STRIKES if paused else REASON_STOPPED_BLOCKED
        if blocked_by("\n".join(p for p in job.params.prompts if p), await store.blocklist(job.guild_id)):
            return REASON_STOPPED_BLOCKLISTED
        listener = self._steps.listener
        rules = await listener.automod_rules(job.guild_id)
        rule = await refusing_rule_later(job.params.prompts, rules, lambda: listener.automod_where(job))
        if rule is not None:
            log.info("job %s: stopped before submit by the server's AutoMod rule %r", job.id, rule.name,
                     extra=job_ids(job))
            return REASON_STOPPED_AUTOMOD
        return None

    async def _mark_sent(self, claimed: Job) -> bool:
        """Note that the request is leaving; False when the job is no longer this process's to send."""
        try:
            marked = await self._steps.store.mark_sent(claimed.id, fence=claimed.attempt)
        except Exception:
            # Nothing was sent, but the note's COMMIT may have gone through: the job must go back to the queue
            # before recovery reads the note, so this waits for the database.
            await self._after_sending(claimed, "not sent; back to the queue", lambda: self._requeue(claimed))
            raise
        if marked is None:
            log.warning("job %s: taken over by another process before it was sent; not sent", claimed.id,
                        extra=job_ids(claimed))
            return False
        return True

    async def _requeue(self, claimed: Job) -> Job | None:
        return await self._steps.store.transition(claimed.id, from_states=[S.SUBMITTING], to=S.ACCEPTED,
                                                  fence=claimed.attempt)

    async def _requeue_unsent(self, claimed: Job) -> None:
        """Back to the queue after a failure before anything was sent. One try: when the database is away, the
        job is returned by recovery once its lease runs out (nothing marks it sent)."""
        try:
            await self._requeue(claimed)
        except Exception as error:
            log.warning("job %s: nothing was sent, and it could not go back to the queue yet (%s); it will when "
                        "its lease runs out", claimed.id, error, extra=job_ids(claimed))
        else:
            log.warning("job %s: nothing was sent; back in the queue", claimed.id, extra=job_ids(claimed))

    async def _unusable_task_id(self, claimed: Job, exc: UnusableTaskId) -> None:
        """The provider took the request (and probably bills it) but named no task the bot can follow: it ends
        unknown with its reservation kept, its member told why, the mod-log told what to look up."""
        steps = self._steps
        ended = await self._after_sending(claimed, "accepted without a usable task id; recording it",
                                          lambda: steps.finish(claimed, S.SUBMITTING, S.SUBMIT_UNKNOWN,
                                                               reason=REASON_UNUSABLE_TASK_ID))
        if ended:
            answered = f"`{exc.shown_id.replace('`', '')}`" if exc.shown_id else "none"
            await steps.tell(steps.listener.tell_moderators(
                claimed.guild_id, f"⚠️ Job `{claimed.id}` (<@{claimed.user_id}>): the video service accepted it but "
                f"answered with no task id the bot can follow (it answered: {answered}). It has probably billed "
                "it; the reservation is kept and the bot cannot follow or post the video. `python -m bot ledger` "
                "lists the job."), claimed)

    async def _after_sending(self, claimed: Job, what: str, write: Callable[[], Awaitable[T]]) -> T:
        """A write the provider's answer calls for. Left undone, the job would be given up as submit_unknown
        (its request went out): if the database is away, this waits for it, for up to SUBMITTED_RECORD_PATIENCE,
        the loop held up meanwhile (/healthz says why: JobWorker.database_outage)."""
        outage = self.recording_outage = DatabaseOutage(f"job {claimed.id}: {what}",
                                                        first_retry_seconds=FIRST_RECORD_RETRY_SECONDS)
        gave_up_at = time.monotonic() + SUBMITTED_RECORD_PATIENCE.total_seconds()
        try:
            while True:
                try:
                    done = await write()
                except Exception as error:
                    if not is_database_outage(error) or time.monotonic() >= gave_up_at:
                        raise
                    await asyncio.sleep(outage.failed(error))
                    continue
                outage.ended()
                return done
        finally:
            self.recording_outage = None

    async def _server_mark(self, job: Job) -> tuple[tuple[str, str] | None, bool]:
        """The server's watermark for a multiframe or start-end job, as (a fresh URL, position), and whether one is
        set but could not be had. Its stored Discord link expires, so Discord refreshes it here, just before the
        provider fetches it. When Discord will not, the job goes without it rather than waiting or failing:
        the member's video is not held back or charged for a failure of ours; the card and the mod-log say so."""
        if isinstance(job.params, Img2VideoParams):  # the fast endpoint documents no wm_url
            return None, False
        steps = self._steps
        settings = await steps.store.guild_settings(job.guild_id)
        if settings.watermark_url is None:
            return None, False
        fresh = await steps.listener.fresh_attachment_url(settings.watermark_url)
        if fresh is not None:
            return (fresh, settings.watermark_position), False
        log.warning("job %s: the server's watermark could not be refreshed; sent without it", job.id,
                    extra=job_ids(job))
        await steps.tell(steps.listener.tell_moderators(
            job.guild_id, f"⚠️ The server's watermark could not be fetched from Discord (was its message in the "
                          f"mod-log deleted?): job `{job.id}` was sent without it. /config watermark sets it again."),
            job)
        return None, True

    async def _record_submitted(self, claimed: Job, task_id: str, *, mark_lost: bool = False) -> Job | None:
        """Store the new task's id (the provider has created, and will bill, the task)."""
        steps = self._steps
        return await steps.store.transition(
            claimed.id, from_states=[S.SUBMITTING], to=S.SUBMITTED, fence=claimed.attempt, task_id=task_id,
            provider_status=TaskStatus.QUEUED.value, **({"reason": REASON_NO_WATERMARK} if mark_lost else {}),
            next_poll_at=steps.clock() + timedelta(seconds=steps.first_poll_delay(claimed)),
        )


__all__ = ["SUBMITTED_RECORD_PATIENCE", "Sent", "Submitter"]
