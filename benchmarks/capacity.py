"""Capacity at the provider's rate cap, and fairness while it is the bottleneck (issue 16).

One bot process, the provider's rate cap at its default (PROVIDER_REQUESTS_PER_MINUTE=60), tasks of 20-120 s
spread evenly. A big server's members ask for more videos than the cap lets through (the queue never empties);
a small server's one member asks for one video at a time, waiting for each. Measured:

- `jobs_per_min_at_60rpm`: videos delivered per minute once the load is steady;
- `provider_calls_per_job`: submits and polls (link refreshes included: they are polls) per delivered job;
- `delivery_s_p50_saturated`: from the provider finishing a task to its video posted, p50;
- `small_server_delay_ratio`: the small server's request-to-video time, p99, with the big server's queue
  there, divided by the same with nothing else running (measured first, on the same bot).

Time runs SCALE times faster than at a real deployment, so that a minute of steady load fits in the
benchmark: the rate cap is SCALE × 60 a minute, tasks last (20-120 s) / SCALE, POLL_FIRST_SECONDS and
POLL_MAX_SECONDS are their defaults / SCALE. Calls per job do not depend on the scale; jobs per minute are
divided by it and delays multiplied by it to read as at the default cap. What does not scale is small: the
bot's own work per job (~0.1 s), the fake provider's ETA in whole seconds and the 0.5 s the bot waits past it,
the 1 s shortest gap between polls; each makes the delays read somewhat longer than they would be.
"""

from __future__ import annotations

import asyncio
import io
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from benchmarks.harness import BotProcess, Fakes, percentile, running_fakes, start_bot
from benchmarks.shards import private_postgres, sharded_fakes, sync_commands
from bot.db import open_store
from bot.jobs import JobState
from tests.fakes.discord import Upload, build_test_server
from tests.fakes.discord.models import FakeMember, SentMessage
from tests.fakes.discord.world import TestServer
from tests.fakes.provider import TaskPlan

SCALE = 4
DEFAULT_RATE = 60  # PROVIDER_REQUESTS_PER_MINUTE's default (bot/config.py)
SHORTEST, LONGEST = 20.0, 120.0  # a real task's seconds at the provider (issue 16)
SMALL_TASK = 60.0  # the small server's task: always the same, so its delay compares like with like
QUEUE_SHARE = 0.25  # of each task's time spent queued, the rest processing
BIG_MEMBERS = 10
SMALL_PROMPT = "small server"
CAP, CAPPED_PROCESSES = 5, 3  # measure_capped: Vidu's default concurrency per organisation


def _still() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 360), (40, 120, 200)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Run:
    fakes: Fakes
    big: TestServer
    small: TestServer
    small_member: FakeMember
    picture: bytes
    asked: int = 0
    small_delays: list[float] = field(default_factory=list)  # request -> video posted, seconds (scaled)
    small_task_ids: set[str] = field(default_factory=set)

    async def ask_small(self) -> None:
        """The small server's member asks for a video and waits for it."""
        discord = self.fakes.discord
        last = max((m.id for m in discord.all_messages()), default=0)
        began = time.time()
        await discord.slash(self.small_member, "animate", channel=self.small.general,
                            options={"image": Upload("small.png", self.picture), "prompt": SMALL_PROMPT})

        def video(m: SentMessage) -> bool:
            return m.id > last and m.guild_id == self.small.guild.id and any(
                a.filename.endswith(".mp4") for a in m.attachments)

        posted = await discord.wait_for_message(None, video, timeout=LONGEST * 3)
        self.small_delays.append(posted.created_at - began)

    async def ask_big(self, members: list[FakeMember], per_second: float, until: float) -> None:
        """The big server's members ask at a steady rate, more than the cap lets through."""
        pending: set[asyncio.Task[Any]] = set()
        discord = self.fakes.discord
        while time.monotonic() < until:
            member = members[self.asked % len(members)]
            self.asked += 1
            task = asyncio.create_task(discord.slash(member, "animate", channel=self.big.general, options={
                "image": Upload("big.png", self.picture), "prompt": f"big server {self.asked}"}))
            pending.add(task)
            task.add_done_callback(pending.discard)
            await asyncio.sleep(1 / per_second)  # the arrival rate itself, not a wait for an outcome
        await asyncio.gather(*pending, return_exceptions=True)


