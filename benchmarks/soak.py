"""Chaos soak (issue 14): real bot processes under steady mixed traffic while things break, for N minutes.

Two deployments run side by side, each against its own fake Discord and fake provider:

- PostgreSQL: two bot processes sharing the shards (SHARD_COUNT=2, SHARD_IDS=0 and 1, one server on each
  shard) on a private PostgreSQL server (tests/store/pg_server.py) the soak stops for ~10 s mid-run. The
  shard-1 process runs with its clock 90 s ahead (benchmarks/skewed_clock.py; JOB_LEASE_SECONDS=20).
- SQLite: one process.

Every 1.5-3.5 s per deployment a member does one of: /animate, /keyframes, /storyboard (form, preview,
Start), Re-roll (or Try again) under an /animate video, or Cancel (three /animate at once, the third waits
in the queue and is cancelled). A schedule injects, in turn: provider 429 bursts, 5xx, slow answers (past
the client's timeout for polls), dropped connections (also a submit whose task is created and whose answer
is lost), non-video bodies and cut downloads; Discord 503s and 429s, a gateway disconnect (RESUME); one
task in a few fails at the provider. Mid-run PostgreSQL stops for 10 s; every few minutes one bot process
(shard 0 and the SQLite one in turn; the skewed one lives throughout) is killed with SIGKILL and restarted.

Then the traffic and the faults stop, in-flight jobs get a generous time to end, and everything is counted
from outside the bot: the fake Discord's messages (videos per job id, the notices that ping the member),
the fake provider's tasks, the bot's database (jobs and ledger, read through the store API). RSS and open
fds of every bot process are sampled every 5 s; loop lag is what the bots log (VIDU_LOOP_LAG_LOG=1).

As a check (CI runs it: .ci/run): `python -m benchmarks.soak --minutes 2 [--json FILE]` prints the notes and
the figures, then one line per counter of MUST_BE_ZERO that is not zero, and exits 1 when there is one (2 when
the soak itself could not run to its end). `python -m benchmarks --only soak` gives the same figures in the
benchmarks' table, without a verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import itertools
import json
import os
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from benchmarks.harness import BotProcess, Fakes, start_bot
from benchmarks.shards import private_postgres, sharded_fakes, sync_commands
from bot.db import open_store
from bot.jobs import TERMINAL_STATES, Job, JobState
from bot.jobs.ledger import Settlement
from tests.fakes.discord import FakeDiscord, FakeMember, InteractionRecord, SentMessage, Upload
from tests.fakes.discord.world import TestServer
from tests.fakes.provider import FakeProvider, Fault
from tests.store.pg_server import PrivateServer

SKEW_SECONDS = 90  # the shard-1 process's clock: more than the lease ahead
LEASE_SECONDS = 20
SAMPLE_SECONDS = 5.0
FAULT_EVERY_SECONDS = 12.0
KILL_EVERY_MINUTES = 4.0
RESTART_AFTER_SECONDS = 5.0
PG_DOWN_SECONDS = 10.0
WARMUP_SECONDS = 60.0  # fds are compared from the first sample after this (the image workers, pools, keep-alives)
FDS_TARGET = 10
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
START, PREVIEW_CANCEL = "vidu:preview:start", "vidu:preview:cancel"
MEMBERS_PER_SERVER = 6
# The bot's settings for the soak: short polls and leases so that minutes hold many jobs and takeovers.
SOAK_ENV = {
    "MAX_ACTIVE_JOBS_PER_MEMBER": "2",
    "MAX_QUEUED_JOBS_PER_MEMBER": "5",
    "PROVIDER_REQUESTS_PER_MINUTE": "600",
    "PROVIDER_TIMEOUT_SECONDS": "8",
    "POLL_FIRST_SECONDS": "2",
    "POLL_MAX_SECONDS": "6",
    "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
}
ACTIONS = (("animate", 40), ("keyframes", 18), ("storyboard", 14), ("reroll", 16), ("cancel", 12))


@dataclass
class Request:
    """One interaction a member sent, and what became of it."""

    kind: str
    slot: Slot
    at: float  # time.monotonic()
    ix: InteractionRecord | None = None
    error: str | None = None


# An interaction a member sent that no process ever answered is Discord's "did not respond", not a request the
# bot lost, when the process it went to was killed: the fake Discord (as Discord, until the heartbeat lapses)
# routes it to the gateway session of the process holding its server's shard, and a process killed by SIGKILL
# never answers what it held or what still comes to its session until its restart IDENTIFYs anew. So each kill
# records the sessions of the victim's shard (`Deployment.killed_sessions`), and an unanswered interaction is
# cut by a kill only when it went to one of those sessions at most CUT_BEFORE_KILL_SECONDS before the kill (or
# after it), or when no session held its shard. Anything else unanswered went to a live process and is lost.
# (Until 2026-12-07 the soak told them apart by time alone, 30 s before to 5 s after any kill in any deployment:
# a short soak with a kill every 40 s would have excused most of its requests.)
CUT_BEFORE_KILL_SECONDS = 30.0


@dataclass
class Slot:
    """One bot process of a deployment, restarted after each kill (each run a new pid, a new series)."""

    name: str
    deployment: Deployment
    workdir: Path
    overrides: dict[str, str]
    shard: tuple[int, int]  # (shard id, shard count): the gateway sessions this process holds
    command: tuple[str, ...] = ("-m", "bot")
    bot: BotProcess | None = None
    up: bool = False
    runs: list[BotProcess] = field(default_factory=list)
    samples: dict[int, list[tuple[float, float, int]]] = field(default_factory=dict)  # pid -> (t, MB, fds)
    kills: list[float] = field(default_factory=list)

    async def start(self) -> None:
        self.bot = await start_bot(self.deployment.fakes, self.workdir, command=self.command, **self.overrides)
        self.runs.append(self.bot)
        self.up = True

    async def kill(self) -> None:
        bot = self.bot
        if bot is None or bot.process.returncode is not None:
            return
        self.up = False
        now = time.monotonic()
        self.kills.append(now)
        gateway = self.deployment.discord.gateway
        for session in gateway.sessions.values():  # its own: only one process holds a shard
            if session.shard == self.shard and session.active:
                self.deployment.killed_sessions.setdefault(session.id, now)
        await bot.kill()

    def sample(self) -> None:
        bot = self.bot
        if bot is None or bot.process.returncode is not None:
            return
        try:
            fds = len(os.listdir(f"/proc/{bot.pid}/fd"))
            self.samples.setdefault(bot.pid, []).append((time.monotonic(), bot.rss_mb(), fds))
        except (OSError, RuntimeError):  # it died between the check and the read
            pass


@dataclass
class Deployment:
    name: str
    fakes: Fakes
    servers: list[TestServer]  # servers[i] is served by slots[i]
    database_url: str
    slots: list[Slot] = field(default_factory=list)
    members: dict[int, list[FakeMember]] = field(default_factory=dict)  # guild id -> members who ask
    requests: list[Request] = field(default_factory=list)
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    action_errors: Counter[str] = field(default_factory=Counter)
    killed_sessions: dict[str, float] = field(default_factory=dict)  # gateway session id -> when its process died

    @property
    def discord(self) -> FakeDiscord:
        return self.fakes.discord

    @property
    def provider(self) -> FakeProvider:
        return self.fakes.provider


def _png(n: int, width: int = 160, height: int = 90) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (n * 37 % 256, n * 91 % 256, n * 53 % 256)).save(out, "PNG")
    return out.getvalue()


def _answered(discord: FakeDiscord, ix: InteractionRecord) -> bool:
    """The member read something: a form, a message, an edited message, or a filled-in "thinking"."""
    if ix.modal:
        return True
    if not ix.responses:
        return False
    if ix.responses[0].type != 5:  # 4 message, 6 deferred update, 7 update, 9 form
        return True
    ids = [i for i in [ix.original_message_id, *ix.followup_ids] if i]
    return any(discord.message(i).text() and not discord.message(i).loading for i in ids)


async def _answer(discord: FakeDiscord, ix: InteractionRecord, timeout: float) -> SentMessage:
    def probe() -> SentMessage | None:
        ids = [i for i in [ix.original_message_id, *ix.followup_ids] if i]
        return next((discord.message(i) for i in ids if discord.message(i).text() and not discord.message(i).loading),
                    None)

    return await discord.wait_for(probe, timeout=timeout, what="the private answer", seen=lambda: str(ix.responses))


# -- the members ------------------------------------------------------------------------------------------


async def _send(d: Deployment, slot: Slot, kind: str, make: Callable[[], Awaitable[InteractionRecord]]) -> Request:
    request = Request(kind, slot, time.monotonic())
    d.requests.append(request)
    try:
        request.ix = await asyncio.wait_for(make(), 30)
    except Exception as exc:
        request.error = f"{type(exc).__name__}: {str(exc)[:160]}"
    return request


async def _animate(d: Deployment, slot: Slot, server: TestServer, member: FakeMember) -> int:
    n = next(d.numbers)
    prompt = f"animate {n}" + (" forbidden" if n % 23 == 0 else "")  # now and then the provider refuses it
    options = {"image": Upload(f"a{n}.png", _png(n)), "prompt": prompt, "duration": 4,
               "seed": random.randrange(2**31 - 1)}
    await _send(d, slot, "animate", lambda: d.discord.slash(member, "animate", channel=server.general, options=options))
    return n


async def _keyframes(d: Deployment, slot: Slot, server: TestServer, member: FakeMember) -> None:
    n = next(d.numbers)
    options = {"start": Upload(f"k{n}.png", _png(n)), "frame1": Upload(f"k{n}b.png", _png(n + 1)),
               "frame2": Upload(f"k{n}c.png", _png(n + 2)), "prompts": f"keyframes {n} in | keyframes {n} out",
               "durations": "2", "resolution": "540p"}
    await _send(d, slot, "keyframes",
                lambda: d.discord.slash(member, "keyframes", channel=server.general, options=options))


async def _storyboard(d: Deployment, slot: Slot, server: TestServer, member: FakeMember) -> None:
    n = next(d.numbers)
    discord = d.discord
    opened = await _send(d, slot, "storyboard form",
                         lambda: discord.slash(member, "storyboard", channel=server.general))
    if opened.ix is None:
        return
    ix = opened.ix
    await discord.wait_for(lambda: ix.modal, timeout=30, what="the storyboard form", seen=lambda: str(ix.responses))
    values = {"frames": [Upload(f"s{n}.png", _png(n)), Upload(f"s{n}b.png", _png(n + 5)),
                         Upload(f"s{n}c.png", _png(n + 9))],
              "prompts": f"storyboard {n} in\nstoryboard {n} out", "durations": "2", "resolution": ["540p"]}
    submitted = await _send(d, slot, "storyboard preview", lambda: discord.submit_modal(member, ix, values))
    if submitted.ix is None:
        return
    preview = await _answer(discord, submitted.ix, 60)
    if START not in preview.custom_ids():
        d.action_errors["storyboard: preview without Start"] += 1
        return
    await _send(d, slot, "storyboard start", lambda: discord.press_button(member, preview, START))


async def _reroll(d: Deployment, slot: Slot, server: TestServer, member: FakeMember) -> None:
    """Re-roll (or Try again) under an /animate job's message: a new seed, so never the same request body."""
    discord = d.discord
    channels = {t.id for t in discord.threads(server.general) if t.name.startswith("animate ")}
    found = [m for m in discord.all_messages() if m.channel_id in channels and m.author_id == discord.bot_user.id
             and m.mentions and any(c.startswith("vidu:reroll:") for c in m.custom_ids())]
    if not found:
        d.action_errors["reroll: nothing to re-roll yet"] += 1
        return
    message = random.choice(found)
    requester = server.guild.members.get(message.mentions[0])
    if requester is None:
        return
    (button,) = [c for c in message.custom_ids() if c.startswith("vidu:reroll:")][:1]
    await _send(d, slot, "reroll", lambda: discord.press_button(requester, message, button))


