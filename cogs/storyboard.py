"""/storyboard: a form (modal) for 2-10 images (two: a start and an end picture) with one prompt line and one
duration per segment, then a private preview; only its Start button spends anything.

The segment fields (prompt lines, durations, resolution) and their checks are shared with the message
menu "Apps → Animate" (cogs/menu.py), so both forms read and refuse the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.admission import Admission
from bot.app import ViduBot
from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.media import PreparedImage
from bot.member_settings import MULTIFRAME_RULES, MemberSettings, choose
from bot.provider.models import MULTIFRAME_RESOLUTIONS
from bot.requests import (
    MAX_KEYFRAMES,
    STARTEND_KEYFRAMES,
    InputProblem,
    check_keyframe_count,
    split_durations,
    split_prompts,
)
from bot.safety import Screening
from bot.ui.base import ViduModal
from bot.ui.intake import Intake, admit, check_images, fit_pictures, keyframes_with_defaults, validate_request
from bot.ui.preview import StoryboardPreview
from bot.ui.replies import Refused
from bot.ui.screening import screening_here

log = logging.getLogger("cogs.storyboard")
Interaction = discord.Interaction[ViduBot]

# A start frame, then the keyframes: one (the end picture: start-end) to MAX_KEYFRAMES.
MIN_IMAGES, MAX_IMAGES = STARTEND_KEYFRAMES + 1, MAX_KEYFRAMES + 1
DEFAULT_RESOLUTION = "720p"
PROMPTS_MAX_CHARS = 4000
SPOILER_HELP = "Post your pictures and the video behind a spoiler"
NO_SETTINGS = MemberSettings()


# ------------------------------------------------------------------ form fields shared with the menu
def prompts_input(locale: str = DEFAULT_LOCALE) -> discord.ui.TextInput[Any]:
    return discord.ui.TextInput(
        custom_id="prompts", style=discord.TextStyle.paragraph, required=False, max_length=PROMPTS_MAX_CHARS,
        placeholder=t("form.prompts_placeholder", locale),
    )


def durations_input(locale: str = DEFAULT_LOCALE) -> discord.ui.TextInput[Any]:
    return discord.ui.TextInput(custom_id="durations", required=False, max_length=60,
                                placeholder=t("form.durations_placeholder", locale))


MOVEMENTS = ("auto", "small", "medium", "high")  # the bot's words, as /animate offers them


def choice_select(custom_id: str, choices: Sequence[str], default: str) -> discord.ui.Select[Any]:
    options = [discord.SelectOption(label=c, value=c, default=c == default) for c in choices]
    return discord.ui.Select(custom_id=custom_id, options=options, required=False)


def resolution_select(choices: Sequence[str], default: str = DEFAULT_RESOLUTION) -> discord.ui.Select[Any]:
    return choice_select("resolution", choices, default)


def spoiler_checkbox(locale: str = DEFAULT_LOCALE) -> discord.ui.Label[Any]:
    """The forms' "behind a spoiler" box (unticked), in a label; its value is the Checkbox's."""
    return discord.ui.Label(text=t("form.spoiler_label", locale), description=t("form.spoiler_help", locale),
                            component=discord.ui.Checkbox(custom_id="spoiler"))


def ticked(label: discord.ui.Label[Any]) -> bool:
    return isinstance(label.component, discord.ui.Checkbox) and label.component.value


def chosen(select: discord.ui.Select[Any], default: str = DEFAULT_RESOLUTION) -> str:
    return select.values[0] if select.values else default


def prompt_lines(text: str | None, segments: int, locale: str = DEFAULT_LOCALE) -> list[str | None]:
    """One line per segment; a single line is the prompt of every segment (or `a | b`, as in /keyframes)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) <= 1:
        return split_prompts(lines[0] if lines else None, segments)
    if len(lines) != segments:
        raise InputProblem(t("form.field_prompts", locale),
                           t("form.prompt_line_count", locale, lines=len(lines), segments=segments))
    return list(lines)


def segment_intake(*, images: int, prompts: str | None, durations: str | None, resolution: str | None,
                   private: bool | None, movement: str | None = None, mine: MemberSettings = NO_SETTINGS,
                   locale: str = DEFAULT_LOCALE, spoiler: bool = False) -> tuple[Intake | None, list[str]]:
    """The request a form describes (two pictures: start-end; more: multiframe), or every problem with its
    fields (all of them, at once). `resolution`, `movement`, `private` and empty `durations` left out (None)
    take the member's defaults (`mine`) where the kind takes them."""
    segments = images - 1
    problems: list[str] = []
    try:
        check_keyframe_count(segments)
    except InputProblem:
        return None, [t("form.picture_count", locale, given=images, low=MIN_IMAGES, high=MAX_IMAGES,
                        low_keys=STARTEND_KEYFRAMES, high_keys=MAX_KEYFRAMES)]
    segment_prompts: list[str | None] = []
    typed: list[int] | None = None
    try:
        segment_prompts = prompt_lines(prompts, segments, locale)
    except InputProblem as problem:
        problems.append(problem.text(locale))
    try:
        typed = split_durations(durations, segments) if durations and durations.strip() else None
    except InputProblem as problem:
        problems.append(problem.text(locale))
    if problems:
        return None, problems
    try:
        intake = keyframes_with_defaults(mine, segment_prompts, typed, resolution=resolution, movement=movement,
                                         private=private, locale=locale, spoiler=spoiler)
    except InputProblem as problem:
        return None, [problem.text(locale)]
    return intake, problems


