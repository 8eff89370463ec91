"""Re-roll and Extend under a finished video, through the real bot process."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from tests.e2e.conftest import eventually, png
from tests.e2e.test_animate import _is_video, private_answer
from tests.e2e.test_moderators import run
from tests.fakes.discord import FakeDiscord, InteractionRecord, SentMessage, Upload
from tests.fakes.provider import FakeProvider


async def _first_video(fake: FakeDiscord, provider: FakeProvider, **options: object) -> SentMessage:
    world = fake.world
    await fake.slash(world.alice, "animate", channel=world.general,
                     options={"image": Upload("a.png", png(160, 90)), "prompt": "a kite rises", **options})
    thread = await fake.wait_for_thread(world.general, timeout=15)
    video = await fake.wait_for_message(thread, _is_video, timeout=30)
    await fake.wait_for(lambda: any("Done" in m.text() for m in fake.messages(thread)) or None, timeout=10,
                        what="Done", seen=lambda: fake.describe_messages(fake.messages(thread)))
    return video


def _button(message: SentMessage, prefix: str) -> str:
    (custom_id,) = [c for c in message.custom_ids() if c.startswith(prefix)]
    return custom_id


async def _extend(fake: FakeDiscord, who: Any, video: SentMessage, prompt: str, duration: str) -> InteractionRecord:
    """Press Extend under `video` and send its form; the form's submission."""
    opened = await fake.press_button(who, video, _button(video, "vidu:extend:"))
    await fake.wait_for(lambda: opened.modal or None, timeout=10, what="the Extend form", seen=lambda: "")
    return await fake.submit_modal(who, opened, {"prompt": prompt, "duration": duration})


async def test_reroll_sends_the_same_inputs_with_a_new_seed_in_the_same_thread(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    video = await _first_video(fake_discord, provider, seed=7)
    ix = await fake_discord.press_button(fake_discord.world.alice, video, _button(video, "vidu:reroll:"))
    answer = await private_answer(fake_discord, ix)
    assert "Re-rolling" in answer.text()
    await fake_discord.wait_for(
        lambda: len([m for m in fake_discord.messages(video.channel_id) if _is_video(m)]) == 2 or None,
        timeout=30, what="the re-rolled video", seen=lambda: str(len(provider.tasks)))
    first, second = (t.body for t in provider.tasks.values())
    assert first["images"] == second["images"] and first["prompt"] == second["prompt"]
    assert first["seed"] == 7 and second["seed"] != 7
    assert len(fake_discord.threads(fake_discord.world.general)) == 1


async def test_only_the_requester_or_a_moderator_may_reroll(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    video = await _first_video(fake_discord, provider)
    ix = await fake_discord.press_button(fake_discord.world.bob, video, _button(video, "vidu:reroll:"))
    await fake_discord.wait_for(lambda: ix.responses or None, timeout=10, what="bob's answer", seen=lambda: "")
    assert "只有发起这个视频的成员或管理员" in (ix.responses[0].data or {})["content"]  # bob reads zh-CN
    mod = await fake_discord.press_button(fake_discord.world.mod, video, _button(video, "vidu:reroll:"))
    assert "Re-rolling" in (await private_answer(fake_discord, mod)).text()
    await eventually(lambda: len(provider.requests_to("submit")) == 2, timeout=15, what="the re-roll's submit")


async def test_buttons_work_after_a_restart(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    first = await start_bot()
    video = await _first_video(fake_discord, provider)
    # Stopped just as its job loop is woken by the delivery: it exits by itself (on Python 3.11 wait_for used
    # to swallow that cancel, and the process ran on until it was killed a minute later).
    assert await first.stop() == 0, first.output[-3000:]
    await start_bot()
    ix = await fake_discord.press_button(fake_discord.world.alice, video, _button(video, "vidu:reroll:"))
    assert "Re-rolling" in (await private_answer(fake_discord, ix)).text()


async def test_extend_starts_from_the_last_frame_with_a_new_prompt(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    video = await _first_video(fake_discord, provider)
    submitted = await _extend(fake_discord, fake_discord.world.alice, video, "the kite flies away", "3")
    assert "Extending" in (await private_answer(fake_discord, submitted)).text()
    await eventually(lambda: len(provider.tasks) == 2, timeout=30, what="the extension")
    body = list(provider.tasks.values())[1].body
    assert (body["prompt"], body["duration"]) == ("the kite flies away", 3)
    head, data = body["images"][0].split(",", 1)
    frame = Image.open(io.BytesIO(base64.b64decode(data)))
    assert frame.size == (64, 64)  # the fake provider's sample clip is 64×64: this is its frame, not the input
    assert head.startswith("data:image/")


async def test_extend_with_a_bad_duration_sends_nothing(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    video = await _first_video(fake_discord, provider)
    submitted = await _extend(fake_discord, fake_discord.world.alice, video, "x", "99")
    assert "not a whole number from 1 to 10" in (await private_answer(fake_discord, submitted)).text()
    assert len(provider.tasks) == 1


async def test_a_blocked_member_s_extend_is_refused_before_the_video_is_read(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """Admission runs before the posted video is fetched (from Discord's CDN or the provider) or decoded."""
    await start_bot()
    world = fake_discord.world
    video = await _first_video(fake_discord, provider)
    assert "blocked → " not in await run(fake_discord, world.mod, "mod block", member=world.alice)
    cdn_reads, provider_reads = len(fake_discord.cdn.downloads), len(provider.requests_to("video"))
    submitted = await _extend(fake_discord, world.alice, video, "and away", "3")
    refused = await private_answer(fake_discord, submitted)
    assert "paused your video requests" in refused.text(), refused.text()
    assert len(fake_discord.cdn.downloads) == cdn_reads  # the posted video was not read back
    assert len(provider.requests_to("video")) == provider_reads  # nor fetched from the provider
    assert len(provider.tasks) == 1


async def test_extend_reads_the_posted_video_back_from_discord(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """The posted attachment is the source (the provider's link may have expired): one CDN read of it."""
    await start_bot()
    world = fake_discord.world
    video = await _first_video(fake_discord, provider)
    provider.expire_video_urls()
    cdn_reads = len(fake_discord.cdn.downloads)
    submitted = await _extend(fake_discord, world.alice, video, "onwards", "2")
    assert "Extending" in (await private_answer(fake_discord, submitted)).text()
    await eventually(lambda: len(provider.tasks) == 2, timeout=30, what="the extension")
    assert fake_discord.cdn.downloads[cdn_reads:] == [video.attachments[0].id]


async def test_a_failed_job_says_why_and_can_be_tried_again_without_uploading(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    provider.plan_next_task(fail_reason="GPU node crashed")
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("a.png", png()), "prompt": "unlucky"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    card = await fake_discord.wait_for_message(thread, lambda m: "Failed" in m.text(), timeout=30)
    assert "GPU node crashed" in card.text()
    pinged = [m for m in fake_discord.messages(thread) if world.alice.id in m.mentions]
    assert len(pinged) == 1 and "GPU node crashed" in pinged[0].text()  # a new message: the member hears of it
    assert any(c.startswith("vidu:reroll:") for c in pinged[0].custom_ids())  # with Try again under it
    retry = await fake_discord.press_button(world.alice, card, _button(card, "vidu:reroll:"))
    assert "Re-rolling" in (await private_answer(fake_discord, retry)).text()
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    first, second = (t.body for t in provider.tasks.values())
    assert first["images"] == second["images"]
