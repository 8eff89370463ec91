"""The real bot process (`python -m bot`) against the fake Discord and the strict fake provider.

Both fakes run in the test's event loop on loopback; the bot runs as a subprocess, pointed at them by
DISCORD_API_BASE, DISCORD_GATEWAY_URL and VIDU_API_BASE exactly as an operator would configure a proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.discord import FakeDiscord
from tests.fakes.provider import FakeProvider
from tests.store.backends import database_url_for  # TEST_E2E_DATABASE=postgresql: a schema per test

PROVIDER_KEY = "sk-e2e-provider-SECRET-9c2f4a"
ROOT = Path(__file__).resolve().parents[2]


def png(width: int = 120, height: int = 90, color: tuple[int, int, int] = (30, 140, 220), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, fmt)
    return out.getvalue()


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    env: dict[str, str]
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def wait_for_line(self, text: str, *, timeout: float) -> str:
        """Wait until the bot logs a line containing `text` (polling: the output is a plain pipe)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            found = next((line for line in self.lines if text in line), None)
            if found:
                return found
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"bot never logged {text!r}; its output:\n{self.output[-4000:]}")

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self.reader is not None:
            await asyncio.wait_for(self.reader, 5)
        return self.process.returncode or 0


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider(api_key=PROVIDER_KEY)
    fake.queue_seconds, fake.processing_seconds = 0.5, 1.0
    await fake.start()
    yield fake
    await fake.stop()


StartBot = Callable[..., "asyncio.Future[BotProcess]"]


def bot_env(fake_discord: FakeDiscord, provider: FakeProvider, tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment an operator would give the bot, pointed at the two fakes (quick polls for tests)."""
    ours = ("VIDU_", "DISCORD_", "DATABASE_", "METRICS_", "LOG_", "HEALTH_", "SHARD_", "JOB_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}  # only what the test says
    env.update(
        DISCORD_TOKEN=fake_discord.bot_token, VIDU_API_KEY=PROVIDER_KEY, VIDU_API_BASE=provider.base_url,
        DISCORD_API_BASE=fake_discord.api_base, DISCORD_GATEWAY_URL=fake_discord.gateway_url,
        DATABASE_URL=database_url_for(tmp_path),
        DATA_DIR=str(tmp_path / "data"), POLL_FIRST_SECONDS="0.3", POLL_MAX_SECONDS="2", LOG_LEVEL="debug",
        JOB_LEASE_SECONDS="3",  # a killed bot's jobs are taken over 3 s later (60 s in production)
        # No default limits: each test sets the limits it is about (test_moderators tests the defaults).
        DEFAULT_MEMBER_LIMITS="none", DEFAULT_SERVER_LIMITS="none",
        PYTHONUNBUFFERED="1",
        # The test seam: flags only pictures a test marked (bot/safety/marker.py), in microseconds; the real
        # screen (nudenet) runs in tests/safety and in test_safety's benign-picture run.
        SAFETY_SCREENS="marker",
    )
    env.update(overrides)
    return env


async def launch_bot(env: dict[str, str], cwd: Path, *args: str) -> BotProcess:
    """`python -m bot [args]` with `env`; its output is collected line by line in `BotProcess.lines`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    bot = BotProcess(process, env)

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            bot.lines.append(raw.decode(errors="replace").rstrip())

    bot.reader = asyncio.create_task(read())
    return bot


def assert_no_secret_in(bot: BotProcess, fake_discord: FakeDiscord) -> None:
    for secret in (fake_discord.bot_token, PROVIDER_KEY):
        assert secret not in bot.output, "a secret reached the bot's log"


@pytest.fixture
async def start_bot(
    fake_discord: FakeDiscord, provider: FakeProvider, tmp_path: Path
) -> AsyncIterator[Callable[..., object]]:
    """Start `python -m bot`; waits until it synced its commands to the test server. Stops it at the end and
    checks that no secret reached its output."""
    started: list[BotProcess] = []

    async def start(**overrides: str) -> BotProcess:
        guild_id = fake_discord.world.guild.id
        env = bot_env(fake_discord, provider, tmp_path, DEV_GUILD_ID=str(guild_id), **overrides)
        bot = await launch_bot(env, tmp_path)
        process = bot.process
        started.append(bot)
        try:
            await fake_discord.wait_for(
                lambda: bool(fake_discord.commands.list(guild_id)) or process.returncode is not None,
                timeout=30, what="the bot to sync its commands", seen=lambda: bot.output[-3000:],
            )
        except TimeoutError:
            await bot.stop()
            raise AssertionError("bot did not sync commands; its output:\n" + bot.output) from None
        assert process.returncode is None, "bot exited early:\n" + bot.output
        await bot.wait_for_line("bot.app: ready as", timeout=30)
        return bot

    yield start
    for bot in started:
        await bot.stop()
        print(f"--- bot output (exit {bot.process.returncode}) ---\n{bot.output}")  # shown when a test fails
    for bot in started:
        assert_no_secret_in(bot, fake_discord)


async def eventually(probe: Callable[[], object], *, timeout: float, what: str) -> None:
    """Poll `probe` until it is truthy: for state outside the fake Discord (the provider, the database)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not probe():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"waited {timeout}s for {what}")
        await asyncio.sleep(0.05)