async def _cancel(d: Deployment, slot: Slot, server: TestServer, member: FakeMember) -> None:
    """Three /animate at once (two may run), then Cancel on the one waiting in the queue."""
    numbers = [await _animate(d, slot, server, member) for _ in range(3)]
    discord = d.discord
    name = f"animate {numbers[-1]}"

    def probe() -> tuple[SentMessage, str] | None:
        for thread in discord.threads(server.general):
            if thread.name != name:
                continue
            for message in discord.messages(thread):
                cancel = [c for c in message.custom_ids() if c.startswith("vidu:cancel:")]
                if cancel:
                    return message, cancel[0]
        return None

    try:
        card, button = await discord.wait_for(probe, timeout=20, what="a queued card", seen=lambda: "")
    except TimeoutError:
        d.action_errors["cancel: nothing waiting in the queue"] += 1
        return
    await _send(d, slot, "cancel", lambda: discord.press_button(member, card, button))


ACT: dict[str, Callable[[Deployment, Slot, TestServer, FakeMember], Awaitable[Any]]] = {
    "animate": _animate, "keyframes": _keyframes, "storyboard": _storyboard, "reroll": _reroll, "cancel": _cancel,
}


async def _members_ask(d: Deployment, until: float, pending: set[asyncio.Task[Any]]) -> None:
    names = [name for name, _ in ACTIONS]
    weights = [weight for _, weight in ACTIONS]
    while time.monotonic() < until:
        await asyncio.sleep(random.uniform(1.5, 3.5))
        live = [(slot, server) for slot, server in zip(d.slots, d.servers, strict=True) if slot.up]
        if not live:  # Discord would send it to nobody: the soak asks only processes that are up
            continue
        slot, server = random.choice(live)
        member = random.choice(d.members[server.guild.id])
        kind = random.choices(names, weights)[0]

        async def act(kind: str = kind, slot: Slot = slot, server: TestServer = server,
                      member: FakeMember = member) -> None:
            try:
                await asyncio.wait_for(ACT[kind](d, slot, server, member), 120)
            except Exception as exc:
                d.action_errors[f"{kind}: {type(exc).__name__}"] += 1

        task = asyncio.create_task(act())
        pending.add(task)
        task.add_done_callback(pending.discard)


