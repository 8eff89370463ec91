"""Members' pictures screened before anything is spent or shown (issue 25 items 1-2), through the real bot
process, the fake Discord and the strict fake provider.

Pictures are benign; the ones to refuse carry the test marker (bot/safety/marker.py), which the bot's
SAFETY_SCREENS=marker screen flags (tests/e2e/conftest.py selects it). A refusal must be private, name the
picture, be in the member's language, and leave no job, no charge, no provider call and no public post."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from PIL import Image

from bot.safety.marker import mark
from tests.e2e.conftest import png
from tests.e2e.test_animate import _is_video, private_answer
from tests.e2e.test_branding import started_with_a_mod_log
from tests.e2e.test_moderators import run
from tests.e2e.test_storyboard import open_form
from tests.e2e.test_video_buttons import _button, _extend, _first_video
from tests.fakes.discord import FakeChannel, FakeDiscord, SentMessage, Upload
from tests.fakes.provider import FakeProvider
from tests.store.backends import stored_counts

FLAGGED_EN = "this server does not allow this picture here: a content check flagged it as explicit"
FLAGGED_ZH = "此服务器不允许在这里使用这张图片"
NOTHING_EN = "Nothing was sent and nothing was charged"
NOTHING_ZH = "什么都没有发送，未扣除配额"
UNSCREENED = "Pictures not shown here: no content check looked at them"


def marked(fmt: str = "PNG", size: tuple[int, int] = (160, 120)) -> bytes:
    """A benign blue picture with the test marker in its corner."""
    out = io.BytesIO()
    mark(Image.new("RGB", size, (30, 140, 220))).save(out, fmt)
    return out.getvalue()


def public_bot_posts(fake: FakeDiscord) -> list[SentMessage]:
    """Every message of the bot that someone other than the asking member could see."""
    return [m for m in fake.all_messages() if m.author_id == fake.bot_user.id and not m.ephemeral]


def nothing_happened(fake: FakeDiscord, provider: FakeProvider, tmp_path: Path) -> None:
    assert provider.requests == [], provider.requests  # not a submit, not a probe
    assert stored_counts(tmp_path, "jobs", "job_inputs") == (0, 0)  # no job: nothing reserved, nothing charged
    assert public_bot_posts(fake) == [], fake.describe_messages(public_bot_posts(fake))
    assert fake.threads(fake.world.general) == []


def private_to(answer: SentMessage, member: Any) -> None:
    assert answer.ephemeral and answer.visible_to == member.id


async def test_slash_commands_and_storyboard_refuse_a_marked_picture_privately_in_english_and_chinese(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot, tmp_path: Path
) -> None:
    await start_bot()
    world = fake_discord.world

    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("beach.png", marked()), "prompt": "waves"})
    answer = await private_answer(fake_discord, ix)
    private_to(answer, world.alice)
    assert f"beach.png: {FLAGGED_EN}" in answer.text() and NOTHING_EN in answer.text()

    # bob reads Chinese; only the marked keyframe is named, and as JPEG (re-encoded) it is still caught.
    ix = await fake_discord.slash(world.bob, "keyframes", channel=world.general, options={
        "start": Upload("s.png", png()), "frame1": Upload("k1.jpg", marked("JPEG")),
        "frame2": Upload("k2.png", png(color=(30, 200, 30)))})
    answer = await private_answer(fake_discord, ix)
    private_to(answer, world.bob)
    assert f"k1.jpg：{FLAGGED_ZH}" in answer.text() and NOTHING_ZH in answer.text()
    assert "s.png" not in answer.text() and "k2.png" not in answer.text()

    opened = await open_form(fake_discord)
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "frames": [Upload("a.png", png()), Upload("b.webp", marked("WEBP")), Upload("c.png", png())],
        "prompts": "slow pan"})
    answer = await private_answer(fake_discord, submit)
    private_to(answer, world.alice)
    assert f"b.webp: {FLAGGED_EN}" in answer.text()
    assert not answer.attachments  # no preview picture of the storyboard either
    nothing_happened(fake_discord, provider, tmp_path)


async def test_the_apps_menu_forms_refuse_a_marked_picture(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot, tmp_path: Path
) -> None:
    await start_bot()
    world = fake_discord.world
    one = await fake_discord.member_says(world.alice, world.general, "mine",
                                         files=[Upload("cat.png", marked())])
    opened = await fake_discord.message_command(world.bob, "Animate", message=one)
    await fake_discord.wait_for_response(opened, timeout=10)
    submit = await fake_discord.submit_modal(world.bob, opened_by=opened, values={"prompt": "the cat jumps"})
    answer = await private_answer(fake_discord, submit)
    private_to(answer, world.bob)
    assert f"cat.png：{FLAGGED_ZH}" in answer.text()

    three = await fake_discord.member_says(world.bob, world.general, "three", files=[
        Upload("x.png", png()), Upload("y.png", png(color=(30, 200, 30))), Upload("z.jpg", marked("JPEG"))])
    opened = await fake_discord.message_command(world.alice, "Animate", message=three)
    await fake_discord.wait_for_response(opened, timeout=10)
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={"prompts": "in\nout"})
    answer = await private_answer(fake_discord, submit)
    private_to(answer, world.alice)
    assert f"z.jpg: {FLAGGED_EN}" in answer.text() and "x.png" not in answer.text()
    nothing_happened(fake_discord, provider, tmp_path)


async def test_a_marked_watermark_is_refused_and_nothing_is_kept(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = await started_with_a_mod_log(fake_discord, start_bot)
    said = await run(fake_discord, world.mod, "config watermark", image=Upload("logo.png", marked()))
    assert f"logo.png: {FLAGGED_EN}" in said
    assert not [m for m in fake_discord.messages(modlog) if m.attachments]  # never re-posted in the mod-log
    assert "Watermark on keyframes videos: none" in await run(fake_discord, world.mod, "config show")
    assert "config.watermark" not in await run(fake_discord, world.mod, "mod audit")


def marked_video(folder: Path) -> bytes:
    """A one-second 64×64 H.264 clip whose every frame carries the marker (the provider's "video")."""
    out = folder / "marked.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "color=c=0x1e8cdc:s=64x64:d=1:r=10",
                    "-vf", "drawbox=x=0:y=0:w=16:h=16:color=0xff00ff:t=fill",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out)], check=True, timeout=60)
    return out.read_bytes()


