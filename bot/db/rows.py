"""Job rows as every store keeps them: the columns, checking what callers write, reading rows back.

The checks (and so the error messages naming job and field) are the same on every backend; each store
then turns the checked Python values into its own column types (SQLite: integer milliseconds and 0/1;
PostgreSQL: timestamptz and boolean) and hands `decode_job` a function that reads its time columns back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.jobs.models import Job, JobKind, JobSource
from bot.jobs.states import JobState
from bot.jobs.store import StoreError
from bot.params import is_params_of, params_from_json

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)

# Column kinds, for checking what callers pass and decoding what the database returns.
TIME_COLUMNS = frozenset(
    {"next_poll_at", "created_at", "submitted_at", "succeeded_at", "finished_at", "video_expires_at", "lease_until",
     "sent_at"}
)
INT_COLUMNS = frozenset(
    {
        "guild_id",
        "channel_id",
        "thread_id",
        "user_id",
        "duration_seconds",
        "progress_percent",
        "eta_seconds",
        "attempt",
        "poll_count",
        "card_message_id",
        "status_message_id",
        "delivered_message_id",
        "delivery_attempts",
        "upload_limit",
        "reviewed_by",
    }
)
NOT_NULL_INT = frozenset(
    {"guild_id", "channel_id", "user_id", "duration_seconds", "attempt", "poll_count", "delivery_attempts"}
)
BOOL_COLUMNS = frozenset({"private", "spoiler"})
TEXT_COLUMNS = frozenset(
    {"id", "locale", "resolution", "task_id", "provider_status", "reason", "video_url", "parent_job_id", "lease_owner",
     "video_review", "source"}
)


class Row(Protocol):
    """A row by column name: sqlite3.Row and asyncpg.Record both read this way."""

    def __getitem__(self, key: str, /) -> Any: ...


_NOT_NULL_TEXT = frozenset({"id", "locale", "resolution", "source"})
JOB_COLUMNS: tuple[str, ...] = (
    "id",
    "guild_id",
    "channel_id",
    "thread_id",
    "user_id",
    "locale",
    "kind",
    "params",
    "resolution",
    "duration_seconds",
    "private",
    "state",
    "task_id",
    "provider_status",
    "progress_percent",
    "eta_seconds",
    "reason",
    "attempt",
    "poll_count",
    "next_poll_at",
    "created_at",
    "submitted_at",
    "finished_at",
    "video_url",
    "video_expires_at",
    "card_message_id",
    "status_message_id",
    "delivered_message_id",
    "parent_job_id",
    "lease_owner",
    "lease_until",
    "succeeded_at",
    "delivery_attempts",
    "upload_limit",
    "sent_at",
    "video_review",
    "reviewed_by",
    "source",
    "spoiler",
)


def to_ms(value: datetime, what: str) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what}: a naive datetime; pass an aware UTC time")
    return (value - EPOCH) // MS


def from_ms(value: int | None) -> datetime | None:
    return None if value is None else EPOCH + value * MS


def to_whole_ms(value: datetime, what: str) -> datetime:
    """The UTC instant a store keeps for `value`: cut to the millisecond, as on every backend."""
    return EPOCH + to_ms(value, what) * MS


def check_field(job_id: str, column: str, value: object) -> object:
    """Check one value a caller wants written. Returns it unchanged (times: aware datetimes)."""
    what = f"job {job_id}, field {column!r}"
    if column in TIME_COLUMNS:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValueError(f"{what}: expected a datetime, got {type(value).__name__}")
        to_ms(value, what)  # refuses a naive time, naming the field
        return value
    if column in INT_COLUMNS:
        if value is None and column not in NOT_NULL_INT:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{what}: expected an integer, got {type(value).__name__}")
        return value
    if column in TEXT_COLUMNS:
        if value is None and column not in _NOT_NULL_TEXT:
            return None
        if not isinstance(value, str):
            raise ValueError(f"{what}: expected text, got {type(value).__name__}")
        return value
    raise ValueError(f"{what}: not a column")  # pragma: no cover - callers check names first


def check_job(job: Job) -> dict[str, object]:
    """Every column of a new job, checked: params as JSON text, kind/state as text, private and spoiler as bools."""
    row: dict[str, object] = {}
    for column in JOB_COLUMNS:
        value = getattr(job, column)
        if column == "params":
            if not is_params_of(JobKind(job.kind).value, value):
                raise ValueError(f"job {job.id}, field 'params': expected the settings of a {job.kind} job, "
                                 f"got {type(value).__name__}")
            try:
                row[column] = json.dumps(value.to_json(), ensure_ascii=False, sort_keys=True, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"job {job.id}, field 'params': not JSON-serialisable ({exc})") from None
        elif column == "kind":
            row[column] = JobKind(value).value
        elif column == "state":
            row[column] = JobState(value).value
        elif column == "source":
            row[column] = JobSource(value).value
        elif column in BOOL_COLUMNS:
            if not isinstance(value, bool):
                raise ValueError(f"job {job.id}, field {column!r}: expected a bool")
            row[column] = value
        elif column == "created_at":
            if not isinstance(value, datetime):
                raise ValueError(f"job {job.id}, field 'created_at': expected a datetime")
            to_ms(value, f"job {job.id}, field 'created_at'")
            row[column] = value
        else:
            row[column] = check_field(job.id, column, value)
    return row


def decode_job(row: Row, time_from_db: Callable[[Any], datetime | None]) -> Job:
    """A stored row back into a Job; a value that cannot be read is a StoreError naming job and column."""
    job_id = row["id"]
    values: dict[str, Any] = {}
    for column in JOB_COLUMNS:
        raw = row[column]
        try:
            if column == "params":
                params = json.loads(raw)
                if not isinstance(params, dict):
                    raise ValueError("not a JSON object")
                values[column] = params_from_json(row["kind"], params)
            elif column == "kind":
                values[column] = JobKind(raw)
            elif column == "state":
                values[column] = JobState(raw)
            elif column == "source":
                values[column] = JobSource(raw)
            elif column in BOOL_COLUMNS:
                values[column] = bool(raw)
            elif column in TIME_COLUMNS:
                values[column] = time_from_db(raw)
            else:
                values[column] = raw
        except (ValueError, TypeError) as exc:
            raise StoreError(f"job {job_id}: column {column!r} holds an unreadable value ({exc})") from None
    return Job(**values)
