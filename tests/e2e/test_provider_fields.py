"""Every provider field a member or operator may want reaches the strict fake provider (issue 17): /animate's
voice and watermark, and the job id carried with a multiframe task so it can be traced back to its job."""

from __future__ import annotations

import json
import re

from tests.e2e.conftest import png
from tests.e2e.test_animate import _is_video
from tests.e2e.test_branding import keyframes
from tests.fakes.discord import FakeDiscord, Upload
from tests.fakes.provider import FakeProvider


async def test_animate_sends_the_voice_and_the_watermark_and_the_card_shows_them(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await fake_discord.slash(world.alice, "animate", channel=world.general, options={
        "image": Upload("cat.png", png()), "prompt": "the cat says hello", "audio": True,
        "voice": "narrator_en_01", "watermark": True})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)

    (task,) = provider.tasks.values()
    assert task.body["voice_id"] == "narrator_en_01" and task.body["watermark"] is True
    card = fake_discord.messages(thread)[0]
    assert "voice narrator\\_en\\_01" in card.text() and "watermark" in card.text()


async def test_animate_without_them_sends_no_voice_and_no_watermark(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("cat.png", png()), "prompt": "the cat naps"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    (task,) = provider.tasks.values()
    assert "voice_id" not in task.body and task.body["watermark"] is False


async def test_a_multiframe_task_carries_its_job_id(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    thread, _ = await keyframes(fake_discord)

    status = next(m for m in fake_discord.messages(thread) if re.search(r"job `\w+`", m.text()))
    job_id = re.search(r"job `(\w+)`", status.text()).group(1)  # type: ignore[union-attr]
    (task,) = provider.tasks.values()
    assert json.loads(task.body["meta_data"]) == {"job_id": job_id}
    assert job_id in task.body["payload"]
