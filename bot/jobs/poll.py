"""The job loop's second step: follow submitted tasks at the provider until they finish.

Each due job is asked about at growing gaps (bot/schedule.py), a few at a time. A task is only given up
as lost when the provider says so twice, and past its expected time it is still followed (the member told
once) until `give_up_after`: the provider may yet finish, and bill, it, so then it expires charged.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bot.i18n import reason_code
from bot.jobs.models import Job
from bot.jobs.refusals import end_for_content, tell_about
from bot.jobs.states import JobState
from bot.jobs.steps import (
    REASON_PROVIDER_FAILED,
    REASON_TASK_LOST,
    VIDEO_URL_TTL_MAX,
    StepContext,
    is_late,
    late_reason,
    task_shape,
)
from bot.logs import job_ids
from bot.params import Img2VideoParams
from bot.provider import ProviderError, TaskNotFound, TaskStatus
from bot.schedule import next_poll_delay
from bot.strikes import failed_for_content

log = logging.getLogger("bot.jobs")
S = JobState

# A SUBMITTED job's provider_status after a poll answered "task not found" (not one of the task's states).
TASK_NOT_FOUND = "TASK_NOT_FOUND"


class Poller:
    def __init__(self, steps: StepContext) -> None:
        self._steps = steps
        self._slots = asyncio.Semaphore(steps.settings.poll_concurrency)

    async def poll_due(self) -> None:
        steps = self._steps
        batch = steps.settings.poll_concurrency * 4
        due = await steps.store.lease(
            [S.SUBMITTED], owner=steps.leases.owner, now=steps.clock(), until=steps.leases.until(), limit=batch,
            due_only=True,
        )
        await asyncio.gather(*(self._poll_guarded(job) for job in due))
        if len(due) == batch:
            steps.wake()  # more are due: go on at once (the shared rate limiter paces us), not next idle tick

    async def _poll_guarded(self, job: Job) -> None:
        leases = self._steps.leases
        with leases.holding(job):
            async with self._slots:
                try:
                    await self._poll(job)
                except Exception:  # a bug or the database: never a hot loop on one job
                    log.exception("job %s: poll step failed", job.id)
                    await leases.let_go(job, after_seconds=self._steps.settings.poll_max_seconds)

    async def _poll(self, job: Job) -> None:
        steps = self._steps
        now = steps.clock()
        assert job.task_id is not None  # SUBMITTED jobs always carry their task id
        try:
            result = await steps.client.get_task(job.task_id)
        except TaskNotFound:
            # Gone, and so never billed: only when the provider says so twice in a row past the grace (one
            # stray 404 must not refund a task it goes on to finish and bill).
            lost_before = job.provider_status == TASK_NOT_FOUND
            if lost_before and job.submitted_at and now - job.submitted_at > steps.settings.task_not_found_grace:
                await steps.finish(job, S.SUBMITTED, S.FAILED, reason=REASON_TASK_LOST)
            else:
                await self._reschedule(job, eta=None, status=TASK_NOT_FOUND)
            return
        except Exception as exc:
            # Busy, a refused key, an answer that is not JSON, a task id the client will not send (stored before
            # ids were checked at submit), a bug: asked again, later and later, and this path too reaches the
            # give-up (a failing call must never hold a job, and its member's slot, forever).
            detail = exc.reason or exc if isinstance(exc, ProviderError) else f"{type(exc).__name__}: {exc}"
            log.warning("job %s: poll failed (%s), will retry", job.id, detail, extra=job_ids(job))
            if not await self._gave_up_waiting(job, now):
                await self._reschedule(job, eta=None)
            return
        if job.poll_count == 0 and job.submitted_at is not None:  # a first look: when to take the next ones
            steps.first_look.learn(task_shape(job), elapsed=(now - job.submitted_at).total_seconds(),
                                   finished=result.status in (TaskStatus.SUCCEED, TaskStatus.FAILED),
                                   eta_seconds=result.eta)
        if result.status is TaskStatus.SUCCEED and result.videos:
            video = result.videos[0]
            done = await steps.store.transition(
                job.id,
                from_states=[S.SUBMITTED],
                to=S.SUCCEEDED,
                fence=job.attempt,
                provider_status=result.status.value,
                progress_percent=100,
                eta_seconds=None,
                video_url=video.url,
                video_expires_at=now + min(timedelta(seconds=video.ttl_seconds), VIDEO_URL_TTL_MAX),
            )
            if done:
                await steps.notify(done)
            steps.wake()  # deliver without waiting for the next idle tick
        elif result.status is TaskStatus.FAILED and (content := failed_for_content(result.reason)) is not None:
            # Failed for its content: a strike, its inputs flagged, refunded (bot/jobs/refusals.py).
            ended = await end_for_content(steps, job, S.SUBMITTED, S.FAILED, content,
                                          await steps.store.get_inputs(job.id))
            await tell_about(steps, job, content, ended)
        elif result.status is TaskStatus.FAILED:
            reason = reason_code("provider_said", result.reason) if result.reason else REASON_PROVIDER_FAILED
            await steps.finish(job, S.SUBMITTED, S.FAILED, reason=reason)
        elif result.status is TaskStatus.SUCCEED:
            # Finished (and billed) but no link the bot may fetch (none, or not http(s)): the provider may still
            # fill it in. Asked again with the usual backoff; at the give-up the charge is kept.
            log.warning("job %s: task %s succeeded without a usable video link; asking again later", job.id,
                        job.task_id, extra=job_ids(job))
            if not await self._gave_up_waiting(job, now):
                await self._reschedule(job, eta=None, status=result.status.value)
        elif not await self._gave_up_waiting(job, now):
            late = self._is_late(job, now)
            changed = late or (result.status.value, result.progress_percent, result.eta) != (
                job.provider_status,
                job.progress_percent,
                job.eta_seconds,
            )
            updated = await self._reschedule(
                job, eta=result.eta, status=result.status.value, progress=result.progress_percent,
                reason=late_reason(job) if late else None,
            )
            if updated and changed:
                await steps.notify(updated)
            if updated and late:
                log.warning("job %s: task %s is late; still following it", job.id, job.task_id, extra=job_ids(job))
                await steps.tell(steps.listener.job_late(updated), job)

    def _is_late(self, job: Job, now: datetime) -> bool:
        """Past its expected time for the first time (the member is told once)."""
        settings = self._steps.settings
        off_peak = isinstance(job.params, Img2VideoParams) and job.params.off_peak
        expected = settings.off_peak_timeout if off_peak else settings.job_timeout
        return not is_late(job) and job.submitted_at is not None and now - job.submitted_at > expected

    async def _gave_up_waiting(self, job: Job, now: datetime) -> bool:
        """After `give_up_after` the bot stops following a task the provider still has: expired, and the
        charge kept (the provider may yet finish and bill it); the member and the mod-log are told."""
        steps = self._steps
        if job.submitted_at is None or now - job.submitted_at <= steps.settings.give_up_after:
            return False
        hours = str(round(steps.settings.give_up_after.total_seconds() / 3600))
        if await steps.finish(job, S.SUBMITTED, S.EXPIRED, reason=reason_code("gave_up", hours)):
            await steps.tell(steps.listener.tell_moderators(
                job.guild_id, f"⌛ Job `{job.id}` (<@{job.user_id}>): task `{job.task_id}` was still unfinished at "
                f"the video service after {hours} h; the bot stopped following it. Its charge is kept: the service "
                "may still finish and bill it (`python -m bot ledger` shows it)."), job)
        return True

    async def _reschedule(
        self, job: Job, *, eta: int | None, status: str | None = None, progress: int | None = None,
        reason: str | None = None,
    ) -> Job | None:
        steps = self._steps
        delay = next_poll_delay(
            job.poll_count + 1,
            eta_seconds=eta,
            first=steps.settings.poll_first_seconds,
            cap=steps.settings.poll_max_seconds,
        )
        return await steps.store.update_progress(
            job.id,
            provider_status=status or job.provider_status,
            progress_percent=progress,
            eta_seconds=eta,
            next_poll_at=steps.clock() + timedelta(seconds=delay),
            poll_count=job.poll_count + 1,
            fence=job.attempt,
            reason=reason,
        )


__all__ = ["TASK_NOT_FOUND", "Poller"]
