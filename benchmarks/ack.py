"""1. Acknowledgement under a burst: 50 members run /keyframes at once, each with ten ~5 MB pictures.

Latency is what Discord sees: from the interaction's creation to the bot's callback arriving at the fake
Discord (InteractionRecord.responses[0].at - created_at). Loop lag is the bot's own probe (largest lag
logged while the burst is handled: reading 2.5 GB of attachments, checking and re-encoding 500 pictures,
storing 50 jobs and submitting them). Burst answered: from the first interaction's creation until the last
of the 50 "thinking…" messages is replaced by its final answer (for an accepted request that answer comes
after its thread, request card and status card are posted), in the fake Discord's own times. The bot screens
every picture with the offline screen (SAFETY_SCREENS=nudenet, issue 25) in its image workers
(VIDU_BENCH_SAFETY_SCREENS=none: without, to compare).

Screen cost: the same ten pictures, prepared as the bot prepares them for a 720p video, through the NudeNet
screen in this process, timed in CPU seconds (the p95 of 50 checks; the first, which loads the model, is left
out as the bot's workers pay it once).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Any

from benchmarks.cpu_use import CpuSampler
from benchmarks.harness import (
    final_answer,
    final_answer_at,
    keyframes_burst_options,
    percentile,
    running_fakes,
    start_bot,
)
from tests.fakes.discord import InteractionRecord, Upload

COMMANDS = 50
ACCEPTED = "Your video is on its way"
SCREEN_ROUNDS = 5
# The burst screens with the offline screen; VIDU_BENCH_SAFETY_SCREENS=none runs it without, for comparison.
SCREENS = os.environ.get("VIDU_BENCH_SAFETY_SCREENS", "nudenet")


def screen_cpu_ms(pictures: list[tuple[str, bytes]]) -> list[float]:
    """CPU milliseconds of the offline screen on each prepared picture, SCREEN_ROUNDS times over."""
    from bot.media import ImageLimits, prepare_image
    from bot.safety.nudenet import NudeNetScreen

    prepared = [prepare_image(data, name, ImageLimits(video_resolution="720p")).data for name, data in pictures]
    screen = NudeNetScreen()
    screen.check(prepared[0])  # loads the model
    spent = []
    for _ in range(SCREEN_ROUNDS):
        for data in prepared:
            started = time.process_time()
            verdict = screen.check(data)
            spent.append((time.process_time() - started) * 1000)
            assert not verdict.flagged, verdict  # benign noise pictures: a flag here is a broken screen
    return spent


async def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    options, burst_bytes = await keyframes_burst_options()
    pictures = [(u.filename, u.content) for u in options.values() if isinstance(u, Upload)]
    screen_ms = await asyncio.to_thread(screen_cpu_ms, pictures)
    # Quick: stop watching after this long even if not every command has its final answer.
    answer_limit = 20.0 if quick else 300.0
    async with running_fakes() as fakes:
        discord = fakes.discord
        world = discord.world
        members = [world.guild.add_member(f"bench{n}") for n in range(COMMANDS)]
        bot = await start_bot(fakes, workdir / "ack", SAFETY_SCREENS=SCREENS)
        try:
            await asyncio.sleep(1.0)  # let start-up finish so its own lag is not counted
            cpu = CpuSampler(bot.pid, interval=0.5, descendants=True).__enter__()  # the bot and its workers
            own_cpu = bot.cpu_seconds()  # the bot process alone (its loop and threads), without the workers
            began = time.monotonic()
            began_wall = time.time()
            records = await asyncio.gather(
                *(discord.slash(m, "keyframes", channel=world.general, options=options) for m in members)
            )
            await asyncio.gather(*(discord.wait_for_response(r, timeout=30) for r in records))
            ack_ms = [(r.responses[0].at - r.created_at) * 1000 for r in records]

            def final(record: InteractionRecord) -> str | None:
                return final_answer(discord, record)

            with contextlib.suppress(TimeoutError):
                await discord.wait_for(lambda: all(final(r) for r in records), timeout=answer_limit,
                                       what="every final answer", seen=lambda: "")
            ended = time.monotonic()
            cpu.__exit__()
            own_cpu = bot.cpu_seconds() - own_cpu
            share = cpu.share(began_wall, time.time())
            answers = [final(r) for r in records]
            answered_at = [final_answer_at(discord, r) for r in records]
            burst_began = min(r.created_at for r in records)
            lag = bot.lag_max_ms(began, ended)
            windows = bot.lags_ms(began, ended)
            peak_rss = bot.peak_rss_mb()
        finally:
            await bot.stop()
        bot.check_no_secret([discord.bot_token, fakes.provider.api_key])
    accepted = sum(1 for a in answers if a and ACCEPTED in a)
    answered = sum(1 for a in answers if a)
    times = sorted(at - burst_began for at in answered_at if at is not None)
    # The last final answer: an accepted one comes after its thread, request card and status card are posted.
    burst_answered: float | str = round(times[-1], 1) if answered == COMMANDS else (
        f"n/a ({answered}/{COMMANDS} answered when watching stopped at {answer_limit:.0f} s)")
    return {
        "ack_ms_p50": round(percentile(ack_ms, 50), 1),
        "ack_ms_p99": round(percentile(ack_ms, 99), 1),
        "loop_lag_ms_max": lag,
        "burst_answered_s": burst_answered,
        "safety_ms_per_picture_p95": round(percentile(screen_ms, 95), 1),
        "notes": [
            f"screen: NudeNet 320n on the burst's {len(pictures)} pictures prepared for 720p, {len(screen_ms)} checks: "
            f"CPU p50 {percentile(screen_ms, 50):.1f} ms, p95 {percentile(screen_ms, 95):.1f} ms, "
            f"max {max(screen_ms):.1f} ms per picture; the burst ran with SAFETY_SCREENS={SCREENS}",
            f"acknowledgement: {COMMANDS} × /keyframes with 10 pictures "
            f"({burst_bytes / 1e6:.0f} MB per command); ack max {max(ack_ms):.0f} ms; "
            f"{answered}/{COMMANDS} final answers ({accepted} accepted), the first {times[0] if times else 0:.1f} s, "
            f"the median {percentile(times, 50):.1f} s and the last {times[-1] if times else 0:.1f} s after the burst "
            f"began; bot peak RSS {peak_rss:.0f} MB",
            f"loop lag: {sum(1 for w in windows if w > 50)} of {len(windows)} one-second windows above 50 ms; "
            f"largest five {sorted(windows, reverse=True)[:5]} ms",
            f"CPU during the burst: machine {share.busy_pct:.0f} % of {os.cpu_count()} cores busy, the bot and its "
            f"image workers {share.tree_pct:.0f} % ({share.tree_cpu_seconds:.0f} s of CPU over {share.seconds:.0f} s, "
            f"{share.tree_cpu_seconds / max(answered, 1):.2f} s per command answered, the bot process itself "
            f"{own_cpu:.0f} s of it; the rest: the fakes in this process and anything else running)",
        ],
    }
