"""Refusing the blocked: 50 blocked members run /keyframes at once, each with ten ~5 MB pictures.

Admission (issue 13) runs on ids and numbers before a single attachment byte is read, so this burst should
cost the bot no download, no decode and no thread: the figures are how long until the last of the 50 is told
(from the burst's start until the fake Discord holds the last refusal), and how many attachments the fake
Discord's CDN served meanwhile (target 0). The same burst from members who may ask is `ack` (benchmarks/ack.py).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import final_answer, keyframes_burst_options, percentile, running_fakes, start_bot
from bot.db import open_store

MEMBERS = 50
REFUSED = "paused your video requests"  # refuse.blocked, en-US


async def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    options, burst_bytes = await keyframes_burst_options()
    async with running_fakes() as fakes:
        discord = fakes.discord
        world = discord.world
        members = [world.guild.add_member(f"blocked{n}") for n in range(MEMBERS)]
        bot = await start_bot(fakes, workdir / "blocked")
        try:
            # Blocked the way /mod block does it, straight in the bot's database (the bot reads it per request).
            async with open_store(f"sqlite:///{workdir / 'blocked' / 'bot.db'}") as store:
                for member in members:
                    await store.set_blocked(world.guild.id, member.id, True, actor_id=world.mod.id)
            await asyncio.sleep(1.0)  # start-up's own work is not counted
            downloads_before = len(discord.cdn.downloads)
            began = time.monotonic()
            records = await asyncio.gather(
                *(discord.slash(m, "keyframes", channel=world.general, options=options) for m in members)
            )
            await discord.wait_for(lambda: all(final_answer(discord, r) for r in records), timeout=60 if quick else 120,
                                   what="every refusal", seen=lambda: "")
            told_s = [time.monotonic() - began]  # (wait_for wakes on every change the fake records)
            answers = [final_answer(discord, r) or "" for r in records]
            ack_ms = [(r.responses[0].at - r.created_at) * 1000 for r in records]
            downloads = len(discord.cdn.downloads) - downloads_before
            threads = len(discord.threads(world.general))
        finally:
            await bot.stop()
        bot.check_no_secret([discord.bot_token, fakes.provider.api_key])
    refused = sum(1 for a in answers if REFUSED in a)
    return {
        "blocked_refused_s": round(told_s[0], 2),
        "blocked_cdn_downloads": downloads,
        "notes": [
            f"blocked: {MEMBERS} blocked members × /keyframes with 10 pictures "
            f"({burst_bytes / 1e6:.0f} MB each): {refused}/{MEMBERS} refused, the last "
            f"{told_s[0]:.2f} s after the burst began; acknowledgement p50 {percentile(ack_ms, 50):.0f} ms, p99 "
            f"{percentile(ack_ms, 99):.0f} ms; {downloads} attachment downloads, {threads} threads opened",
        ],
    }
