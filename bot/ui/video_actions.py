"""The buttons under a finished video: Re-roll (same inputs, new seed) and Extend (the video's last frame
starts a new request). Both survive restarts (job id in the custom_id) and go through the same intake as
a slash command, so every check and limit applies to them too."""

from __future__ import annotations

import logging
import random
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from bot.admission import Admission
from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.i18n.images import image_problem_text
from bot.jobs.models import Job, JobKind
from bot.jobs.review import was_removed
from bot.jobs.states import CHARGED_ENDINGS, JobState
from bot.media import ImageLimits, ImageProblem, prepare_image_async
from bot.media.video import last_frame
from bot.numbers import whole_number
from bot.params import Img2VideoParams
from bot.provider import ProviderError
from bot.provider.models import FAST_DURATION_RANGE, FAST_RESOLUTIONS
from bot.requests import quoted, seconds_typed
from bot.ui.base import ViduModal, ViduView
from bot.ui.buttons import JOB_ID, load_managed_job, queue_buttons
from bot.ui.cards import Card, status_card
from bot.ui.confirm import start_or_confirm
from bot.ui.intake import Intake, admit, validate_request
from bot.ui.replies import Refused, answers_errors
from bot.ui.reports import ReportButton
from bot.ui.screening import screen_images, screening_here
from bot.ui.takedown import TakeDownButton, refuse_if_removed

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.ui")
MAX_SEED = 2**31 - 1


class RerollButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"vidu:reroll:{JOB_ID}"):
    def __init__(self, job_id: str, *, label: str | None = None) -> None:
        super().__init__(discord.ui.Button(label=label or t("button.reroll", DEFAULT_LOCALE), emoji="🎲",
                                           style=discord.ButtonStyle.primary,
                                           custom_id=f"vidu:reroll:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> RerollButton:
        return cls(match["job_id"])

    @answers_errors("the Re-roll button")
    async def callback(self, interaction: discord.Interaction[ServiceBot]) -> None:  # type: ignore[override]
        job = await load_managed_job(interaction, self.job_id)
        if job is None:
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = interaction.client
        locale = locale_of(interaction)
        await refuse_if_removed(bot, job, locale)  # (before its inputs: a take-down dropped them)
        inputs = await bot.store.get_inputs(job.id)
        if not inputs:
            await interaction.followup.send(t("reroll.no_inputs", locale), ephemeral=True)
            return
        params = job.params
        if isinstance(params, Img2VideoParams):
            params = params.with_seed(random.randint(0, MAX_SEED))  # multiframe has no seed: the provider varies
        intake = Intake(job.kind, params, job.resolution, job.duration_seconds, job.private,
                        title=t("title.reroll", locale, job_id=job.id), spoiler=job.spoiler)
        await _start(interaction, intake, inputs, parent=job, verb="Re-rolling")


class ExtendButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"vidu:extend:{JOB_ID}"):
    def __init__(self, job_id: str, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(discord.ui.Button(label=t("button.extend", locale), emoji="⏩",
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=f"vidu:extend:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ExtendButton:
        return cls(match["job_id"])

    @answers_errors("the Extend button")
    async def callback(self, interaction: discord.Interaction[ServiceBot]) -> None:  # type: ignore[override]
        job = await load_managed_job(interaction, self.job_id)
        if job is None:
            return
        await refuse_if_removed(interaction.client, job, locale_of(interaction))
        if job.state is not JobState.DELIVERED:
            await interaction.response.send_message(t("extend.only_finished", locale_of(interaction)),
                                                    ephemeral=True)
            return
        await interaction.response.send_modal(ExtendModal(job, locale_of(interaction)))


class ExtendModal(ViduModal):
    what = "the Extend form"

    def __init__(self, job: Job, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(title=t("extend.title", locale), custom_id="vidu:extend-form", timeout=15 * 60)
        self.job = job
        self.locale = locale
        previous = next((p for p in reversed(job.params.prompts) if p), "")  # the last segment's prompt
        self.prompt: discord.ui.TextInput[ExtendModal] = discord.ui.TextInput(
            custom_id="prompt", style=discord.TextStyle.paragraph, default=previous[:2000] or None, max_length=2000)
        self.duration: discord.ui.TextInput[ExtendModal] = discord.ui.TextInput(
            custom_id="duration", default="5", max_length=2)
        self.add_item(discord.ui.Label(text=t("extend.prompt_label", locale), component=self.prompt))
        self.add_item(discord.ui.Label(text=t("extend.seconds_label", locale), component=self.duration))

    async def on_submit(self, interaction: discord.Interaction[ServiceBot]) -> None:  # type: ignore[override]
        await interaction.response.defer(ephemeral=True, thinking=True)
        job, bot, locale = self.job, interaction.client, self.locale
        text = seconds_typed(self.duration.value)
        low, high = FAST_DURATION_RANGE
        seconds = whole_number(text)
        if seconds is None or not low <= seconds <= high:
            await interaction.followup.send(
                t("extend.bad_seconds", locale, text=quoted(text, locale), low=low, high=high), ephemeral=True)
            return
        resolution = job.resolution if job.resolution in FAST_RESOLUTIONS else "720p"
        params = Img2VideoParams(prompt=self.prompt.value.strip(), duration=seconds, resolution=resolution)
        intake = Intake(JobKind.IMG2VIDEO, params, resolution, seconds, job.private,
                        title=t("title.extension", locale, job_id=job.id), spoiler=job.spoiler)
        # The member's rights and limits first: a refused Extend reads no video and runs no ffmpeg.
        admission = await admit(bot, interaction, intake)
        frame = await _last_frame_of(bot, job, locale)
        # The frame is the provider's, from a video that may have been posted unscreened: screened like a
        # member's picture before it starts anything or shows on a card.
        await _start(interaction, intake, [frame], parent=job, verb="Extending", admission=admission)


async def _last_frame_of(bot: ServiceBot, job: Job, locale: str) -> Any:
    """The delivered video's last frame, checked like any member's image."""
    with tempfile.TemporaryDirectory(dir=bot.worker.workdir) as folder:
        video = Path(folder) / "video.mp4"
        await _fetch_video(bot, job, video, locale)
        png = await last_frame(video)
    if png is None:  # the member reads a plain sentence; the operator, what to look at
        log.warning("Extend of job %s: no last frame could be read from its video (ffmpeg missing, see the "
                    "imageio-ffmpeg package, or the video is unreadable)", job.id)
        raise Refused(t("extend.no_frame", locale))
    try:
        return await prepare_image_async(png, f"{job.id}-last-frame.png", ImageLimits(
            max_bytes=bot.settings.image_max_bytes, max_pixels=bot.settings.image_max_pixels,
            data_uri_budget=bot.settings.image_data_uri_budget))
    except ImageProblem as problem:
        raise Refused(image_problem_text(problem, locale)) from None


async def _fetch_video(bot: ServiceBot, job: Job, dest: Path, locale: str) -> None:
    """The posted attachment (Discord's CDN) if there is one, else the provider's link while it lives."""
    if job.thread_id and job.delivered_message_id:
        try:
            channel = bot.get_channel(job.thread_id) or await bot.fetch_channel(job.thread_id)
            message = await channel.fetch_message(job.delivered_message_id)  # type: ignore[union-attr]
            videos = [a for a in message.attachments if a.filename.endswith(".mp4")]
            if videos and videos[0].size <= bot.settings.video_max_bytes:
                # Streamed to disk, never whole in memory: the CDN link is signed like the provider's, so the
                # same download (size cap, checked to be a video, nothing left behind on failure) reads it.
                await bot.provider.download_video(videos[0].url, dest, max_bytes=bot.settings.video_max_bytes,
                                                  timeout=bot.settings.video_download_timeout_seconds)
                return
        except (discord.HTTPException, ProviderError):
            log.warning("job %s: could not read the posted video back", job.id)
    if job.video_url:
        try:
            await bot.provider.download_video(job.video_url, dest, max_bytes=bot.settings.video_max_bytes,
                                              timeout=bot.settings.video_download_timeout_seconds)
            return
        except ProviderError:
            pass
    raise Refused(t("extend.gone", locale))


async def _start(interaction: discord.Interaction[ServiceBot], intake: Intake, images: list[Any], *, parent: Job,
                 verb: str, admission: Admission | None = None) -> None:
    """A new request from a finished (or failed) job's inputs: screened again, checked, then started, or asked
    to confirm its cost first (the member's /settings). `verb` names it in the log ("Re-rolling") and picks
    the member's answer."""
    bot = interaction.client
    locale = locale_of(interaction)
    await refuse_if_removed(bot, parent, locale)  # its posts were taken down: never posted again this way
    # The server's rules (quota, blocklist, AutoMod) first: the cheapest refusal, before the pictures are screened.
    admission = admission or await admit(bot, interaction, intake)
    # Stored pictures are screened again (a few tens of ms each): the server's policy, the channel or the
    # installed screens may have changed since, and a job from before screening was never looked at.
    screening = await screening_here(bot, interaction)
    flagged = await screen_images(images, screening, locale)
    if flagged:
        raise Refused.listing(flagged, locale)
    validate_request(intake, images, locale)  # a Refused here or in start_job: answer_error tells the member
    key = STARTED[verb]
    user_id = interaction.user.id

    def answer(new: Job) -> str:
        log.info("job %s: %s of job %s by user %s", new.id, verb.lower(), parent.id, user_id)
        return t(key, locale, parent_id=parent.id, job_id=new.id, thread_id=new.thread_id)

    mine = await bot.store.member_settings(parent.guild_id, user_id)
    await start_or_confirm(bot, interaction, intake, images, screening=screening, admission=admission,
                           answer=answer, confirm=mine.confirms, parent_job_id=parent.id)


STARTED = {"Re-rolling": "reroll.started", "Extending": "extend.started", "Remixing": "remix.started"}


def video_buttons(job: Job) -> list[discord.ui.Item[Any]]:
    """Under a delivered video: Re-roll, Extend and Remix (bot/ui/remix.py); Remove and Report
    (bot/ui/takedown.py, reports.py). Five buttons: one row of Discord's."""
    from bot.ui.remix import RemixButton  # (remix.py builds on this module's _start)

    return [RerollButton(job.id, label=t("button.reroll", job.locale)), ExtendButton(job.id, job.locale),
            RemixButton(job.id, job.locale), TakeDownButton(job.id, job.locale), ReportButton(job.id, job.locale)]


def status_buttons(job: Job) -> list[discord.ui.Item[Any]]:
    """The buttons of a status card: Cancel while queued; Try again after a failure or a time-out
    (the same inputs, which are kept for a while; a refused request would only be refused again). None after the
    moderators removed a flagged video: asking again from its card is not offered."""
    if job.state in (JobState.FAILED, JobState.EXPIRED) and not was_removed(job):
        # After a charged ending the member already paid once: the button says this one is paid again.
        label = "button.try_again_charged" if job.state in CHARGED_ENDINGS else "button.try_again"
        return [RerollButton(job.id, label=t(label, job.locale))]
    return queue_buttons(job)


def job_status_card(job: Job, text: str) -> Card:
    """A job's status card (or its end notice) with the buttons its state offers."""
    return status_card(job, text, status_buttons(job))


def status_view(job: Job) -> ViduView | None:
    """The status buttons under a text message (/jobs, which answers privately in plain text)."""
    buttons = status_buttons(job)
    if not buttons:
        return None
    view = ViduView(timeout=None)
    for button in buttons:
        view.add_item(button)
    return view
