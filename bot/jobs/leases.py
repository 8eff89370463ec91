"""The jobs this process holds, and for how long: the job loop's side of the store's leases.

Several processes may run the job loop on one database (PostgreSQL). Each job is worked on under a lease
(bot/jobs/store.py) that names its owner; this process renews the leases of the jobs it is working on, so
none is taken over while its work runs, and lets them go when the work stops: at once on a graceful stop,
after a while when the work failed, when they run out if the process dies. Every write to a leased job is
fenced by its lease (`fence=job.attempt`), so a process that lost a lease cannot move the job any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from bot.jobs.models import Job
from bot.jobs.outage import is_database_outage
from bot.jobs.store import JobStore

log = logging.getLogger("bot.jobs")


def worker_name() -> str:
    """Who holds a lease, for the database and the logs: host, process id, and a random part (a pid may
    be reused by a restarted container)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Leases:
    """The leases one process holds (`owner`), renewed while their work runs."""

    def __init__(
        self, store: JobStore, *, owner: str, lease_seconds: float, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self.owner = owner
        self._lease_seconds = lease_seconds  # WorkerSettings.lease_seconds: renewed every third of it
        self._clock = clock
        self._held: dict[str, int] = {}  # jobs this process is working on -> their fence (attempt)
        self._interrupted: set[str] = set()  # held when the loop was stopped: handed back on the way out

    def until(self) -> datetime:
        """When a lease taken or renewed now runs out."""
        return self._clock() + timedelta(seconds=self._lease_seconds)

    @contextlib.contextmanager
    def holding(self, *jobs: Job) -> Iterator[None]:
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

    async def renew(self) -> None:
        """Extend the leases of the jobs being worked on (one statement for all of them)."""
        if not self._held:
            return
        kept = await self._store.renew_leases(self.owner, list(self._held), until=self.until())
        for job_id in set(self._held) - kept:
            # Not renewed: either this process's own last write released it a moment ago (the job just moved
            # on), or its lease ran out while this process stalled and another took the job over; then the
            # work still running here will find its writes refused (fenced). Only the second is news.
            job, fence = await self._store.get_job(job_id), self._held.get(job_id)
            if job is not None and fence is not None and job.attempt != fence:  # leased again since: not by us
                log.warning("job %s: lease lost to another process (%s)", job_id, job.lease_owner or "done with it")

    async def renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._lease_seconds / 3)
            try:
                await self.renew()
            except Exception as error:  # keep trying; the leases may run out meanwhile
                if not is_database_outage(error):  # (an outage is told once, by the loop)
                    log.exception("renewing job leases failed")

    def stop_renewing(self, job: Job) -> None:
        """Keep the job's lease only until it runs out (or until the store's next write for it says)."""
        self._held.pop(job.id, None)

    async def let_go(self, job: Job, *, after_seconds: float = 0.0) -> None:
        """Hand a job back (its work failed and should be retried, here or elsewhere) after `after_seconds`
        instead of when its lease would run out: the lease, no longer renewed, simply ends then."""
        self.stop_renewing(job)
        with contextlib.suppress(Exception):
            await self._store.renew_leases(self.owner, [job.id],
                                           until=self._clock() + timedelta(seconds=after_seconds))

    async def hand_back_interrupted(self) -> None:
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

    async def take_over_leftovers(self) -> None:
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


__all__ = ["Leases", "worker_name"]
