"""Store throughput: job transitions per second through the real `JobStore` (SQLite, or PostgreSQL when its
store exists), from one process or several on the same database.

    python -m benchmarks.store_bench --url sqlite:////tmp/x.db [--jobs 300] [--processes 1]

Each job walks the worker's path ACCEPTED -> SUBMITTING -> SUBMITTED -> SUCCEEDED -> DELIVERED (four
transitions). Jobs are created first (not timed); then `--concurrency` coroutines per process move them,
and the timed part is the transitions only. With several processes each one moves its own jobs, and the
figure is all transitions over the wall time from the first start to the last finish.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.db import open_store
from bot.jobs import Job, JobKind, JobState, JobStore, utcnow
from bot.params import Img2VideoParams

S = JobState
STEPS = ((S.ACCEPTED, S.SUBMITTING), (S.SUBMITTING, S.SUBMITTED), (S.SUBMITTED, S.SUCCEEDED),
         (S.SUCCEEDED, S.DELIVERED))


def _job(n: int) -> Job:
    return Job.new(guild_id=1, channel_id=2, user_id=1000 + n, kind=JobKind.IMG2VIDEO,
                   params=Img2VideoParams(prompt="bench", duration=5), resolution="720p", duration_seconds=5)


async def _walk(store: JobStore, job_id: str, n: int) -> int:
    moved = 0
    for from_state, to in STEPS:
        fields: dict[str, Any] = {}
        if to is S.SUBMITTED:
            fields = {"task_id": f"task-{job_id}-{n}", "next_poll_at": utcnow() + timedelta(seconds=5)}
        elif to is S.SUCCEEDED:
            fields = {"video_url": "http://127.0.0.1/x.mp4"}
        elif to is S.DELIVERED:
            fields = {"delivered_message_id": 10**17 + n}
        if await store.transition(job_id, from_states=[from_state], to=to, **fields) is None:
            raise RuntimeError(f"job {job_id}: {from_state.value} -> {to.value} was refused")
        moved += 1
    return moved


async def measure_one_process(url: str, jobs: int, concurrency: int, start_at: float | None = None) -> dict[str, float]:
    """Transitions and their wall time in this process (`start_at`: a shared wall-clock start)."""
    async with open_store(url) as store:
        ids = [(await store.create_job(_job(n), [])).id for n in range(jobs)]
        if start_at is not None:
            await asyncio.sleep(max(0.0, start_at - time.time()))
        queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        for item in enumerate(ids):
            queue.put_nowait(item)
        moved = 0

        async def worker() -> None:
            nonlocal moved
            while not queue.empty():
                n, job_id = queue.get_nowait()
                walked = await _walk(store, job_id, n)  # not `moved += await ...`: that reads `moved`
                moved += walked  # before the await, and the other coroutines' counts would be lost

        began = time.time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        ended = time.time()
    return {"transitions": moved, "began": began, "ended": ended}


def measure(url: str, *, jobs: int, processes: int = 1, concurrency: int = 4) -> float:
    """Transitions per second over all processes."""
    run = measure_run(url, jobs=jobs, processes=processes, concurrency=concurrency)
    return run["transitions"] / (run["ended"] - run["began"])


def measure_run(url: str, *, jobs: int, processes: int = 1, concurrency: int = 4,
                in_children: bool = False) -> dict[str, float]:
    """All processes' transitions and the timed window (wall clock, time.time()) they fall in.
    ``in_children``: one process too runs as a child, like the others (the caller's CPU stays its own)."""
    if processes == 1 and not in_children:
        return asyncio.run(measure_one_process(url, jobs, concurrency))
    start_at = time.time() + 3.0 + 0.5 * processes  # every child has created its jobs by then
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.store_bench", "--child", "--url", url, "--jobs", str(jobs),
             "--concurrency", str(concurrency), "--start-at", str(start_at)],
            stdout=subprocess.PIPE, text=True,
        )
        for _ in range(processes)
    ]
    results = []
    for child in children:
        out, _ = child.communicate(timeout=600)
        if child.returncode != 0:
            raise RuntimeError(f"store benchmark child exited {child.returncode}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return {"transitions": sum(r["transitions"] for r in results),
            "began": min(r["began"] for r in results), "ended": max(r["ended"] for r in results)}


async def server_pid(url: str) -> int | None:
    """The PostgreSQL server's main process (the postmaster) when it runs on this machine, else None."""
    import asyncpg  # only for PostgreSQL URLs

    from bot.db.pg_store import pg_dsn_from_url

    conn = await asyncpg.connect(pg_dsn_from_url(url)[0])
    try:
        backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
        return await asyncio.to_thread(_parent_pid, backend)  # while the backend still lives
    finally:
        await conn.close()


def _parent_pid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ValueError):
        return None  # a remote server: its CPU is not ours to see


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure_one_process(args.url, args.jobs, args.concurrency, args.start_at))))
        return
    tps = measure(args.url, jobs=args.jobs, processes=args.processes, concurrency=args.concurrency)
    print(f"{tps:.0f} transitions/s ({args.processes} process(es), {args.concurrency} coroutines each)")


if __name__ == "__main__":
    main()
