"""Fixtures for the fake's own tests: the tiny bot pointed at the fake, and a raw HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.fakes.discord import FakeDiscord, point_discord_py_at

from .tiny_bot import TinyBot, start_tiny_bot, stop_tiny_bot


@pytest.fixture
async def tiny_bot(fake_discord: FakeDiscord) -> AsyncIterator[TinyBot]:
    restore = point_discord_py_at(fake_discord.api_base, fake_discord.gateway_url)
    bot, task = await start_tiny_bot(fake_discord.bot_token, fake_discord.world.guild.id)
    try:
        yield bot
    finally:
        await stop_tiny_bot(bot, task)
        restore()


@pytest.fixture
async def http(fake_discord: FakeDiscord) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client authenticated as the bot, for rules discord.py would refuse before sending."""
    headers = {"Authorization": f"Bot {fake_discord.bot_token}"}
    async with aiohttp.ClientSession(base_url=fake_discord.base_url, headers=headers) as session:
        yield session
