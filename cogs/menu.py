"""The message menu "Apps → Animate": the pictures of any message become a video.

One picture asks for a prompt (img2video); two are a start and an end picture (start-end: a prompt line, a
duration and how much things move); three or more ask for one prompt line per segment (multiframe, in
attachment order). The pictures are read when the form is submitted, as the slash commands do.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.admission import Admission
from bot.app import ViduBot
from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.jobs.models import JobKind
from bot.member_settings import IMG2VIDEO_RULES, STARTEND_RULES, MemberSettings, choose
from bot.numbers import whole_number
from bot.params import Img2VideoParams
from bot.provider.models import FAST_DURATION_RANGE, FAST_RESOLUTIONS
from bot.requests import InputProblem, quoted, seconds_typed
from bot.safety import Screening
from bot.ui.base import ViduModal
from bot.ui.confirm import start_or_confirm
from bot.ui.intake import CheckedImage, Intake, admit, check_images, validate_request
from bot.ui.replies import Refused
from bot.ui.screening import screening_here
from cogs.storyboard import (
    MAX_IMAGES,
    MOVEMENTS,
    check_segment_request,
    choice_select,
    durations_input,
    left_to_default,
    prompts_input,
    resolution_select,
    segment_resolution_select,
    spoiler_checkbox,
    ticked,
)

Interaction = discord.Interaction[ViduBot]


def is_image(attachment: discord.Attachment) -> bool:
    kind = attachment.content_type or mimetypes.guess_type(attachment.filename)[0] or ""
    return kind.startswith("image/")


def not_animatable(pictures: int, others: int, locale: str = DEFAULT_LOCALE) -> str | None:
    """Why a message with this many pictures cannot be animated, or None when it can."""
    skipped = ""
    if others:
        other = t("menu.other", locale) if pictures else ""
        skipped = (t("menu.skipped_one", locale, other=other) if others == 1
                   else t("menu.skipped_many", locale, count=others, other=other))
    if pictures == 0:
        return t("menu.no_pictures", locale, skipped=skipped)
    if pictures > MAX_IMAGES:
        return t("menu.too_many", locale, count=pictures, skipped=skipped, high=MAX_IMAGES)
    return None


def parse_duration(text: str | None, locale: str = DEFAULT_LOCALE) -> int | None:
    """The seconds typed in the form; None when left empty (the member's default, else the bot's)."""
    low, high = FAST_DURATION_RANGE
    text = seconds_typed(text)
    if not text:
        return None
    value = whole_number(text)
    if value is None or not low <= value <= high:
        raise InputProblem(t("menu.field_duration", locale),
                           t("menu.bad_duration", locale, text=quoted(text, locale), low=low, high=high))
    return value


async def answer_with_job(bot: ViduBot, interaction: Interaction, intake: Intake, images: Sequence[CheckedImage],
                          screening: Screening, admission: Admission | None, *, confirm: bool) -> None:
    locale = locale_of(interaction)
    # (a Refused on the way: the form's on_error answers it)
    await start_or_confirm(bot, interaction, intake, images, screening=screening, admission=admission,
                           confirm=confirm,
                           answer=lambda job: t("answer.started", locale, job_id=job.id, thread_id=job.thread_id))


class AnimatePictureForm(ViduModal):
    """One picture: a prompt, a duration and a resolution, as /animate asks."""

    what = "the Animate form"

    def __init__(self, bot: ViduBot, picture: discord.Attachment, mine: MemberSettings,
                 locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(title=t("menu.picture_title", locale), custom_id="vidu:menu:animate", timeout=30 * 60)
        self.bot = bot
        self.picture = picture
        self.mine = mine
        self.locale = locale
        shown = choose(IMG2VIDEO_RULES, mine)  # the form opens on the member's defaults where they fit
        self.prompt = discord.ui.TextInput[AnimatePictureForm](
            custom_id="prompt", style=discord.TextStyle.paragraph, max_length=2000,
            placeholder=t("menu.prompt_placeholder", locale))
        self.duration = discord.ui.TextInput[AnimatePictureForm](
            custom_id="duration", required=False, max_length=3,
            placeholder=t("menu.duration_placeholder", locale, default=shown.duration))
        self.shown_resolution = shown.resolution
        self.resolution = resolution_select(FAST_RESOLUTIONS, shown.resolution)
        self.add_item(discord.ui.Label(text=t("menu.prompt_label", locale), component=self.prompt))
        self.add_item(discord.ui.Label(text=t("menu.duration_label", locale), component=self.duration))
        self.add_item(discord.ui.Label(text=t("form.resolution_label", locale), component=self.resolution))
        self.spoiler = spoiler_checkbox(locale)
        self.add_item(self.spoiler)

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        await interaction.response.defer(ephemeral=True, thinking=True)
        problems: list[str] = []
        duration = None
        try:
            duration = parse_duration(self.duration.value, self.locale)
        except InputProblem as problem:
            problems.append(problem.text(self.locale))
        # What the form leaves out (movement, private) or the member left as it opened: their defaults.
        c = choose(IMG2VIDEO_RULES, self.mine, locale=self.locale, given={
            "resolution": left_to_default(self.resolution, self.shown_resolution), "duration": duration})
        resolution = c.resolution
        prompt = self.prompt.value.strip()
        params = Img2VideoParams(prompt=prompt, duration=c.duration, resolution=resolution, movement=c.movement)
        intake = Intake(JobKind.IMG2VIDEO, params, resolution, c.duration, c.private, title=prompt,
                        spoiler=ticked(self.spoiler), notes=c.notes())
        admission = None
        images = []
        screening = await screening_here(self.bot, interaction)
        try:
            if not problems:  # the server's rules before the picture is read (a blocked member costs nothing)
                admission = await admit(self.bot, interaction, intake)
            images = await check_images(self.bot, [self.picture], self.locale, resolution=resolution,
                                        screening=screening)
        except Refused as refusal:  # listed with the form's own problems, in one answer
            problems += refusal.problems
        if problems:
            raise Refused.listing(problems, self.locale)
        validate_request(intake, images, self.locale)
        await answer_with_job(self.bot, interaction, intake, images, screening, admission, confirm=self.mine.confirms)


class AnimateSegmentsForm(ViduModal):
    """Three or more pictures: one prompt line and one duration per segment, in attachment order."""

    what = "the Animate form"

    def __init__(self, bot: ViduBot, pictures: Sequence[discord.Attachment], mine: MemberSettings,
                 locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(title=t("menu.pictures_title", locale, count=len(pictures)),
                         custom_id="vidu:menu:segments", timeout=30 * 60)
        self.bot = bot
        self.pictures = list(pictures)
        self.mine = mine
        self.locale = locale
        self.prompts = prompts_input(locale)
        self.durations = durations_input(locale)
        self.resolution, self.shown_resolution = segment_resolution_select(mine)
        # Two pictures (a start and an end) also choose how much things move: the start-end endpoint's own field,
        # opened on the member's default movement (/settings) when they have one.
        self.shown_movement = choose(STARTEND_RULES, mine).movement
        self.movement = choice_select("movement", MOVEMENTS, self.shown_movement) if len(pictures) == 2 else None
        segments = len(pictures) - 1
        self.add_item(discord.ui.Label(
            text=t("menu.segments_label", locale, segments=segments), component=self.prompts,
            description=t("menu.segments_help", locale)))
        self.add_item(discord.ui.Label(text=t("form.durations_label", locale), component=self.durations,
                                       description=t("form.durations_help", locale)))
        self.add_item(discord.ui.Label(text=t("form.resolution_label", locale), component=self.resolution))
        if self.movement is not None:
            self.add_item(discord.ui.Label(text=t("form.movement_label", locale), component=self.movement))
        self.spoiler = spoiler_checkbox(locale)  # (with two pictures' movement: five, a form's most)
        self.add_item(self.spoiler)

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        await interaction.response.defer(ephemeral=True, thinking=True)
        intake, images, admission, screening = await check_segment_request(
            self.bot, interaction, self.pictures, prompts=self.prompts.value, durations=self.durations.value,
            resolution=left_to_default(self.resolution, self.shown_resolution), private=None, mine=self.mine,
            movement=None if self.movement is None else left_to_default(self.movement, self.shown_movement),
            locale=self.locale, spoiler=ticked(self.spoiler),
        )
        await answer_with_job(self.bot, interaction, intake, images, screening, admission, confirm=self.mine.confirms)


class MessageMenu(commands.Cog):
    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot
        # Context menus cannot be decorated inside a cog class: build it here and add it to the tree.
        self.animate_menu = app_commands.guild_only(
            app_commands.ContextMenu(name="Animate", callback=self.animate_message))
        bot.tree.add_command(self.animate_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.animate_menu.name, type=self.animate_menu.type)

    async def animate_message(self, interaction: Interaction, message: discord.Message) -> None:
        pictures = [a for a in message.attachments if is_image(a)]
        locale = locale_of(interaction)
        refusal = not_animatable(len(pictures), len(message.attachments) - len(pictures), locale)
        if refusal is not None:
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        assert interaction.guild_id is not None  # guild-only
        mine = await self.bot.store.member_settings(interaction.guild_id, interaction.user.id)  # (one indexed read)
        form: ViduModal = (AnimatePictureForm(self.bot, pictures[0], mine, locale) if len(pictures) == 1
                           else AnimateSegmentsForm(self.bot, pictures, mine, locale))
        await interaction.response.send_modal(form)


async def setup(bot: ViduBot) -> None:
    await bot.add_cog(MessageMenu(bot))
