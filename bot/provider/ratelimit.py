"""A process-wide token bucket that keeps every provider call (submits and polls) under a rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# Clock arithmetic in floats can leave a token at 0.9999999; that is a whole token.
_EPSILON = 1e-9


class RateLimiter:
    """`await limiter.acquire()` before each request; waiters are served first come, first served.

    The bucket holds `burst` tokens (default: one second's worth, at least 1) and refills continuously
    at `per_minute / 60` tokens a second. `clock` is injectable so tests can move time by hand.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(per_minute, bool) or not isinstance(per_minute, int) or per_minute < 1:
            raise ValueError(f"per_minute must be a positive whole number, got {per_minute!r}")
        self._rate = per_minute / 60.0
        self._capacity = float(burst if burst is not None else max(1, per_minute // 60))
        if self._capacity < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        self._clock = clock
        self._tokens = self._capacity
        self._updated = clock()
        # Held while a waiter sleeps for its token, so later callers queue behind it in order.
        self._lock = asyncio.Lock()
        self._last_wait: float | None = None  # when a caller last had to wait for its token

    @property
    def per_minute(self) -> float:
        return self._rate * 60.0

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        self._updated = now

    async def acquire(self) -> None:
        async with self._lock:
            self._refill()
            while self._tokens < 1.0 - _EPSILON:
                self._last_wait = self._clock()
                # Sleep about as long as the missing fraction of a token takes; re-check after, since the
                # clock may be a test clock that has not moved. Cancelling here consumes no token.
                await asyncio.sleep(max(0.001, (1.0 - self._tokens) / self._rate))
                self._refill()
            self._tokens = max(0.0, self._tokens - 1.0)

    def waited_within(self, seconds: float) -> bool:
        """Whether a caller had to wait for its token in the last `seconds`: calls are what holds work back."""
        return self._last_wait is not None and self._clock() - self._last_wait <= seconds

    def __repr__(self) -> str:
        return f"RateLimiter(per_minute={self.per_minute:g}, burst={self._capacity:g})"
