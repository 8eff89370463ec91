"""The database server's clock, read from this host.

Leases are judged by time: a job leased until 12:00:30 is free for anyone at 12:00:31. If every process
used its own host's clock, a host running a minute ahead would see every other host's leases as run out
and take over their in-flight work (a second submit, a second post). So every process keeps time by the
one clock they share, the database's: PostgreSQL's `clock_timestamp()`, measured against this host's clock
at connect and again every minute, and applied as an offset. (SQLite has no server: the file lives on one
host, and every process using it reads that host's clock.)
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.jobs.models import utcnow

# Clocks drift slowly (NTP keeps them within milliseconds; an unsynchronised one drifts seconds a day), so
# a minute-old offset is as good as a fresh one; a host whose clock is *stepped* is right again within it.
REFRESH_SECONDS = 60.0


class DatabaseClock:
    """Callable like `utcnow`: this host's clock plus the last measured offset to the database's."""

    def __init__(self, host_clock: Callable[[], datetime] = utcnow, *, refresh_seconds: float = REFRESH_SECONDS):
        self._host_clock = host_clock
        self._refresh_seconds = refresh_seconds
        self.offset = timedelta(0)  # database minus host
        self._measured_at: float | None = None  # time.monotonic() of the last measurement

    def __call__(self) -> datetime:
        return self._host_clock() + self.offset

    def stale(self) -> bool:
        return self._measured_at is None or time.monotonic() - self._measured_at >= self._refresh_seconds

    async def measure(self, server_now: Callable[[], Awaitable[datetime]]) -> timedelta:
        """Read the server's clock once; the offset assumes its answer was read halfway through the round trip
        (off by at most half of it: milliseconds, against leases of a minute)."""
        before = self._host_clock()
        at_server = await server_now()
        after = self._host_clock()
        self.offset = at_server - (before + (after - before) / 2)
        self._measured_at = time.monotonic()
        return self.offset
