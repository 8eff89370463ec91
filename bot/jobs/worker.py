"""The background loop that moves jobs: submit queued ones, poll submitted ones, deliver finished ones.

State lives in the store, never in this object: after a restart the loop picks up where the database
says. Several processes may run this loop on one database (PostgreSQL): each job is worked on under a
lease (bot/jobs/store.py), renewed while the work runs and checked by every write (`fence=`), so a job
is submitted, polled and delivered by one process at a time, and a process that dies or stalls hands its
jobs over when its leases run out. One bad job never stops the loop: every job is handled inside its
own try, errors are logged with the job id and the loop goes on. Discord is reached only through
`JobListener` (status cards, posting the video), so this module is tested against the fake provider
without Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, auto
from pathlib import Path
from typing import Protocol

from bot import metrics
from bot.i18n import reason_code, render_reason
from bot.jobs.models import Job, utcnow
from bot.jobs.outage import DatabaseOutage, is_database_outage
from bot.jobs.pause_control import ProviderPauses
from bot.jobs.states import TERMINAL_STATES, JobState
from bot.jobs.store import JobStore
from bot.logs import job_ids
from bot.media.encode import data_uri
from bot.provider import (
    OperatorError,
    OutcomeUnknown,
    ProviderError,
    RequestRejected,
    RequestValidationError,
    TaskNotFound,
    TaskStatus,
    TransientProviderError,
    VideoTooLarge,
    VideoUnavailable,
    ViduClient,
)
from bot.requests import provider_request
from bot.schedule import next_poll_delay

log = logging.getLogger("bot.jobs")
S = JobState

# Why a job failed, stored as codes: each card renders them in the requester's language (bot/i18n).
REASON_TASK_LOST = reason_code("task_lost")
REASON_VIDEO_GONE = reason_code("video_gone")
REASON_VIDEO_TOO_LARGE = reason_code("video_too_large")
REASON_UNDELIVERABLE = reason_code("undeliverable")
REASON_DELIVERY_FAILED = reason_code("delivery_failed")
REASON_UNKNOWN = reason_code("unknown")
REASON_PROVIDER_FAILED = reason_code("provider_failed")
# A SUBMITTED job's provider_status after a poll answered "task not found" (not one of the task's states).
TASK_NOT_FOUND = "TASK_NOT_FOUND"
# Not an ending: set on a SUBMITTED job once it runs past its expected time (the card and the video say so).
REASON_LATE = reason_code("late")


SWEEP_EVERY = timedelta(minutes=10)
DELIVERIES_PER_ROUND = 3
# How long a created task's id waits in memory for the database to come back before the job is left to
# recovery (submit_unknown): longer than a restart or a failover of PostgreSQL takes.
SUBMITTED_RECORD_PATIENCE = timedelta(minutes=15)
# A delivery that failed (Discord or the video link away for a moment) is tried again after 5 s, then
# 10 s, 20 s ... up to every 5 minutes: never a download and an upload per idle tick.
DELIVERY_RETRY_FIRST_SECONDS = 5.0
DELIVERY_RETRY_MAX_SECONDS = 300.0
# Presigned links say how long they live; a value past this is the provider's mistake, not a promise.
VIDEO_URL_TTL_MAX = timedelta(days=7)


class Sent(Enum):
    """What one submit came to, for the queue loop."""

    CREATED = auto()  # the provider created the task
    ENDED = auto()  # the provider answered and the job ended: refused, or unknown whether a task exists
    NOT_SENT = auto()  # the job ended before anything was sent (its stored request is invalid)
    BUSY = auto()  # the provider is busy: the job is back in the queue, submits wait a little
    PAUSED = auto()  # the operator must act (credit, key): the job is back in the queue, submits pause


class Undeliverable(Exception):
    """The video has nowhere to go (its thread was deleted or closed to the bot, and there is no other
    place for it): trying again would not help."""


class JobListener(Protocol):
    """What the Discord side does for the loop: show progress, post the video exactly once."""

    async def job_changed(self, job: Job) -> None: ...

    async def deliver(self, job: Job, video: Path) -> int:
        """Post the video in the job's thread; return the message id. Must be idempotent per job.
        Raises Undeliverable when there is nowhere to post it."""
        ...

    async def job_late(self, job: Job) -> None:
        """Tell the member, once, that the task runs past its expected time and is still being followed."""
        ...

    async def tell_moderators(self, guild_id: int, text: str) -> None:
        """One line in the server's mod-log channel, when it has one (English, like every mod-log line).
        Must not raise: a mod-log that cannot be written is logged and skipped."""
        ...


@dataclass(frozen=True)
class WorkerSettings:
    max_active_per_member: int = 2
    poll_first_seconds: float = 5.0
    poll_max_seconds: float = 60.0
    poll_concurrency: int = 8
    # Past these a task is late: its member is told once, and the bot keeps following it (the provider
    # may still finish, and bill, it) until `give_up_after`; then it expires, charged (SPEC section 5).
    job_timeout: timedelta = timedelta(hours=2)
    off_peak_timeout: timedelta = timedelta(hours=48)
    give_up_after: timedelta = timedelta(hours=72)
    # A finished video whose download or post keeps failing ends after this long or this many tries:
    # expired (charged: it was made), its member given the provider's link, the mod-log told.
    delivery_give_up: timedelta = timedelta(hours=6)
    delivery_max_attempts: int = 30
    task_not_found_grace: timedelta = timedelta(minutes=10)
    busy_pause_seconds: float = 30.0
    # While the provider's account is out of credit (or its key refused), submits pause for every process and
    # one queued job is tried this often (bot/jobs/pause.py).
    provider_pause_probe_seconds: float = 300.0
    video_max_bytes: int = 500 * 1024 * 1024
    video_download_timeout: float = 300.0
    idle_tick_seconds: float = 1.0
    input_retention: timedelta = timedelta(hours=24)
    # How long a job stays with a process that stops renewing it (died, or stalled): the delay before
    # another process takes over. Renewed every third of it while the work runs.
    lease_seconds: float = 60.0
    # The only process on this database (it holds every Discord shard): on start, it frees leases left by
    # its own earlier run instead of waiting for them to run out.
    sole_worker: bool = False


def worker_name() -> str:
    """Who holds a lease, for the database and the logs: host, process id, and a random part (a pid may
    be reused by a restarted container)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class JobWorker:
    def __init__(
        self,
        store: JobStore,
        client: ViduClient,
        listener: JobListener,
        settings: WorkerSettings,
        *,
        workdir: Path,
        clock: Callable[[], datetime] | None = None,
        owner: str | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._listener = listener
        self._settings = settings
        self.workdir = workdir  # temporary videos; Extend reads videos here too
        # The database's clock by default: leases and poll times are shared with other processes, whose
        # hosts' clocks may disagree with this one's (bot/db/clock.py).
        self._clock = clock or store.now
        self._wake = asyncio.Event()
        self._submits_paused_until: datetime | None = None
        self._poll_slots = asyncio.Semaphore(settings.poll_concurrency)
        self._last_sweep: datetime | None = None
        self.heartbeat: datetime | None = None  # the last finished tick, for /healthz
        self.owner = owner or worker_name()
        self._pauses = ProviderPauses(store, listener, probe_seconds=settings.provider_pause_probe_seconds,
                                      clock=self._clock, owner=self.owner)
        self._held: dict[str, int] = {}  # jobs this process is working on -> their fence (attempt)
        self._interrupted: set[str] = set()  # held when the loop was stopped: handed back on the way out
        self._outage = DatabaseOutage("the job loop")

    def database_outage(self) -> str | None:
        """Why the loop's last round could not use the database, while that lasts (for /healthz)."""
        return self._outage.describe()

    def wake(self) -> None:
        """Run a tick now (a job was accepted or cancelled) instead of at the next idle tick."""
        self._wake.set()

    async def recover(self) -> None:
        """A job left mid-submit by a process that died (its lease ran out; this one after a restart, or
        another one) may or may not exist at the provider. It is never submitted again; the member is told.
        Everything else resumes from its stored state as soon as its lease is free."""
        abandoned = await self._store.lease(
            [S.SUBMITTING], owner=self.owner, now=self._clock(), until=self._lease_until(), limit=50
        )
        for job in abandoned:
            moved = await self._store.transition(
                job.id, from_states=[S.SUBMITTING], to=S.SUBMIT_UNKNOWN, reason=REASON_UNKNOWN, fence=job.attempt
            )
            if moved:
                log.warning("job %s: its submit was interrupted, outcome unknown", job.id, extra=job_ids(job))
                await self._notify(moved)

    async def take_over_leftover_leases(self) -> None:
        """A sole worker's start: leases its host still holds belong to its own run that crashed. It knows
        them by the owner name (host:pid:random): a process on another host (an old one still running while
        a new one starts, during a deploy) keeps its leases, which run out if it is gone."""
        try:
            freed = await self._store.release_leases(host=self.owner.split(":", 1)[0], except_owner=self.owner)
        except Exception:  # the database is away: those jobs resume when their leases run out
            log.exception("could not free the leases of an earlier run")
            return
        if freed:
            log.info("resuming %d job(s) an earlier run was working on when it stopped: %s", len(freed),
                     ", ".join(freed))

    async def clear_leftovers(self) -> None:
        """Start-up: remove what a crashed run left in the work folder: half-written downloads (`.part`) and
        fitted copies (`.fit.mp4`) no longer being written, and kept videos of jobs that no longer wait to be
        posted. A video kept for a job still waiting stays (its next try posts it without a download)."""
        try:
            files = await asyncio.to_thread(lambda: [p for p in self.workdir.iterdir() if p.is_file()])
            waiting = {job.id for job in await self._store.jobs_in_states([S.SUCCEEDED])}
        except Exception:  # a missing folder or the database away: nothing to clear now, the next start will
            log.warning("could not look for files left by an earlier run", exc_info=True)
            return
        # Another process sharing DATA_DIR may be writing right now: a temporary file goes only once it is
        # older than the longest download could take.
        stale_before = time.time() - 2 * self._settings.video_download_timeout  # files carry this host's time
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
            log.info("removed %d file(s) an earlier run left in %s", removed, self.workdir)

    async def run(self) -> None:
        await self.clear_leftovers()
        if self._settings.sole_worker:
            await self.take_over_leftover_leases()
        renewer = asyncio.create_task(self._renew_leases_forever(), name="job-lease-renewer")
        outage = self._outage
        try:
            while True:
                wait = self._settings.idle_tick_seconds
                try:
                    await self.tick()
                except Exception as error:  # the store itself failed: log, wait, try again; never die
                    if not is_database_outage(error):
                        log.exception("worker tick failed")
                    else:  # nothing to do but wait: no job can move without it
                        wait = max(wait, outage.failed(error))
                else:
                    outage.ended()
                self.heartbeat = utcnow()  # this host's liveness, read by this host's /healthz
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel (the bot stopping) that
                # arrives as the wake-up does, and the loop then ran on and held up the bot's exit.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await self._hand_back_interrupted()

    async def _hand_back_interrupted(self) -> None:
        """A graceful stop (SIGTERM, a deploy) hands back the jobs it was working on, so the next process
        (or this one, restarted) takes them at once instead of after their leases run out."""
        if not self._interrupted:
            return
        try:
            await self._store.renew_leases(self.owner, self._interrupted, until=self._clock())
        except Exception:  # the database is away: the leases simply run out
            log.warning("could not hand back %d jobs on stopping; they resume after their leases", len(
                self._interrupted))
        self._interrupted.clear()

    async def tick(self) -> None:
        await self.recover()
        await self._submit_queued()
        await self._poll_due()
        await self._deliver_finished()
        await self._sweep_inputs()

    async def _sweep_inputs(self) -> None:
        """Inputs stay for Re-roll and Try again until `input_retention` after a job ends, then go."""
        now = self._clock()
        if self._last_sweep is not None and now - self._last_sweep < SWEEP_EVERY:
            return
        self._last_sweep = now
        deleted = await self._store.delete_inputs_finished_before(now - self._settings.input_retention)
        if deleted:
            log.info("deleted %d stored input images past their retention", deleted)

    # -------------------------------------------------------------------------------------- leases
    def _lease_until(self) -> datetime:
        return self._clock() + timedelta(seconds=self._settings.lease_seconds)

    @contextlib.contextmanager
    def _holding(self, *jobs: Job) -> Iterator[None]:
        """While work on leased jobs runs (and while they wait their turn), the renewer keeps their leases."""
        for job in jobs:
            self._held[job.id] = job.attempt
        try:
            yield
        except asyncio.CancelledError:  # the bot is stopping mid-work
            self._interrupted.update(job.id for job in jobs if job.id in self._held)
            raise
        finally:
            for job in jobs:
                self._held.pop(job.id, None)

    async def renew_leases(self) -> None:
        """Extend the leases of the jobs being worked on (one statement for all of them)."""
        if not self._held:
            return
        kept = await self._store.renew_leases(self.owner, list(self._held), until=self._lease_until())
        for job_id in set(self._held) - kept:
            # Not renewed: either this process's own last write released it a moment ago (the job just moved
            # on), or its lease ran out while this process stalled and another took the job over; then the
            # work still running here will find its writes refused (fenced). Only the second is news.
            job, fence = await self._store.get_job(job_id), self._held.get(job_id)
            if job is not None and fence is not None and job.attempt != fence:  # leased again since: not by us
                log.warning("job %s: lease lost to another process (%s)", job_id, job.lease_owner or "done with it")

    async def _renew_leases_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.lease_seconds / 3)
            try:
                await self.renew_leases()
            except Exception as error:  # keep trying; the leases may run out meanwhile
                if not is_database_outage(error):  # (an outage is told once, by the loop)
                    log.exception("renewing job leases failed")

    async def _let_go(self, job: Job, *, after_seconds: float = 0.0) -> None:
        """Hand a job back (its work failed and should be retried, here or elsewhere) after `after_seconds`
        instead of when its lease would run out: the lease, no longer renewed, simply ends then."""
        self._held.pop(job.id, None)
        with contextlib.suppress(Exception):
            await self._store.renew_leases(self.owner, [job.id],
                                           until=self._clock() + timedelta(seconds=after_seconds))

    # ----------------------------------------------------------------------------------- submitting
    async def _submit_queued(self) -> None:
        pause = await self._pauses.current()  # every tick, in every process: the gauge follows the store
        now = self._clock()
        if self._submits_paused_until and now < self._submits_paused_until:
            return
        if pause is not None and not self._pauses.probe_may_be_due(pause):
            return
        # While submits are paused (credit, key), one process at a time submits one queued job when a probe is
        # due: the oldest that may go. The first task created ends the pause and the rest go on in this round.
        probing, probe_claimed, resumed = pause is not None, False, False
        allowed: dict[int, int] = {}  # per server: moderators may set their own jobs-in-flight limit
        for job in await self._store.jobs_in_states([S.ACCEPTED], limit=100):
            if job.guild_id not in allowed:
                own = (await self._store.guild_settings(job.guild_id)).max_active
                allowed[job.guild_id] = own if own is not None else self._settings.max_active_per_member
            if await self._store.count_active(job.guild_id, job.user_id) >= allowed[job.guild_id]:
                continue  # a cheap read first; claim_submit counts again, exactly, under a per-member lock
            if probing and not probe_claimed:
                if not await self._pauses.claim_probe():
                    return  # not due yet, or another process is probing
                probe_claimed = True
            claimed = await self._store.claim_submit(
                job.id, max_active=allowed[job.guild_id], owner=self.owner, until=self._lease_until()
            )
            if claimed is None:
                continue  # cancelled, taken by another process, or the member's slots filled meanwhile
            sent: Sent | None = None
            try:
                with self._holding(claimed):
                    sent = await self._submit(claimed)
            except Exception:
                log.exception("job %s: submit step failed", job.id)
            if sent is Sent.BUSY or sent is Sent.PAUSED:
                break  # leave the rest queued, in order
            if probing:
                if sent is Sent.NOT_SENT:
                    continue  # nothing reached the provider: the probe goes on with the next job
                if sent is not Sent.CREATED:
                    break  # no word on the account: the next probe, when due
                probing = False
                resumed = await self._pauses.end()
        if resumed:
            await self._pauses.show_queued()  # the jobs still waiting: their cards no longer say paused

    async def _submit(self, claimed: Job) -> Sent:
        """Submit one claimed (SUBMITTING, leased) job; what it came to."""
        job = claimed
        inputs = await self._store.get_inputs(job.id)
        try:
            # Building the request checks every data URI (megabytes of text): off the event loop too.
            request = await asyncio.to_thread(
                lambda: provider_request(job.kind, job.params, [data_uri(i.mime_type, i.data) for i in inputs])
            )
        except (RequestValidationError, ValueError, KeyError) as exc:
            await self._finish(claimed, S.SUBMITTING, S.FAILED, reason=reason_code("invalid_request", str(exc)))
            return Sent.NOT_SENT
        try:
            result = await self._client.submit(request)
        except RequestRejected as exc:
            await self._finish(claimed, S.SUBMITTING, S.REJECTED,
                               reason=reason_code("rejected", exc.message or exc.reason))
            return Sent.ENDED
        except OutcomeUnknown:
            await self._finish(claimed, S.SUBMITTING, S.SUBMIT_UNKNOWN, reason=REASON_UNKNOWN)
            return Sent.ENDED
        except OperatorError as exc:
            # The operator must act: the account is out of credit (NOT_ENOUGH_BALANCE) or the key is refused.
            # No task was created: the job goes back to the queue with its place and its reservation, and
            # submits pause for every process until a probe gets through (bot/jobs/pause.py). Nothing fails.
            await self._store.transition(job.id, from_states=[S.SUBMITTING], to=S.ACCEPTED, fence=claimed.attempt)
            await self._pauses.start(exc, job)
            return Sent.PAUSED
        except TransientProviderError as exc:
            # The client retries a submit only while it provably created no task, so none exists:
            # the job goes back to the queue and submitting pauses for a while.
            pause = max(self._settings.busy_pause_seconds, exc.retry_after or 0.0)
            self._submits_paused_until = self._clock() + timedelta(seconds=pause)
            log.warning("job %s: provider busy (%s); submits paused %.0f s", job.id, exc.reason, pause)
            await self._store.transition(job.id, from_states=[S.SUBMITTING], to=S.ACCEPTED, fence=claimed.attempt)
            return Sent.BUSY
        else:
            submitted = await self._record_submitted(claimed, result.task_id)
            if submitted:
                log.info("job %s: submitted as task %s", job.id, result.task_id, extra=job_ids(job))
                await self._notify(submitted)
            else:
                # This process stalled past its lease and another one has given the job up as
                # submit_unknown meanwhile: the task exists; say which, for the operator.
                log.error("job %s: submitted as task %s after its lease was lost; the job is not tracking it",
                          job.id, result.task_id, extra=job_ids(job))
        return Sent.CREATED

    async def _record_submitted(self, claimed: Job, task_id: str) -> Job | None:
        """Store the new task's id. The provider has created (and will bill) the task: if the database is away
        now, this waits for it (the task id is only in this process's memory) instead of leaving the job to
        be given up as submit_unknown, for up to SUBMITTED_RECORD_PATIENCE."""
        outage = DatabaseOutage(f"job {claimed.id}: task {task_id} was created; recording it")
        gave_up_at = time.monotonic() + SUBMITTED_RECORD_PATIENCE.total_seconds()
        while True:
            try:
                moved = await self._store.transition(
                    claimed.id, from_states=[S.SUBMITTING], to=S.SUBMITTED, fence=claimed.attempt, task_id=task_id,
                    provider_status=TaskStatus.QUEUED.value,
                    next_poll_at=self._clock() + timedelta(seconds=self._settings.poll_first_seconds),
                )
            except Exception as error:
                if not is_database_outage(error) or time.monotonic() >= gave_up_at:
                    log.error("job %s: submitted as task %s but could not record it", claimed.id, task_id,
                              extra=job_ids(claimed))
                    raise
                await asyncio.sleep(outage.failed(error))
                continue
            outage.ended()
            return moved

    # ------------------------------------------------------------------------------------- polling
    async def _poll_due(self) -> None:
        batch = self._settings.poll_concurrency * 4
        due = await self._store.lease(
            [S.SUBMITTED], owner=self.owner, now=self._clock(), until=self._lease_until(), limit=batch, due_only=True
        )
        await asyncio.gather(*(self._poll_guarded(job) for job in due))
        if len(due) == batch:
            self.wake()  # more are due: go on at once (the shared rate limiter paces us), not next idle tick

    async def _poll_guarded(self, job: Job) -> None:
        with self._holding(job):
            async with self._poll_slots:
                try:
                    await self._poll(job)
                except Exception:  # a bug or the database: never a hot loop on one job
                    log.exception("job %s: poll step failed", job.id)
                    await self._let_go(job, after_seconds=self._settings.poll_max_seconds)

    async def _poll(self, job: Job) -> None:
        now = self._clock()
        assert job.task_id is not None  # SUBMITTED jobs always carry their task id
        try:
            result = await self._client.get_task(job.task_id)
        except TaskNotFound:
            # Gone, and so never billed: only when the provider says so twice in a row past the grace (one
            # stray 404 must not refund a task it goes on to finish and bill).
            lost_before = job.provider_status == TASK_NOT_FOUND
            if lost_before and job.submitted_at and now - job.submitted_at > self._settings.task_not_found_grace:
                await self._finish(job, S.SUBMITTED, S.FAILED, reason=REASON_TASK_LOST)
            else:
                await self._reschedule(job, eta=None, status=TASK_NOT_FOUND)
            return
        except ProviderError as exc:  # busy, refused key, an answer that is not JSON: ask again, later and later
            log.warning("job %s: poll failed (%s), will retry", job.id, exc.reason or exc, extra=job_ids(job))
            if not await self._gave_up_waiting(job, now):
                await self._reschedule(job, eta=None)
            return
        if result.status is TaskStatus.SUCCEED and result.videos:
            video = result.videos[0]
            done = await self._store.transition(
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
                await self._notify(done)
            self.wake()  # deliver without waiting for the next idle tick
        elif result.status is TaskStatus.FAILED:
            reason = reason_code("provider_said", result.reason) if result.reason else REASON_PROVIDER_FAILED
            await self._finish(job, S.SUBMITTED, S.FAILED, reason=reason)
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
                reason=REASON_LATE if late else None,
            )
            if updated and changed:
                await self._notify(updated)
            if updated and late:
                log.warning("job %s: task %s is late; still following it", job.id, job.task_id, extra=job_ids(job))
                await self._tell(self._listener.job_late(updated), job)

    def _is_late(self, job: Job, now: datetime) -> bool:
        """Past its expected time for the first time (the member is told once)."""
        off_peak = bool(job.params.get("off_peak"))
        expected = self._settings.off_peak_timeout if off_peak else self._settings.job_timeout
        return job.reason != REASON_LATE and job.submitted_at is not None and now - job.submitted_at > expected

    async def _gave_up_waiting(self, job: Job, now: datetime) -> bool:
        """After `give_up_after` the bot stops following a task the provider still has: expired, and the
        charge kept (the provider may yet finish and bill it); the member and the mod-log are told."""
        if job.submitted_at is None or now - job.submitted_at <= self._settings.give_up_after:
            return False
        hours = str(round(self._settings.give_up_after.total_seconds() / 3600))
        if await self._finish(job, S.SUBMITTED, S.EXPIRED, reason=reason_code("gave_up", hours)):
            await self._tell(self._listener.tell_moderators(
                job.guild_id, f"⌛ Job `{job.id}` (<@{job.user_id}>): task `{job.task_id}` was still unfinished at "
                f"the video service after {hours} h; the bot stopped following it. Its charge is kept: the service "
                "may still finish and bill it (`python -m bot ledger` shows it)."), job)
        return True

    async def _reschedule(
        self, job: Job, *, eta: int | None, status: str | None = None, progress: int | None = None,
        reason: str | None = None,
    ) -> Job | None:
        delay = next_poll_delay(
            job.poll_count + 1,
            eta_seconds=eta,
            first=self._settings.poll_first_seconds,
            cap=self._settings.poll_max_seconds,
        )
        return await self._store.update_progress(
            job.id,
            provider_status=status or job.provider_status,
            progress_percent=progress,
            eta_seconds=eta,
            next_poll_at=self._clock() + timedelta(seconds=delay),
            poll_count=job.poll_count + 1,
            fence=job.attempt,
            reason=reason,
        )

    # ------------------------------------------------------------------------------------ delivery
    async def _deliver_finished(self) -> None:
        # A few at a time (each may take minutes to download and post): with several processes, the rest
        # stay free for the others; a delivery wakes the next round at once, so one process still
        # works through a backlog without waiting for idle ticks. Every leased job is held (its lease
        # renewed) from the start, not only while its turn runs: none is taken over while it waits.
        leased = await self._store.lease(
            [S.SUCCEEDED], owner=self.owner, now=self._clock(), until=self._lease_until(), limit=DELIVERIES_PER_ROUND
        )
        with self._holding(*leased):
            for job in leased:
                try:
                    await self._deliver(job)
                except Exception as exc:
                    log.exception("job %s: delivery failed, will retry", job.id)
                    await self._delivery_failed(job, REASON_DELIVERY_FAILED, exc)

    def _video_path(self, job: Job) -> Path:
        return self.workdir / f"{job.id}.mp4"

    async def _deliver(self, job: Job) -> None:
        path = self._video_path(job)
        # A video downloaded by an earlier try whose post failed is posted again from disk: only a failed
        # download is downloaded again (the file appears only once complete: download_video renames it).
        if not await asyncio.to_thread(path.exists):
            try:
                await self._fetch_video(job, path)
            except VideoTooLarge:
                await self._give_up_delivery(job, REASON_VIDEO_TOO_LARGE)
                return
            except TaskNotFound:  # the provider no longer has the task: no fresh link will ever come
                await self._give_up_delivery(job, REASON_VIDEO_GONE)
                return
            except ProviderError as exc:  # a dead link, the video host failing: the video never got here
                await self._delivery_failed(job, REASON_VIDEO_GONE, exc)
                return
        try:
            message_id = await self._listener.deliver(job, path)
        except Undeliverable as exc:
            log.warning("job %s: the video cannot be posted: %s", job.id, exc, extra=job_ids(job))
            await self._give_up_delivery(job, REASON_UNDELIVERABLE)
            return
        await asyncio.to_thread(path.unlink, True)
        delivered = await self._store.transition(
            job.id, from_states=[S.SUCCEEDED], to=S.DELIVERED, fence=job.attempt, delivered_message_id=message_id
        )
        log.info("job %s: delivered as message %s", job.id, message_id, extra=job_ids(job))
        if delivered:
            await self._notify(delivered)
            self.wake()  # a slot is free: the member's next queued job can go

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

    async def _delivery_failed(self, job: Job, reason: str, error: BaseException) -> None:
        """One more failed try: again after a backoff (5 s, 10 s, 20 s ... 5 min), kept leased until then so
        every process waits it out; past the deadline or the attempt cap, the delivery ends."""
        attempts = job.delivery_attempts + 1
        now = self._clock()
        overdue = job.succeeded_at is not None and now - job.succeeded_at >= self._settings.delivery_give_up
        if attempts >= self._settings.delivery_max_attempts or overdue:
            log.error("job %s: delivery failed %d time(s) (last: %s); giving up", job.id, attempts, error,
                      extra=job_ids(job))
            await self._give_up_delivery(job, reason)
            return
        delay = min(DELIVERY_RETRY_FIRST_SECONDS * 2 ** (attempts - 1), DELIVERY_RETRY_MAX_SECONDS)
        log.warning("job %s: delivery failed %d time(s) (%s); next try in %.0f s", job.id, attempts, error, delay,
                    extra=job_ids(job))
        self._held.pop(job.id, None)
        with contextlib.suppress(Exception):  # the database is away: the lease simply runs out
            await self._store.record_delivery_failure(job.id, fence=job.attempt,
                                                      retry_at=now + timedelta(seconds=delay))

    async def _give_up_delivery(self, job: Job, reason: str) -> None:
        """The video was made, and billed, but cannot reach its thread: the job expires with its charge kept.
        The member's last message carries the provider's link while it lives (a fresh one when the
        provider still hands one out); the mod-log is told."""
        fields: dict[str, object] = {}
        with contextlib.suppress(TaskNotFound):
            if reason != REASON_VIDEO_TOO_LARGE and (fresh := await self._fresh_video(job)) is not None:
                fields = {"video_url": fresh[0], "video_expires_at": fresh[1]}
        await asyncio.to_thread(self._video_path(job).unlink, True)
        if await self._finish(job, S.SUCCEEDED, S.EXPIRED, reason=reason, **fields):
            await self._tell(self._listener.tell_moderators(
                job.guild_id, f"📭 Job `{job.id}` (<@{job.user_id}>): the video was made (and billed) but could not "
                f"be delivered ({render_reason(reason, 'en-US')}). Its requester was given the video service's "
                "link while it lives; the charge is kept."), job)

    async def _download(self, url: str, path: Path) -> None:
        await self._client.download_video(
            url, path, max_bytes=self._settings.video_max_bytes, timeout=self._settings.video_download_timeout
        )

    async def _fresh_video_url(self, job: Job) -> str | None:
        """A new link from a new poll; None when the provider hands out none (TaskNotFound propagates)."""
        fresh = await self._fresh_video(job)
        return fresh[0] if fresh else None

    async def _fresh_video(self, job: Job) -> tuple[str, datetime] | None:
        try:
            result = await self._client.get_task(job.task_id or "")
        except TaskNotFound:
            raise
        except ProviderError:  # away for now: the next try asks again
            return None
        if result.status is not TaskStatus.SUCCEED or not result.videos:
            return None
        video = result.videos[0]
        return video.url, self._clock() + min(timedelta(seconds=video.ttl_seconds), VIDEO_URL_TTL_MAX)

    # ------------------------------------------------------------------------------------- helpers
    async def _finish(self, job: Job, from_state: JobState, to: JobState, *, reason: str, **fields: object) -> bool:
        """End a leased job (fenced by its lease); whether this call moved it."""
        moved = await self._store.transition(job.id, from_states=[from_state], to=to, reason=reason,
                                             fence=job.attempt, **fields)
        if moved:
            log.info("job %s: %s (%s)", job.id, to.value, reason, extra=job_ids(job))
            await self._notify(moved)
            self.wake()
        return moved is not None

    async def _tell(self, telling: Awaitable[None], job: Job) -> None:
        """A message to people (the member, the mod-log) that must not stop the job."""
        try:
            await telling
        except Exception:
            log.exception("job %s: could not send a notice", job.id)

    async def _notify(self, job: Job) -> None:
        metrics.job_changed(job.state, final=job.state in TERMINAL_STATES)
        try:
            await self._listener.job_changed(job)
        except Exception:  # a status card that cannot be edited must not stop the job
            log.exception("job %s: status update failed", job.id)


__all__ = ["JobListener", "JobWorker", "Undeliverable", "WorkerSettings", "worker_name"]
