"""A member's /animate, end to end: the real bot process, the fake Discord, the strict fake provider."""

from __future__ import annotations

import base64
import io
import re
import sqlite3
import time

import pytest
from PIL import Image
from pillow_heif import register_heif_opener

from tests.e2e.conftest import png
from tests.fakes.discord import NITRO_UPLOAD_LIMIT, FakeDiscord, InteractionRecord, SentMessage, Upload
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
    (task,) = provider.tasks.values()
    after_success = provider.now() - (task.created_at + task.queue_seconds + task.processing_seconds)
    print(f"acknowledged in {ack_ms:.0f} ms; video after {time.monotonic() - sent_at:.1f} s, "
          f"{after_success:.2f} s after the provider finished")  # a figure for the notes, not an assertion

    assert video.mentions == [world.alice.id]
    assert video.attachments[0].content[4:8] == b"ftyp"
    # Open for a week: its status card stays editable for an off-peak job's 48 hours (a day is the default).
    assert thread.auto_archive_duration == 10080
    assert task.body["prompt"] == "the cat waves" and task.body["duration"] == 4

    messages = fake_discord.messages(thread)
    card = messages[0]
    assert "the cat waves" in card.text() and card.filenames == ["picture-00.png"]
    status = next(m for m in messages if "job `" in m.text() and m.id != video.id)
    await fake_discord.wait_for(lambda: "Done" in fake_discord.message(status.id).text(), timeout=10,
                                what="the status card to say Done", seen=lambda: status.text())
    answer = await private_answer(fake_discord, ix)
    assert f"<#{thread.id}>" in answer.text()
    assert answer.ephemeral and answer.visible_to == world.alice.id


async def private_answer(fake: FakeDiscord, ix: InteractionRecord, timeout: float = 15) -> SentMessage:
    """The member's private answer: the filled-in "thinking" message or a followup."""

    def probe() -> SentMessage | None:
        ids = [i for i in [ix.original_message_id, *ix.followup_ids] if i]
        return next((fake.message(i) for i in ids if fake.message(i).text() and not fake.message(i).loading), None)

    return await fake.wait_for(probe, timeout=timeout, what="the private answer", seen=lambda: str(ix.responses))


def _is_video(message: SentMessage) -> bool:
    return any(a.filename.endswith(".mp4") for a in message.attachments)


async def test_keyframes_with_per_segment_settings_become_one_video(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    colors = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    options = {"start": Upload("start.png", png(color=colors[0])), "frame1": Upload("a.png", png(color=colors[1])),
               "frame2": Upload("b.jpg", png(color=colors[2], fmt="JPEG")),
               "prompts": "walks in | sits down", "durations": "4,6", "resolution": "540p"}
    await fake_discord.slash(world.alice, "keyframes", channel=world.general, options=options)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    (task,) = provider.tasks.values()
    assert task.endpoint.endswith("multiframe")
    assert [(s["prompt"], s["duration"]) for s in task.body["image_settings"]] == [("walks in", 4), ("sits down", 6)]
    assert task.body["resolution"] == "540p"
    assert task.body["image_settings"][1]["key_image"].startswith("data:image/jpeg")
    card = fake_discord.messages(thread)[0]
    assert "10 s in all" in card.text() and "walks in" in card.text()


async def test_keyframes_with_nine_frames(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    await start_bot()
    world = fake_discord.world
    options = {"start": Upload("s.png", png())} | {
        f"frame{n}": Upload(f"{n}.png", png(color=(n * 25, 90, 90))) for n in range(1, 10)}
    await fake_discord.slash(world.alice, "keyframes", channel=world.general, options=options)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    (task,) = provider.tasks.values()
    assert len(task.body["image_settings"]) == 9
    assert all(s["duration"] == 5 for s in task.body["image_settings"])


async def test_an_iphone_heic_photo_is_animated_as_a_jpeg(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    register_heif_opener()  # to write the HEIC here; the bot registers it for itself
    await start_bot()
    world = fake_discord.world
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("IMG_0001.HEIC", png(fmt="HEIF")), "prompt": "waves"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    (task,) = provider.tasks.values()  # the strict fake takes only PNG, JPEG and WebP
    assert task.body["images"][0].startswith("data:image/jpeg;base64,")


def _picture_size(data_uri: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))) as im:
        return im.size


async def test_phone_photos_are_sent_at_the_size_the_video_can_use(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    # Issue 16: each command passes its resolution to the picture checks (a 12 MP photo is ~7 MB otherwise).
    await start_bot()
    world = fake_discord.world
    photo = png(4000, 3000, fmt="JPEG")
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("IMG_0001.jpg", photo), "prompt": "waves", "resolution": "720p"})
    await fake_discord.wait_for(lambda: len(provider.tasks) == 1, timeout=30, what="the /animate task",
                                seen=lambda: f"{len(provider.tasks)} tasks")
    await fake_discord.slash(world.alice, "keyframes", channel=world.general, options={
        "start": Upload("a.jpg", photo), "frame1": Upload("b.png", png(4000, 3000)), "frame2": Upload("c.png", png()),
        "resolution": "540p"})
    await fake_discord.wait_for(lambda: len(provider.tasks) == 2, timeout=30, what="the /keyframes task",
                                seen=lambda: f"{len(provider.tasks)} tasks")
    animate, keyframes = sorted(provider.tasks.values(), key=lambda task: task.created_at)
    assert _picture_size(animate.body["images"][0]) == (1280, 960)  # covers a 1280×720 frame
    assert _picture_size(keyframes.body["start_image"]) == (1000, 750)  # a quarter-size decode for 960×540
    assert [_picture_size(s["key_image"]) for s in keyframes.body["image_settings"]] == [(960, 720), (120, 90)]


