"""Discord snowflakes: time-ordered ids whose timestamp discord.py decodes into created_at."""

from __future__ import annotations

import itertools
import time

DISCORD_EPOCH_MS = 1420070400000


def shard_of(guild_id: int, num_shards: int) -> int:
    """Discord's rule: the shard a guild's events travel on."""
    return (guild_id >> 22) % num_shards


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

    def next_on_shard(self, shard_id: int, num_shards: int) -> int:
        """The next id whose guild lands on ``shard_id`` of ``num_shards``.

        The shard is the id's timestamp (top bits) modulo the count, so the timestamp is moved up to
        the next millisecond with that remainder: at most ``num_shards - 1`` ms in the future.
        """
        if num_shards < 1 or not 0 <= shard_id < num_shards:
            raise ValueError(f"no shard {shard_id} of {num_shards}: need 0 <= shard_id < num_shards")
        value = self.next()
        ms = value >> 22
        ms += (shard_id - ms) % num_shards
        value = (ms << 22) | (value & ((1 << 22) - 1))
        self._last = max(value, self._last)
        return value


def snowflake_time(snowflake: int) -> float:
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000
