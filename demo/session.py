"""The scripted session: the fake provider and the fake Discord on loopback, the real bot process pointed at
them (as tests/e2e does), and three members acting through the fake's acting API.

alice (en-US) animates a picture, re-rolls the video and then reaches her daily limit; bob (zh-CN) makes a
keyframes video, cancels a request waiting in the queue behind it, has a prompt refused by the provider and
extends his video through the Extend form;
the moderator sets the limit first and looks at /quota usage last.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from demo import pictures
from demo.videos import make_video
from tests.fakes.discord import FakeDiscord, InteractionRecord, SentMessage, Upload, build_test_server
from tests.fakes.discord.world import TestServer
from tests.fakes.provider import FakeProvider, TaskPlan

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
WAIT = 60.0  # generous: every wait is for an event; a loaded machine only makes it slower
OURS = ("VIDU_", "DISCORD_", "DATABASE_", "METRICS_", "LOG_", "HEALTH_", "SHARD_", "JOB_", "DEFAULT_", "BUDGET_")


class DemoError(Exception):
    """The session could not be played; the message says where, with the bot's last lines."""


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    def tail(self, count: int = 30) -> str:
        return "\n".join(self.lines[-count:])


async def _start_bot(fake: FakeDiscord, provider: FakeProvider, folder: Path) -> BotProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}  # only what the demo says
    env.update(
        DISCORD_TOKEN=fake.bot_token, VIDU_API_KEY=provider.api_key, VIDU_API_BASE=provider.base_url,
        DISCORD_API_BASE=fake.api_base, DISCORD_GATEWAY_URL=fake.gateway_url,
        DEV_GUILD_ID=str(fake.world.guild.id), DATABASE_URL=f"sqlite:///{folder / 'demo.db'}",
        DATA_DIR=str(folder / "data"), POLL_FIRST_SECONDS="0.3", POLL_MAX_SECONDS="1",
        MAX_ACTIVE_JOBS_PER_MEMBER="1", SAFETY_SCREENS="nudenet", LOG_LEVEL="info", PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    )  # fmt: skip
    # Started in the demo's own folder: an operator's .env (read from the working folder) stays out of it.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=folder, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    bot = BotProcess(process)

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            bot.lines.append(raw.decode(errors="replace").rstrip())

    bot.reader = asyncio.create_task(read())
    guild_id = fake.world.guild.id
    await _wait(bot, lambda: bool(fake.commands.list(guild_id)), "the bot to register its commands")
    await _wait(bot, lambda: any("bot.app: ready as" in line for line in bot.lines), "the bot to be ready")
    if process.returncode is not None:
        raise DemoError(f"the bot stopped at start-up (exit {process.returncode}):\n{bot.tail()}")
    return bot


async def _stop_bot(bot: BotProcess) -> None:
    if bot.process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            bot.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(bot.process.wait(), 30)
        except TimeoutError:
            bot.process.kill()
            await bot.process.wait()
    if bot.reader is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(bot.reader, 5)


async def _wait(bot: BotProcess, probe: Callable[[], T | None], what: str) -> T:
    """Poll `probe` until it is truthy (it reads the fake Discord and the bot's output, so polling, as
    tests/e2e's `eventually`); a DemoError with the bot's last lines after WAIT seconds."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not (found := probe()):
        if bot.process.returncode is not None:
            raise DemoError(f"the bot stopped (exit {bot.process.returncode}) while waiting for {what}:\n{bot.tail()}")
        if asyncio.get_running_loop().time() > deadline:
            raise DemoError(f"waited {WAIT:.0f} s for {what}; the bot's last lines:\n{bot.tail()}")
        await asyncio.sleep(0.05)
    return found


@dataclass
class Session:
    fake: FakeDiscord
    provider: FakeProvider
    bot: BotProcess

    @property
    def world(self) -> TestServer:
        return cast(TestServer, self.fake.world)

    async def answered(self, ix: InteractionRecord, what: str) -> SentMessage:
        """The member's answer to `ix`: the message the bot filled in or sent after it."""

        def probe() -> SentMessage | None:
            ids = [i for i in (ix.original_message_id, *ix.followup_ids) if i]
            ready = [self.fake.message(i) for i in ids if not self.fake.message(i).loading]
            return next((m for m in ready if m.text() or m.attachments), None)

        return await _wait(self.bot, probe, what)

    async def message_in(self, channel_id: int, predicate: Callable[[SentMessage], bool], what: str) -> SentMessage:
        found = lambda: next((m for m in self.fake.messages(channel_id) if predicate(m)), None)  # noqa: E731
        return await _wait(self.bot, found, what)

    async def thread_named(self, name: str) -> int:
        found = lambda: next((t.id for t in self.fake.threads(self.world.general) if name.startswith(t.name[:20])),  # noqa: E731
                             None)
        return await _wait(self.bot, found, f"the thread {name!r}")

    async def slash(self, member: Any, command: str, **options: Any) -> InteractionRecord:
        return await self.fake.slash(member, command, channel=self.world.general, options=options)

    async def press(self, member: Any, message: SentMessage, prefix: str) -> InteractionRecord:
        custom_id = next(c for c in message.custom_ids() if c.startswith(prefix))
        return await self.fake.press_button(member, message, custom_id)


def _videos(message: SentMessage) -> int:
    return sum(a.filename.endswith(".mp4") for a in message.attachments)


