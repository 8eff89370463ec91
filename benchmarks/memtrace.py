"""`python -m benchmarks.memtrace MODULE [args]`: run MODULE (e.g. `bot`, `benchmarks.skewed_clock`) as
`python -m MODULE args` would, and write what its memory is made of, for a look at RSS growth in the soak.

The soak runs its never-killed process (PostgreSQL shard 1) under this wrapper when a VIDU_SOAK_MEMTRACE_* or
VIDU_SOAK_MALLOC_* variable is set, and hands those on. No knob in the bot: this wrapper alone reads them.
Tracing and taking snapshots cost memory of their own (tens of MB, in the wrapper's thread): with
VIDU_SOAK_MEMTRACE_FRAMES other than 0 the process's RSS is not the bot's, only the traced figures are.

Every VIDU_SOAK_MEMTRACE_EVERY seconds (default 120) and on SIGUSR1 a thread writes to the directory
VIDU_SOAK_MEMTRACE_DIR, as `<pid>-<seconds since start>.*`:

- `.snap`: a tracemalloc snapshot (VIDU_SOAK_MEMTRACE_FRAMES frames per traceback, default 8), when
  VIDU_SOAK_MEMTRACE_FRAMES is not 0 (tracing costs CPU and memory of its own);
- `.json` (after a full gc.collect() when VIDU_SOAK_MEMTRACE_COLLECT=1; =garbage also counts what that
  collection freed, by type): RSS by kind of mapping, glibc's malloc figures (mallinfo2: bytes in use and
  free in its heaps, mmapped), pymalloc's (arenas, bytes in use), and the live objects gc tracks, by type.

Compare two of them with `python -m benchmarks.memtrace --diff OLD.snap NEW.snap` (top tracebacks by
growth) and `--diff OLD.json NEW.json` (object counts by growth). VIDU_SOAK_MALLOC_TRIM_EVERY=N also calls
glibc's malloc_trim(0) every N seconds (a hypothesis test: is the growth memory glibc holds but does not
use?).
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import os
import runpy
import signal
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

STARTED = time.monotonic()


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def _libc() -> Any:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


LIBC = _libc()


def _mallinfo() -> dict[str, float]:
    if LIBC is None or not hasattr(LIBC, "mallinfo2"):
        return {}
    LIBC.mallinfo2.restype = _MallInfo2
    info = LIBC.mallinfo2()
    mb = 1024 * 1024
    return {"malloc_arena_mb": info.arena / mb, "malloc_in_use_mb": info.uordblks / mb,
            "malloc_free_mb": info.fordblks / mb, "malloc_mmapped_mb": info.hblkhd / mb,
            "malloc_top_free_mb": info.keepcost / mb}


def _status(key: str) -> float:
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith(key + ":"):
            return int(row.split()[1]) / 1024
    return float("nan")


def _smaps() -> dict[str, float]:
    """Resident MB by kind of mapping: the main malloc heap, glibc's arenas for threads, other anonymous
    memory (pymalloc's arenas, glibc's big blocks, thread stacks), files."""
    kinds: Counter[str] = Counter()
    kind = "anon"
    for row in Path("/proc/self/smaps").read_text().splitlines():
        head = row.split(maxsplit=5)
        if "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
            name = head[5] if len(head) > 5 else ""
            kind = "heap" if name == "[heap]" else "file" if name.startswith("/") else "anon" if not name else "other"
            if kind == "anon" and int(head[0].split("-")[0], 16) % (64 << 20) == 0:
                kind = "thread_arenas"  # glibc's heaps for threads start on a 64 MiB boundary
        elif row.startswith("Rss:"):
            kinds[kind] += int(row.split()[1])
    return {f"rss_{k}_mb": v / 1024 for k, v in kinds.items()}


def _pymalloc() -> dict[str, float]:
    """pymalloc's own figures (sys._debugmallocstats writes them to fd 2: caught in a file meanwhile, with the
    log handlers' locks held so no log line lands there)."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    for handler in handlers:
        handler.acquire()
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode(errors="replace")
    finally:
        for handler in handlers:
            handler.release()
    wanted = {"# arenas allocated current": "pymalloc_arenas", "# arenas allocated total": "pymalloc_arenas_ever",
              "# bytes in allocated blocks": "pymalloc_used_mb",
              "# bytes in available blocks": "pymalloc_free_blocks_mb", "unused pools *": "pymalloc_unused_pools_mb"}
    found: dict[str, float] = {}
    for row in text.splitlines():
        for label, key in wanted.items():
            if label in row and "=" in row:
                value = float(row.rsplit("=", 1)[1].replace(",", "").strip())
                found[key] = value if key.endswith(("arenas", "_ever")) else value / 2**20
    return found


