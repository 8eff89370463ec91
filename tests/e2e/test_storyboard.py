"""/storyboard end to end: the form, the private preview, and only Start spending anything."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import time
from pathlib import Path

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from PIL import Image

from bot.jobs.models import JobInput, JobKind
from bot.media.pool import close_image_pool
from bot.params import MultiframeParams
from bot.safety import Screening
from bot.ui.intake import Intake
from bot.ui.preview import StoryboardPreview
from tests.e2e.conftest import png
from tests.e2e.test_animate import private_answer
from tests.e2e.test_moderators import run
from tests.fakes.discord import (
    FakeDiscord,
    FakeUsageError,
    InteractionRecord,
    SentMessage,
    Upload,
    point_discord_py_at,
)
from tests.fakes.provider import FakeProvider
from tests.store.backends import stored_counts

START, CANCEL = "vidu:preview:start", "vidu:preview:cancel"
RED, GREEN, BLUE = (200, 30, 30), (30, 200, 30), (30, 30, 200)


def color_of(data_uri: str) -> tuple[int, ...]:
    """The colour at the centre of an image sent to the provider (it may have been re-encoded)."""
    raw = base64.b64decode(data_uri.split(",", 1)[1])
    with Image.open(io.BytesIO(raw)) as image:
        rgb = image.convert("RGB")
        return tuple(rgb.getpixel((rgb.width // 2, rgb.height // 2)))


def close_to(actual: tuple[int, ...], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - e) <= 12 for a, e in zip(actual, expected, strict=True))


def three_frames() -> list[Upload]:
    return [Upload("start.png", png(color=RED)), Upload("middle.jpg", png(color=GREEN, fmt="JPEG")),
            Upload("end.png", png(color=BLUE))]


async def open_form(fake: FakeDiscord, **options: object) -> InteractionRecord:
    world = fake.world
    ix = await fake.slash(world.alice, "storyboard", channel=world.general, options=options or None)
    await fake.wait_for(lambda: ix.modal, timeout=10, what="the storyboard form", seen=lambda: str(ix.responses))
    return ix


async def preview_of(fake: FakeDiscord, values: dict[str, object], **options: object) -> tuple[SentMessage, float]:
    """Fill in and submit the form; the private preview and the seconds it took to appear."""
    opened = await open_form(fake, **options)
    sent = time.monotonic()
    submit = await fake.submit_modal(fake.world.alice, opened_by=opened, values=values)
    answer = await private_answer(fake, submit)
    return answer, time.monotonic() - sent


def stored_rows(tmp_path: Path) -> tuple[int, int]:
    """Jobs and input images in the bot's database (SQLite or PostgreSQL, whichever the e2e run uses)."""
    jobs, inputs = stored_counts(tmp_path, "jobs", "job_inputs")
    return jobs, inputs


async def started(fake: FakeDiscord, preview: SentMessage) -> SentMessage:
    """The preview once Start has turned it into "Started: job X in <#thread>"."""
    return await fake.wait_for(
        lambda: fake.message(preview.id) if "Started" in fake.message(preview.id).text() else None,
        timeout=15, what="the preview to say Started", seen=lambda: fake.message(preview.id).text())