async def _alice(s: Session) -> None:
    """/animate, Re-roll, then one more /animate over her daily limit of two videos."""
    alice = s.world.alice
    prompt = "the lighthouse beam sweeps over the evening sea"
    await s.answered(await s.slash(alice, "animate", image=Upload("lighthouse.jpg", pictures.lighthouse()),
                                   prompt=prompt, duration=4), "alice's /animate to be answered")
    thread = await s.thread_named(prompt)
    video = await s.message_in(thread, lambda m: _videos(m) > 0, "alice's video")
    await s.message_in(thread, lambda m: "Done" in m.text(), "alice's card to say Done")
    await s.press(alice, video, "vidu:reroll:")
    await s.message_in(thread, lambda m: _videos(m) > 0 and m.id != video.id, "the re-rolled video")
    await s.answered(await s.slash(alice, "animate", image=Upload("cat.jpg", pictures.cat()),
                                   prompt="the cat yawns and stretches"), "alice's refusal over her limit")


async def _bob(s: Session) -> None:
    """/keyframes (slow at the provider), a second request that waits behind it and is cancelled, a prompt the
    provider refuses, then Extend on the keyframes video (its form filled in); all in Chinese."""
    bob = s.world.bob
    frames = {"start": Upload("dawn-0.jpg", pictures.sunrise(0)), "frame1": Upload("dawn-1.jpg", pictures.sunrise(1)),
              "frame2": Upload("dawn-2.jpg", pictures.sunrise(2))}
    prompts = "太阳从山后升起 | 鸟儿飞过晴朗的天空"
    await s.answered(await s.slash(bob, "keyframes", prompts=prompts, durations="3,3", **frames),
                     "bob's /keyframes to be answered")
    keyframes = await s.thread_named(prompts)
    waiting_prompt = "小猫伸懒腰"
    await s.answered(await s.slash(bob, "animate", image=Upload("cat.jpg", pictures.cat()), prompt=waiting_prompt),
                     "bob's second request to be answered")
    waiting = await s.thread_named(waiting_prompt)
    card = await s.message_in(waiting, lambda m: any(c.startswith("vidu:cancel:") for c in m.custom_ids()),
                              "bob's waiting card with Cancel")
    await s.press(bob, card, "vidu:cancel:")
    await s.message_in(waiting, lambda m: m.id == card.id and not m.custom_ids(), "bob's card to be cancelled")
    await _wait(s.bot, lambda: any(t.endpoint.endswith("multiframe") for t in s.provider.tasks.values()),
                "the keyframes task at the provider")
    s.provider.advance(KEYFRAMES_SECONDS)  # the keyframes task may finish now
    video = await s.message_in(keyframes, lambda m: _videos(m) > 0, "bob's keyframes video")
    refused_prompt = "forbidden 灯塔的光"
    await s.answered(await s.slash(bob, "animate", image=Upload("lighthouse.jpg", pictures.lighthouse()),
                                   prompt=refused_prompt), "bob's third request to be answered")
    refused = await s.thread_named(refused_prompt)
    await s.message_in(refused, lambda m: "🚫" in m.text(), "the provider's refusal on bob's card")
    # Extend: a button that opens a form (a modal); the new video starts from the last frame of the first.
    opened = await s.press(bob, video, "vidu:extend:")
    await _wait(s.bot, lambda: opened.modal, "the Extend form")
    sent = await s.fake.submit_modal(bob, opened, {"prompt": "鸟儿飞向远方", "duration": "3"})
    await s.answered(sent, "bob's Extend form to be answered")
    await s.message_in(keyframes, lambda m: _videos(m) > 0 and m.id != video.id, "the extended video")


KEYFRAMES_SECONDS = 600.0


def _plan(body: dict[str, Any]) -> TaskPlan:
    """The keyframes task stays queued at the provider until bob has cancelled the request waiting behind it
    in the bot's queue (then the fake's clock is moved on): the demo waits on events, never on timing. It
    names no ETA, or the bot would follow it and look again only ten minutes later."""
    if "image_settings" in body:
        return TaskPlan(queue_seconds=KEYFRAMES_SECONDS, processing_seconds=0.6, report_eta=False)
    return TaskPlan(queue_seconds=0.2, processing_seconds=0.6)


@contextlib.asynccontextmanager
async def started() -> AsyncIterator[Session]:
    """The two fakes and the bot, running; everything stopped and deleted on the way out."""
    with tempfile.TemporaryDirectory(prefix="vidu-demo-") as folder:
        provider = FakeProvider()
        provider.planner, provider.video_maker = _plan, make_video
        fake = FakeDiscord(openapi_path=None)
        fake.world = build_test_server(fake, name="Demo Server")
        await provider.start()
        await fake.start()
        bot: BotProcess | None = None
        try:
            bot = await _start_bot(fake, provider, Path(folder))
            yield Session(fake, provider, bot)
        finally:
            if bot is not None:
                await _stop_bot(bot)
            await fake.stop()
            await provider.stop()


async def play(session: Session) -> None:
    s, world = session, session.world
    await s.answered(await s.slash(world.mod, "quota set", scope="default", period="day", videos=2),
                     "the moderator's /quota set")
    await asyncio.gather(_alice(s), _bob(s))
    await s.answered(await s.slash(world.mod, "quota usage", period="week"), "the moderator's /quota usage")
