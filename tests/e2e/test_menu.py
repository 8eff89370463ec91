"""The message menu "Apps → Animate" end to end: a message's pictures become a video."""

from __future__ import annotations

from tests.e2e.conftest import png
from tests.e2e.test_animate import private_answer
from tests.e2e.test_moderators import run
from tests.e2e.test_storyboard import BLUE, GREEN, RED, close_to, color_of
from tests.fakes.discord import FakeDiscord, InteractionRecord, SentMessage, Upload
from tests.fakes.provider import FakeProvider

YELLOW = (210, 200, 40)


def _is_video(message: SentMessage) -> bool:
    return any(f.endswith(".mp4") for f in message.filenames)


async def open_menu(fake: FakeDiscord, files: list[Upload], text: str = "look at these") -> InteractionRecord:
    world = fake.world
    message = await fake.member_says(world.bob, world.general, text, files=files)
    ix = await fake.message_command(world.alice, "Animate", message=message)
    await fake.wait_for_response(ix, timeout=10)
    return ix


def answer_text(ix: InteractionRecord) -> str:
    return str((ix.responses[0].data or {}).get("content", ""))


async def test_one_picture_asks_for_a_prompt_and_makes_a_video(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    opened = await open_menu(fake_discord, [Upload("notes.txt", b"not a picture"), Upload("cat.png", png())])
    assert opened.responses[0].type == 9 and opened.modal is not None  # the form is the first answer
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "prompt": "the cat jumps", "duration": "4", "resolution": ["1080p"]})
    answer = await private_answer(fake_discord, submit)
    assert submit.responses[0].type == 5
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    assert f"<#{thread.id}>" in answer.text() and answer.visible_to == world.alice.id
    video = await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    assert video.mentions == [world.alice.id]  # the member who asked, not the author of the message
    (task,) = provider.tasks.values()
    assert task.body["prompt"] == "the cat jumps" and task.body["duration"] == 4
    assert task.body["resolution"] == "1080p"


async def test_three_pictures_ask_for_segments_and_keep_attachment_order(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    files = [Upload("z-first.png", png(color=RED)), Upload("a-second.jpg", png(color=GREEN, fmt="JPEG")),
             Upload("m-third.webp", png(color=BLUE, fmt="WEBP")), Upload("y-fourth.png", png(color=YELLOW))]
    opened = await open_menu(fake_discord, files)
    assert opened.modal is not None and "4 pictures" in opened.modal["title"]
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "prompts": "zoom in\npan left\nfade", "durations": "3,4,5"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    answer = await private_answer(fake_discord, submit)
    assert f"<#{thread.id}>" in answer.text()
    (task,) = provider.tasks.values()
    body = task.body
    assert task.endpoint.endswith("multiframe") and body["resolution"] == "720p"
    assert [(s["prompt"], s["duration"]) for s in body["image_settings"]] == [
        ("zoom in", 3), ("pan left", 4), ("fade", 5)]
    colors = [color_of(body["start_image"]), *(color_of(s["key_image"]) for s in body["image_settings"])]
    assert [close_to(c, e) for c, e in zip(colors, (RED, GREEN, BLUE, YELLOW), strict=True)] == [True] * 4


async def test_a_message_without_pictures_is_explained_privately(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    plain = await open_menu(fake_discord, [])
    with_file = await open_menu(fake_discord, [Upload("report.pdf", b"%PDF-1.4 not a picture")])
    with_files = await open_menu(fake_discord, [Upload("a.pdf", b"%PDF-1.4"), Upload("b.txt", b"notes")])
    for ix in (plain, with_file, with_files):
        assert ix.responses[0].type == 4 and ix.modal is None
        assert (ix.responses[0].data or {}).get("flags", 0) & 64  # ephemeral
        assert "This message has no pictures" in answer_text(ix)
    assert "(its attachment is not a picture)" in answer_text(with_file)
    assert "(its 2 attachments are not pictures)" in answer_text(with_files)
    assert "attachment" not in answer_text(plain)
    assert provider.requests_to("submit") == []
    assert fake_discord.threads(fake_discord.world.general) == []


async def test_bad_fields_and_a_bad_picture_are_listed_together(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    opened = await open_menu(fake_discord, [Upload("wide.png", png(900, 100))])
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "prompt": "waves", "duration": "12"})
    answer = await private_answer(fake_discord, submit)
    assert 'duration: "12" is not a whole number of seconds from 1 to 10' in answer.text()
    assert "wide.png: 9:1 is wider than 4:1" in answer.text()
    assert answer.visible_to == world.alice.id
    assert provider.requests_to("submit") == []
    assert fake_discord.threads(world.general) == []


async def test_a_member_with_a_used_up_quota_is_refused_before_the_pictures_are_read(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await run(fake_discord, world.mod, "quota set", scope="default", period="day", videos=0)
    one = await open_menu(fake_discord, [Upload("cat.png", png())])
    submit = await fake_discord.submit_modal(world.alice, opened_by=one, values={
        "prompt": "the cat jumps", "duration": "4", "resolution": ["720p"]})
    assert "your daily limit" in (await private_answer(fake_discord, submit)).text()
    three = await open_menu(fake_discord, [Upload(f"{n}.png", png()) for n in range(3)])
    submit = await fake_discord.submit_modal(world.alice, opened_by=three, values={
        "prompts": "a\nb", "durations": "3,3", "resolution": ["720p"]})
    assert "your daily limit" in (await private_answer(fake_discord, submit)).text()
    assert fake_discord.cdn.downloads == [] and provider.requests_to("submit") == []
