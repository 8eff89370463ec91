"""A crash while a video is being delivered: how long until the member has it anyway.

Two real bot processes (`python -m bot`) share two Discord shards on one private PostgreSQL server
(benchmarks/shards.py, as the soak runs them), with the default JOB_LEASE_SECONDS (--quick: 10 s, to keep
the quick run short). A member runs /animate; the task finishes; the process that leases the finished job
(A) downloads the video and sends it to the thread, where the fake Discord holds the request unanswered.
At that moment, with A's lease just taken or renewed (the worst case: a whole lease left), A is killed
with SIGKILL and its held request is never acted on. Measured: from the kill until the other process (B)
has the video in the thread (the fake Discord's time of the message), which needs A's lease to run out,
B's next round to lease the job, download the video again and post it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import BotProcess, final_answer, start_bot, still_png
from benchmarks.shards import private_postgres, sharded_fakes, sync_commands
from bot.config import default_setting
from bot.db import open_store
from bot.jobs import JobState
from tests.fakes.discord import FakeDiscord, SentMessage, Upload
from tests.fakes.discord.world import TestServer
from tests.store.pg_server import PrivateServer

LEASE_SECONDS: float = default_setting("job_lease_seconds")
QUICK_LEASE_SECONDS = 10.0
MARGIN_SECONDS = 5.0  # the target: the lease plus this


def target(lease: float) -> float:
    return lease + MARGIN_SECONDS


def _is_video(message: SentMessage) -> bool:
    return any(name.endswith(".mp4") for name in message.filenames)


async def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    lease = QUICK_LEASE_SECONDS if quick else LEASE_SECONDS
    server = await private_postgres()
    if server is None:
        return {"takeover_s": "n/a", "notes": ["takeover: n/a (no PostgreSQL server programs: initdb, pg_ctl)"]}
    try:
        return await _run(workdir, server, lease)
    finally:
        await asyncio.to_thread(server.destroy)


async def _run(workdir: Path, server: PrivateServer, lease: float) -> dict[str, Any]:
    fakes, servers = await sharded_fakes(2)
    discord = fakes.discord
    fakes.provider.queue_seconds, fakes.provider.processing_seconds = 2.0, 3.0  # time to set the hold below
    env = {"DATABASE_URL": server.url, "SHARD_COUNT": "2", "DEV_GUILD_ID": "", "JOB_LEASE_SECONDS": f"{lease:g}"}
    bots: list[BotProcess] = []
    hold = None
    try:
        await sync_commands(fakes, workdir / "takeover", **env)
        started = await asyncio.gather(*(start_bot(fakes, workdir / f"takeover{i}", **env, SHARD_IDS=str(i))
                                         for i in range(2)), return_exceptions=True)
        bots = [bot for bot in started if isinstance(bot, BotProcess)]  # (stopped below even if the other failed)
        for failed in started:
            if isinstance(failed, BaseException):
                raise failed
        await discord.wait_for_shards({(0, 2), (1, 2)}, timeout=60)
        thread_id = await _request(discord, servers[0])
        # The next message to the thread after the cards is the video: held before the fake acts on it.
        hold = discord.hold_next(f"POST */channels/{thread_id}/messages", when="before")
        await asyncio.wait_for(hold.reached.wait(), 120)
        async with open_store(server.url) as store:
            held = [j for j in await store.jobs_in_states([JobState.SUCCEEDED]) if j.thread_id == thread_id]
            job = held[0] if len(held) == 1 else None
            if job is None or job.lease_owner is None or job.lease_until is None:
                raise RuntimeError(f"the held message is not a leased delivery: {held}")
            lease_left = (job.lease_until - store.now()).total_seconds()
        [victim] = [bot for bot in bots if bot.pid == int(job.lease_owner.split(":")[1])]  # owner: host:pid:random
        [survivor] = [bot for bot in bots if bot is not victim]
        killed_at = time.time()  # the fake Discord's clock is time.time() (never advanced here)
        await victim.kill()
        video = await discord.wait_for_message(thread_id, _is_video, timeout=lease + 120)
        videos = [m for m in discord.messages(thread_id) if _is_video(m)]
        posted_by_survivor = await _logged_delivery(survivor, job.id)
    finally:
        if hold is not None:
            hold.release()  # A is dead: the fake drops its request (it never acts on a closed connection)
        for bot in bots:
            with contextlib.suppress(Exception):
                await bot.stop()
        await fakes.provider.stop()
        await discord.stop()
    for bot in bots:
        bot.check_no_secret([discord.bot_token, fakes.provider.api_key])
    took = video.created_at - killed_at
    return {
        "takeover_s": round(took, 1),
        "takeover_lease_s": lease,
        "notes": [
            f"takeover: JOB_LEASE_SECONDS={lease:g}; SIGKILL of pid {victim.pid} (A) {lease_left:.1f} s before its "
            f"lease on job {job.id} ran out; pid {survivor.pid} (B) posted the video {took:.1f} s after the kill "
            f"({took - lease_left:.1f} s after the lease ran out); {len(videos)} video post(s) in the thread; "
            f"B's log says it delivered it: {posted_by_survivor}",
        ],
    }


async def _request(discord: FakeDiscord, server: TestServer) -> int:
    """/animate from a member of the shard-0 server; the thread's id once the member has the final answer
    (the request card and the status card are in the thread by then)."""
    record = await discord.slash(server.alice, "animate", channel=server.general,
                                 options={"image": Upload("still.png", still_png()), "prompt": "a crash mid-delivery"})
    answer = await discord.wait_for(lambda: final_answer(discord, record), timeout=60, what="the final answer",
                                    seen=lambda: str(record.responses))
    if "<#" not in answer:
        raise RuntimeError(f"the request was not accepted: {answer}")
    return int(answer.split("<#", 1)[1].split(">", 1)[0])


async def _logged_delivery(bot: BotProcess, job_id: str) -> bool:
    with contextlib.suppress(RuntimeError):
        await bot.wait_for_line(f"job {job_id}: delivered as message", timeout=10)
        return True
    return False
