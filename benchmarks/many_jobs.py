"""3. Many jobs in flight: 10,000 SUBMITTED jobs (written through the store before the bot starts, all due
for a poll at once, the provider still working on every one) -> the bot's peak RSS and the share of one
core its poll loop uses while it works through them, with the polls per second it reaches.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import CACHE, running_fakes, start_bot
from benchmarks.seeding import Where, seed_tasks, seeded_database

JOBS = 10_000
# Jobs not tied to any Discord channel: only the poll loop and the store are exercised.
NOWHERE = Where(guild_id=1, channel_id=2, thread_id=None)


async def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    window = 15.0 if quick else 45.0
    folder = workdir / "many"
    await seeded_database(folder / "bot.db", JOBS, NOWHERE, CACHE)
    async with running_fakes() as fakes:
        provider = fakes.provider
        seed_tasks(provider, JOBS, queue_seconds=3600.0, processing_seconds=3600.0)
        # The cached database keeps the day it was seeded: its jobs must not count as timed out (2 h) today.
        bot = await start_bot(fakes, folder, JOB_TIMEOUT_MINUTES=str(10 * 365 * 24 * 60))
        try:
            polls0, cpu0, t0 = len(provider.requests_to("result")), bot.cpu_seconds(), time.monotonic()
            await asyncio.sleep(window)
            polls = len(provider.requests_to("result")) - polls0
            cpu, elapsed = bot.cpu_seconds() - cpu0, time.monotonic() - t0
            rss_now, rss_peak = bot.rss_mb(), bot.peak_rss_mb()
            lag = bot.lag_max_ms(t0, t0 + elapsed)
        finally:
            await bot.stop()
        bot.check_no_secret([fakes.discord.bot_token, provider.api_key])
    return {
        "rss_mb_10k_jobs": round(rss_peak, 1),
        "poll_loop_cpu_pct": round(100 * cpu / elapsed, 1),
        "polls_per_s_10k_jobs": round(polls / elapsed, 1),
        "notes": [
            f"many jobs: {JOBS} due jobs, {elapsed:.0f} s window: {polls} polls ({polls / elapsed:.0f}/s), "
            f"bot CPU {100 * cpu / elapsed:.0f}% of one core, RSS {rss_now:.0f} MB now / {rss_peak:.0f} MB peak, "
            f"loop lag max {lag} ms",
        ],
    }