async def test_storyboard_previews_then_start_makes_the_multiframe_video(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot, tmp_path: Path
) -> None:
    await start_bot()
    world = fake_discord.world
    opened = await open_form(fake_discord)
    assert opened.responses[0].type == 9  # the form is the first answer
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "frames": three_frames(), "prompts": "walks in\nsits down", "durations": "4,6", "resolution": ["540p"]})
    sent = time.monotonic()
    preview = await private_answer(fake_discord, submit)
    print(f"form acknowledged in {(submit.responses[0].at - submit.created_at) * 1000:.0f} ms; "
          f"preview after {time.monotonic() - sent:.2f} s")

    assert submit.responses[0].type == 5  # "thinking" at once, privately
    assert preview.ephemeral and preview.visible_to == world.alice.id
    assert preview.filenames == ["storyboard.png"]
    with Image.open(io.BytesIO(preview.attachments[0].content)) as picture:
        assert picture.width > picture.height  # three panels side by side
    assert "1. 4 s — walks in" in preview.text() and "2. 6 s — sits down" in preview.text()
    assert "10 s in all" in preview.text() and "540p" in preview.text() and "$" in preview.text()
    assert set(preview.custom_ids()) == {START, CANCEL}
    assert provider.requests_to("submit") == [] and fake_discord.threads(world.general) == []  # nothing yet
    assert stored_rows(tmp_path) == (0, 0)

    await fake_discord.press_button(world.alice, preview, START)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, lambda m: any(f.endswith(".mp4") for f in m.filenames), timeout=30)
    done = await started(fake_discord, preview)
    assert f"<#{thread.id}>" in done.text() and "job `" in done.text()
    assert done.custom_ids() == [] and done.attachments == []
    assert stored_rows(tmp_path)[0] == 1  # Start stored exactly one job

    (task,) = provider.tasks.values()
    body = task.body
    assert task.endpoint.endswith("multiframe") and body["resolution"] == "540p"
    assert [(s["prompt"], s["duration"]) for s in body["image_settings"]] == [("walks in", 4), ("sits down", 6)]
    colors = [color_of(body["start_image"]), *(color_of(s["key_image"]) for s in body["image_settings"])]
    assert [close_to(c, e) for c, e in zip(colors, (RED, GREEN, BLUE), strict=True)] == [True, True, True]
    card = fake_discord.messages(thread)[0]
    assert "walks in" in card.text() and card.filenames == ["picture-00.png", "picture-01.jpg", "picture-02.png"]


async def test_ten_pictures_with_one_prompt_line_and_no_durations(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    frames = [Upload(f"{n:02}.png", png(1280, 720, color=(n * 25, 120, 255 - n * 25))) for n in range(10)]
    preview, took = await preview_of(fake_discord, {"frames": frames, "prompts": "slow pan"})
    print(f"preview of 10 frames of 1280x720 after {took:.2f} s")
    assert "9. 5 s — slow pan" in preview.text() and "45 s in all" in preview.text()
    assert "720p" in preview.text()  # the default resolution
    with Image.open(io.BytesIO(preview.attachments[0].content)) as picture:
        assert picture.height > picture.width / 3  # two rows of five panels
    await fake_discord.press_button(fake_discord.world.alice, preview, START)
    await started(fake_discord, preview)
    await fake_discord.wait_for(lambda: provider.tasks or None, timeout=20, what="a provider task",
                                seen=lambda: str(provider.requests_to("submit")))
    (task,) = provider.tasks.values()
    assert [(s["prompt"], s["duration"]) for s in task.body["image_settings"]] == [("slow pan", 5)] * 9
    assert task.body["resolution"] == "720p"
    assert close_to(color_of(task.body["image_settings"][8]["key_image"]), (225, 120, 30))


async def test_cancel_on_the_preview_sends_nothing(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot, tmp_path: Path
) -> None:
    await start_bot()
    world = fake_discord.world
    preview, _ = await preview_of(fake_discord, {"frames": three_frames(), "durations": "5"})
    assert stored_rows(tmp_path) == (0, 0)  # the preview keeps the pictures in memory only
    press = await fake_discord.press_button(world.alice, preview, CANCEL)
    await fake_discord.wait_for_response(press, timeout=10)
    cancelled = fake_discord.message(preview.id)
    assert "Cancelled" in cancelled.text() and "nothing was charged" in cancelled.text()
    assert cancelled.custom_ids() == []  # no Start left to press
    with pytest.raises(FakeUsageError):
        await fake_discord.press_button(world.alice, cancelled, START)
    assert provider.requests_to("submit") == []
    assert fake_discord.threads(world.general) == []
    assert stored_rows(tmp_path) == (0, 0)


async def test_a_third_open_preview_closes_the_members_oldest(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot, tmp_path: Path
) -> None:
    """Open previews hold their pictures in memory: a member keeps two at most (MAX_OPEN_PREVIEWS_PER_MEMBER).
    The oldest is closed, saying why, and the newer two still start."""
    await start_bot()
    world = fake_discord.world
    previews = [(await preview_of(fake_discord, {"frames": three_frames(), "prompts": f"take {n}"}))[0]
                for n in range(3)]
    def oldest() -> SentMessage:
        return fake_discord.message(previews[0].id)

    first = await fake_discord.wait_for(lambda: oldest() if "Closed" in oldest().text() else None, timeout=15,
                                        what="the oldest preview to close", seen=lambda: oldest().text())
    assert "at most 2 stay open" in first.text() and "Nothing was sent or charged" in first.text()
    assert first.custom_ids() == [] and first.attachments == []
    with pytest.raises(FakeUsageError):
        await fake_discord.press_button(world.alice, first, START)
    for newer in previews[1:]:
        assert set(fake_discord.message(newer.id).custom_ids()) == {START, CANCEL}
    await fake_discord.press_button(world.alice, previews[2], START)
    await started(fake_discord, previews[2])
    assert stored_rows(tmp_path)[0] == 1  # only the pressed Start stored a job


async def test_bad_counts_and_a_bad_image_are_listed_in_one_private_message(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    frames = [Upload("start.png", png()), Upload("wide.png", png(900, 100)),
              Upload("notes.jpg", b"this is a text file, not a picture")]
    opened = await open_form(fake_discord)
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "frames": frames, "prompts": "one\ntwo\nthree", "durations": "4,9"})
    answer = await private_answer(fake_discord, submit)
    assert answer.ephemeral and answer.visible_to == world.alice.id
    assert "3 prompt lines given for 2 segments" in answer.text()
    assert "durations: 9 s is outside 2–7 s" in answer.text()
    assert "wide.png: 9:1 is wider than 4:1" in answer.text()
    assert "notes.jpg:" in answer.text()
    assert "4 problems" in answer.text() and "nothing was charged" in answer.text()
    assert answer.custom_ids() == []  # no preview, no Start
    assert len([i for i in [submit.original_message_id, *submit.followup_ids] if i]) == 1  # one message
    assert provider.requests_to("submit") == []
    assert fake_discord.threads(world.general) == []


