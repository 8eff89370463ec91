"""kill -9 at every step of a job, then a restart: each job ends delivered exactly once, or in
submit_unknown shown to the member; a paid submit is never sent twice (SPEC §4)."""

from __future__ import annotations

import asyncio
import signal

from tests.e2e.conftest import BotProcess, eventually, png
from tests.e2e.test_animate import _is_video
from tests.fakes.discord import FakeChannel, FakeDiscord, Upload
from tests.fakes.provider import FakeProvider, Fault


async def _ask(fake: FakeDiscord, prompt: str = "crash test") -> FakeChannel:
    world = fake.world
    await fake.slash(world.alice, "animate", channel=world.general,
                     options={"image": Upload("a.png", png()), "prompt": prompt})
    thread = await fake.wait_for_thread(world.general, timeout=15)
    await fake.wait_for_message(thread, lambda m: "job `" in m.text(), timeout=15)  # the status card
    return thread


async def _crash(bot: BotProcess) -> None:
    assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL


async def _exactly_one_video(fake: FakeDiscord, thread: FakeChannel) -> None:
    await fake.wait_for_message(thread, _is_video, timeout=30)
    await fake.wait_for(lambda: any("Done" in m.text() for m in fake.messages(thread)) or None, timeout=15,
                        what="the status card to say Done", seen=lambda: fake.describe_messages(fake.messages(thread)))
    assert len([m for m in fake.messages(thread) if _is_video(m)]) == 1


async def test_killed_before_submit(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    bot = await start_bot()
    provider.inject("submit", Fault.status(429, "RATE_LIMIT_EXCEEDED", retry_after=120))
    thread = await _ask(fake_discord)
    await eventually(lambda: provider.requests_to("submit"), timeout=15, what="a refused submit")
    # Killed before the refusal is stored, the job would be mid-submit, rightly given up as unknown.
    await bot.wait_for_line("submits paused", timeout=15)
    await _crash(bot)  # the job is back in the bot's queue, nothing exists at the provider
    assert provider.tasks == {}
    await start_bot()
    await _exactly_one_video(fake_discord, thread)
    assert len(provider.tasks) == 1


async def test_killed_after_submit_before_the_task_id_is_stored(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    bot = await start_bot()
    provider.inject("submit", Fault.slow(60))  # the provider creates the task but answers late
    thread = await _ask(fake_discord)
    await eventually(lambda: provider.tasks, timeout=15, what="the task")
    await _crash(bot)
    await start_bot()
    card = await fake_discord.wait_for_message(thread, lambda m: "Unknown whether the job started" in m.text(),
                                               timeout=20)
    assert "not sent again" in card.text()
    assert len(provider.tasks) == 1
    assert len(provider.requests_to("submit")) == 1  # never submitted twice
    assert not any(_is_video(m) for m in fake_discord.messages(thread))


async def test_killed_while_polling(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    bot = await start_bot()
    provider.plan_next_task(queue_seconds=4)
    thread = await _ask(fake_discord)
    await eventually(lambda: provider.requests_to("result"), timeout=15, what="a poll")
    await _crash(bot)
    await start_bot()
    await _exactly_one_video(fake_discord, thread)
    assert len(provider.tasks) == 1


async def test_killed_after_download_before_posting(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    bot = await start_bot()
    provider.plan_next_task(queue_seconds=3)
    thread = await _ask(fake_discord)
    hold = fake_discord.hold_next(f"POST */channels/{thread.id}/messages", when="before")
    await asyncio.wait_for(hold.reached.wait(), 20)
    await _crash(bot)
    hold.release()  # the dead bot's request is dropped, as Discord drops a request whose sender vanished
    await start_bot()
    await _exactly_one_video(fake_discord, thread)


async def test_killed_after_posting_before_marking_delivered(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    bot = await start_bot()
    provider.plan_next_task(queue_seconds=3)
    thread = await _ask(fake_discord)
    hold = fake_discord.hold_next(f"POST */channels/{thread.id}/messages", when="after")
    await asyncio.wait_for(hold.reached.wait(), 20)
    assert any(_is_video(m) for m in fake_discord.messages(thread))  # posted; the bot never heard back
    await _crash(bot)
    hold.release()
    # Past Discord's nonce window: only the marker in the posted card's text display can stop a second post.
    fake_discord.clock.advance(300)
    await start_bot()
    await _exactly_one_video(fake_discord, thread)
    assert len(provider.tasks) == 1
