"""2. Delivery: members run /animate; the provider takes 20-120 s per task (spread evenly). Measured: the
delay from the moment the provider marks a task succeeded to the video's message in Discord, and the
bot's polls per job.

In the same run a plain poller follows the very same tasks the way public clients of this API do: first
look 3 s after the task appears, then every 3 s until it succeeds, then download the video. Its delay
ends when the video is downloaded (it posts nothing), so the comparison favours the baseline.

The provider's clock runs at real speed (time_scale=1), so the ETA it reports is in the seconds the bot
waits in; --quick uses 40 jobs of 8-20 s instead of scaling the clock.

CPU per job: the CPU time (user + system, /proc) of the bot process and everything under it (the image
workers' fork server and workers, live or reaped) from just before the first /animate until the last video
is posted, divided by the jobs delivered. End to end, so it holds the idle ticks between polls too.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.cpu_use import descendants_cpu
from benchmarks.harness import Fakes, percentile, running_fakes, start_bot, still_png
from bot.db import open_store
from bot.jobs import JobState
from bot.provider import RateLimiter, TaskStatus, ViduClient
from tests.fakes.discord import FakeDiscord, Upload

BASELINE_INTERVAL = 3.0
QUEUE_SHARE = 0.25  # of each task's time spent queued, the rest processing


class BaselinePoller:
    """A fixed-interval poller over the bot's own tasks, with its own client (and its own counters)."""

    def __init__(self, fakes: Fakes, session: aiohttp.ClientSession, folder: Path) -> None:
        self._fakes = fakes
        self._client = ViduClient(session, base_url=fakes.provider.base_url, api_key=fakes.provider.api_key,
                                  limiter=RateLimiter(6000, burst=6000))
        self._folder = folder
        self.polls = 0
        self.seen_at: dict[str, float] = {}  # task id -> wall time its video was downloaded
        self._seen_more = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def watch(self) -> None:
        """Start following each task as soon as the provider has it."""
        followed: set[str] = set()
        while True:
            for task_id in list(self._fakes.provider.tasks):
                if task_id not in followed:
                    followed.add(task_id)
                    task = asyncio.create_task(self._follow(task_id))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            await asyncio.sleep(0.05)

    async def _follow(self, task_id: str) -> None:
        while True:
            await asyncio.sleep(BASELINE_INTERVAL)
            self.polls += 1
            result = await self._client.get_task(task_id)
            if result.status is TaskStatus.SUCCEED and result.videos:
                await self._client.download_video(result.videos[0].url, self._folder / f"{task_id}.mp4",
                                                  max_bytes=10**9, timeout=60)
                self.seen_at[task_id] = time.time()
                self._seen_more.set()
                return
            if result.status is TaskStatus.FAILED:
                return

    async def wait_until_seen(self, count: int) -> None:
        """Until `count` videos are downloaded (the fake Discord's wait_for would not wake for these)."""
        while len(self.seen_at) < count:
            self._seen_more.clear()
            await self._seen_more.wait()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _videos_posted(discord: FakeDiscord) -> int:
    return sum(1 for m in discord.all_messages() if any(name.endswith(".mp4") for name in m.filenames))


def _durations(jobs: int, shortest: float, longest: float) -> list[float]:
    step = (longest - shortest) / max(1, jobs - 1)
    return [shortest + n * step for n in range(jobs)]


async def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    jobs, shortest, longest = (40, 8.0, 20.0) if quick else (200, 20.0, 120.0)
    picture = still_png()
    async with running_fakes() as fakes, aiohttp.ClientSession() as session:
        discord, provider = fakes.discord, fakes.provider
        world = discord.world
        members = [world.guild.add_member(f"member{n}") for n in range(jobs)]
        for total in _durations(jobs, shortest, longest):
            provider.plan_next_task(queue_seconds=total * QUEUE_SHARE, processing_seconds=total * (1 - QUEUE_SHARE))
        folder = workdir / "delivery"
        bot = await start_bot(fakes, folder)
        wall0, fake0 = time.time(), provider.now()  # the fake clock runs at real speed from here on
        with tempfile.TemporaryDirectory() as downloads:
            baseline = BaselinePoller(fakes, session, Path(downloads))
            watcher = asyncio.create_task(baseline.watch())
            try:
                began = time.monotonic()
                cpu_began = descendants_cpu(bot.pid)
                await asyncio.gather(*(
                    discord.slash(m, "animate", channel=world.general,
                                  options={"image": Upload("still.png", picture), "prompt": f"scene {n}"})
                    for n, m in enumerate(members)
                ))  # fmt: skip
                # Counted in the fake Discord, whose every change wakes wait_for (a log line does not).
                await discord.wait_for(
                    lambda: _videos_posted(discord) >= jobs, timeout=longest + 120,
                    what=f"{jobs} videos posted", seen=lambda: f"{_videos_posted(discord)} posted",
                )
                bot_cpu, bot_seconds = descendants_cpu(bot.pid) - cpu_began, time.monotonic() - began
                # Posted is not yet recorded: stopping the bot now could leave the last job short of DELIVERED.
                await bot.wait_for_lines("delivered as message", jobs, timeout=60)
                with contextlib.suppress(TimeoutError):  # the baseline finishes within one interval
                    await asyncio.wait_for(baseline.wait_until_seen(jobs), timeout=BASELINE_INTERVAL + 10)
                elapsed = time.monotonic() - began
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
                await baseline.close()
                await bot.stop()
        bot.check_no_secret([discord.bot_token, provider.api_key])
        async with open_store(f"sqlite:///{folder}/bot.db") as store:
            delivered = await store.jobs_in_states([JobState.DELIVERED])
        bot_delay, baseline_delay = [], []
        for job in delivered:
            task = provider.tasks[job.task_id or ""]
            succeeded = wall0 + (task.created_at + task.queue_seconds + task.processing_seconds - fake0)
            posted = discord.message(job.delivered_message_id or 0).created_at
            bot_delay.append(posted - succeeded)
            if task.task_id in baseline.seen_at:
                baseline_delay.append(baseline.seen_at[task.task_id] - succeeded)
        all_polls = len(provider.requests_to("result"))
        bot_polls = all_polls - baseline.polls
    return {
        "delivery_s_p50": round(percentile(bot_delay, 50), 2),
        "delivery_s_p99": round(percentile(bot_delay, 99), 2),
        "polls_per_job": round(bot_polls / jobs, 2),
        "baseline_delivery_s_p50": round(percentile(baseline_delay, 50), 2),
        "baseline_polls_per_job": round(baseline.polls / jobs, 2),
        "cpu_ms_per_job": round(1000 * bot_cpu / len(delivered), 1),
        "notes": [
            f"delivery: the bot and its image workers used {bot_cpu:.1f} s of CPU over {bot_seconds:.0f} s "
            f"({100 * bot_cpu / bot_seconds:.1f} % of one core) from the first request to the last post: "
            f"{1000 * bot_cpu / len(delivered):.0f} ms per delivered job, idle ticks included",
            f"delivery: {len(delivered)}/{jobs} jobs of {shortest:.0f}-{longest:.0f} s delivered in {elapsed:.0f} s; "
            f"bot delay max {max(bot_delay):.2f} s; baseline followed {len(baseline.seen_at)} tasks, "
            f"delay p99 {percentile(baseline_delay, 99):.2f} s",
        ],
    }
