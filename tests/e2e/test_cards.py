"""The cards in a job's thread are Components V2 messages, checked by the fake Discord against Discord's rules
(no content beside them, at most 40 components, galleries of 1-10 items, attachments shown only through
components): the request card with the member's pictures, the status card whose colour and buttons follow
the job, and the delivered video. `bob` reads Chinese, `alice` English."""

from __future__ import annotations

import io
import random
from typing import Any

from PIL import Image

from bot.jobs.states import JobState
from bot.ui.cards import ACCENTS, BRAND
from tests.e2e.conftest import png
from tests.e2e.test_animate import _is_video
from tests.fakes.discord import IS_COMPONENTS_V2, FakeDiscord, SentMessage, Upload
from tests.fakes.discord.models import component_texts, walk_components
from tests.fakes.provider import FakeProvider


def _accent(components: list[dict[str, Any]]) -> int | None:
    (container,) = components  # every card is one container
    assert container["type"] == 17
    return container.get("accent_color")


def _gallery(message: SentMessage) -> list[tuple[str, str]]:
    """(url, description) of each picture of the message's media galleries."""
    return [(item["media"]["url"], item.get("description", "")) for c in walk_components(message.components)
            if c["type"] == 12 for item in c["items"]]


def _is_v2_card(message: SentMessage) -> bool:
    return bool(message.flags & IS_COMPONENTS_V2) and not message.content and not message.hidden_attachments()


async def test_chinese_keyframes_cards_show_the_pictures_the_state_and_the_video(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    options = {"start": Upload("s.png", png(color=(200, 30, 30))), "frame1": Upload("a.png", png(color=(30, 200, 30))),
               "frame2": Upload("b.jpg", png(color=(30, 30, 200), fmt="JPEG")),
               "prompts": "走进来 | 坐下", "durations": "4,6", "resolution": "540p"}
    await fake_discord.slash(world.bob, "keyframes", channel=world.general, options=options)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    video = await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    card, status = fake_discord.messages(thread)[:2]

    # The request card: who asked, the three pictures in order, each described in Chinese, then the segments.
    assert _is_v2_card(card) and _accent(card.components) == BRAND
    assert _gallery(card) == [
        ("attachment://picture-00.png", "起始帧"),
        ("attachment://picture-01.png", "关键帧 1，第 1 段的结尾（4 秒）：走进来"),
        ("attachment://picture-02.jpg", "关键帧 2，第 2 段的结尾（6 秒）：坐下"),
    ]
    assert card.text().startswith(f"**<@{world.bob.id}> 的请求**")
    assert "1. 4 秒 — 走进来" in card.text() and "共 10 秒" in card.text()

    # The status card: posted queued (grey, with 取消), ends done (green, no buttons), in place.
    await fake_discord.wait_for(lambda: "✅ 完成" in fake_discord.message(status.id).text(), timeout=10,
                                what="the status card to say 完成", seen=lambda: status.text())
    first = status.edits[0]
    assert first.flags & IS_COMPONENTS_V2 and _accent(first.components) == ACCENTS[JobState.ACCEPTED]
    assert [c["label"] for c in walk_components(first.components) if c["type"] == 2] == ["取消"]
    assert _is_v2_card(status) and _accent(status.components) == ACCENTS[JobState.DELIVERED]
    assert status.button_labels() == [] and "任务 `" in status.text()

    # The video: in a gallery of one, the member pinged, Re-roll and Extend in Chinese.
    assert _is_v2_card(video) and _accent(video.components) == ACCENTS[JobState.DELIVERED]
    job_id = video.filenames[0].removesuffix(".mp4")
    assert _gallery(video) == [(f"attachment://{job_id}.mp4", "")]
    assert video.text().startswith(f"<@{world.bob.id}>，你的视频好了 · 任务 `{job_id}`")
    assert video.mentions == [world.bob.id]
    assert video.button_labels() == ["重新生成", "延长", "重混（重新计费）", "删除", "举报"]


async def test_an_english_failed_job_turns_its_card_red_with_try_again(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    provider.plan_next_task(fail_reason="GPU node crashed")
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("a.png", png()), "prompt": "the cat waves", "duration": 4})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    pinged = await fake_discord.wait_for_message(thread, lambda m: world.alice.id in m.mentions, timeout=30)
    card, status = fake_discord.messages(thread)[:2]
    await fake_discord.wait_for(lambda: "Failed" in fake_discord.message(status.id).text(), timeout=10,
                                what="the status card to say Failed", seen=lambda: status.text())

    assert _is_v2_card(card) and _gallery(card) == [
        ("attachment://picture-00.png", "The picture to animate · 4 s: the cat waves")]
    assert "> the cat waves" in card.text() and "4 s · 720p" in card.text()
    for message in (status, pinged):  # the card, and the new message that pings the member
        assert _is_v2_card(message) and _accent(message.components) == ACCENTS[JobState.FAILED]
        assert "GPU node crashed" in message.text() and "Nothing was counted" in message.text()
        assert message.button_labels() == ["Try again"]
    assert pinged.text().startswith(f"<@{world.alice.id}> ")



