"""The job loop's last step: fetch each finished video and post it, once, in its thread.

The video is made and billed by now, so a delivery is tried again rather than failed: a try that may work
later raises `RetryLater`, and one place (`Deliverer._retry_later`) applies the backoff and the give-up
rules, arq style. What can never work (no place to post, too large, the task gone) ends the job expired
with its charge kept, the member given the provider's link, the mod-log told. Videos wait in the work
folder between tries, so a failed post is posted again without a second download.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

from bot.i18n import render_reason
from bot.jobs import review
from bot.jobs.models import Job
from bot.jobs.review import VideoReview
from bot.jobs.states import JobState
from bot.jobs.steps import (
    REASON_DELIVERY_FAILED,
    REASON_UNDELIVERABLE,
    REASON_VIDEO_GONE,
    REASON_VIDEO_TOO_LARGE,
    VIDEO_URL_TTL_MAX,
    StepContext,
)
from bot.logs import job_ids
from bot.provider import ProviderError, TaskNotFound, TaskStatus, VideoTooLarge, VideoUnavailable

log = logging.getLogger("bot.jobs")
S = JobState

DELIVERIES_PER_ROUND = 3
# A delivery that failed (Discord or the video link away for a moment) is tried again after 5 s, then
# 10 s, 20 s ... up to every 5 minutes: never a download and an upload per idle tick.
DELIVERY_RETRY_FIRST_SECONDS = 5.0
DELIVERY_RETRY_MAX_SECONDS = 300.0


class Undeliverable(Exception):
    """The video has nowhere to go (its thread was deleted or closed to the bot, and there is no other
    place for it): trying again would not help."""


class RetryLater(Exception):
    """This try of a delivery failed, and a later one may work (the download failed, the video host or
    Discord was away). `reason` is what the job ends with if the tries run out; `after` (seconds) replaces
    the backoff when the cause knows better when to try again. Every other error a delivery meets counts as
    RetryLater(REASON_DELIVERY_FAILED)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


