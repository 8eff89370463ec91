"""Discord snowflakes: time-ordered ids whose timestamp discord.py decodes into created_at."""

from __future__ import annotations

import itertools
import time

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeFactory:
    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._last = 0

    def next(self) -> int:
        now_ms = int(time.time() * 1000)
        increment = next(self._counter) & 0xFFF
        value = ((now_ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | increment
        # Strictly increasing even when the 12-bit counter wraps within one millisecond.
        self._last = value = max(value, self._last + 1)
        return value


def snowflake_time(snowflake: int) -> float:
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000
