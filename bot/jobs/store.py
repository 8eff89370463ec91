"""The `JobStore` interface every backend (SQLite now, PostgreSQL later) implements.

Rules shared by all backends:
- every mutation is one transaction, conditional on the job's current state where it matters, so two
  workers (or two processes) can never both move the same job;
- `transition` is the only way to change `state`, and it checks `states.ALLOWED_TRANSITIONS`;
- times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from bot.jobs.models import Job, JobInput
from bot.jobs.states import JobState
from bot.quotas.models import Charge, QuotaCheck
from bot.quotas.store import QuotaStore

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
        "finished_at",
        "video_url",
        "video_expires_at",
        "card_message_id",
        "status_message_id",
        "delivered_message_id",
    }
)


class StoreError(Exception):
    """The database holds something the bot cannot read back (named by job id and column)."""


class JobStore(QuotaStore, Protocol):
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
        checks: Sequence[QuotaCheck] = (),
    ) -> Job:
        """Store a new ACCEPTED job and its inputs atomically. Returns the job as stored: if its id was
        already taken, with a freshly drawn one."""
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
        **fields: object,
    ) -> Job | None:
        """Move the job to `to` if it is currently in one of `from_states`, setting `fields` too.

        Raises ValueError for a step not in the transition table or an unknown field. Returns None
        when the job was not in `from_states` (someone else moved it, or it does not exist): re-read.
        Entering SUBMITTING bumps `attempt`; entering SUBMITTED sets `submitted_at`; entering a
        terminal state sets `finished_at` (each unless given in `fields`).
        """
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
    ) -> Job | None:
        """Record a poll of a SUBMITTED job. None when the job is no longer SUBMITTED."""
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

    async def due_polls(self, now: datetime, limit: int) -> list[Job]:
        """SUBMITTED jobs whose next_poll_at is unset or <= now, the longest-waiting first."""
        ...

    async def jobs_to_resume(self) -> list[Job]:
        """After a restart: SUBMITTING, SUBMITTED and SUCCEEDED jobs, oldest first."""
        ...

    async def count_active(self, guild_id: int, user_id: int) -> int:
        """The member's jobs holding a slot: SUBMITTING + SUBMITTED + SUCCEEDED."""
        ...

    async def queued_for(self, guild_id: int, user_id: int) -> list[Job]:
        """The member's ACCEPTED jobs in queue order (queue position = index + 1)."""
        ...

    async def next_queued(self, guild_id: int, user_id: int) -> Job | None: ...

    async def recent_jobs(self, guild_id: int, user_id: int, limit: int = 10) -> list[Job]:
        """The member's jobs in this guild, newest first."""
        ...

    async def jobs_in_states(self, states: Collection[JobState], limit: int | None = None) -> list[Job]:
        """Jobs of every guild in `states`, oldest first (the worker's queue and delivery sweeps)."""
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