def _planner(rng: random.Random) -> Any:
    def plan(body: dict[str, Any]) -> TaskPlan:
        total = (SMALL_TASK if body.get("prompt") == SMALL_PROMPT else rng.uniform(SHORTEST, LONGEST)) / SCALE
        return TaskPlan(queue_seconds=total * QUEUE_SHARE, processing_seconds=total * (1 - QUEUE_SHARE))
    return plan


def _env() -> dict[str, str]:
    return {
        "PROVIDER_REQUESTS_PER_MINUTE": str(DEFAULT_RATE * SCALE),
        "POLL_FIRST_SECONDS": str(5 / SCALE), "POLL_MAX_SECONDS": str(60 / SCALE),
        "DEV_GUILD_ID": "",
    }


async def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    folder = workdir / "capacity"
    env = _env()
    async with running_fakes() as fakes:
        fakes.provider.planner = _planner(random.Random(16))
        small = build_test_server(fakes.discord, name="Small Server")
        run = Run(fakes, fakes.discord.world, small, small.guild.add_member("solo"), _still())
        await sync_commands(fakes, folder, **env)  # two servers: global commands, as an operator does
        bot = await start_bot(fakes, folder, **env)
        try:
            alone, steady, wall0, fake0 = await _load(run, quick=quick)
        finally:
            await bot.stop()
        bot.check_no_secret([fakes.discord.bot_token, fakes.provider.api_key])
        return await _figures(f"sqlite:///{folder}/bot.db", run, alone, steady, wall0, fake0)


async def measure_capped(workdir: Path, *, quick: bool) -> dict[str, Any]:
    """The same load on three processes sharing PostgreSQL (a shard each: the big server on the first, the small
    one on the second) with PROVIDER_MAX_IN_FLIGHT=CAP: the provider never runs more, the rest wait in the bot's
    queue in their fair turn. Figures prefixed `capped_`, plus `max_in_flight_seen` (at the provider)."""
    server = await private_postgres()
    if server is None:
        return {"max_in_flight_seen": "n/a", "notes": ["capacity, capped: n/a (no PostgreSQL server programs)"]}
    folder = workdir / "capacity-capped"
    env = {**_env(), "DATABASE_URL": server.url, "SHARD_COUNT": str(CAPPED_PROCESSES),
           "PROVIDER_MAX_IN_FLIGHT": str(CAP)}
    fakes, servers = await sharded_fakes(CAPPED_PROCESSES)
    bots: list[BotProcess] = []
    try:
        fakes.provider.planner = _planner(random.Random(16))
        big, small = servers[0], servers[1]
        run = Run(fakes, big, small, small.guild.add_member("solo"), _still())
        await sync_commands(fakes, folder / "sync", **env)
        bots = list(await asyncio.gather(*(start_bot(fakes, folder / f"p{i}", **env, SHARD_IDS=str(i))
                                           for i in range(CAPPED_PROCESSES))))
        await fakes.discord.wait_for_shards({(i, CAPPED_PROCESSES) for i in range(CAPPED_PROCESSES)}, timeout=60)
        alone, steady, wall0, fake0 = await _load(run, quick=quick)
    finally:
        await asyncio.gather(*(bot.stop() for bot in bots))
        await fakes.provider.stop()
        await fakes.discord.stop()
    for bot in bots:
        bot.check_no_secret([fakes.discord.bot_token, fakes.provider.api_key])
    try:
        figures = await _figures(server.url, run, alone, steady, wall0, fake0)
    finally:
        await asyncio.to_thread(server.destroy)
    capped = {f"capped_{key}": value for key, value in figures.items() if key != "notes"}
    notes = [f"capped (PROVIDER_MAX_IN_FLIGHT={CAP}, {CAPPED_PROCESSES} processes on PostgreSQL): {note}"
             for note in figures["notes"]]
    return {**capped, "max_in_flight_seen": fakes.provider.max_running_seen, "notes": notes}