# -- the faults -------------------------------------------------------------------------------------------


def _provider_429(d: Deployment) -> None:
    d.provider.inject("submit", Fault.status(429, "RATE_LIMIT_EXCEEDED", retry_after=2), times=3)
    d.provider.inject("result", Fault.status(429, "RATE_LIMIT_EXCEEDED", retry_after=1), times=6)


def _provider_5xx(d: Deployment) -> None:
    d.provider.inject("submit", Fault.status(503, "SERVICE_UNAVAILABLE"), times=1)
    d.provider.inject("result", Fault.status(502, "BAD_GATEWAY", raw_body="<html>502 Bad Gateway</html>"), times=3)


def _provider_slow(d: Deployment) -> None:
    d.provider.inject("submit", Fault.slow(3), times=1)  # under the 8 s timeout: just slow
    d.provider.inject("result", Fault.slow(12), times=2)  # past it: the poll times out and is tried again
    d.provider.inject("video", Fault.slow(3), times=1)


def _provider_dropped(d: Deployment) -> None:
    d.provider.inject("result", Fault.drop_before(), times=2)
    d.provider.inject("video", Fault.drop_after(), times=1)  # the download is cut halfway


def _provider_lost_submit(d: Deployment) -> None:
    d.provider.inject("submit", Fault.drop_after(), times=1)  # the task exists, its answer is lost


