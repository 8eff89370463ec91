"""A clock that runs with real time but can be moved forward by tests (interaction deadlines, CDN expiry)."""

from __future__ import annotations

import time


class FakeClock:
    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        """Unix seconds: real time plus everything tests have advanced, so real waits count too."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