def _as_text_card(message: SentMessage) -> None:
    """Make a card what the bot before Components V2 posted: its text as content, its buttons in a row."""
    buttons = [c for c in walk_components(message.components) if c["type"] == 2]
    message.content = "\n".join(component_texts(message.components))
    message.components = [{"type": 1, "components": buttons}] if buttons else []
    message.flags &= ~IS_COMPONENTS_V2


async def test_text_cards_from_before_the_upgrade_keep_following_their_jobs(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """Jobs in flight while the bot is upgraded: Discord refuses a layout beside a text card's content, so
    their cards are edited as text, and Cancel on one still answers."""
    await start_bot(MAX_ACTIVE_JOBS_PER_MEMBER="1")
    world = fake_discord.world
    provider.plan_next_task(queue_seconds=600)
    for prompt in ("first", "second"):
        await fake_discord.slash(world.alice, "animate", channel=world.general,
                                 options={"image": Upload("a.png", png()), "prompt": prompt})
        thread = await fake_discord.wait_for(
            lambda p=prompt: next((t for t in fake_discord.threads(world.general) if t.name == p), None),
            timeout=15, what=prompt, seen=lambda: "")
        await fake_discord.wait_for_message(thread, lambda m: "job `" in m.text(), timeout=15)
    first, second = (next(t for t in fake_discord.threads(world.general) if t.name == p) for p in ("first", "second"))
    generating = await fake_discord.wait_for_message(first, lambda m: "Generating" in m.text(), timeout=15)
    queued = await fake_discord.wait_for_message(second, lambda m: "Waiting in the queue" in m.text(), timeout=15)
    _as_text_card(generating)
    _as_text_card(queued)

    pressed = await fake_discord.press_button(world.alice, queued, next(
        c for c in queued.custom_ids() if c.startswith("vidu:cancel:")))
    await fake_discord.wait_for_response(pressed, timeout=10)
    assert "Cancelled" in queued.content and not queued.flags & IS_COMPONENTS_V2 and queued.custom_ids() == []

    provider.advance(601)
    # Generous: a poll, a download and a post come first, and on two busy cores (CI) that took over 30 s.
    await fake_discord.wait_for(lambda: "Done" in generating.content or None, timeout=120,
                                what="the text card to say Done", seen=lambda: generating.text())
    assert not generating.flags & IS_COMPONENTS_V2


async def test_a_picture_over_the_servers_small_limit_is_left_out_of_the_card(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """The server allows 64 KiB, which discord.py's boost-tier table (10 MiB) does not know; the interaction's
    attachment_size_limit says so. The card goes without the picture, instead of Discord refusing the card."""
    await start_bot()
    world = fake_discord.world
    world.guild.upload_limit = 64 * 1024
    noise = io.BytesIO()
    Image.frombytes("RGB", (600, 600), random.Random(7).randbytes(600 * 600 * 3)).save(noise, "PNG")
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("noise.png", noise.getvalue()), "prompt": "static"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    card = fake_discord.messages(thread)[0]
    assert _is_v2_card(card) and card.filenames == [] and _gallery(card) == []
    assert "> static" in card.text()
    (task,) = provider.tasks.values()
    assert len(task.body["images"][0]) > 64 * 1024  # the provider still got the whole picture