def _provider_not_video(d: Deployment) -> None:
    d.provider.inject("video", Fault.status(200, raw_body="<html><body>Access denied</body></html>"), times=2)


def _task_fails(d: Deployment) -> None:
    d.provider.plan_next_task(fail_reason="GPU node crashed")


def _discord_503(d: Deployment) -> None:
    d.discord.fail_next("POST /channels/*/messages", status=503, times=2)
    d.discord.fail_next("PATCH /channels/*/messages/*", status=503, times=2)


def _discord_429(d: Deployment) -> None:
    d.discord.rate_limit_next("POST /channels/*/messages", retry_after=1.0, times=2)
    d.discord.rate_limit_next("POST /interactions/*/*/callback", retry_after=0.5, times=1)


async def _gateway_drop(d: Deployment) -> None:
    await d.discord.drop_gateway(4000)  # resumable: the bot RESUMEs, events meanwhile are replayed


FAULTS: list[tuple[str, Callable[[Deployment], Awaitable[None] | None]]] = [
    ("provider 429 burst", _provider_429), ("Discord 503", _discord_503), ("provider 5xx", _provider_5xx),
    ("provider task fails", _task_fails), ("provider slow", _provider_slow), ("Discord 429", _discord_429),
    ("provider dropped connections", _provider_dropped), ("provider non-video body", _provider_not_video),
    ("gateway disconnect (RESUME)", _gateway_drop), ("provider submit answer lost", _provider_lost_submit),
]


async def _inject_faults(deployments: list[Deployment], until: float, log: Counter[str]) -> None:
    for name, fault in itertools.cycle(FAULTS):
        await asyncio.sleep(FAULT_EVERY_SECONDS)
        if time.monotonic() >= until:
            return
        for d in deployments:
            done = fault(d)
            if done is not None:
                await done
        log[name] += 1


async def _restart_postgres(server: PrivateServer, at: float, events: list[str], t0: float) -> None:
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    began = time.monotonic()
    await asyncio.to_thread(server.stop)
    await asyncio.sleep(PG_DOWN_SECONDS)
    await asyncio.to_thread(server.start)
    events.append(f"{began - t0:.0f} s: PostgreSQL stopped, started again after {time.monotonic() - began:.1f} s")


async def _kill_in_turn(victims: list[Slot], times: list[float], events: list[str], t0: float) -> None:
    for victim, at in zip(itertools.cycle(victims), times, strict=False):
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        old = victim.bot.pid if victim.bot else None
        await victim.kill()
        await asyncio.sleep(RESTART_AFTER_SECONDS)
        await victim.start()
        new = victim.bot.pid if victim.bot else None
        events.append(f"{at - t0:.0f} s: SIGKILL {victim.name} (pid {old}), restarted as pid {new}")


async def _sample(slots: list[Slot], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for slot in slots:
            slot.sample()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)


# -- setting up -------------------------------------------------------------------------------------------


def _add_members(d: Deployment) -> None:
    for server in d.servers:
        d.members[server.guild.id] = [server.guild.add_member(f"soak{n}") for n in range(MEMBERS_PER_SERVER)]


async def _fakes(shards: int) -> tuple[Fakes, list[TestServer]]:
    fakes, servers = await sharded_fakes(shards)
    fakes.provider.queue_seconds, fakes.provider.processing_seconds = 1.0, 6.0
    return fakes, servers


async def _postgres_deployment(workdir: Path, url: str) -> Deployment:
    fakes, servers = await _fakes(2)
    d = Deployment("postgresql", fakes, servers, url)
    common = {**SOAK_ENV, "DATABASE_URL": url, "SHARD_COUNT": "2", "DEV_GUILD_ID": ""}
    await sync_commands(fakes, workdir / "pg", **common)
    # VIDU_SOAK_MEMTRACE_* (benchmarks/memtrace.py): what the never-killed process's memory is made of.
    memtrace = {k: v for k, v in os.environ.items() if k.startswith(("VIDU_SOAK_MEMTRACE_", "VIDU_SOAK_MALLOC_"))}
    d.slots = [
        Slot("postgresql shard 0", d, workdir / "pg0", {**common, "SHARD_IDS": "0"}, (0, 2)),
        Slot(f"postgresql shard 1 (clock {SKEW_SECONDS:+d} s)", d, workdir / "pg1",
             {**common, "SHARD_IDS": "1", "VIDU_SOAK_CLOCK_SKEW_SECONDS": str(SKEW_SECONDS), **memtrace}, (1, 2),
             command=("-m", *(("benchmarks.memtrace",) if memtrace else ()), "benchmarks.skewed_clock")),
    ]
    _add_members(d)
    return d


