"""Give the memory Python freed back to the system every minute (glibc's malloc_trim; nothing elsewhere).

Measured in the chaos soak (benchmarks/soak.py, with benchmarks/memtrace.py): the bot's Python objects
and what glibc's malloc had handed out stayed nearly flat, but the memory malloc kept after Python freed it
grew by about half a megabyte a minute, and RSS with it. malloc gives memory back to the system by
itself only from the top of a heap; freed chunks between live ones stay resident until reused, and with
the bot's mix of short-lived buffers (HTTP bodies, JSON, request payloads) and long-lived objects
placed between them, more of them pile up than get reused. `malloc_trim(0)` returns every free page,
wherever it is in every heap, to the system.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
from collections.abc import Callable

log = logging.getLogger("bot.memory")

# Each call costs about a millisecond per megabyte it returns; a minute's worth is a megabyte or less.
TRIM_EVERY_SECONDS = 60.0


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc (musl, macOS): its malloc gives memory back by itself
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


MALLOC_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Hand the free pages malloc keeps back to the system; False when the C library has no malloc_trim."""
    if MALLOC_TRIM is None:
        return False
    MALLOC_TRIM(0)
    return True


async def release_free_memory_forever(every: float = TRIM_EVERY_SECONDS) -> None:
    if MALLOC_TRIM is None:
        log.debug("no malloc_trim in this C library: freed memory is left to it")
        return
    while True:
        await asyncio.sleep(every)
        # In a thread: ctypes lets go of the GIL for the call, so the loop runs on meanwhile.
        await asyncio.to_thread(release_free_memory)
