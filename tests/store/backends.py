"""The store backends the suite runs against. A new backend (PostgreSQL) adds one entry here.

A backend opens a *handle* on one test database: calling it twice on the same directory gives two
independent handles (connections) to the same data, which the race and durability tests need.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.jobs import JobStore, SQLiteStore


class ManualClock:
    """The store's notion of "now", moved by the test (whole milliseconds: what the store keeps)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass(frozen=True)
class Backend:
    name: str
    open: Callable[[Path, ManualClock], Awaitable[JobStore]]


async def _open_sqlite(directory: Path, clock: ManualClock) -> JobStore:
    return await SQLiteStore.open(f"sqlite:///{directory / 'jobs.db'}", clock=clock)


BACKENDS: dict[str, Backend] = {
    "sqlite": Backend("sqlite", _open_sqlite),
}