async def test_extend_refuses_a_last_frame_the_screen_flags(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot, tmp_path: Path
) -> None:
    provider._sample = marked_video(tmp_path)  # the provider's video ends on a marked frame
    await start_bot()
    video = await _first_video(fake_discord, provider)
    submitted = await _extend(fake_discord, fake_discord.world.alice, video, "further", "3")
    answer = await private_answer(fake_discord, submitted)
    private_to(answer, fake_discord.world.alice)
    assert f"-last-frame.png: {FLAGGED_EN}" in answer.text()
    assert len(provider.requests_to("submit")) == 1  # only the first video's
    thread = fake_discord.channel(video.channel_id)
    cards = [m for m in fake_discord.messages(thread) if "Request by" in m.text()]
    assert len(cards) == 1 and stored_counts(tmp_path, "jobs")[0] == 1


async def test_policy_changes_are_audited_and_reach_a_reroll_of_stored_pictures(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = await started_with_a_mod_log(fake_discord, start_bot)
    shown = await run(fake_discord, world.mod, "config show")
    assert "Picture screening: in every channel that is not age-restricted" in shown
    assert "screens active: marker · unavailable: none" in shown

    said = await run(fake_discord, world.mod, "config safety", pictures="off")
    assert "Picture screening: nowhere" in said
    record = await fake_discord.wait_for_message(modlog, lambda m: "config safety_pictures" in m.text(), timeout=10)
    assert '"outside_age_restricted" → "off"' in record.text()
    # Screening off: the marked picture goes ahead, and (unscreened) is never shown on the card.
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("beach.png", marked()), "prompt": "waves"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    video = await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    card = next(m for m in fake_discord.messages(thread) if "Request by" in m.text())
    assert card.attachments == [] and card.media_urls() == [] and UNSCREENED in card.text()

    await run(fake_discord, world.mod, "config safety", pictures="everywhere")
    ix = await fake_discord.press_button(world.alice, video, _button(video, "vidu:reroll:"))
    answer = await private_answer(fake_discord, ix)
    assert f"beach.png: {FLAGGED_EN}" in answer.text()
    assert len(provider.requests_to("submit")) == 1
    audit = await run(fake_discord, world.mod, "mod audit")
    assert audit.count("config.safety") == 2


async def test_an_age_restricted_channel_and_its_threads_let_a_marked_picture_through_by_default(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    after_dark: FakeChannel = world.guild.add_text_channel("after-dark", nsfw=True)
    await start_bot()
    await fake_discord.slash(world.alice, "animate", channel=after_dark,
                             options={"image": Upload("beach.png", marked()), "prompt": "waves"})
    thread = await fake_discord.wait_for_thread(after_dark, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    card = next(m for m in fake_discord.messages(thread) if "Request by" in m.text())
    assert card.attachments == [] and UNSCREENED in card.text()  # nothing screened it: not shown

    # A request made inside that thread follows its parent's age restriction.
    ix = await fake_discord.slash(world.bob, "animate", channel=thread,
                                  options={"image": Upload("again.png", marked()), "prompt": "more"})
    assert FLAGGED_ZH not in (await private_answer(fake_discord, ix)).text()
    await fake_discord.wait_for(lambda: len(provider.requests_to("submit")) == 2 or None, timeout=15,
                                what="the thread's request", seen=lambda: str(provider.requests))

    # The server can screen age-restricted channels too.
    await run(fake_discord, world.mod, "config safety", pictures="everywhere")
    ix = await fake_discord.slash(world.alice, "animate", channel=thread,
                                  options={"image": Upload("beach.png", marked()), "prompt": "waves"})
    assert f"beach.png: {FLAGGED_EN}" in (await private_answer(fake_discord, ix)).text()
    assert len(provider.requests_to("submit")) == 2


async def test_without_an_installed_screen_pictures_never_show_on_the_card(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot(SAFETY_SCREENS="none")
    shown = await run(fake_discord, world.mod, "config show")
    assert "screens active: none" in shown and "No screen can run here" in shown
    await fake_discord.slash(world.alice, "keyframes", channel=world.general, options={
        "start": Upload("s.png", png()), "frame1": Upload("k1.png", png(color=(30, 200, 30))),
        "frame2": Upload("k2.png", png(color=(200, 30, 30)))})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    card = next(m for m in fake_discord.messages(thread) if "Request by" in m.text())
    assert card.attachments == [] and card.media_urls() == [] and card.hidden_attachments() == []
    assert "(3)" in card.text() and UNSCREENED in card.text()
    assert not [m for m in public_bot_posts(fake_discord) if m.attachments and not _is_video(m)]


async def test_the_real_screen_passes_benign_pictures_and_the_card_shows_them(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot(SAFETY_SCREENS="nudenet")
    assert "screens active: nudenet" in await run(fake_discord, world.mod, "config show")
    await fake_discord.slash(world.alice, "keyframes", channel=world.general, options={
        "start": Upload("s.png", png(640, 480)), "frame1": Upload("k1.jpg", png(640, 480, (30, 200, 30), "JPEG")),
        "frame2": Upload("k2.png", marked())})  # the marker means nothing to a real screen
    thread = await fake_discord.wait_for_thread(world.general, timeout=30)
    card = await fake_discord.wait_for_message(thread, lambda m: "Request by" in m.text(), timeout=30)
    assert len(card.media_urls()) == 3 and UNSCREENED not in card.text()
    await fake_discord.wait_for(lambda: len(provider.requests_to("submit")) == 1 or None, timeout=15,
                                what="the submit", seen=lambda: str(provider.requests))
