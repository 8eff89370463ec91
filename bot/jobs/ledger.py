"""What the ledger says about each job, for reconciliation with the provider's bill (`python -m bot ledger`).

Plain data, no I/O: the stores read it (bot/db/sql_report.py), bot/reconcile.py judges it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # bot.jobs imports this module: no import back at run time
    from bot.jobs.states import JobState


class Settlement(StrEnum):
    """How the ledger settled a job's reservation (SPEC section 5, bot/jobs/states.py)."""

    CHARGED = "charged"  # a 'consume' row: the provider billed it (or may still)
    REFUNDED = "refunded"  # a 'refund' row: the provider billed nothing
    UNDECIDED = "undecided"  # submit_unknown: the reservation is kept, maybe billed
    IN_FLIGHT = "in flight"  # not ended yet: reserved, settled when it ends


@dataclass(frozen=True)
class LedgerEntry:
    """One job's reservation in the ledger, with how it was settled and what the job knows of its task."""

    job_id: str
    guild_id: int
    user_id: int
    state: JobState
    task_id: str | None
    videos: int
    seconds: int  # quota seconds: the video's seconds weighted by resolution (GuildSettings.weights)
    credits: int  # the estimated cost, in thousandths of the price table's currency (bot.pricing)
    reserved_at: datetime
    settlement: Settlement
    # The provider reported the video made (the job reached SUCCEEDED: `succeeded_at` is set, or it was
    # delivered): the bot holds its own evidence that the task was billed.
    made: bool = False


class LedgerReportStore(Protocol):
    async def ledger_entries(self, since: datetime, guild_id: int | None = None) -> list[LedgerEntry]:
        """Every job reserved in the ledger at or after `since` (of one server, or all), with its
        settlement, its state and its provider task id; by server, then oldest first."""
        ...
