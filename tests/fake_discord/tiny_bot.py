"""A tiny discord.py bot, the fake's counterpart in these tests: it does what our real bot does with
Discord (sync, defer, read an attachment, thread from the original response, post a file)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands


class TinyBot(commands.Bot):
    def __init__(self, guild_id: int, **options: Any) -> None:
        intents = discord.Intents.default()
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05, **options)
        self.guild_id = guild_id
        self.errors: list[BaseException] = []  # what the command handlers caught from Discord
        self.ready_event = asyncio.Event()
        self.resumed_event = asyncio.Event()
        self.seen_messages: list[discord.Message] = []
        self._seen = asyncio.Condition()
        self.slow_seconds = 0.0
        self.read_bytes: list[bytes] = []
        self.pending: list[discord.Interaction] = []
        self.context_targets: list[discord.Message] = []

    async def setup_hook(self) -> None:
        guild = discord.Object(self.guild_id)
        self.tree.add_command(animate, guild=guild)
        self.tree.add_command(slow, guild=guild)
        self.tree.add_command(later, guild=guild)
        self.tree.add_command(app_commands.ContextMenu(name="Describe files", callback=describe_files), guild=guild)
        await self.tree.sync(guild=guild)

    async def on_ready(self) -> None:
        self.ready_event.set()

    async def on_resumed(self) -> None:
        self.resumed_event.set()

    async def on_message(self, message: discord.Message) -> None:
        async with self._seen:
            self.seen_messages.append(message)
            self._seen.notify_all()

    async def note(self, into: list[Any], item: Any) -> None:
        async with self._seen:
            into.append(item)
            self._seen.notify_all()

    async def _wait_first(self, items: list[Any], timeout: float) -> Any:
        async with self._seen:
            await asyncio.wait_for(self._seen.wait_for(lambda: bool(items)), timeout)
        return items[0]

    async def wait_error(self, timeout: float) -> BaseException:
        """The first error a command handler caught from Discord."""
        return await self._wait_first(self.errors, timeout)

    async def wait_pending(self, timeout: float) -> discord.Interaction:
        """The first interaction /later deferred and left for the test to finish."""
        return await self._wait_first(self.pending, timeout)

    async def wait_seen(self, message_id: int, timeout: float = 5.0) -> discord.Message:
        """The message as the bot received it over the gateway (MESSAGE_CREATE)."""

        def find() -> discord.Message | None:
            return next((m for m in self.seen_messages if m.id == message_id), None)

        async with self._seen:
            await asyncio.wait_for(self._seen.wait_for(lambda: find() is not None), timeout)
        found = find()
        assert found is not None
        return found


@app_commands.command(description="Turn a picture into a video")
@app_commands.describe(image="The picture", prompt="What should happen")
async def animate(interaction: discord.Interaction[TinyBot], image: discord.Attachment, prompt: str) -> None:
    await interaction.response.defer(thinking=True)
    data = await image.read()
    interaction.client.read_bytes.append(data)
    await interaction.edit_original_response(content=f"Working on {prompt!r} ({len(data)} bytes)")
    original = await interaction.original_response()
    thread = await original.create_thread(name=f"animate: {prompt}"[:100])
    await thread.send(
        content=f"{interaction.user.mention} here it is",
        file=discord.File(__import__("io").BytesIO(data[::-1]), filename="result.bin"),
    )


@app_commands.command(description="Answers after a while")
async def slow(interaction: discord.Interaction[TinyBot]) -> None:
    await asyncio.sleep(interaction.client.slow_seconds)
    try:
        await interaction.response.send_message("finally")
    except discord.HTTPException as error:
        await interaction.client.note(interaction.client.errors, error)


@app_commands.command(description="Defers now and follows up when told")
async def later(interaction: discord.Interaction[TinyBot]) -> None:
    await interaction.response.defer()
    await interaction.client.note(interaction.client.pending, interaction)


class FilesModal(discord.ui.Modal, title="Describe files"):
    files: discord.ui.Label[FilesModal] = discord.ui.Label(
        text="Pictures", component=discord.ui.FileUpload(custom_id="files", min_values=1, max_values=10)
    )
    note: discord.ui.Label[FilesModal] = discord.ui.Label(
        text="Note", component=discord.ui.TextInput(custom_id="note", max_length=100)
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        upload = self.files.component
        text = self.note.component
        assert isinstance(upload, discord.ui.FileUpload) and isinstance(text, discord.ui.TextInput)
        names = ", ".join(a.filename for a in upload.values)
        await interaction.response.send_message(
            f"{len(upload.values)} files: {names}; note={text.value}", view=AckView()
        )


class AckView(discord.ui.View):
    @discord.ui.button(label="OK", custom_id="ack")
    async def ack(self, interaction: discord.Interaction, button: discord.ui.Button[AckView]) -> None:
        await interaction.response.edit_message(content=f"acknowledged by {interaction.user.name}", view=None)


async def describe_files(interaction: discord.Interaction[TinyBot], message: discord.Message) -> None:
    interaction.client.context_targets.append(message)
    await interaction.response.send_modal(FilesModal())


async def start_tiny_bot(token: str, guild_id: int, timeout: float = 10.0) -> tuple[TinyBot, asyncio.Task[None]]:
    bot = TinyBot(guild_id)
    task = asyncio.create_task(bot.start(token))
    waiter = asyncio.create_task(bot.ready_event.wait())
    done, _ = await asyncio.wait({task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        if task.done():
            task.result()  # raise what stopped the bot
        await bot.close()
        raise TimeoutError(f"tiny bot not ready within {timeout}s")
    return bot, task


async def stop_tiny_bot(bot: TinyBot, task: asyncio.Task[None]) -> None:
    await asyncio.wait_for(bot.close(), 10)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, 10)
