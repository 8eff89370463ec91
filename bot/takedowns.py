"""Take-downs and reports of the bot's posts (issue 25, item 7): the records and the rules, Discord-free.

A take-down removes a job's posts (its video and its request card) for good: its requester or a moderator
asks, the removal is recorded once (who, when, which job, why) and audited in the same transaction. A report
is a member telling the moderators about a video: one per member and job (a repeat changes nothing), and a
member may send at most REPORTS_PER_WINDOW reports within REPORT_WINDOW, so a flood of reports cannot flood
the mod-log. Both SQL stores implement `TakedownStore` (bot/db/sql_takedowns.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

REASON_MAX = 400  # characters of a typed reason (the report form's and the take-down form's limit)
# Reports a member may send in a server within the window: generous for a member who meets several bad
# videos, tight enough that a script cannot bury the mod-log.
REPORTS_PER_WINDOW = 5
REPORT_WINDOW = timedelta(hours=1)


class Role(StrEnum):
    """In which capacity someone removed a job's posts."""

    REQUESTER = "requester"
    MODERATOR = "moderator"


@dataclass(frozen=True)
class Takedown:
    job_id: str
    guild_id: int
    actor_id: int
    role: Role
    reason: str | None
    at: datetime


class ReportOutcome(StrEnum):
    NEW = "new"  # the first report of this video by this member: the mod-log hears of it
    REPEAT = "repeat"  # this member reported this video before: nothing changes
    TOO_MANY = "too_many"  # over the member's rate: not recorded


@dataclass(frozen=True)
class ReportResult:
    outcome: ReportOutcome
    # NEW: how many members have reported the job now, and the mod-log message already carrying its reports
    # (None: the first report, or none was posted): a later report edits that message instead of adding one.
    reporters: int = 0
    modlog_message_id: int | None = None
    # TOO_MANY: when the member may report again.
    retry_at: datetime | None = None


@dataclass(frozen=True)
class Report:
    reporter_id: int
    reason: str
    at: datetime


class TakedownStore(Protocol):
    async def record_takedown(self, takedown: Takedown) -> bool:
        """Record a removal, audited ("post.takedown") in the same transaction. False when the job was removed
        before (two presses at once, another process): nothing is written then."""
        ...

    async def takedown(self, job_id: str) -> Takedown | None:
        """The job's removal, or None."""
        ...

    async def job_for_message(self, guild_id: int, message_id: int) -> str | None:
        """The id of the server's job whose request card, status card or video is this message, or None."""
        ...

    async def record_report(self, guild_id: int, job_id: str, reporter_id: int, reason: str, *,
                            now: datetime) -> ReportResult:
        """A member's report of a job's video: NEW (recorded), REPEAT (reported before: nothing written) or
        TOO_MANY (REPORTS_PER_WINDOW already within REPORT_WINDOW: nothing written). Serialised per server."""
        ...

    async def reports(self, job_id: str) -> list[Report]:
        """The job's reports, oldest first."""
        ...

    async def set_report_message(self, job_id: str, message_id: int) -> None:
        """The mod-log message that carries the job's reports (a later report edits it)."""
        ...
