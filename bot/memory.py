"""Keep the bot's memory from creeping up under steady traffic (issue 14; measured with benchmarks/memtrace.py).

Two things made RSS grow 30-45 MB/h in the chaos soak, neither a leak:

- Memory glibc's malloc kept after Python freed it: the bytes malloc had handed out stayed flat while the
  free ones inside its heaps grew by about half a megabyte a minute. malloc gives memory back to the system
  by itself only from the top of a heap; freed chunks between live ones stay resident until reused, and
  with the bot's mix of short-lived buffers (HTTP bodies, JSON, request payloads) and long-lived objects
  placed between them, more pile up than get reused. `malloc_trim(0)` returns every free page, wherever
  it is in every heap, to the system: `release_memory_forever` calls it every minute.
- Garbage in reference cycles (interactions, views, closed database connections with their statement
  caches, and the buffers they point to) waiting for a full collection. Python starts one only after ten
  collections of the middle generation, a hundred of the young one (each after 700 more container objects
  were made than freed, while most die young here), and once those that survived add up to a quarter of
  what the last full one kept: in the soak, none in 15 minutes while pymalloc's bytes in use grew 1.7 MB;
  with a full collection every two minutes they stayed within 0.4 MB. So the same task runs one every
  minute, before the trim; `freeze_startup_objects` first moves the ~70,000 objects of the bot's code and
  settings, which live as long as the process, out of the collector's sight, so that collection walks
  only what came after (a millisecond or so instead of ~20).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
from collections.abc import Callable

log = logging.getLogger("bot.memory")

# A trim costs about a millisecond per megabyte it returns; a minute's worth is a megabyte or less.
RELEASE_EVERY_SECONDS = 60.0


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


async def release_memory_forever(every: float = RELEASE_EVERY_SECONDS) -> None:
    """Every `every` seconds: collect cyclic garbage, then hand the free pages back to the system."""
    if MALLOC_TRIM is None:
        log.debug("no malloc_trim in this C library: only garbage is collected, freed memory is left to it")
    while True:
        await asyncio.sleep(every)
        # On the loop's thread: the finalizers of asyncio objects (transports, futures) must run there.
        gc.collect()
        if MALLOC_TRIM is not None:
            # In a thread: ctypes lets go of the GIL for the call, so the loop runs on meanwhile.
            await asyncio.to_thread(release_free_memory)


def freeze_startup_objects() -> None:
    """Once the bot's code is loaded (before it serves anyone): collect start-up garbage, then freeze what is
    left, so later full collections neither walk it nor wait for a quarter of it to pile up first."""
    gc.collect()  # what is frozen is never collected: no garbage among it (~20 ms, once)
    gc.freeze()
    gc.collect()  # resets the collector's count of long-lived objects to the unfrozen ones (none yet)