async def test_the_preview_is_private_so_another_member_cannot_press_start(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    preview, _ = await preview_of(fake_discord, {"frames": three_frames()})
    assert preview.ephemeral and preview.visible_to == world.alice.id
    with pytest.raises(FakeUsageError, match="cannot see"):
        await fake_discord.press_button(world.bob, preview, START)
    assert provider.requests_to("submit") == [] and fake_discord.threads(world.general) == []
    # The preview is still alive for its owner.
    await fake_discord.press_button(world.alice, preview, START)
    await started(fake_discord, preview)


async def test_start_refused_by_a_full_queue_says_why_and_keeps_the_preview(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    preview, _ = await preview_of(fake_discord, {"frames": three_frames()})
    # While the member looks at the preview, the moderators close the queue (a queue full by then says the same;
    # a queue already full refuses the form itself, before its pictures are read).
    await run(fake_discord, world.mod, "config limits", queue=0)
    press = await fake_discord.press_button(world.alice, preview, START)
    refusal = await fake_discord.wait_for(
        lambda: next((fake_discord.message(i) for i in press.followup_ids if fake_discord.message(i).text()), None),
        timeout=15, what="a private refusal", seen=lambda: str(press.responses))
    assert refusal.ephemeral and refusal.visible_to == world.alice.id
    assert "waiting in the queue" in refusal.text()
    assert set(fake_discord.message(preview.id).custom_ids()) == {START, CANCEL}  # may press Start again later
    assert provider.requests_to("submit") == [] and fake_discord.threads(world.general) == []


async def test_private_storyboard_answers_in_a_private_thread(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    preview, _ = await preview_of(fake_discord, {"frames": three_frames(), "prompts": "a secret"}, private=True)
    assert "private thread" in preview.text()
    await fake_discord.press_button(world.alice, preview, START)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await started(fake_discord, preview)
    assert thread.type == 12 and world.alice.id in thread.thread_member_ids
    assert not any("a secret" in m.text() for m in fake_discord.messages(world.general))


class PreviewOnlyBot(commands.Bot):
    """A discord.py bot whose one command shows a StoryboardPreview with a 1-second lifetime: the real
    bot's ten minutes cannot be waited for, and a subprocess's clock cannot be advanced."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
        self.guild_id = guild_id
        self.ready = asyncio.Event()

    async def setup_hook(self) -> None:
        @app_commands.command(name="preview", description="A storyboard preview that expires at once")
        async def preview(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            params = MultiframeParams(prompts=("walks in", None), durations=(4, 6))
            intake = Intake(JobKind.MULTIFRAME, params, "720p", 10, False, "walks in")
            images = [JobInput(n, f"{n}.png", "image/png", png(color=c)) for n, c in enumerate((RED, GREEN, BLUE))]
            unscreened = Screening(wanted=False, screens=())
            await StoryboardPreview(self, interaction.user.id, intake, images, unscreened,
                                    timeout=1.0).send(interaction)

        guild = discord.Object(self.guild_id)
        self.tree.add_command(preview, guild=guild)
        await self.tree.sync(guild=guild)

    async def on_ready(self) -> None:
        self.ready.set()


async def test_an_unanswered_preview_expires_and_loses_its_buttons(
    fake_discord: FakeDiscord, provider: FakeProvider
) -> None:
    world = fake_discord.world
    restore = point_discord_py_at(fake_discord.api_base, fake_discord.gateway_url)
    bot = PreviewOnlyBot(world.guild.id)
    running = asyncio.create_task(bot.start(fake_discord.bot_token))
    try:
        await asyncio.wait_for(bot.ready.wait(), 15)
        ix = await fake_discord.slash(world.alice, "preview", channel=world.general)
        preview = await private_answer(fake_discord, ix)
        assert set(preview.custom_ids()) == {START, CANCEL} and "expires <t:" in preview.text()
        expired = await fake_discord.wait_for(
            lambda: fake_discord.message(preview.id) if "expired" in fake_discord.message(preview.id).text()
            else None, timeout=15, what="the preview to expire", seen=lambda: fake_discord.message(preview.id).text())
        assert "nothing was sent or charged" in expired.text()
        assert expired.custom_ids() == [] and expired.attachments == []
        with pytest.raises(FakeUsageError):
            await fake_discord.press_button(world.alice, expired, START)
        assert provider.requests_to("submit") == []
    finally:
        await asyncio.wait_for(bot.close(), 10)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(running, 10)
        restore()
        # The preview drew its picture in this process's image pool (bot.ui.preview.draw_storyboard), as the
        # bot's own close() would, stop it: left running, the next in-process bot of this test worker refused
        # to start ("the image pool has already started"; tests/quotas/test_admission.py in CI).
        await asyncio.wait_for(close_image_pool(), 30)



async def test_long_prompts_still_fit_the_preview_and_the_request_card(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    prompts = "\n".join([("a slow walk across the bridge at dusk " * 40)[:1500], "sits down " * 100])
    preview, _ = await preview_of(fake_discord, {"frames": three_frames(), "prompts": prompts})
    assert len(preview.text()) <= 2000 and "…" in preview.text()
    press = await fake_discord.press_button(world.alice, preview, START)

    def outcome() -> str | None:
        followups = [fake_discord.message(i).text() for i in press.followup_ids]
        started = fake_discord.message(preview.id).text()
        return started if "Started" in started else next((f for f in followups if f), None)

    answer = await fake_discord.wait_for(outcome, timeout=15, what="Started or an error",
                                         seen=lambda: str(press.responses))
    assert "Started" in answer, answer
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, lambda m: any(f.endswith(".mp4") for f in m.filenames), timeout=30)
    (task,) = provider.tasks.values()
    assert len(task.body["image_settings"][0]["prompt"]) == 1500  # the provider gets the whole prompt


async def test_a_blocked_member_is_refused_before_any_of_their_pictures_is_read(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    assert "blocked → " not in await run(fake_discord, world.mod, "mod block", member=world.alice)
    opened = await open_form(fake_discord)
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "frames": three_frames(), "prompts": "walks in\nsits down", "durations": "4,6", "resolution": ["540p"]})
    refused = await private_answer(fake_discord, submit)
    assert "paused your video requests" in refused.text(), refused.text()
    assert fake_discord.cdn.downloads == []  # the three pictures were never fetched
