"""Jobs already at the provider, written through the real store before the bot starts (as a bot that was
restarted with work in flight would find them), and the matching tasks in the fake provider."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.db import open_store
from bot.jobs import Job, JobKind, JobState, JobStore, utcnow
from bot.params import Img2VideoParams
from tests.fakes.provider import FakeProvider

MODEL = "vidu-q2-pro-fast-img2video"
BODY: dict[str, Any] = {"images": ["(seeded)"], "prompt": "a seeded task", "duration": 5}
PARAMS = Img2VideoParams(prompt="a seeded task", duration=5, resolution="720p", movement="auto")


@dataclass(frozen=True)
class Where:
    guild_id: int
    channel_id: int
    thread_id: int | None  # None: no Discord messages for this job until delivery


def task_id_for(n: int) -> str:
    return f"bench-task-{n:06d}"


async def _seed_one(store: JobStore, n: int, where: Where) -> None:
    job = await store.create_job(
        Job.new(guild_id=where.guild_id, channel_id=where.channel_id, user_id=10_000 + n % 5_000,
                kind=JobKind.IMG2VIDEO, params=PARAMS, resolution="720p", duration_seconds=5,
                thread_id=where.thread_id),
        [],
    )
    await store.transition(job.id, from_states=[JobState.ACCEPTED], to=JobState.SUBMITTING)
    # next_poll_at now: every job is due when the bot starts (the worst case for the poll loop)
    await store.transition(job.id, from_states=[JobState.SUBMITTING], to=JobState.SUBMITTED,
                           task_id=task_id_for(n), provider_status="TASK_STATUS_QUEUED", next_poll_at=utcnow())


async def seed_database(path: Path, count: int, where: Where, *, concurrency: int = 8) -> None:
    async with open_store(f"sqlite:///{path}") as store:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(count):
            queue.put_nowait(n)

        async def worker() -> None:
            while not queue.empty():
                await _seed_one(store, queue.get_nowait(), where)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def seeded_database(dest: Path, count: int, where: Where, cache: Path) -> None:
    """`count` SUBMITTED jobs at `dest`. Writing 10,000 jobs through the store takes about a minute, so the
    file is built once per (count, place) in `cache` and copied; the bot migrates it if the schema moved on."""
    cached = cache / f"jobs-{count}-{where.guild_id}-{where.channel_id}-{where.thread_id}.db"
    partial = cached.with_suffix(".partial")
    if not await asyncio.to_thread(_prepare_cache, cached, partial):
        await seed_database(partial, count, where)
        await asyncio.to_thread(partial.rename, cached)
    await asyncio.to_thread(_copy_database, cached, dest)


def _prepare_cache(cached: Path, partial: Path) -> bool:
    """True when the cached file is there; else clear what an interrupted build left."""
    if cached.exists():
        return True
    cached.parent.mkdir(parents=True, exist_ok=True)
    for leftover in cached.parent.glob(partial.name + "*"):
        leftover.unlink()
    return False


def _copy_database(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():  # normally folded in when the store closed
        shutil.copyfile(wal, dest.with_name(dest.name + "-wal"))


def seed_tasks(provider: FakeProvider, count: int, **plan: Any) -> None:
    """The provider's side of the seeded jobs, each shaped by `plan` (plan_next_task's arguments)."""
    for n in range(count):
        provider.plan_next_task(**plan)
        provider.add_task(MODEL, BODY, task_id=task_id_for(n))