async def _sqlite_deployment(workdir: Path) -> Deployment:
    fakes, servers = await _fakes(1)
    url = f"sqlite:///{workdir}/sqlite/bot.db"
    d = Deployment("sqlite", fakes, servers, url)
    d.slots = [Slot("sqlite", d, workdir / "sqlite", {**SOAK_ENV, "DATABASE_URL": url}, (0, 1))]
    _add_members(d)
    return d


# -- counting ---------------------------------------------------------------------------------------------


def _body_key(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


async def _in_flight(d: Deployment) -> list[Job]:
    async with open_store(d.database_url) as store:
        return await store.jobs_in_states([s for s in JobState if s not in TERMINAL_STATES])


async def _drain(deployments: list[Deployment], timeout: float) -> str:
    """Until every job ended in every deployment (or the deadline): the soak's last word on each."""
    deadline = time.monotonic() + timeout
    while True:
        left: list[str] = []
        for d in deployments:
            try:
                left += [f"{d.name}:{job.id}:{job.state.value}" for job in await _in_flight(d)]
            except Exception as exc:
                left.append(f"{d.name}: {type(exc).__name__}")
        if not left:
            return f"every job ended after {timeout - (deadline - time.monotonic()):.0f} s"
        if time.monotonic() > deadline:
            return f"{len(left)} job(s) still in flight after {timeout:.0f} s: {', '.join(left[:20])}"
        await asyncio.sleep(5)


@dataclass
class Count:
    jobs: int = 0
    delivered_once: int = 0
    failed_told: int = 0
    lost: int = 0
    duplicate_posts: int = 0
    double_submits: int = 0
    disagreements: int = 0
    notes: list[str] = field(default_factory=list)


def _posts(discord: FakeDiscord) -> tuple[Counter[str], Counter[str], dict[str, list[SentMessage]]]:
    """Video posts per job id (the attachment is <job id>.mp4), end notices per job id (their nonce), and
    every bot message that pings someone, by the job id it carries."""
    videos: Counter[str] = Counter()
    notices: Counter[str] = Counter()
    pings: dict[str, list[SentMessage]] = {}
    for message in discord.all_messages():
        if message.author_id != discord.bot_user.id:
            continue
        for attachment in message.attachments:
            if attachment.filename.endswith(".mp4") and not attachment.filename.endswith(".fit.mp4"):
                videos[attachment.filename.removesuffix(".mp4")] += 1
        if isinstance(message.nonce, str) and message.nonce.startswith("vidu-end-"):
            notices[message.nonce.removeprefix("vidu-end-")] += 1
        if message.mentions and "job `" in message.text():
            job_id = message.text().split("job `", 1)[1].split("`", 1)[0]
            pings.setdefault(job_id, []).append(message)
    return videos, notices, pings


def _cut_by_a_kill(d: Deployment, request: Request) -> bool:
    """Discord's "did not respond" to an interaction nobody answered (see CUT_BEFORE_KILL_SECONDS)."""
    ix = request.ix
    assert ix is not None
    if ix.shard is None or ix.session_id is None:  # no process held its shard: Discord sent it to nobody
        return True
    killed = d.killed_sessions.get(ix.session_id)
    return killed is not None and killed - request.at <= CUT_BEFORE_KILL_SECONDS


async def _count(d: Deployment) -> Count:
    c = Count()
    discord, provider = d.discord, d.provider
    async with open_store(d.database_url) as store:
        jobs = await store.jobs_in_states(list(JobState))
        entries = await store.ledger_entries(EPOCH)
    videos, notices, pings = _posts(discord)
    states = Counter(job.state.value for job in jobs)
    c.jobs = len(jobs)
    lost: list[str] = []
    for job in jobs:
        told = any(job.user_id in m.mentions and not m.attachments for m in pings.get(job.id, []))
        if job.state is JobState.DELIVERED and videos[job.id] == 1:
            c.delivered_once += 1
        elif job.state is JobState.DELIVERED:
            lost.append(f"{job.id} delivered with {videos[job.id]} video posts")
        elif job.state is JobState.CANCELLED or (job.state in TERMINAL_STATES and told):
            c.failed_told += 1  # cancelled: the member pressed Cancel and the card says so
        else:
            lost.append(f"{job.id} {job.state.value} ({job.reason or 'no reason'}), "
                        f"{'told' if told else 'not told'}, {videos[job.id]} video(s)")
    for job_id, count in videos.items():
        if count > 1:
            c.duplicate_posts += count - 1
            posted = [m.id for m in discord.all_messages() if f"{job_id}.mp4" in m.filenames]
            c.notes.append(f"{d.name}: job {job_id} posted {count} times (messages {posted})")
    doubled_notices = {job_id: n for job_id, n in notices.items() if n > 1}
    if doubled_notices:
        c.duplicate_posts += sum(n - 1 for n in doubled_notices.values())
        c.notes.append(f"{d.name}: end notices posted more than once: {doubled_notices}")
    # Requests a member sent to a live process that were never answered at all.
    unanswered, cut = [], 0
    for request in d.requests:
        if request.ix is None or _answered(discord, request.ix):
            continue
        if _cut_by_a_kill(d, request):
            cut += 1  # the process holding its shard was killed before it answered: Discord's "did not respond"
        else:
            unanswered.append(f"{request.kind} ix {request.ix.id} at {request.at:.0f} via {request.slot.name}")
    c.lost = len(lost) + len(unanswered)
    if lost:
        c.notes.append(f"{d.name}: jobs neither delivered nor told: {'; '.join(lost[:30])}")
    if unanswered:
        c.notes.append(f"{d.name}: requests never answered: {'; '.join(unanswered[:30])}")

    # Double submits: two tasks with the same request body (every request differs: its own prompt, or a new
    # seed for Re-roll); and tasks nobody's job points at beyond what submits with a lost answer explain.
    by_body: dict[str, list[str]] = {}
    for task in provider.tasks.values():
        by_body.setdefault(_body_key(task.body), []).append(task.task_id)
    doubles = {k: ids for k, ids in by_body.items() if len(ids) > 1}
    c.double_submits = sum(len(ids) - 1 for ids in doubles.values())
    owner = {job.task_id: job for job in jobs if job.task_id}
    for ids in doubles.values():
        c.notes.append(f"{d.name}: one request body submitted as tasks {ids}, jobs "
                       f"{[owner[t].id if t in owner else None for t in ids]}")
    orphans = [t for t in provider.tasks if t not in owner]
    unknown_without_task = [job for job in jobs if job.state is JobState.SUBMIT_UNKNOWN and not job.task_id]

    # The ledger against the provider's tasks (SPEC section 5): charged <=> the provider finished it.
    verdicts: Counter[str] = Counter()
    disagree: list[str] = []
    for entry in entries:
        found = provider.tasks.get(entry.task_id or "")
        status = found.status.removeprefix("TASK_STATUS_") if found else ("no task" if not entry.task_id else "unknown")
        verdicts[f"{entry.settlement.value}/{status}"] += 1
        if entry.settlement is Settlement.CHARGED and status != "SUCCEED":
            disagree.append(f"{entry.job_id} charged ({entry.state.value}) but the task is {status}")
        if entry.settlement is Settlement.REFUNDED and status in ("SUCCEED", "QUEUED", "PROCESSING"):
            disagree.append(f"{entry.job_id} refunded ({entry.state.value}) but the task {entry.task_id} is {status}")
    finished_orphans = [t for t in orphans if provider.tasks[t].status == "TASK_STATUS_SUCCEED"]
    unexplained = max(0, len(finished_orphans) - len(unknown_without_task))
    if unexplained:
        disagree.append(f"{unexplained} finished task(s) no job charges beyond the {len(unknown_without_task)} "
                        f"submit(s) whose answer was lost: {finished_orphans[:10]}")
    c.disagreements = len(disagree)
    if disagree:
        c.notes.append(f"{d.name}: ledger disagreements: {'; '.join(disagree[:30])}")
    submits = provider.requests_to("submit")
    refused = Counter((r.error or "")[:60] for r in d.requests if r.error)
    c.notes.append(
        f"{d.name}: {c.jobs} jobs {dict(states)}; {len(provider.tasks)} provider tasks from {len(submits)} submit "
        f"calls ({sum(1 for r in submits if r.status is None)} dropped); {len(orphans)} task(s) no job points at, "
        f"{len(unknown_without_task)} submit_unknown job(s) without a task; ledger {dict(verdicts)}; "
        f"{sum(videos.values())} video posts; {len(d.requests)} interactions sent "
        f"({Counter(r.kind for r in d.requests)}), {cut} cut by a kill (sent to the {len(d.killed_sessions)} gateway "
        f"session(s) of killed processes, or to none), "
        f"{sum(refused.values())} refused by the fake ({dict(refused)}); "
        f"member actions that did not get far: {dict(d.action_errors)}"
    )
    return c


def _slope_mb_per_hour(series: list[tuple[float, float, int]]) -> float:
    n = len(series)
    mean_t = sum(t for t, _, _ in series) / n
    mean_m = sum(m for _, m, _ in series) / n
    var = sum((t - mean_t) ** 2 for t, _, _ in series)
    cov = sum((t - mean_t) * (m - mean_m) for t, m, _ in series)
    return cov / var * 3600 if var else 0.0


def _memory_figures(slots: list[Slot]) -> tuple[dict[str, Any], str]:
    runs = [(slot, pid, series) for slot in slots for pid, series in slot.samples.items() if len(series) >= 3]
    if not runs:
        return ({k: "n/a" for k in ("soak_rss_mb_start", "soak_rss_mb_end", "soak_rss_slope_mb_per_h",
                                    "soak_fds_end_minus_start")}, "soak: no process lived for 3 samples")
    slot, pid, series = max(runs, key=lambda run: run[2][-1][0] - run[2][0][0])
    hours = (series[-1][0] - series[0][0]) / 3600
    settled = [s for s in series if s[0] - series[0][0] >= WARMUP_SECONDS] or series
    second_half = [s for s in series if s[0] >= (series[0][0] + series[-1][0]) / 2]
    figures = {
        "soak_rss_mb_start": round(series[0][1], 1),
        "soak_rss_mb_end": round(series[-1][1], 1),
        "soak_rss_slope_mb_per_h": round(_slope_mb_per_hour(series), 1),
        "soak_fds_end_minus_start": settled[-1][2] - settled[0][2],
    }
    others = "; ".join(
        f"{s.name} pid {p}: {ser[0][1]:.1f} → {ser[-1][1]:.1f} MB, fds {ser[0][2]} → {ser[-1][2]} over "
        f"{(ser[-1][0] - ser[0][0]) / 60:.1f} min" for s, p, ser in runs)
    note = (f"soak: memory of the longest-lived process, {slot.name} pid {pid}, {len(series)} samples over "
            f"{hours * 60:.1f} min (least-squares slope over all of them, from its first sample after 'ready'; "
            f"slope after the first {WARMUP_SECONDS:.0f} s: "
            f"{_slope_mb_per_hour(settled) if len(settled) >= 3 else float('nan'):.1f} MB/h, over its second half: "
            f"{_slope_mb_per_hour(second_half) if len(second_half) >= 3 else float('nan'):.1f} MB/h; fds compared from "
            f"{WARMUP_SECONDS:.0f} s in: {settled[0][2]} → {settled[-1][2]}, peak {max(s[2] for s in series)}). "
            f"Every run: {others}")
    return figures, note


# -- the run ----------------------------------------------------------------------------------------------


async def measure(workdir: Path, *, minutes: float) -> dict[str, Any]:
    duration = minutes * 60
    server = await private_postgres()
    if server is None:
        raise RuntimeError("the soak needs PostgreSQL's server programs (initdb, pg_ctl; .ci/postgres.sh has them)")
    deployments: list[Deployment] = []
    notes: list[str] = []
    events: list[str] = []
    faults: Counter[str] = Counter()
    keep = Path(os.environ.get("VIDU_BENCH_LOG_DIR") or workdir.parent / f"vidu-soak-logs-{int(time.time())}")
    try:
        deployments = [await _postgres_deployment(workdir, server.url), await _sqlite_deployment(workdir)]
        slots = [slot for d in deployments for slot in d.slots]
        await asyncio.gather(*(slot.start() for slot in slots))
        await deployments[0].discord.wait_for_shards({(0, 2), (1, 2)}, timeout=60)
        t0 = time.monotonic()
        until = t0 + duration
        stop_sampling = asyncio.Event()
        pending: set[asyncio.Task[Any]] = set()
        victims = [deployments[0].slots[0], deployments[1].slots[0]]  # the skewed process lives throughout
        kill_every = min(KILL_EVERY_MINUTES * 60, duration / 3)
        kill_times = [t0 + kill_every * (i + 0.5) for i in range(int(duration / kill_every))]
        chaos = [
            asyncio.create_task(_sample(slots, stop_sampling)),
            asyncio.create_task(_inject_faults(deployments, until, faults)),
            asyncio.create_task(_restart_postgres(server, t0 + duration * 0.45, events, t0)),
            asyncio.create_task(_kill_in_turn(victims, kill_times, events, t0)),
            *(asyncio.create_task(_members_ask(d, until, pending)) for d in deployments),
        ]
        print(f"soak: {minutes:g} min of traffic and faults; PostgreSQL at {server.url}", flush=True)
        done, _ = await asyncio.wait(chaos[1:], return_when=asyncio.ALL_COMPLETED)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        if pending:
            await asyncio.wait(pending, timeout=150)
        drained = await _drain(deployments, timeout=max(300.0, duration * 0.25))
        stop_sampling.set()
        await chaos[0]
        ended = time.monotonic()
        counts = [await _count(d) for d in deployments]
        figures: dict[str, Any] = {
            "soak_minutes": minutes,
            "soak_jobs": sum(c.jobs for c in counts),
            "soak_delivered_once": sum(c.delivered_once for c in counts),
            "soak_failed_told": sum(c.failed_told for c in counts),
            "soak_lost": sum(c.lost for c in counts),
            "soak_duplicate_posts": sum(c.duplicate_posts for c in counts),
            "soak_double_submits": sum(c.double_submits for c in counts),
            "soak_ledger_disagreements": sum(c.disagreements for c in counts),
        }
        memory, memory_note = _memory_figures(slots)
        figures.update(memory)
        lags = [(lag, slot.name, bot.pid) for slot in slots for bot in slot.runs for lag in bot.lags_ms(t0, ended)]
        worst = max(lags, default=None)
        figures["soak_loop_lag_ms_max"] = round(worst[0], 1) if worst else "n/a"
        notes += [f"soak: {drained}", *events, f"soak: faults injected (each into both deployments): {dict(faults)}",
                  *(note for c in counts for note in c.notes), memory_note]
        if worst:
            over = sum(1 for lag, _, _ in lags if lag > 50)
            notes.append(f"soak: largest loop lag {worst[0]:.1f} ms in {worst[1]} pid {worst[2]}; "
                         f"{over} of {len(lags)} one-second windows above 50 ms")
        # A process that lost its lease mid-submit (another took the job over while its submit was in flight):
        # the task exists at the provider, the job does not track it. Counted from the bots' own words.
        lease_lost = [(slot.name, bot.pid, line.text) for slot in slots for bot in slot.runs for line in bot.lines
                      if "after its lease was lost" in line.text or "its submit was interrupted" in line.text]
        figures["soak_submits_taken_over"] = sum(1 for _, _, text in lease_lost if "after its lease was lost" in text)
        notes.append(f"soak: {figures['soak_submits_taken_over']} submit(s) finished after their lease was taken over"
                     + "".join(f"\n  {name} pid {pid}: {text[:260]}" for name, pid, text in lease_lost[:20]))
        tracebacks = [(slot.name, bot.pid, line.text) for slot in slots for bot in slot.runs for line in bot.lines
                      if "Traceback" in line.text or " ERROR " in line.text or "CRITICAL" in line.text]
        notes.append(f"soak: {len(tracebacks)} log line(s) at ERROR or with a traceback"
                     + "".join(f"\n  {name} pid {pid}: {text[:300]}" for name, pid, text in tracebacks[:15]))
        return {**figures, "notes": notes}
    finally:
        for d in deployments:
            for slot in d.slots:
                for bot in slot.runs:
                    with contextlib.suppress(Exception):
                        await bot.stop()
                    text = "\n".join(f"{line.at:.3f} {line.text}" for line in bot.lines)
                    name = slot.name.split(" (")[0].replace(" ", "-")
                    await asyncio.to_thread(_save, keep / f"{name}-{bot.pid}.log", text)
                    rows = "".join(f"{t:.1f},{mb:.2f},{fds}\n" for t, mb, fds in slot.samples.get(bot.pid, []))
                    await asyncio.to_thread(_save, keep / f"{name}-{bot.pid}.rss.csv", "t_s,rss_mb,fds\n" + rows)
            await d.fakes.provider.stop()
            await d.fakes.discord.stop()
        print(f"soak: every bot's log is in {keep}", flush=True)
        await asyncio.to_thread(server.destroy)


def _save(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# -- as a check ---------------------------------------------------------------------------------------------

# The counters any soak, however short, must end with at zero (what they count: "Chaos soak" in
# docs/PERFORMANCE.md). RSS, fds and loop lag are figures to read over long runs, not a verdict on two minutes.
MUST_BE_ZERO = {
    "soak_lost": "job(s) the bots accepted and neither delivered nor told, or interactions a live process never "
                 "answered",
    "soak_duplicate_posts": "extra video post(s) or end notice(s)",
    "soak_double_submits": "request(s) submitted to the provider as two tasks",
    "soak_ledger_disagreements": "ledger entries the provider's tasks contradict",
    "soak_submits_taken_over": "submit(s) sent after another process had taken the job over",
}


def failures(figures: dict[str, Any]) -> list[str]:
    """One line per MUST_BE_ZERO counter that is not zero (or missing); empty when the soak passed."""
    lines = []
    for key, what in MUST_BE_ZERO.items():
        value = figures.get(key)
        if value != 0:
            lines.append(f"{key} = {value}: {what} (the notes above name them)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=(
        "The chaos soak as a check: exit 1 when a job is lost, a video posted twice, a request submitted "
        "twice, the ledger contradicted or a submit sent after a takeover; 2 when the soak could not run."))
    parser.add_argument("--minutes", type=float, default=2.0, help="length of the traffic (default 2)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    began = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="vidu-soak-") as tmp:
            figures = asyncio.run(measure(Path(tmp), minutes=args.minutes))
    except Exception:
        traceback.print_exc()
        print(f"soak FAILED: it did not run to its end ({time.monotonic() - began:.0f} s; traceback above)", flush=True)
        return 2
    for note in figures.pop("notes", []):
        print(note)
    print("\n".join(f"{key}: {value}" for key, value in figures.items()))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    problems = failures(figures)
    for problem in problems:
        print(f"soak FAILED: {problem}")
    if not problems:
        print(f"soak passed: {figures['soak_jobs']} jobs in {args.minutes:g} min of traffic, "
              f"{', '.join(f'{key} 0' for key in MUST_BE_ZERO)} ({time.monotonic() - began:.0f} s in all)")
    sys.stdout.flush()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