async def _load(run: Run, *, quick: bool) -> tuple[list[float], tuple[float, float], float, float]:
    """The small server's member alone, then beside the big server's growing queue: (delays alone, the steady
    window in wall time, wall and fake-provider clocks at the start of the load)."""
    alone_jobs, steady_s, warmup_s = (1, 16.0, 8.0) if quick else (3, 120.0, 30.0)
    big_members = [run.big.guild.add_member(f"big{n}") for n in range(BIG_MEMBERS)]
    for _ in range(alone_jobs):  # nothing else running
        await run.ask_small()
    alone = list(run.small_delays)
    run.small_delays.clear()
    wall0, fake0 = time.time(), run.fakes.provider.now()
    # Capacity is DEFAULT_RATE * SCALE calls a minute, about a third of that in jobs: ask for half as many
    # again, so the queue grows all along.
    per_second = DEFAULT_RATE * SCALE / 60 / 3 * 1.5
    began = time.monotonic()
    steady_from, ends = began + warmup_s, began + warmup_s + steady_s
    asking = asyncio.create_task(run.ask_big(big_members, per_second, ends))
    while time.monotonic() < ends:  # the small server's member, one video at a time, all along
        await run.ask_small()
    await asking
    return alone, (wall0 + (steady_from - began), wall0 + (time.monotonic() - began)), wall0, fake0


async def _figures(database_url: str, run: Run, alone: list[float], steady: tuple[float, float], wall0: float,
                   fake0: float) -> dict[str, Any]:
    provider, discord = run.fakes.provider, run.fakes.discord
    async with open_store(database_url) as store:
        delivered = await store.jobs_in_states([JobState.DELIVERED])
        queued = (await store.count_by_state([JobState.ACCEPTED]))[JobState.ACCEPTED]
    polls: dict[str, list[float]] = {}  # task id -> when the bot asked about it (fake clock)
    for request in provider.requests_to("result"):
        polls.setdefault(request.query.get("task_id", ""), []).append(request.time)
    in_steady, calls, delays = 0, [], []
    first_look, seen_late, post_after = [], [], []  # where the delay goes, seconds (scaled)
    for job in delivered:
        if job.guild_id != run.big.guild.id or not job.task_id:
            continue
        task = provider.tasks[job.task_id]
        posted = discord.message(job.delivered_message_id or 0).created_at
        submitted = wall0 + (task.created_at - fake0)
        if not steady[0] <= posted <= steady[1]:
            continue
        in_steady += 1
        done = task.created_at + task.queue_seconds + task.processing_seconds
        delays.append(posted - wall0 - (done - fake0))
        asked = polls.get(job.task_id, [])
        if asked:
            first_look.append(asked[0] - task.created_at)
            seen_late.append(asked[-1] - done)
            post_after.append(posted - wall0 - (asked[-1] - fake0))
        if submitted >= steady[0]:  # its whole life in the steady load: the learned first look was in use
            calls.append(1 + len(asked))
    minutes = (steady[1] - steady[0]) / 60
    small_p99, alone_p99 = percentile(run.small_delays, 99), percentile(alone, 99)
    return {
        "jobs_per_min_at_60rpm": round(in_steady / minutes / SCALE, 1),
        "provider_calls_per_job": round(sum(calls) / len(calls), 2) if calls else float("nan"),
        "delivery_s_p50_saturated": round(percentile(delays, 50) * SCALE, 1),
        "small_server_delay_ratio": round(small_p99 / alone_p99, 2),
        "notes": [
            f"capacity: time {SCALE}× faster (rate cap {DEFAULT_RATE * SCALE}/min, tasks "
            f"{SHORTEST / SCALE:.0f}-{LONGEST / SCALE:.0f} s); {run.asked} requests from the big server, "
            f"{in_steady} delivered in {minutes:.1f} steady minutes, {queued} still queued at the end; "
            f"calls per job over {len(calls)} jobs submitted and delivered in the steady load; "
            f"delivery p99 {percentile(delays, 99) * SCALE:.0f} s (as at the default cap); where it goes, p50 as "
            f"at the default cap: first look {percentile(first_look, 50) * SCALE:.0f} s after the submit, the "
            f"look that found it done {percentile(seen_late, 50) * SCALE:.0f} s after it was, posted "
            f"{percentile(post_after, 50) * SCALE:.1f} s after that look",
            f"small server: request to video, alone {', '.join(f'{d * SCALE:.0f}' for d in alone)} s; beside the "
            f"big server's queue p50 {percentile(run.small_delays, 50) * SCALE:.0f} s, p99 {small_p99 * SCALE:.0f} s "
            f"over {len(run.small_delays)} videos (as at the default cap; its task takes {SMALL_TASK:.0f} s)",
        ],
    }

