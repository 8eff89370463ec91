"""A member's /animate, end to end: the real bot process, the fake Discord, the strict fake provider."""

from __future__ import annotations

import time

from tests.e2e.conftest import png
from tests.fakes.discord import FakeDiscord, Upload
from tests.fakes.provider import FakeProvider


async def test_animate_delivers_the_video_in_a_thread(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    sent_at = time.monotonic()
    ix = await fake_discord.slash(
        world.alice, "animate", channel=world.general,
        options={"image": Upload("cat.png", png()), "prompt": "the cat waves", "duration": 4},
    )
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    video = await fake_discord.wait_for_message(
        thread, lambda m: any(a.filename.endswith(".mp4") for a in m.attachments), timeout=30
    )
    assert ix.responses[0].type == 5  # deferred at once
    ack_ms = (ix.responses[0].at - ix.created_at) * 1000
    print(f"acknowledged in {ack_ms:.0f} ms; video after {time.monotonic() - sent_at:.1f} s")

    assert video.mentions == [world.alice.id]
    assert video.attachments[0].content[4:8] == b"ftyp"
    (task,) = provider.tasks.values()
    assert task.body["prompt"] == "the cat waves" and task.body["duration"] == 4

    messages = fake_discord.messages(thread)
    card = messages[0]
    assert "the cat waves" in card.content and card.attachments[0].filename == "storyboard.png"
    status = next(m for m in messages if "job `" in m.content and m.id != video.id)
    await fake_discord.wait_for(lambda: "Done" in fake_discord.message(status.id).content, timeout=10,
                                what="the status card to say Done", seen=lambda: status.content)
    answer = fake_discord.messages(world.general, as_member=world.alice)
    assert any("on its way" in m.content and m.ephemeral for m in answer) or any(
        "on its way" in (fake_discord.message(i).content) for i in [ix.original_message_id] if i)
