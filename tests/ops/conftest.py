"""The real bot process with its metrics server, logging in any LOG_FORMAT.

Reuses the end-to-end fakes (tests/e2e/conftest.py); the start-up wait here reads readiness in both log
formats (the e2e fixture looks for the text format's "bot.app: ready as").
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.conftest import BotProcess, launch_bot, provider  # noqa: F401 - the provider fixture
from tests.e2e.conftest import bot_env as e2e_bot_env
from tests.fakes.discord import FakeDiscord
from tests.fakes.provider import FakeProvider

StartOpsBot = Callable[..., Awaitable[BotProcess]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(fake_discord: FakeDiscord, fake_provider: FakeProvider, tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The end-to-end environment plus a metrics server on a free loopback port."""
    ops = {"DEV_GUILD_ID": str(fake_discord.world.guild.id), "METRICS_HOST": "127.0.0.1",
           "METRICS_PORT": str(free_port())}
    return e2e_bot_env(fake_discord, fake_provider, tmp_path, **{**ops, **overrides})


@pytest.fixture
async def start_ops_bot(
    fake_discord: FakeDiscord, provider: FakeProvider, tmp_path: Path  # noqa: F811 - the fixture above
) -> AsyncIterator[StartOpsBot]:
    started: list[BotProcess] = []

    async def start(**overrides: str) -> BotProcess:
        bot = await launch_bot(bot_env(fake_discord, provider, tmp_path, **overrides), tmp_path)
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
