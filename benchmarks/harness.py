"""The real bot process (`python -m bot`) against the fake Discord and the fake provider, for benchmarks.

The same wiring as tests/e2e/conftest.py (environment variables an operator would set), plus what a
benchmark reads from outside the process: peak and current RSS and CPU time from /proc, and the
event-loop lag the bot logs when VIDU_LOOP_LAG_LOG=1.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from tests.fakes.discord import LOADING, DiscordAPIError, FakeDiscord, InteractionRecord, Upload, build_test_server
from tests.fakes.provider import FakeProvider

PROVIDER_KEY = "sk-bench-provider-SECRET-5d1e7b"
ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vidu-bot-bench"
_LAG = re.compile(r"loop lag max ([0-9.]+) ms")
_CLK_TCK = os.sysconf("SC_CLK_TCK")

# Settings every benchmark runs with. The provider rate cap is raised to its maximum so that the bot's
# own code, not the client-side limiter, is what is measured; the rest are the defaults.
BENCH_ENV = {
    "LOG_LEVEL": "info",
    "VIDU_LOOP_LAG_LOG": "1",
    "PROVIDER_REQUESTS_PER_MINUTE": "6000",
    "MAX_ACTIVE_JOBS_PER_MEMBER": "50",
    "MAX_QUEUED_JOBS_PER_MEMBER": "100",
    "DEFAULT_MEMBER_LIMITS": "none",  # bursts of 10-picture requests from one server: no default spending cap
    "DEFAULT_SERVER_LIMITS": "none",
    "PYTHONUNBUFFERED": "1",
}


@dataclass
class LogLine:
    at: float  # time.monotonic() when the line arrived
    text: str


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    lines: list[LogLine] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None
    profiler: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait_for_line(self, text: str, *, timeout: float) -> str:
        found = await self._until(lambda: next((line.text for line in self.lines if text in line.text), None),
                                  timeout=timeout, what=repr(text))
        return str(found)

    async def wait_for_lines(self, text: str, count: int, *, timeout: float) -> None:
        """Until `count` lines hold `text` (e.g. every job's "delivered as message")."""
        await self._until(lambda: self.count(text) >= count or None, timeout=timeout, what=f"{count} × {text!r}")

    async def _until(self, probe: Callable[[], object], *, timeout: float, what: str) -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = probe()
            if found:
                return found
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)  # (lines arrive from a reader task: nothing to wait on but the list)
        raise RuntimeError(f"bot never logged {what}; its last output:\n{self.tail()}")

    def tail(self, chars: int = 3000) -> str:
        return "\n".join(line.text for line in self.lines)[-chars:]

    def count(self, text: str) -> int:
        return sum(1 for line in self.lines if text in line.text)

    def lag_max_ms(self, since: float, until: float | None = None) -> float | None:
        """Largest loop lag the bot logged for the seconds in [since, until] (monotonic times)."""
        stop = math.inf if until is None else until + 1.5  # a line covers the second before it
        found = [float(m.group(1)) for line in self.lines if since <= line.at <= stop
                 and (m := _LAG.search(line.text))]
        return max(found) if found else None

    def lags_ms(self, since: float, until: float | None = None) -> list[float]:
        """Every one-second window's largest loop lag in [since, until], in order."""
        stop = math.inf if until is None else until + 1.5
        return [float(m.group(1)) for line in self.lines if since <= line.at <= stop and (m := _LAG.search(line.text))]

    def _status(self, key: str) -> float:
        """A memory figure from /proc/<pid>/status, in MB."""
        for row in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if row.startswith(key + ":"):
                return int(row.split()[1]) / 1024
        raise RuntimeError(f"{key} missing from /proc/{self.pid}/status")

    def peak_rss_mb(self) -> float:
        return self._status("VmHWM")

    def rss_mb(self) -> float:
        return self._status("VmRSS")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime + stime

    async def kill(self) -> None:
        """SIGKILL, as a crash would end it; returns once it is gone and its output read."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        await self.process.wait()
        if self.reader is not None:
            await asyncio.wait_for(self.reader, 5)

    async def stop(self, timeout: float = 20) -> int:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self.reader is not None:
            await asyncio.wait_for(self.reader, 5)
        if self.profiler is not None:
            await asyncio.wait_for(self.profiler.wait(), 30)  # it writes its file once the bot is gone
        keep = os.environ.get("VIDU_BENCH_LOG_DIR")
        if keep:  # for a closer look at a run: the bot's whole output, one file per process
            text = "\n".join(f"{ln.at:.3f} {ln.text}" for ln in self.lines)
            await asyncio.to_thread(_write, Path(keep) / f"bot-{self.pid}.log", text)
        return self.process.returncode or 0

    def check_no_secret(self, secrets: Sequence[str]) -> None:
        text = "\n".join(line.text for line in self.lines)
        for secret in secrets:
            if secret in text:
                raise RuntimeError("a secret reached the bot's log")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@dataclass
class Fakes:
    discord: FakeDiscord
    provider: FakeProvider


@contextlib.asynccontextmanager
async def running_fakes(*, premium_tier: int = 0) -> AsyncIterator[Fakes]:
    discord = FakeDiscord()
    discord.world = build_test_server(discord, premium_tier=premium_tier)
    provider = FakeProvider(api_key=PROVIDER_KEY)
    await discord.start()
    await provider.start()
    try:
        yield Fakes(discord, provider)
    finally:
        await provider.stop()
        await discord.stop()


async def launch_bot(fakes: Fakes, workdir: Path, *args: str, command: Sequence[str] = ("-m", "bot"),
                     **overrides: str) -> BotProcess:
    """Start `python -m bot [args]` (or `python <command> [args]`) in `workdir` and collect its output; no wait."""
    discord = fakes.discord
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDU_", "DISCORD_", "DATABASE_"))}
    env.update(
        DISCORD_TOKEN=discord.bot_token, VIDU_API_KEY=PROVIDER_KEY, VIDU_API_BASE=fakes.provider.base_url,
        DISCORD_API_BASE=discord.api_base, DISCORD_GATEWAY_URL=discord.gateway_url,
        DEV_GUILD_ID=str(discord.world.guild.id), DATABASE_URL=f"sqlite:///{workdir}/bot.db",
        DATA_DIR=str(workdir / "data"), PYTHONPATH=str(ROOT), **BENCH_ENV,
    )
    env.update(overrides)
    process = await asyncio.create_subprocess_exec(
        sys.executable, *command, *args, cwd=workdir, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        limit=1024 * 1024,
    )
    bot = BotProcess(process)

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            bot.lines.append(LogLine(time.monotonic(), raw.decode(errors="replace").rstrip()))

    bot.reader = asyncio.create_task(read())
    return bot


async def start_bot(fakes: Fakes, workdir: Path, *, command: Sequence[str] = ("-m", "bot"),
                    **overrides: str) -> BotProcess:
    """Start `python -m bot` in `workdir`; return once it is ready (commands synced, gateway READY)."""
    bot = await launch_bot(fakes, workdir, command=command, **overrides)
    process = bot.process
    try:
        await bot.wait_for_line("bot.app: ready as", timeout=60)
    except BaseException:
        await bot.stop()
        raise
    profile_dir = os.environ.get("VIDU_BENCH_PROFILE")
    if profile_dir:  # py-spy samples the bot until it exits (collapsed stacks per thread, for flame graphs)
        await asyncio.to_thread(Path(profile_dir).mkdir, parents=True, exist_ok=True)
        bot.profiler = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(process.pid), "--rate", "250",
            "--threads", "--format", "raw", "--nonblocking",
            *(["--gil"] if os.environ.get("VIDU_BENCH_PROFILE_GIL") else []),  # only samples holding the GIL
            "-o", str(Path(profile_dir) / f"{workdir.name}-{process.pid}.txt"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
    return bot


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (so p99 of 50 values is the largest one)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


async def keyframes_burst_options() -> tuple[dict[str, object], int]:
    """The /keyframes options of the burst benchmarks (ten ~5 MB pictures and a prompt), and their bytes."""
    from benchmarks.images import noisy_images  # (images.py keeps its cache where this module says)

    images = await asyncio.to_thread(noisy_images)
    uploads = [Upload(name, data) for name, data in images]
    options: dict[str, object] = {"start": uploads[0], "prompts": "a slow pan across the scene"}
    options.update({f"frame{n}": uploads[n] for n in range(1, 10)})
    return options, sum(len(d) for _, d in images)


def still_png() -> bytes:
    """A small flat picture for /animate, where the picture itself is not what is measured."""
    out = io.BytesIO()
    Image.new("RGB", (640, 360), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


def final_answer(discord: FakeDiscord, record: InteractionRecord) -> str | None:
    """The answer that replaced an interaction's "thinking…" message, once there is one."""
    try:
        message = discord.message(record.original_message_id or 0)
    except DiscordAPIError:
        return None
    return None if message.loading else message.text()


def final_answer_at(discord: FakeDiscord, record: InteractionRecord) -> float | None:
    """When (the fake Discord's time.time()) the "thinking…" message was first replaced by an answer: later
    edits of the same message (a queue position, say) do not move it."""
    try:
        message = discord.message(record.original_message_id or 0)
    except DiscordAPIError:
        return None
    # edits[i] holds a revision and when it began; the message as it is now began at edited_at.
    states = [(rev.at, rev.flags) for rev in message.edits]
    states.append((message.edited_at or message.created_at, message.flags))
    return next((at for at, flags in states if not flags & LOADING), None)