class Deliverer:
    def __init__(self, steps: StepContext, workdir: Path) -> None:
        self._steps = steps
        self._workdir = workdir

    async def deliver_finished(self) -> bool:
        """One round; True when it took as many as a round may (more may be waiting)."""
        steps = self._steps
        # A few at a time (each may take minutes to download and post): with several processes, the rest
        # stay free for the others; a delivery wakes the next round at once, so one process still
        # works through a backlog without waiting for idle ticks. Every leased job is held (its lease
        # renewed) from the start, not only while its turn runs: none is taken over while it waits.
        leased = await steps.store.lease(
            [S.SUCCEEDED], owner=steps.leases.owner, now=steps.clock(), until=steps.leases.until(),
            limit=DELIVERIES_PER_ROUND,
        )
        with steps.leases.holding(*leased):
            for job in leased:
                try:
                    await self._try(job)
                except RetryLater as retry:
                    await self._retry_later(job, retry)
        return len(leased) == DELIVERIES_PER_ROUND

    async def _try(self, job: Job) -> None:
        """One try; whatever failed in it, short of the bot stopping, comes out as RetryLater."""
        try:
            await self._deliver(job)
        except RetryLater:
            raise
        except Exception as exc:
            log.exception("job %s: delivery failed, will retry", job.id)
            raise RetryLater(REASON_DELIVERY_FAILED) from exc

    async def _retry_later(self, job: Job, retry: RetryLater) -> None:
        """One more failed try: again after a backoff (5 s, 10 s, 20 s ... 5 min, or the try's own `after`),
        kept leased until then so every process waits it out; past the deadline or the attempt cap, the
        delivery ends."""
        steps, settings = self._steps, self._steps.settings
        error = retry.__cause__ or retry
        attempts = job.delivery_attempts + 1
        now = steps.clock()
        overdue = job.succeeded_at is not None and now - job.succeeded_at >= settings.delivery_give_up
        if attempts >= settings.delivery_max_attempts or overdue:
            log.error("job %s: delivery failed %d time(s) (last: %s); giving up", job.id, attempts, error,
                      extra=job_ids(job))
            await self._give_up(job, retry.reason)
            return
        if retry.after is not None:
            delay = max(retry.after, 0.0)
        else:
            delay = min(DELIVERY_RETRY_FIRST_SECONDS * 2 ** (attempts - 1), DELIVERY_RETRY_MAX_SECONDS)
        log.warning("job %s: delivery failed %d time(s) (%s); next try in %.0f s", job.id, attempts, error, delay,
                    extra=job_ids(job))
        steps.leases.stop_renewing(job)
        with contextlib.suppress(Exception):  # the database is away: the lease simply runs out
            await steps.store.record_delivery_failure(job.id, fence=job.attempt,
                                                      retry_at=now + timedelta(seconds=delay))

    def _video_path(self, job: Job) -> Path:
        return self._workdir / f"{job.id}.mp4"

    async def _deliver(self, job: Job) -> None:
        steps = self._steps
        path = self._video_path(job)
        # A video downloaded by an earlier try whose post failed is posted again from disk: only a failed
        # download is downloaded again (the file appears only once complete: download_video renames it).
        if not await asyncio.to_thread(path.exists):
            try:
                await self._fetch_video(job, path)
            except VideoTooLarge as exc:  # the member reads that it is too large; the operator, which setting
                log.warning("job %s: the finished video is over VIDEO_MAX_BYTES (%s); raise it to deliver such "
                            "videos", job.id, exc)
                await self._give_up(job, REASON_VIDEO_TOO_LARGE)
                return
            except TaskNotFound:  # the provider no longer has the task: no fresh link will ever come
                await self._give_up(job, REASON_VIDEO_GONE)
                return
            except ProviderError as exc:  # a dead link, the video host failing: the video never got here
                raise RetryLater(REASON_VIDEO_GONE) from exc
        # Screened (where the server asks for it) before anything is posted; the decision is kept on the job.
        decided = await review.decide(steps, job, path)
        if decided is None:  # another process has leased the job since: it delivers it
            return
        job = decided
        if review.review_of(job) is VideoReview.HOLD:
            if await self._hold(job, path):
                return
            spoilered = await steps.store.record_video_review(job.id, VideoReview.SPOILER, fence=job.attempt)
            if spoilered is None:
                return
            job = spoilered
        try:
            message_id = await steps.listener.deliver(job, path,
                                                      spoiler=review.review_of(job) is VideoReview.SPOILER)
        except Undeliverable as exc:
            log.warning("job %s: the video cannot be posted: %s", job.id, exc, extra=job_ids(job))
            await self._give_up(job, REASON_UNDELIVERABLE)
            return
        await asyncio.to_thread(path.unlink, True)
        delivered = await steps.store.transition(
            job.id, from_states=[S.SUCCEEDED], to=S.DELIVERED, fence=job.attempt, delivered_message_id=message_id
        )
        log.info("job %s: delivered as message %s", job.id, message_id, extra=job_ids(job))
        if delivered:
            await steps.notify(delivered)
            steps.wake()  # a slot is free: the member's next queued job can go

    async def _hold(self, job: Job, path: Path) -> bool:
        """A flagged video to the moderators; the job then waits for them (held: no process leases it). The
        video stays in the work folder for an approval to post. False when there is no mod-log to hold it in."""
        steps = self._steps
        if not await steps.listener.hold_video(job, path):
            log.warning("job %s: no mod-log to hold the flagged video in; posting it behind a spoiler", job.id,
                        extra=job_ids(job))
            return False
        held = await steps.store.record_video_review(job.id, VideoReview.HELD, fence=job.attempt, release=True)
        if held is not None:
            log.info("job %s: video held for a moderator's review", job.id, extra=job_ids(job))
            await steps.notify(held)
            steps.wake()  # its slot is free while it waits: the member's next queued job can go
        return True

    async def _fetch_video(self, job: Job, path: Path) -> None:
        """Download the video; a dead link (presigned links expire: a long outage, a restart) is replaced
        by a fresh one from a new poll. Raises what the last try raised."""
        assert job.video_url is not None  # SUCCEEDED jobs always carry their video link
        try:
            await self._download(job.video_url, path)
        except VideoUnavailable:
            fresh = await self._fresh_video_url(job)
            if fresh is None:
                raise
            await self._download(fresh, path)

    async def _give_up(self, job: Job, reason: str) -> None:
        """The video was made, and billed, but cannot reach its thread: the job expires with its charge kept.
        The member's last message carries the provider's link while it lives (a fresh one when the
        provider still hands one out); the mod-log is told."""
        steps = self._steps
        fields: dict[str, object] = {}
        with contextlib.suppress(TaskNotFound):
            if reason != REASON_VIDEO_TOO_LARGE and (fresh := await self._fresh_video(job)) is not None:
                fields = {"video_url": fresh[0], "video_expires_at": fresh[1]}
        await asyncio.to_thread(self._video_path(job).unlink, True)
        if await steps.finish(job, S.SUCCEEDED, S.EXPIRED, reason=reason, **fields):
            given = ("It was flagged by a content check, so its requester was not given a link to it" if
                     review.withheld(job) else "Its requester was given the video service's link while it lives")
            await steps.tell(steps.listener.tell_moderators(
                job.guild_id, f"📭 Job `{job.id}` (<@{job.user_id}>): the video was made (and billed) but could not "
                f"be delivered ({render_reason(reason, 'en-US')}). {given}; the charge is kept."), job)

    async def _download(self, url: str, path: Path) -> None:
        settings = self._steps.settings
        await self._steps.client.download_video(
            url, path, max_bytes=settings.video_max_bytes, timeout=settings.video_download_timeout
        )

    async def _fresh_video_url(self, job: Job) -> str | None:
        """A new link from a new poll; None when the provider hands out none (TaskNotFound propagates)."""
        fresh = await self._fresh_video(job)
        return fresh[0] if fresh else None

    async def _fresh_video(self, job: Job) -> tuple[str, datetime] | None:
        try:
            result = await self._steps.client.get_task(job.task_id or "")
        except TaskNotFound:
            raise
        except ProviderError:  # away for now: the next try asks again
            return None
        if result.status is not TaskStatus.SUCCEED or not result.videos:
            return None
        video = result.videos[0]
        return video.url, self._steps.clock() + min(timedelta(seconds=video.ttl_seconds), VIDEO_URL_TTL_MAX)

    async def clear_leftovers(self) -> None:
        """Start-up: remove what a crashed run left in the work folder: half-written downloads (`.part`) and
        fitted copies (`.fit.mp4`) no longer being written, and kept videos of jobs that no longer wait to be
        posted. A video kept for a job still waiting stays (its next try posts it without a download)."""
        workdir = self._workdir
        try:
            files = await asyncio.to_thread(lambda: [p for p in workdir.iterdir() if p.is_file()])
            waiting = {job.id for job in await self._steps.store.jobs_in_states([S.SUCCEEDED])}
        except Exception:  # a missing folder or the database away: nothing to clear now, the next start will
            log.warning("could not look for files left by an earlier run", exc_info=True)
            return
        # Another process sharing DATA_DIR may be writing right now: a temporary file goes only once it is
        # older than the longest download could take.
        stale_before = time.time() - 2 * self._steps.settings.video_download_timeout  # files carry this host's time
        removed = 0
        for path in files:
            temporary = path.name.endswith((".part", ".fit.mp4"))
            if temporary:
                gone = (await asyncio.to_thread(path.stat)).st_mtime < stale_before
            else:
                gone = path.suffix == ".mp4" and path.stem not in waiting
            if gone:
                await asyncio.to_thread(path.unlink, True)
                removed += 1
        if removed:
            log.info("removed %d file(s) an earlier run left in %s", removed, workdir)


__all__ = ["DELIVERY_RETRY_FIRST_SECONDS", "DELIVERY_RETRY_MAX_SECONDS", "Deliverer", "RetryLater", "Undeliverable"]
