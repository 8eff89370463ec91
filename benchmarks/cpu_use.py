"""Where the CPU went during a benchmark window: the whole machine (/proc/stat) and one process tree
(e.g. the PostgreSQL server: the postmaster, its live backends, and the backends it has already reaped).

A background thread samples every ``interval`` seconds; ``share(began, ended)`` gives the figures for a
window in wall-clock time (time.time()), from the samples nearest to its ends. Linux only.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    at: float  # time.time()
    busy: float  # machine: seconds of CPU not idle (all cores), since boot
    total: float  # machine: seconds of CPU (all cores), since boot
    tree: float  # the watched tree's CPU seconds (own + reaped children + live children)
    second: float  # a second watched tree (all descendants), e.g. the benchmark's own client processes


@dataclass(frozen=True)
class CpuShare:
    busy_pct: float  # the machine's cores busy, % of all cores
    tree_pct: float  # the watched tree, % of all cores
    cpu_seconds: float  # CPU seconds spent by the machine in the window (all cores)
    tree_cpu_seconds: float
    second_pct: float  # the second tree, % of all cores
    seconds: float  # wall time between the samples used


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of all cores since boot; iowait counts as idle."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = fields[3] + fields[4]
    total = sum(fields)
    return (total - idle) / _CLK_TCK, total / _CLK_TCK


def _stat(pid: int | str) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def descendants_cpu(root: int) -> float:
    """CPU seconds of ``root`` and every live process under it (children, their children...), plus what
    they have reaped. For the bot: its own threads, the fork server and the image workers."""
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        fields = _stat(pid)
        if pid in seen or fields is None:
            continue
        seen.add(pid)
        total += sum(int(v) for v in fields[11:15])
        todo += _children(pid)
    return total / _CLK_TCK


def _children(pid: int) -> list[int]:
    """Live children of ``pid``, from /proc/<pid>/task/*/children (no scan of every process)."""
    found: list[int] = []
    try:
        tasks = list(os.scandir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return found
    for task in tasks:
        with contextlib.suppress(FileNotFoundError):
            found += [int(child) for child in Path(task.path, "children").read_text().split()]
    return found


def tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` itself, of its children already reaped (cutime/cstime), and of its live
    children. A backend that exits moves from the last term to the second once the postmaster reaps it."""
    own = _stat(root)
    if own is None:
        return 0.0
    ticks = sum(int(v) for v in own[11:15])  # utime, stime, cutime, cstime
    for child in _children(root):
        fields = _stat(child)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / _CLK_TCK


class CpuSampler:
    """Samples the machine and one process tree in a thread, while a benchmark runs."""

    def __init__(self, tree_root: int | None, interval: float = 0.25, *, descendants: bool = False,
                 second_root: int | None = None) -> None:
        self.tree_root = tree_root
        self.second_root = second_root
        self._tree = descendants_cpu if descendants else tree_cpu
        self.interval = interval
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._take()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self._take()

    def _take(self) -> None:
        busy, total = machine_cpu()
        tree = self._tree(self.tree_root) if self.tree_root else 0.0
        second = descendants_cpu(self.second_root) if self.second_root else 0.0
        self.samples.append(Sample(time.time(), busy, total, tree, second))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._take()

    def share(self, began: float, ended: float) -> CpuShare:
        first = min(self.samples, key=lambda s: abs(s.at - began))
        last = min(self.samples, key=lambda s: abs(s.at - ended))
        total = last.total - first.total
        if total <= 0:
            raise RuntimeError("no CPU samples cover the window (too short?)")
        return CpuShare(
            busy_pct=100 * (last.busy - first.busy) / total,
            tree_pct=100 * (last.tree - first.tree) / total,
            cpu_seconds=last.busy - first.busy,
            tree_cpu_seconds=last.tree - first.tree,
            second_pct=100 * (last.second - first.second) / total,
            seconds=last.at - first.at,
        )
