"""A start and an end frame (issue 28 item 1), end to end: the real bot process, the fake Discord and the strict
fake provider, which refuses a pair of pictures whose pixel counts are not within 0.8-1.25 of each other. From
/keyframes with one end picture, the Apps menu on a message with two pictures, /storyboard with two; the card
says it is a start-and-end video and what was fitted, in the member's language; it is priced as its own kind."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from tests.e2e.conftest import png
from tests.e2e.test_animate import _is_video, private_answer
from tests.e2e.test_branding import set_watermark, started_with_a_mod_log
from tests.e2e.test_menu import open_menu
from tests.e2e.test_moderators import run
from tests.e2e.test_storyboard import BLUE, RED, START, close_to, color_of, open_form, started
from tests.fakes.discord import FakeDiscord, SentMessage, Upload
from tests.fakes.provider import FakeProvider

STARTEND = "vidu-q2-turbo-startend2video"


def size_of(data_uri: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))) as image:
        return image.size


async def delivered(fake: FakeDiscord) -> tuple[Any, list[SentMessage]]:
    thread = await fake.wait_for_thread(fake.world.general, timeout=15)
    await fake.wait_for_message(thread, _is_video, timeout=30)
    return thread, fake.messages(thread)


async def test_keyframes_with_a_start_and_an_end_picture_makes_a_start_end_video_and_says_what_was_fitted(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    ix = await fake_discord.slash(world.alice, "keyframes", channel=world.general, options={
        "start": Upload("start.png", png(960, 720, color=RED)),
        "frame1": Upload("end.jpg", png(320, 240, BLUE, "JPEG")),
        "prompts": "the sun goes down", "durations": "8", "movement": "high", "resolution": "720p"})
    thread, messages = await delivered(fake_discord)

    (task,) = provider.tasks.values()
    assert task.endpoint == STARTEND
    body = task.body
    assert (body["prompt"], body["duration"], body["movement_amplitude"], body["resolution"]) == (
        "the sun goes down", 8, "large", "720p")
    start, end = body["images"]
    assert close_to(color_of(start), RED) and close_to(color_of(end), BLUE)  # in order: start, then end
    assert size_of(start) == size_of(end) == (960, 720)  # the end picture enlarged to the start's pixels
    card = messages[0].text()
    assert "Start and end frames" in card and "the sun goes down" in card and "8 s" in card
    assert "The end picture was scaled from 320×240 to 960×720" in card and "within 0.8–1.25×" in card
    assert messages[0].filenames == ["picture-00.png", "picture-01.jpg"]
    assert f"<#{thread.id}>" in (await private_answer(fake_discord, ix)).text()
    assert "start and end" in await run(fake_discord, world.alice, "jobs")


async def test_the_card_speaks_the_members_language_and_a_fitting_pair_is_left_alone(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world  # bob reads Discord in Chinese
    await fake_discord.slash(world.bob, "keyframes", channel=world.general, options={
        "start": Upload("a.png", png(400, 300)), "frame1": Upload("b.png", png(1000, 750, color=RED))})
    _, messages = await delivered(fake_discord)
    card = messages[0].text()
    assert "首尾帧视频" in card and "起始图片已从 400×300 缩放为 1000×750" in card
    await fake_discord.slash(world.bob, "keyframes", channel=world.general, options={
        "start": Upload("a.png", png(400, 300)), "frame1": Upload("b.png", png(420, 300, color=RED))})
    await fake_discord.wait_for(lambda: len(provider.tasks) == 2, timeout=30, what="the second task",
                                seen=lambda: str(len(provider.tasks)))
    second = max(provider.tasks.values(), key=lambda task: task.created_at)
    assert [size_of(i) for i in second.body["images"]] == [(400, 300), (420, 300)]  # within the ratio: as sent


async def test_a_start_end_request_refuses_what_its_endpoint_refuses_in_the_members_words(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    frames = {"start": Upload("a.png", png()), "frame1": Upload("b.png", png())}
    for user, options, said in (
        (world.alice, {"durations": "9"}, "durations: 9 s is outside 1–8 s"),
        (world.alice, {"frame2": Upload("c.png", png()), "movement": "high"},
         "movement: applies only to a start and an end picture"),
        (world.bob, {"durations": "0"}, "时长：0 秒超出了每个片段 1–8 秒的范围"),
    ):
        ix = await fake_discord.slash(user, "keyframes", channel=world.general, options={**frames, **options})
        assert said in (await private_answer(fake_discord, ix)).text()
    assert provider.requests_to("submit") == [] and fake_discord.threads(world.general) == []


async def test_the_apps_menu_on_a_message_with_two_pictures_makes_a_start_end_video(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    opened = await open_menu(fake_discord, [Upload("first.png", png(color=RED)), Upload("notes.txt", b"notes"),
                                            Upload("last.webp", png(color=BLUE, fmt="WEBP"))])
    assert opened.modal is not None and "2 pictures" in opened.modal["title"]
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "prompts": "the light fades", "durations": "3", "resolution": ["540p"], "movement": ["small"]})
    thread, messages = await delivered(fake_discord)
    assert f"<#{thread.id}>" in (await private_answer(fake_discord, submit)).text()
    (task,) = provider.tasks.values()
    assert task.endpoint == STARTEND
    assert (task.body["prompt"], task.body["duration"], task.body["resolution"], task.body["movement_amplitude"]) == (
        "the light fades", 3, "540p", "small")
    assert [close_to(color_of(i), c) for i, c in zip(task.body["images"], (RED, BLUE), strict=True)] == [True, True]
    assert "Start and end frames" in messages[0].text()


async def test_storyboard_with_two_pictures_previews_then_makes_a_start_end_video(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    opened = await open_form(fake_discord)
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "frames": [Upload("s.png", png(200, 150, color=RED)), Upload("e.png", png(800, 600, color=BLUE))],
        "prompts": "zoom out", "durations": "6"})
    preview = await private_answer(fake_discord, submit)
    assert "Start and end frames" in preview.text() and "1. 6 s — zoom out" in preview.text()
    assert "The start picture was scaled from 200×150 to 800×600" in preview.text()
    assert provider.requests_to("submit") == []
    await fake_discord.press_button(world.alice, preview, START)
    _, messages = await delivered(fake_discord)
    await started(fake_discord, preview)
    (task,) = provider.tasks.values()
    assert task.endpoint == STARTEND and (task.body["prompt"], task.body["duration"]) == ("zoom out", 6)
    assert [size_of(i) for i in task.body["images"]] == [(800, 600), (800, 600)]
    assert "The start picture was scaled from 200×150 to 800×600" in messages[0].text()


async def test_a_priced_credits_quota_counts_start_end_at_its_own_price(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """PRICE_TABLE's startend entry is what the card shows and what the quota's credits count: $0.50 + $0.10/s
    makes 5 s at 720p $1.00, where the same seconds of multiframe would cost $0.325."""
    await start_bot(PRICE_TABLE="startend=0.5+0.1/s", DEFAULT_MEMBER_LIMITS="credits=1.50/day")
    world = fake_discord.world
    frames = {"start": Upload("a.png", png()), "frame1": Upload("b.png", png(color=RED))}
    await fake_discord.slash(world.alice, "keyframes", channel=world.general, options=frames)
    _, messages = await delivered(fake_discord)
    assert "about $1.00" in messages[0].text()
    assert "$0.50 of $1.50 credits left" in await run(fake_discord, world.alice, "quota me")
    ix = await fake_discord.slash(world.alice, "keyframes", channel=world.general, options=frames)
    refused = (await private_answer(fake_discord, ix)).text()
    assert "$1.00 of $1.50 used, this request costs about $1.00" in refused
    assert len(provider.tasks) == 1


async def test_the_servers_watermark_reaches_the_start_end_endpoint_by_number(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await started_with_a_mod_log(fake_discord, start_bot)
    await set_watermark(fake_discord, image=Upload("logo.png", png(color=(250, 250, 250))), position="top_right")
    world = fake_discord.world
    await fake_discord.slash(world.alice, "keyframes", channel=world.general, options={
        "start": Upload("a.png", png()), "frame1": Upload("b.png", png(color=RED))})
    _, messages = await delivered(fake_discord)
    (task,) = provider.tasks.values()
    assert (task.body["watermark"], task.body["wm_position"]) == (True, 2)  # top right, as the endpoint numbers it
    assert task.body["wm_url"] in fake_discord.refreshed_urls
    assert "server watermark (top right)" in messages[0].text()
