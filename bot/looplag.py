"""An optional event-loop lag probe (VIDU_LOOP_LAG_LOG=1): how late a short sleep wakes up is how long
the loop was blocked. Off by default; benchmarks read its log lines to find the largest lag.
"""

from __future__ import annotations

import asyncio
import logging
import os

log = logging.getLogger("bot.looplag")

ENV_FLAG = "VIDU_LOOP_LAG_LOG"
PROBE_SECONDS = 0.02  # short, so a block longer than ~20 ms is seen as lag
REPORT_SECONDS = 1.0


def loop_lag_enabled() -> bool:
    return os.environ.get(ENV_FLAG, "").strip().lower() in ("1", "true", "yes", "on")


async def watch_loop_lag() -> None:
    """Log once per second the largest lag of that second (only when the loop was busy at all)."""
    loop = asyncio.get_running_loop()
    window_start = loop.time()
    worst = 0.0
    while True:
        before = loop.time()
        await asyncio.sleep(PROBE_SECONDS)
        worst = max(worst, loop.time() - before - PROBE_SECONDS)
        if loop.time() - window_start >= REPORT_SECONDS:
            log.info("loop lag max %.1f ms", worst * 1000)
            window_start, worst = loop.time(), 0.0