async def test_bad_input_gets_one_private_message_listing_each_problem_and_sends_nothing(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    options = {"start": Upload("start.png", png()), "frame1": Upload("wide.png", png(900, 100)),
               "frame2": Upload("notes.jpg", b"this is a text file, not a picture")}
    ix = await fake_discord.slash(world.alice, "keyframes", channel=world.general, options=options)
    answer = await private_answer(fake_discord, ix)
    assert answer.ephemeral and answer.visible_to == world.alice.id
    assert "wide.png: 9:1 is wider than 4:1" in answer.text()
    assert "notes.jpg:" in answer.text()
    assert provider.requests_to("submit") == []
    assert fake_discord.threads(world.general) == []


async def test_a_video_attached_as_a_keyframe_is_refused_from_its_metadata_without_a_download(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    options = {"start": Upload("start.png", png()), "frame1": Upload("b.png", png()),
               "frame2": Upload("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(64))}
    ix = await fake_discord.slash(world.alice, "keyframes", channel=world.general, options=options)
    answer = await private_answer(fake_discord, ix)
    assert "clip.mp4: Discord says this is a video, not a picture" in answer.text(), answer.text()
    assert len(fake_discord.cdn.downloads) == 2  # the two pictures, never the video
    assert provider.requests_to("submit") == [] and fake_discord.threads(world.general) == []


async def test_a_segment_count_mismatch_is_refused_at_once(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    options = {"start": Upload("s.png", png()), "frame1": Upload("a.png", png()), "frame2": Upload("b.png", png()),
               "durations": "4,5,6"}
    ix = await fake_discord.slash(world.alice, "keyframes", channel=world.general, options=options)
    await fake_discord.wait_for(lambda: ix.responses or None, timeout=10, what="an answer", seen=lambda: "")
    assert ix.responses[0].type == 4
    assert "3 durations given for 2 segments" in (ix.responses[0].data or {}).get("content", "")
    assert provider.requests_to("submit") == []


async def test_a_refused_prompt_shows_the_reason_in_the_thread(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("a.png", png()), "prompt": "something forbidden"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    status = await fake_discord.wait_for_message(thread, lambda m: "Refused" in m.text(), timeout=20)
    assert "Why:" in status.text() and "Nothing was counted" in status.text()
    assert provider.tasks == {}
    # An edited card notifies nobody: a new message pings the member, once.
    pinged = [m for m in fake_discord.messages(thread) if world.alice.id in m.mentions]
    assert len(pinged) == 1 and "Refused" in pinged[0].text() and "Why:" in pinged[0].text()


async def test_private_true_answers_in_a_private_thread(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("a.png", png()), "prompt": "secret plan", "private": True})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    assert thread.type == 12 and thread.auto_archive_duration == 10080  # a week: off-peak jobs take 48 h
    assert world.alice.id in thread.thread_member_ids
    assert not any("secret plan" in m.text() for m in fake_discord.messages(world.general))


async def test_a_command_in_a_thread_answers_in_that_thread(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("a.png", png()), "prompt": "first"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    await fake_discord.slash(world.alice, "animate", channel=thread,
                             options={"image": Upload("b.png", png()), "prompt": "second"})
    await fake_discord.wait_for(
        lambda: len([m for m in fake_discord.messages(thread) if _is_video(m)]) == 2 or None, timeout=30,
        what="a second video in the same thread", seen=lambda: fake_discord.describe_messages(
            fake_discord.messages(thread)))
    assert len(fake_discord.threads(world.general)) == 1


async def test_a_job_finishing_after_20_minutes_is_delivered_with_the_bot_token(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    provider.plan_next_task(queue_seconds=20 * 60)
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("a.png", png()), "prompt": "slow one"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, lambda m: "Generating" in m.text() or "Sending" in m.text(),
                                        timeout=15)
    fake_discord.clock.advance(20 * 60)  # the interaction token is now dead (15 minutes)
    provider.advance(20 * 60 + 5)
    video = await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    assert video.webhook_id is None and video.interaction_id is None  # a channel message, not a followup
    assert video.mentions == [world.alice.id]
    assert ix.responses[0].type == 5


async def test_a_video_over_the_upload_limit_is_fitted_and_linked(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    # Alice has Nitro: her interaction says she may upload 500 MiB. The video is posted by the bot in the
    # thread, where the server's limit holds (tier 0: 10 MiB): posted at 12 MiB, Discord would refuse it.
    world.alice.nitro_upload_limit = NITRO_UPLOAD_LIMIT
    provider.plan_next_task(video_size=12 * 1024 * 1024)
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("a.png", png()), "prompt": "huge"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    posted = await fake_discord.wait_for_message(thread, lambda m: "your video is ready" in m.text(), timeout=60)
    assert "Full quality (12 MB, over the 10 MB upload limit here)" in posted.text() and "download" in posted.text()
    assert "valid until" in posted.text()
    assert posted.attachments[0].size <= 10 * 1024 * 1024  # a smaller copy to watch in Discord


async def test_a_video_is_fitted_to_the_interactions_small_upload_limit(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """Discord's attachment_size_limit, sent with the interaction, is its live figure: here the server allows
    2 MiB, which discord.py's boost-tier table (10 MiB) does not know. The job keeps the interaction's limit."""
    await start_bot()
    world = fake_discord.world
    world.guild.upload_limit = 2 * 1024 * 1024
    provider.plan_next_task(video_size=4 * 1024 * 1024)
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("a.png", png()), "prompt": "small server"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    posted = await fake_discord.wait_for_message(thread, lambda m: "your video is ready" in m.text(), timeout=60)
    assert "Full quality (4 MB, over the 2 MB upload limit here)" in posted.text()
    assert 0 < posted.attachments[0].size <= 2 * 1024 * 1024
    assert posted.media_urls() == [f"attachment://{posted.filenames[0]}"] and not posted.hidden_attachments()


async def test_a_database_that_does_not_answer_gives_the_member_an_error_id_and_no_job(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    bot = await start_bot()
    url = bot.env["DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        pytest.skip("locks the SQLite file from outside; the PostgreSQL outage is tests/ops")
    world = fake_discord.world
    locker = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")  # another program holds the database: the bot's writes time out
        ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                      options={"image": Upload("a.png", png()), "prompt": "locked out"})
        answer = await private_answer(fake_discord, ix, timeout=40)
    finally:
        locker.close()
    error_id = re.search(r"error id `([0-9a-f]{8})`", answer.text())
    assert error_id, answer.text()
    assert "database is unavailable" in answer.text() and "nothing was charged" in answer.text()
    logged = await bot.wait_for_line(f"error {error_id[1]} in /animate", timeout=10)
    assert "(OperationalError)" in logged  # what failed is in the log, not the chat
    assert "database is locked" not in answer.text()
    # The thread opened for it says it never started (no status card waits there forever); nothing was sent.
    (thread,) = fake_discord.threads(world.general)
    said = [m.text() for m in fake_discord.messages(thread)]
    assert said[-1].startswith("Not started: the request could not be saved"), said
    assert not any("job `" in line for line in said)
    assert provider.requests_to("submit") == []


async def test_a_503_from_discord_while_opening_the_thread_is_tried_again_not_told_as_a_failure(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    bot = await start_bot()
    world = fake_discord.world
    fake_discord.fail_next("POST /channels/*/messages", status=503, times=2)  # the starter, then the card
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("a.png", png()), "prompt": "through the storm"})
    assert "on its way" in (await private_answer(fake_discord, ix, timeout=30)).text()
    (thread,) = fake_discord.threads(world.general)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    starters = [m for m in fake_discord.messages(world.general) if not m.ephemeral]
    assert len(starters) == 1  # tried again, posted once
    assert sum("through the storm" in m.text() for m in fake_discord.messages(thread)) == 1
    assert bot.output.count("Discord answered 503") == 2