async def check_segment_request(
    bot: ViduBot, interaction: Interaction, attachments: Sequence[discord.Attachment], *, prompts: str | None,
    durations: str | None, resolution: str | None, private: bool | None, mine: MemberSettings,
    movement: str | None = None, locale: str = DEFAULT_LOCALE, spoiler: bool = False,
) -> tuple[Intake, list[PreparedImage], Admission | None, Screening]:
    """Check the form's fields, then the server's rules (before any picture is read: a blocked member or a
    used-up quota costs no download), then every picture; raise Refused listing every problem found."""
    intake, problems = segment_intake(images=len(attachments), prompts=prompts, durations=durations,
                                      resolution=resolution, private=private, movement=movement, mine=mine,
                                      locale=locale, spoiler=spoiler)
    admission = await admit(bot, interaction, intake) if intake is not None and not problems else None
    images: list[PreparedImage] = []
    screening = await screening_here(bot, interaction)  # carried to the card: only screened pictures show there
    if MIN_IMAGES <= len(attachments) <= MAX_IMAGES:
        try:
            images = await check_images(bot, attachments, locale, screening=screening,
                                        resolution=intake.resolution if intake else resolution or DEFAULT_RESOLUTION)
        except Refused as refusal:  # listed with the form's own problems, in one answer
            problems += refusal.problems
    if intake is None or problems:
        raise Refused.listing(problems, locale)
    intake, images = await fit_pictures(bot, intake, images, locale)
    validate_request(intake, images, locale)
    return intake, images, admission, screening


def left_to_default(select: discord.ui.Select[Any], shown: str) -> str | None:
    """A form's resolution: None when the member left the one it opened with (their default, or the bot's)."""
    value = chosen(select, shown)
    return None if value == shown else value


def segment_resolution_select(mine: MemberSettings) -> tuple[discord.ui.Select[Any], str]:
    """The resolution select of a keyframes form, opened on the member's default (when keyframes take it)."""
    shown = choose(MULTIFRAME_RULES, mine).resolution
    return resolution_select(MULTIFRAME_RESOLUTIONS, shown), shown


# ------------------------------------------------------------------ /storyboard
class StoryboardForm(ViduModal):
    what = "the /storyboard form"

    def __init__(self, bot: ViduBot, *, private: bool | None, mine: MemberSettings,
                 locale: str = DEFAULT_LOCALE, spoiler: bool = False) -> None:
        super().__init__(title=t("form.storyboard_title", locale), custom_id="vidu:storyboard", timeout=30 * 60)
        self.bot = bot
        self.private = private
        self.spoiler = spoiler
        self.mine = mine
        self.locale = locale
        self.frames = discord.ui.FileUpload[StoryboardForm](
            custom_id="frames", min_values=MIN_IMAGES, max_values=MAX_IMAGES)
        self.prompts = prompts_input(locale)
        self.durations = durations_input(locale)
        self.resolution, self.shown_resolution = segment_resolution_select(mine)
        self.add_item(discord.ui.Label(
            text=t("form.pictures_label", locale, low=MIN_IMAGES, high=MAX_IMAGES), component=self.frames,
            description=t("form.pictures_help", locale)))
        self.add_item(discord.ui.Label(text=t("form.prompts_label", locale), component=self.prompts,
                                       description=t("form.prompts_help", locale)))
        self.add_item(discord.ui.Label(text=t("form.durations_label", locale), component=self.durations,
                                       description=t("form.durations_help", locale)))
        self.add_item(discord.ui.Label(text=t("form.resolution_label", locale), component=self.resolution))

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        started = time.monotonic()
        await interaction.response.defer(ephemeral=True, thinking=True)
        intake, images, _, screening = await check_segment_request(  # (Start admits again: time passes in between)
            self.bot, interaction, self.frames.values, prompts=self.prompts.value,
            durations=self.durations.value, resolution=left_to_default(self.resolution, self.shown_resolution),
            private=self.private, mine=self.mine, locale=self.locale, spoiler=self.spoiler,
        )
        preview = StoryboardPreview(self.bot, interaction.user.id, intake, images, screening,
                                    locale=self.locale)
        await preview.send(interaction)
        log.info("storyboard preview for user %s: %d frames, shown after %.0f ms", interaction.user.id,
                 len(images), (time.monotonic() - started) * 1000)


class Storyboard(commands.Cog):
    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot

    @app_commands.command(name="storyboard",
                          description="Upload 2-10 pictures at once, one prompt per segment; preview before it starts")
    @app_commands.guild_only()
    @app_commands.describe(private="Answer in a private thread (you and the moderators)", spoiler=SPOILER_HELP)
    async def storyboard(self, interaction: Interaction, private: bool | None = None, spoiler: bool = False) -> None:
        assert interaction.guild_id is not None
        # A modal can only be the first answer to an interaction: nothing may be deferred before it (the
        # member's defaults are one indexed read, well inside Discord's 3 seconds).
        mine = await self.bot.store.member_settings(interaction.guild_id, interaction.user.id)
        await interaction.response.send_modal(StoryboardForm(self.bot, private=private, mine=mine,
                                                             locale=locale_of(interaction), spoiler=spoiler))


async def setup(bot: ViduBot) -> None:
    await bot.add_cog(Storyboard(bot))
