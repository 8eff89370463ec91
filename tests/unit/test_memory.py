"""bot/memory.py: the memory Python frees goes back to the system (the soak's RSS growth, issue 14)."""

from __future__ import annotations

import asyncio
import gc
import random
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from bot import memory

ROOT = Path(__file__).resolve().parents[2]


def _rss_mb() -> float:
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(memory.MALLOC_TRIM is None or not Path("/proc/self/status").exists(),
                    reason="glibc's malloc_trim and /proc only")
def test_freed_memory_between_live_objects_goes_back_to_the_system() -> None:
    # What the soak showed: short-lived buffers freed between long-lived objects stay resident (malloc gives
    # back only the top of its heap) until malloc_trim.
    rng = random.Random(14)
    kept: list[bytes] = []
    freed: list[bytes] = []
    for n in range(10_000):
        buffer = bytes(rng.choice((1500, 4000, 9000)))  # under the mmap threshold: from malloc's heap
        (kept if n % 50 == 0 else freed).append(buffer)
    freed_mb = sum(len(b) for b in freed) / 2**20
    del freed
    before = _rss_mb()
    assert memory.release_free_memory()
    released = before - _rss_mb()
    assert released > freed_mb / 2, f"{released:.1f} MB back of {freed_mb:.1f} MB freed"
    assert kept  # alive until here


async def test_the_bot_trims_every_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    loop = asyncio.get_running_loop()
    third = asyncio.Event()

    def trim(pad: int) -> int:  # called in a worker thread
        calls.append(pad)
        if len(calls) == 3:
            loop.call_soon_threadsafe(third.set)
        return 1

    monkeypatch.setattr(memory, "MALLOC_TRIM", trim)
    task = asyncio.create_task(memory.release_memory_forever(every=0.01))
    try:
        async with asyncio.timeout(10):
            await third.wait()
    finally:
        task.cancel()
    assert set(calls) == {0}  # 0: keep no spare memory at the top of the heap either


async def test_the_task_collects_cyclic_garbage_even_without_malloc_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "MALLOC_TRIM", None)
    assert not memory.release_free_memory()

    class Node:
        pass

    freed = asyncio.Event()
    node = Node()
    node.self = node  # type: ignore[attr-defined]  # a cycle: only the collector frees it
    ref = weakref.ref(node, lambda _: freed.set())  # (the task collects on the loop's thread)
    del node
    gc.disable()  # the collector itself must not get there first
    task = asyncio.create_task(memory.release_memory_forever(every=0.01))
    try:
        async with asyncio.timeout(10):
            await freed.wait()
        assert ref() is None
    finally:
        gc.enable()
        task.cancel()


_CYCLE_AFTER_START = """
import gc, sys, weakref
import bot.app  # the bot's code: some 70,000 objects that live as long as the process
from bot.memory import freeze_startup_objects
if sys.argv[1] == "freeze":
    freeze_startup_objects()
else:
    gc.collect()  # as a long-running process has done at some point
class Node:
    pass
node = Node()
node.self = node  # a cycle: only the collector frees it
gc.collect(0)
gc.collect(1)  # it outlived two collections (an interaction's view does): it is in the oldest generation
ref = weakref.ref(node)
del node
for _ in range(500_000):  # traffic: short-lived cycles, freed by the young collections
    churn = []
    churn.append(churn)
print("collected" if ref() is None else "still there")
"""


@pytest.mark.parametrize(("how", "expected"), [("freeze", "collected"), ("as is", "still there")])
def test_old_garbage_is_collected_once_the_startup_objects_are_frozen(how: str, expected: str) -> None:
    # In its own interpreter: freezing is for the whole process.
    done = subprocess.run([sys.executable, "-c", _CYCLE_AFTER_START, how], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, check=True)
    assert done.stdout.strip() == expected