def _type_name(o: object) -> str:
    kind = type(o)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _dump(out: Path, lock: threading.Lock) -> None:
    with lock:
        stem = out / f"{os.getpid()}-{time.monotonic() - STARTED:05.0f}"
        # Cyclic garbage not yet collected would count as growth: VIDU_SOAK_MEMTRACE_COLLECT=1 collects first,
        # and =garbage also says what that garbage was (by type, and the bytes of the objects themselves).
        collect = os.environ.get("VIDU_SOAK_MEMTRACE_COLLECT", "")
        collected: int | None = None
        garbage: dict[str, Any] = {}
        if collect == "garbage":
            gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection would free goes to gc.garbage instead
            try:
                collected = gc.collect()
                kinds = Counter(_type_name(o) for o in gc.garbage)
                garbage = {"garbage_mb": sum(sys.getsizeof(o) for o in gc.garbage) / 2**20,
                           "garbage_types": dict(kinds.most_common(40))}
            finally:
                gc.set_debug(0)
                gc.garbage.clear()
            gc.collect()
        elif collect == "1":
            collected = gc.collect()
        figures: dict[str, Any] = {"t": time.monotonic() - STARTED, "rss_mb": _status("VmRSS"),
                                   "allocated_blocks": sys.getallocatedblocks(),
                                   "threads": threading.active_count(), "collected": collected,
                                   "gc_collections": [g["collections"] for g in gc.get_stats()],
                                   "gc_frozen": gc.get_freeze_count(),
                                   **_mallinfo(), **_smaps(), **_pymalloc()}
        if tracemalloc.is_tracing():
            current, peak = tracemalloc.get_traced_memory()
            figures.update(traced_mb=current / 2**20, traced_peak_mb=peak / 2**20,
                           tracemalloc_overhead_mb=tracemalloc.get_tracemalloc_memory() / 2**20)
            tracemalloc.take_snapshot().dump(str(stem) + ".snap")
        figures.update(garbage)
        types = Counter(_type_name(o) for o in gc.get_objects())
        figures["gc_objects"] = sum(types.values())
        figures["types"] = dict(types.most_common(400))
        (Path(str(stem) + ".json")).write_text(json.dumps(figures, indent=1))


def _start(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    frames = int(os.environ.get("VIDU_SOAK_MEMTRACE_FRAMES", "8"))
    if frames:
        tracemalloc.start(frames)
    every = float(os.environ.get("VIDU_SOAK_MEMTRACE_EVERY", "120"))
    trim_every = float(os.environ.get("VIDU_SOAK_MALLOC_TRIM_EVERY", "0"))
    lock = threading.Lock()
    asked = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: asked.set())  # (the bot's loop installs no SIGUSR1 handler)

    def loop() -> None:
        last_dump = last_trim = time.monotonic()
        while True:
            asked.wait(1.0)
            now = time.monotonic()
            if trim_every and now - last_trim >= trim_every and LIBC is not None:
                LIBC.malloc_trim(0)
                last_trim = now
            if asked.is_set() or now - last_dump >= every:
                asked.clear()
                last_dump = now
                try:
                    _dump(out, lock)
                except Exception as exc:  # a diagnostic must never take the bot down
                    print(f"benchmarks.memtrace: dump failed: {exc!r}", file=sys.stderr, flush=True)

    threading.Thread(target=loop, name="memtrace", daemon=True).start()
    print(f"benchmarks.memtrace: writing to {out} every {every:g} s (tracemalloc frames: {frames})", flush=True)


def _diff(old: str, new: str, top: int = 40) -> None:
    if old.endswith(".json"):
        a, b = json.loads(Path(old).read_text()), json.loads(Path(new).read_text())
        for key in [k for k in b if k != "types"]:
            print(f"{key}: {a.get(key)} -> {b[key]}")
        growth = Counter({k: v - a["types"].get(k, 0) for k, v in b["types"].items()})
        for name, n in growth.most_common(top):
            print(f"{n:+8d} {name} ({b['types'][name]})")
        return
    before, after = tracemalloc.Snapshot.load(old), tracemalloc.Snapshot.load(new)
    skip = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
    before, after = before.filter_traces(skip), after.filter_traces(skip)
    for key in ("filename", "traceback"):
        stats = after.compare_to(before, key)
        print(f"== by {key}: total {sum(s.size for s in stats) / 2**20:.2f} MB, "
              f"growth {sum(s.size_diff for s in stats) / 2**20:+.2f} MB")
        for stat in stats[:top if key == "filename" else top // 2]:
            print(f"{stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+7d} blocks  (now {stat.size / 1024:.1f} KiB)")
            if key == "filename":
                print(f"      {stat.traceback[0].filename}")
            else:
                for line in stat.traceback.format(most_recent_first=True)[:16]:
                    print("      " + line)


def main() -> None:
    if sys.argv[1:2] == ["--diff"]:
        _diff(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 40)
        return
    out = os.environ.get("VIDU_SOAK_MEMTRACE_DIR")
    if out:
        _start(Path(out))
    module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
