"""Tiny sharded discord.py bots for the sharding tests: an AutoShardedClient holding several shards, or a
plain Client holding one (as one process of several would). Each knows /where in every guild it is told
about, so an interaction routed to the wrong shard would be answered, not silently ignored."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands


class _Recorder:
    """What a test observes of a bot: the interactions it answered, messages it saw, ready/resumed."""

    tree: app_commands.CommandTree[Any]

    def _init_recorder(self, guild_ids: list[int]) -> None:
        self.guild_ids = guild_ids
        self.answered: list[int] = []  # interaction ids, in order
        self.seen_messages: list[int] = []
        self.joined_guilds: list[int] = []  # GUILD_CREATE after READY (a guild added later)
        self.ready_event = asyncio.Event()
        self.resumed_event = asyncio.Event()
        self._seen = asyncio.Condition()
        self.tree = app_commands.CommandTree(self)  # type: ignore[arg-type]

    async def setup_hook(self) -> None:
        for guild_id in self.guild_ids:
            guild = discord.Object(guild_id)
            self.tree.add_command(_where_command(), guild=guild)
            await self.tree.sync(guild=guild)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5 s pause between one process's shards (discord.py's default, for Discord's identify limit)."""

    async def on_ready(self) -> None:
        self.ready_event.set()

    async def on_resumed(self) -> None:
        self.resumed_event.set()

    async def on_message(self, message: discord.Message) -> None:
        await self.note(self.seen_messages, message.id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.note(self.joined_guilds, guild.id)

    async def note(self, into: list[Any], item: Any) -> None:
        async with self._seen:
            into.append(item)
            self._seen.notify_all()

    async def wait_until(self, probe: Callable[[], bool], timeout: float = 10.0) -> None:
        async with self._seen:
            await asyncio.wait_for(self._seen.wait_for(probe), timeout)


def _where_command() -> app_commands.Command[Any, ..., None]:
    @app_commands.command(name="where", description="Says which bot answered")
    async def where(interaction: discord.Interaction[Any]) -> None:
        bot = interaction.client
        await interaction.response.send_message(f"answered by {bot.label}")
        await bot.note(bot.answered, interaction.id)

    return where


class ShardedBot(_Recorder, discord.AutoShardedClient):
    """One process holding ``shard_ids`` of ``shard_count`` (all shards if None; count from /gateway/bot
    if None)."""

    def __init__(self, guild_ids: list[int], label: str, **options: Any) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05, **options)
        self._init_recorder(guild_ids)
        self.label = label


class OneShardBot(_Recorder, discord.Client):
    """A plain Client: ``shard_id``/``shard_count`` given means IDENTIFY names that shard."""

    def __init__(self, guild_ids: list[int], label: str, **options: Any) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05, **options)
        self._init_recorder(guild_ids)
        self.label = label


async def start_bot(bot: _Recorder, token: str, timeout: float = 10.0) -> asyncio.Task[None]:
    """Start the bot and wait for READY (every shard's); raises what stopped it if it died first."""
    client: discord.Client = bot  # type: ignore[assignment]
    task = asyncio.create_task(client.start(token))
    waiter = asyncio.create_task(bot.ready_event.wait())
    done, _ = await asyncio.wait({task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        if task.done():
            task.result()
        await client.close()
        raise TimeoutError(f"{bot} not ready within {timeout}s")
    return task


async def stop_bot(bot: _Recorder, task: asyncio.Task[None]) -> None:
    client: discord.Client = bot  # type: ignore[assignment]
    await asyncio.wait_for(client.close(), 10)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, 10)


async def run_until_closed(bot: _Recorder, token: str, timeout: float = 10.0) -> BaseException | None:
    """Start the bot and return the exception that stopped it (e.g. ConnectionClosed 4010), None if it
    stopped cleanly; the bot is closed either way."""
    client: discord.Client = bot  # type: ignore[assignment]
    try:
        await asyncio.wait_for(client.start(token), timeout)
    except Exception as error:  # the test inspects it
        return error
    finally:
        await client.close()
    return None
