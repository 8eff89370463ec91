"""The real bot process with its metrics server, logging in any LOG_FORMAT.

Reuses the end-to-end fakes (tests/e2e/conftest.py); the start-up wait here reads readiness in both log
formats (the e2e fixture looks for the text format's "bot.app: ready as").
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.conftest import PROVIDER_KEY, BotProcess, provider  # noqa: F401 - the provider fixture
from tests.fakes.discord import FakeDiscord
from tests.fakes.provider import FakeProvider
from tests.store.backends import database_url_for

StartOpsBot = Callable[..., Awaitable[BotProcess]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(fake_discord: FakeDiscord, fake_provider: FakeProvider, tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDU_", "DISCORD_", "DATABASE_", "METRICS_",
                                                                    "LOG_", "HEALTH_"))}
    env.update(
        DISCORD_TOKEN=fake_discord.bot_token, VIDU_API_KEY=PROVIDER_KEY, VIDU_API_BASE=fake_provider.base_url,
        DISCORD_API_BASE=fake_discord.api_base, DISCORD_GATEWAY_URL=fake_discord.gateway_url,
        DEV_GUILD_ID=str(fake_discord.world.guild.id), DATABASE_URL=database_url_for(tmp_path),
        DATA_DIR=str(tmp_path / "data"), POLL_FIRST_SECONDS="0.3", POLL_MAX_SECONDS="2", LOG_LEVEL="debug",
        JOB_LEASE_SECONDS="3",
        METRICS_HOST="127.0.0.1", METRICS_PORT=str(free_port()), PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


async def launch(env: dict[str, str], cwd: Path) -> BotProcess:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    bot = BotProcess(process, env)

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            bot.lines.append(raw.decode(errors="replace").rstrip())

    bot.reader = asyncio.create_task(read())
    return bot


@pytest.fixture
async def start_ops_bot(
    fake_discord: FakeDiscord, provider: FakeProvider, tmp_path: Path  # noqa: F811 - the fixture above
) -> AsyncIterator[StartOpsBot]:
    started: list[BotProcess] = []

    async def start(**overrides: str) -> BotProcess:
        bot = await launch(bot_env(fake_discord, provider, tmp_path, **overrides), tmp_path)
        started.append(bot)
        await bot.wait_for_line("ready as", timeout=30)
        await wait_healthy(bot, timeout=30)
        return bot

    yield start
    for bot in started:
        await bot.stop()
        print(f"--- bot output (exit {bot.process.returncode}) ---\n{bot.output[-20000:]}")


def metrics_url(bot: BotProcess, path: str) -> str:
    return f"http://127.0.0.1:{bot.env['METRICS_PORT']}{path}"


async def get(bot: BotProcess, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(
        metrics_url(bot, path), timeout=aiohttp.ClientTimeout(total=10)
    ) as resp:
        return resp.status, await resp.text()


async def wait_healthy(bot: BotProcess, *, timeout: float, healthy: bool = True) -> str:
    """Poll /healthz until it answers 200 (or 503 when healthy=False); return the body."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = "no answer"
    while asyncio.get_running_loop().time() < deadline:
        try:
            status, body = await get(bot, "/healthz")
        except aiohttp.ClientError as exc:
            last = f"{type(exc).__name__}"
        else:
            last = f"{status} {body}"
            if status == (200 if healthy else 503):
                return body
        if bot.process.returncode is not None:
            break
        await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz never became {'200' if healthy else '503'} (last: {last}); "
                         f"bot output:\n{bot.output[-4000:]}")
