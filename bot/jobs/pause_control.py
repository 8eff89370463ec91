"""The job loop's side of the provider pause (bot/jobs/pause.py).

The loop reads the pause every tick (so the `vidu_provider_paused` gauge is right in every process), starts
it when the provider refuses a submit for the operator's reasons, claims probes and ends it when a probe
creates a task. All of it is kept in the store, so several processes agree: one episode at a time, one
probe at a time, and each notice goes out once per episode (the operator's log, each affected server's
mod-log, the status cards of the queued jobs), whichever process gives it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from bot import metrics
from bot.jobs.models import Job
from bot.jobs.pause import PauseKind, ProviderPause, every_text, paused_text, resumed_text
from bot.jobs.states import JobState
from bot.jobs.store import JobStore
from bot.provider import InsufficientBalance, OperatorError
from bot.provider.errors import is_wrong_path

log = logging.getLogger("bot.jobs")

# The status cards re-rendered when a pause starts and when it ends (one Discord edit each): the oldest
# queued jobs; the others show it when they next change.
CARDS_PER_NOTICE = 100
CARD_EDITS_AT_ONCE = 8
# A process that finds a pause in force when it starts probes at once, not when the probe falls due: a
# restart is how a new VIDU_API_KEY is taken in.
_AT_ONCE = timedelta(days=365)


def pause_kind(error: OperatorError) -> PauseKind:
    return PauseKind.NO_CREDIT if isinstance(error, InsufficientBalance) else PauseKind.MISCONFIGURED


class PauseListener(Protocol):
    """The part of the job loop's listener (bot/jobs/steps.py JobListener) the pause speaks through."""

    async def job_changed(self, job: Job) -> None: ...

    async def tell_moderators(self, guild_id: int, text: str) -> None: ...


class ProviderPauses:
    def __init__(
        self, store: JobStore, listener: PauseListener, *, probe_seconds: float, clock: Callable[[], datetime],
        owner: str,
    ) -> None:
        self._store = store
        self._listener = listener
        self._probe_seconds = probe_seconds
        self._clock = clock
        self._owner = owner
        self._first_look = True
        self._probe_at_once = False

    @property
    def _every(self) -> timedelta:
        return timedelta(seconds=self._probe_seconds)

    async def current(self) -> ProviderPause | None:
        """The pause in force, read from the store (the gauge follows it). While paused, the servers whose
        jobs joined the queue since the last look, and were not told yet in this episode, are told now."""
        pause = await self._store.provider_pause()
        metrics.provider_paused(pause is not None)
        if self._first_look:
            self._first_look, self._probe_at_once = False, pause is not None
        if pause is not None:
            await self._tell_waiting_servers(pause)
        return pause

    def probe_may_be_due(self, pause: ProviderPause) -> bool:
        """A cheap look before the queue is read: False while this pause's next probe is not due."""
        return self._probe_at_once or pause.next_probe_at <= self._clock()

    async def claim_probe(self) -> bool:
        """Whether this process submits one queued job now, to see (one process at a time, when due)."""
        now = self._clock()
        due_by = now + _AT_ONCE if self._probe_at_once else now
        self._probe_at_once = False
        return await self._store.claim_provider_probe(owner=self._owner, due_by=due_by, next_probe_at=now + self._every)

    async def start(self, error: OperatorError, job: Job) -> None:
        """The provider refused `job`'s submit for the operator's reasons (the job is back in the queue):
        pause submits for every process; the process that starts the episode tells people, once."""
        kind = pause_kind(error)
        now = self._clock()
        if not await self._store.start_provider_pause(kind, now=now, next_probe_at=now + self._every):
            log.warning("job %s: the video service still refuses submits (HTTP %s %s); the job waits in the queue, "
                        "next try in %s", job.id, error.status, error.reason, every_text(self._probe_seconds))
            return
        metrics.provider_paused(True)
        waiting = (await self._store.count_by_state([JobState.ACCEPTED]))[JobState.ACCEPTED]
        what = ("says the account is out of credit" if kind is PauseKind.NO_CREDIT
                else "answers 404 (not found): check VIDU_API_BASE's path (it ends in /v3)" if is_wrong_path(error)
                else "refuses the API key (or the address is wrong)")
        log.error("SUBMITS PAUSED for every server: the video service %s (HTTP %s %s, on job %s). %d queued "
                  "job(s) wait with their quota reserved; none fails. One job is tried every %s "
                  "(PROVIDER_PAUSE_PROBE_SECONDS) and the first task created resumes submitting.", what, error.status,
                  error.reason, job.id, waiting, every_text(self._probe_seconds))
        pause = await self._store.provider_pause()
        if pause is not None:
            await self._tell_waiting_servers(pause)
        await self.show_queued()

    async def end(self) -> bool:
        """A probe created a task: submits resume. Whether this call ended the episode (then it told the servers
        told of it)."""
        now = self._clock()
        ended = await self._store.end_provider_pause(now=now)
        metrics.provider_paused(False)
        if ended is None:
            return False
        log.info("submits resumed: the video service took a job again after %s (pause %d, %d probe(s))",
                 now - ended.started_at, ended.episode, ended.probes)
        text = resumed_text(ended.kind, paused_for=now - ended.started_at)
        for guild_id in await self._store.paused_guilds(ended.episode):
            await self._tell(guild_id, text)
        return True

    async def show_queued(self) -> None:
        """Re-render the status cards of the oldest queued jobs: each card reads the pause from the store."""
        queued = await self._store.jobs_in_states([JobState.ACCEPTED], limit=CARDS_PER_NOTICE)
        if len(queued) == CARDS_PER_NOTICE:
            rest = (await self._store.count_by_state([JobState.ACCEPTED]))[JobState.ACCEPTED] - len(queued)
            if rest > 0:
                log.info("re-rendered the status cards of the %d oldest queued jobs; %d more show the pause "
                         "when they next change", len(queued), rest)
        slots = asyncio.Semaphore(CARD_EDITS_AT_ONCE)

        async def show(job: Job) -> None:
            async with slots:
                try:
                    await self._listener.job_changed(job)
                except Exception:  # a card that cannot be edited must not stop the loop
                    log.exception("job %s: status update failed", job.id)

        await asyncio.gather(*(show(job) for job in queued))

    async def _tell_waiting_servers(self, pause: ProviderPause) -> None:
        guilds = await self._store.note_paused_guilds()
        text = paused_text(pause.kind, probe_seconds=self._probe_seconds)
        for guild_id in guilds:
            await self._tell(guild_id, text)

    async def _tell(self, guild_id: int, text: str) -> None:
        try:
            await self._listener.tell_moderators(guild_id, text)
        except Exception:  # the mod-log is a courtesy: never let it stop the loop
            log.exception("guild %s: could not tell the moderators about the provider pause", guild_id)


__all__ = ["CARDS_PER_NOTICE", "PauseListener", "ProviderPauses", "pause_kind"]
