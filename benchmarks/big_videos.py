"""4. Large videos: 100 tasks already finished with 50 MB videos when the bot starts, in a server whose
boost tier allows 50 MiB uploads -> the bot's peak RSS while it downloads and posts all of them. A bot
that streams (provider -> disk -> Discord) stays near its idle size; one that buffers holds 50 MB or more
per video in flight.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmarks.harness import running_fakes, start_bot
from benchmarks.seeding import Where, seed_database, seed_tasks

VIDEO_BYTES = 50_000_000  # under the 50 MiB (52,428,800 bytes) upload limit of boost tier 2
READY = "your video is ready"


async def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    videos = 20 if quick else 100
    folder = workdir / "big"
    async with running_fakes(premium_tier=2) as fakes:
        discord, provider = fakes.discord, fakes.provider
        channel = discord.world.general
        await seed_database(folder / "bot.db", videos, Where(discord.world.guild.id, channel.id, channel.id))
        seed_tasks(provider, videos, queue_seconds=0.0, processing_seconds=0.0, video_size=VIDEO_BYTES)
        began = time.monotonic()  # the worker starts delivering before the gateway is READY
        bot = await start_bot(fakes, folder)
        sizes: list[int] = []

        def posted() -> bool:
            # Keep the benchmark's own memory flat: note each posted video's size, then drop its bytes.
            for message in discord.messages(channel):
                if READY in message.text():
                    for attachment in message.attachments:
                        if attachment.content:
                            sizes.append(len(attachment.content))
                            attachment.content = b""
            return len(sizes) >= videos

        try:
            await discord.wait_for(posted, timeout=600, what=f"{videos} videos posted",
                                   seen=lambda: f"{len(sizes)} posted")
            elapsed = time.monotonic() - began
            peak = bot.peak_rss_mb()
            lag = bot.lag_max_ms(began, began + elapsed)
        finally:
            await bot.stop()
        bot.check_no_secret([discord.bot_token, provider.api_key])
    moved = sum(sizes) * 2 / 1e6  # downloaded from the provider, then uploaded to Discord
    return {
        "rss_mb_big_deliveries": round(peak, 1),
        "notes": [
            f"large videos: {len(sizes)} × {VIDEO_BYTES / 1e6:.0f} MB posted in {elapsed:.0f} s "
            f"from start ({moved / elapsed:.0f} MB/s through the bot, one video at a time); peak RSS {peak:.0f} MB; "
            f"loop lag max {lag} ms",
        ],
    }
