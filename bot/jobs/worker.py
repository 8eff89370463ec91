"""The background loop that moves jobs: submit queued ones, poll submitted ones, deliver finished ones.

State lives in the store, never in this object: after a restart the loop picks up where the database
says. Several processes may run this loop on one database (PostgreSQL): each job is worked on under a
lease (bot/jobs/leases.py), renewed while the work runs and checked by every write (`fence=`), so a job
is submitted, polled and delivered by one process at a time, and a process that dies or stalls hands its
jobs over when its leases run out. One bad job never stops the loop: every job is handled inside its
own try, errors are logged with the job id and the loop goes on. Discord is reached only through
`JobListener` (status cards, posting the video), so the loop is tested against the fake provider
without Discord.

This module only runs the loop and orders its steps; each step is its own module: bot/jobs/submit.py,
bot/jobs/poll.py, bot/jobs/deliver.py, sharing bot/jobs/steps.py. It is also the loop's public face: what
the rest of the bot and the tests use is importable from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.jobs.deliver import Deliverer, RetryLater, Undeliverable
from bot.jobs.leases import Leases, worker_name
from bot.jobs.models import Job, utcnow
from bot.jobs.outage import DatabaseOutage, is_database_outage
from bot.jobs.poll import Poller
from bot.jobs.states import JobState
from bot.jobs.steps import (
    REASON_DELIVERY_FAILED,
    REASON_LATE,
    REASON_PROVIDER_FAILED,
    REASON_TASK_LOST,
    REASON_UNDELIVERABLE,
    REASON_UNKNOWN,
    REASON_VIDEO_GONE,
    REASON_VIDEO_TOO_LARGE,
    JobListener,
    StepContext,
    WorkerSettings,
)
from bot.jobs.store import JobStore
from bot.jobs.submit import Submitter
from bot.logs import job_ids
from bot.provider import ViduClient
from bot.schedule import FirstLook

log = logging.getLogger("bot.jobs")
S = JobState

SWEEP_EVERY = timedelta(minutes=10)


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
        first_look: FirstLook | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._settings = settings
        self.workdir = workdir  # temporary videos; Extend reads videos here too
        # The database's clock by default: leases and poll times are shared with other processes, whose
        # hosts' clocks may disagree with this one's (bot/db/clock.py).
        self._clock = clock or store.now
        self._wake = asyncio.Event()
        self._deliver_wake = asyncio.Event()
        self._last_sweep: datetime | None = None
        self.heartbeat: datetime | None = None  # the last finished tick, for /healthz
        self._leases = Leases(store, owner=owner or worker_name(), lease_seconds=settings.lease_seconds,
                              clock=self._clock)
        self._steps = StepContext(store, client, listener, settings, self._clock, self._leases, self.wake,
                                  first_look or FirstLook(shortest=settings.poll_first_seconds))
        self._submitter = Submitter(self._steps)
        self._poller = Poller(self._steps)
        self._deliverer = Deliverer(self._steps, workdir)
        self._outage = DatabaseOutage("the job loop")

    @property
    def owner(self) -> str:
        """Who holds this process's leases (bot/jobs/leases.py worker_name)."""
        return self._leases.owner

    def database_outage(self) -> str | None:
        """Why the loop cannot use the database, while that lasts (for /healthz): its last round failed on it,
        or a submit is waiting for it to record a task the provider created."""
        recording = self._submitter.recording_outage
        return self._outage.describe() or (recording.describe() if recording else None)

    def wake(self) -> None:
        """Run a tick now (a job was accepted or cancelled, a poll found a video) instead of at the next idle
        tick; the delivery loop too."""
        self._wake.set()
        self._deliver_wake.set()

    async def job_changed(self, job: Job) -> None:
        """A job changed outside the loop (a moderator removed its held video): its card and metrics follow,
        as for a change the loop made. Never raises."""
        await self._steps.notify(job)

    async def recover(self) -> None:
        """A job left mid-submit by a process that died or lost the database (its lease ran out; this one after
        a restart, or another one). If its request was sent (`sent_at`), it may or may not exist at the
        provider: never submitted again, the member is told. If not, nothing was sent: it goes back to the
        queue, its place and reservation kept. Everything else resumes from its stored state as soon as its
        lease is free."""
        abandoned = await self._store.lease(
            [S.SUBMITTING], owner=self.owner, now=self._clock(), until=self._leases.until(), limit=50
        )
        for job in abandoned:
            if job.sent_at is None:
                if await self._store.transition(job.id, from_states=[S.SUBMITTING], to=S.ACCEPTED, fence=job.attempt):
                    log.warning("job %s: its submit was interrupted before anything was sent; back in the queue",
                                job.id, extra=job_ids(job))
                    self.wake()
                continue
            moved = await self._store.transition(
                job.id, from_states=[S.SUBMITTING], to=S.SUBMIT_UNKNOWN, reason=REASON_UNKNOWN, fence=job.attempt
            )
            if moved:
                log.warning("job %s: its submit was interrupted, outcome unknown", job.id, extra=job_ids(job))
                await self._steps.notify(moved)

    async def take_over_leftover_leases(self) -> None:
        """A sole worker's start: free the leases its own crashed run on this host left (bot/jobs/leases.py)."""
        await self._leases.take_over_leftovers()

    async def clear_leftovers(self) -> None:
        """Start-up: remove what a crashed run left in the work folder (bot/jobs/deliver.py)."""
        await self._deliverer.clear_leftovers()

    async def renew_leases(self) -> None:
        """Extend the leases of the jobs being worked on (one statement for all of them)."""
        await self._leases.renew()

    async def run(self) -> None:
        await self.clear_leftovers()
        if self._settings.sole_worker:
            await self.take_over_leftover_leases()
        renewer = asyncio.create_task(self._leases.renew_forever(), name="job-lease-renewer")
        delivering = asyncio.create_task(self._deliver_beside(), name="job-deliveries")
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
            for task in (delivering, renewer):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._leases.hand_back_interrupted()

    async def _deliver_beside(self) -> None:
        """Deliveries spend no provider calls, so they run beside the rounds of polls and submits, which the
        provider's rate limit can hold up for many seconds: tied to those rounds, a few deliveries a round fell
        behind the videos the polls found (the capacity benchmark: posted ~50 s after the poll that found the
        video done). The tick delivers too (tests drive it step by step); leases keep each job to one."""
        while True:
            more = False
            try:
                more = await self._deliverer.deliver_finished()
            except Exception as error:  # the database: the tick says so in /healthz; wait and try again
                if not is_database_outage(error):
                    log.exception("delivery round failed")
            if not more:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._settings.idle_tick_seconds):
                        await self._deliver_wake.wait()
                self._deliver_wake.clear()

    async def tick(self) -> None:
        await self.recover()
        # What is started is finished first: a task the provider may have done (and billed) waits only for its
        # poll, so polls and deliveries go before new submits. When the provider's rate limit is what holds
        # work back, jobs then wait in the queue (where Cancel costs nothing and the card shows their place),
        # not as finished videos nobody has asked about yet; submits take what calls are left, a round at a
        # time (Submitter.submit_queued).
        await self._poller.poll_due()
        await self._deliverer.deliver_finished()
        await self._submitter.submit_queued()
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


__all__ = [
    "REASON_DELIVERY_FAILED",
    "REASON_LATE",
    "REASON_PROVIDER_FAILED",
    "REASON_TASK_LOST",
    "REASON_UNDELIVERABLE",
    "REASON_UNKNOWN",
    "REASON_VIDEO_GONE",
    "REASON_VIDEO_TOO_LARGE",
    "JobListener",
    "JobWorker",
    "RetryLater",
    "Undeliverable",
    "WorkerSettings",
    "worker_name",
]
