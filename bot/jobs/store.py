"""The `JobStore` interface every backend (SQLite now, PostgreSQL later) implements.

Rules shared by all backends:
- every mutation is one transaction, conditional on the job's current state where it matters, so two
  workers (or two processes) can never both move the same job;
- work on a job (submitting, polling, delivering) happens under a *lease*: `lease`/`claim_submit` give the
  job to one worker process until a time, bumping the job's `attempt`; the holder renews it while it works
  (`renew_leases`) and passes that attempt as `fence=` to its writes, which then apply only if nobody has
  leased the job since (a paused process cannot overwrite the work of the one that took over) and release
  the lease. A process that dies simply lets its leases run out;
- `transition` is the only way to change `state`, and it checks `states.ALLOWED_TRANSITIONS`;
- times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from bot.jobs.ledger import LedgerReportStore
from bot.jobs.models import Job, JobInput
from bot.jobs.pause import PauseKind, ProviderPause
from bot.jobs.states import JobState
from bot.member_settings import MemberSettingsStore
from bot.quotas.models import Charge, MemberPace, QuotaCheck
from bot.quotas.store import QuotaStore
from bot.strikes import StrikeStore
from bot.takedowns import TakedownStore

# Columns `transition(..., **fields)` may set alongside the new state. `state`, the identity columns
# and the request itself (params, inputs) are never rewritten after creation.
TRANSITION_FIELDS: frozenset[str] = frozenset(
    {
        "thread_id",
        "task_id",
        "provider_status",
        "progress_percent",
        "eta_seconds",
        "reason",
        "attempt",
        "poll_count",
        "next_poll_at",
        "submitted_at",
        "succeeded_at",
        "finished_at",
        "video_url",
        "video_expires_at",
        "card_message_id",
        "status_message_id",
        "delivered_message_id",
        "sent_at",
    }
)


class StoreError(Exception):
    """The database holds something the bot cannot read back (named by job id and column)."""


class JobStore(QuotaStore, LedgerReportStore, StrikeStore, MemberSettingsStore, TakedownStore, Protocol):
    def now(self) -> datetime:
        """The database's clock (bot/db/clock.py): leases, poll times and job times are judged by it, so
        processes on hosts whose clocks disagree still agree on who holds a job."""
        ...

    async def migrate(self) -> list[int]:
        """Apply pending migrations in order; return the versions applied now (empty when up to date)."""
        ...

    async def schema_versions(self) -> list[tuple[int, str]]:
        """The migrations recorded as applied: (version, name), in order."""
        ...

    async def close(self) -> None:
        """Close the store; closing twice is harmless."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def create_job(
        self, job: Job, inputs: Sequence[JobInput], *, charge: Charge | None = None,
        checks: Sequence[QuotaCheck] = (), pace: MemberPace | None = None,
    ) -> Job:
        """Store a new ACCEPTED job and its inputs atomically. Returns the job as stored: if its id was
        already taken, with a freshly drawn one. In the same transaction: `pace` (TooSoon, QueueFull) and
        then the quota reservation (`charge` against `checks`: QuotaExceeded), exact under concurrency."""
        ...

    async def get_job(self, job_id: str) -> Job | None: ...

    async def get_inputs(self, job_id: str) -> list[JobInput]:
        """The job's inputs by position (empty once deleted)."""
        ...

    async def transition(
        self,
        job_id: str,
        *,
        from_states: Collection[JobState],
        to: JobState,
        fence: int | None = None,
        **fields: object,
    ) -> Job | None:
        """Move the job to `to` if it is currently in one of `from_states`, setting `fields` too.

        Raises ValueError for a step not in the transition table or an unknown field. Returns None
        when the job was not in `from_states` (someone else moved it, or it does not exist): re-read.
        Entering SUBMITTING bumps `attempt`; entering SUBMITTED sets `submitted_at`; entering SUCCEEDED
        sets `succeeded_at`; entering a terminal state sets `finished_at` (each unless given in `fields`).
        With `fence` (the `attempt` of the caller's lease): only if the job's attempt still equals it,
        releasing the lease with the move; None otherwise (another process has leased the job since).
        """
        ...

    async def claim_submit(self, job_id: str, *, max_active: int, owner: str, until: datetime,
                           provider_cap: int | None = None) -> Job | None:
        """ACCEPTED -> SUBMITTING, leased to `owner` until `until`, only while the member holds fewer than
        `max_active` running jobs (ACTIVE_STATES) and, with `provider_cap`, fewer than that many jobs of every
        server are in flight at the provider (IN_FLIGHT_STATES); both counted in the same transaction and
        serialised across processes. None when the job is no longer ACCEPTED or no slot is free."""
        ...

    async def mark_sent(self, job_id: str, *, fence: int) -> Job | None:
        """Note, just before the paid submit call, that this claim's request is leaving (`sent_at`), keeping the
        lease. None when the job is no longer SUBMITTING under `fence` (another process took it): then nothing
        may be sent. A SUBMITTING job without the note sent nothing, so recovery queues it again."""
        ...

    async def lease(
        self,
        states: Collection[JobState],
        *,
        owner: str,
        now: datetime,
        until: datetime,
        limit: int,
        due_only: bool = False,
    ) -> list[Job]:
        """Lease to `owner` until `until` up to `limit` jobs in `states` that nobody holds (no lease, or one
        that ran out by `now`), the oldest picked first; with `due_only`, only jobs whose next poll is due,
        the longest waiting picked first. Each leased job's `attempt` is bumped: the fence for its holder's
        writes. Jobs another process is leasing at this very moment are skipped, not waited for."""
        ...

    async def renew_leases(self, owner: str, job_ids: Collection[str], *, until: datetime) -> set[str]:
        """Extend `owner`'s leases on `job_ids` to `until`; returns the ids still held (a lease released by
        a fenced write, or taken over by another process, is not renewed)."""
        ...

    async def release_leases(self, *, host: str, except_owner: str) -> list[str]:
        """Free every job leased by an earlier run on `host` (owners `host:pid:random`, see worker_name), but
        not `except_owner`'s: a process that knows it is alone on its host frees what its own crashed run
        left; another host's leases (an old process still running during a deploy) run out by themselves.
        Returns their ids. Their late writes, if any, stay fenced off."""
        ...

    async def update_progress(
        self,
        job_id: str,
        *,
        provider_status: str | None,
        progress_percent: int | None,
        eta_seconds: int | None,
        next_poll_at: datetime | None,
        poll_count: int,
        fence: int | None = None,
        reason: str | None = None,
    ) -> Job | None:
        """Record a poll of a SUBMITTED job (with `fence`: as `transition` does, releasing the lease), and
        its `reason` when given (a note such as "late"; unchanged when None). None when the job is no
        longer SUBMITTED, or is fenced off."""
        ...

    async def record_delivery_failure(self, job_id: str, *, fence: int, retry_at: datetime) -> Job | None:
        """A failed delivery of a SUCCEEDED job: count it, and keep the job leased to its holder until
        `retry_at` (the backoff: no process tries again before then). None when fenced off."""
        ...

    async def set_message_ids(
        self,
        job_id: str,
        *,
        card_message_id: int | None = None,
        status_message_id: int | None = None,
        thread_id: int | None = None,
    ) -> Job | None:
        """Set the given (non-None) Discord ids. None when the job does not exist."""
        ...

    async def record_video_review(self, job_id: str, review: str, *, fence: int, release: bool = False) -> Job | None:
        """Record a SUCCEEDED job's screening decision (bot/jobs/review.py VideoReview) under its lease (`fence`),
        keeping the lease unless `release`, over no decision or `hold` only. None when fenced off, no longer
        SUCCEEDED, or a moderator has decided."""
        ...

    async def decide_review(self, job_id: str, *, approve: bool, actor_id: int, reason: str) -> Job | None:
        """A moderator's decision on a held video, once: approve (back to the delivery, a fresh deadline) or
        remove (EXPIRED with `reason`, charged, in the same transaction as its ledger and its audit row, as is
        an approval's). Taken from `held`, or from `hold` (the mod-log message is out before the delivery records
        the video held; the decision's new fencing number keeps that record from overwriting it). None when the
        job is not held (decided already, or never held)."""
        ...

    async def count_active(self, guild_id: int, user_id: int) -> int:
        """The member's jobs holding a slot: SUBMITTING + SUBMITTED + SUCCEEDED (but a video held for a
        moderator: bot/jobs/review.py)."""
        ...

    async def queued_for(self, guild_id: int, user_id: int) -> list[Job]:
        """The member's ACCEPTED jobs in queue order (queue position = index + 1)."""
        ...

    async def next_queued(self, guild_id: int, user_id: int) -> Job | None: ...

    async def recent_jobs(self, guild_id: int, user_id: int, limit: int = 10) -> list[Job]:
        """The member's jobs in this guild, newest first."""
        ...

    async def jobs_in_states(self, states: Collection[JobState], limit: int | None = None) -> list[Job]:
        """The job loop's jobs (not the command line's) of every guild in `states`, oldest first (the worker's
        queue and delivery sweeps). `lease` and `queued_fairly` pass over the command line's jobs too."""
        ...

    async def fair_place(self, job_id: str) -> int | None:
        """The queued job's place (1 first) in the order `queued_fairly` gives; None when it is not queued."""
        ...

    async def queued_fairly(self, limit: int) -> list[Job]:
        """Up to `limit` ACCEPTED jobs of every guild in the order they should be submitted: turns taken server by
        server and member by member, those with fewer jobs in flight first; a member's own jobs oldest first."""
        ...

    async def count_by_state(self, states: Collection[JobState]) -> dict[JobState, int]:
        """How many of the job loop's jobs (not the command line's) of every guild are in each of `states` (0 for
        none), for /metrics and the provider cap."""
        ...

    async def operator_job(self, task_id: str) -> Job | None:
        """The command line's job (JobSource.OPERATOR) that submitted this task, or None."""
        ...

    async def guild_jobs(self, guild_id: int, states: Collection[JobState]) -> list[Job]:
        """The guild's jobs in `states`, oldest first (for /jobs all)."""
        ...

    async def delete_inputs(self, job_id: str) -> int:
        """Drop the job's stored image bytes; returns how many inputs were deleted."""
        ...

    async def delete_inputs_finished_before(self, cutoff: datetime) -> int:
        """Drop the image bytes of every job that ended before `cutoff` (kept until then for Re-roll);
        returns how many inputs were deleted."""
        ...

    # -- the provider pause (bot/jobs/pause.py): one episode in force at most, for every process ----------

    async def start_provider_pause(self, kind: PauseKind, *, now: datetime, next_probe_at: datetime) -> bool:
        """Pause submits, atomically: True when this call started a new episode (its caller tells people,
        once); False when one was already in force, which then takes `kind` and `next_probe_at` (a failed
        probe schedules the next one)."""
        ...

    async def provider_pause(self) -> ProviderPause | None:
        """The pause in force, or None."""
        ...

    async def claim_provider_probe(self, *, owner: str, due_by: datetime, next_probe_at: datetime) -> bool:
        """Claim the next probe, atomically: True for one caller when the pause's next probe is due by
        `due_by`, and moves it to `next_probe_at`; False when not paused, not due, or taken by another."""
        ...

    async def end_provider_pause(self, *, now: datetime) -> ProviderPause | None:
        """End the pause in force; the episode this call ended, None when none was in force (not paused, or
        another process ended it first)."""
        ...

    async def note_paused_guilds(self) -> list[int]:
        """The servers with queued (ACCEPTED) jobs not yet told of the pause in force, now marked told: each
        is returned to one caller once per episode. Empty when not paused."""
        ...

    async def paused_guilds(self, episode: int) -> list[int]:
        """The servers told of `episode` (to be told again when it ends)."""
        ...
