"""/help: what the bot does, each command with an example, the limits, the member's own quota, and one
picture showing how keyframes become segments. Answered privately, in the member's language."""

from __future__ import annotations

import asyncio
import io
import math
from functools import lru_cache

import discord
from discord import app_commands
from discord.ext import commands
from PIL import Image, ImageDraw

from bot.app import ViduBot
from bot.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, locale_of, t
from bot.media.fonts import text_font
from bot.provider.models import FAST_DURATION_RANGE, SEGMENT_DURATION_RANGE, STARTEND_DURATION_RANGE
from bot.requests import MAX_KEYFRAMES, MIN_KEYFRAMES, STARTEND_KEYFRAMES
from bot.ui.fit import clip
from cogs.quota import describe_checks, member_checks

MB = 1024 * 1024
PICTURE_NAME = "keyframes-to-segments.png"

# The picture's colours follow bot/media/storyboard.py, so /help looks like the request cards.
BACKGROUND, CARD, TEXT, MUTED, ACCENT = (32, 34, 37), (47, 49, 54), (230, 230, 230), (160, 165, 170), (88, 101, 242)
FRAME_COLOURS = ((52, 120, 200), (70, 150, 110), (200, 120, 60))
# (segment number, seconds) under each arrow, in the reader's words (bot/media/fonts.py draws Chinese too).
SEGMENTS = ((1, 4), (2, 5))


def help_text(locale: str, *, max_mb: int, quota_lines: list[str] | None) -> str:
    low, high = STARTEND_KEYFRAMES + 1, MAX_KEYFRAMES + 1  # a storyboard: a start and an end, up to ten
    keys = {"low_keys": MIN_KEYFRAMES, "high_keys": MAX_KEYFRAMES}
    lines = [
        t("help.title", locale), t("help.about", locale), "",
        t("help.commands", locale),
        "• " + t("help.animate", locale),
        "• " + t("help.keyframes", locale, **keys),
        "• " + t("help.startend", locale),
        "• " + t("help.storyboard", locale, low=low, high=high),
        "• " + t("help.menu", locale),
        "• " + t("help.jobs", locale),
        "• " + t("help.quota", locale),
        "• " + t("help.settings", locale),
        "• " + t("help.help", locale),
        "", t("help.limits", locale),
        "• " + t("help.formats", locale, max_mb=max_mb),
        "• " + t("help.ratio", locale),
        "• " + t("help.durations", locale, fast_low=FAST_DURATION_RANGE[0], fast_high=FAST_DURATION_RANGE[1],
                 seg_low=SEGMENT_DURATION_RANGE[0], seg_high=SEGMENT_DURATION_RANGE[1],
                 se_low=STARTEND_DURATION_RANGE[0], se_high=STARTEND_DURATION_RANGE[1]),
        "• " + t("help.counts", locale, low=low, high=high, low_keys=STARTEND_KEYFRAMES, high_keys=MAX_KEYFRAMES),
        "", t("help.your_quota", locale),
        *(quota_lines if quota_lines is not None else [t("help.no_quota_in_dms", locale)]),
        "", t("help.picture", locale),
        t("help.moderators", locale),
    ]
    return clip("\n".join(lines))  # a member under many limits has many quota lines


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def segments_picture(locale: str = DEFAULT_LOCALE) -> bytes:
    """Start → keyframe 1 → keyframe 2, each arrow a segment with its number and seconds (Pillow: run it in a
    thread). The same for every member who reads `locale`, so it is drawn once per language."""
    frame_w, frame_h, gap, pad = 200, 130, 150, 24
    width = pad * 2 + len(FRAME_COLOURS) * frame_w + (len(FRAME_COLOURS) - 1) * gap
    height = pad * 2 + frame_h + 70
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    big, small = text_font(26), text_font(20)
    for index, colour in enumerate(FRAME_COLOURS):
        x = pad + index * (frame_w + gap)
        draw.rounded_rectangle((x, pad, x + frame_w, pad + frame_h), radius=10, fill=CARD, outline=colour, width=4)
        _figure(draw, x, pad, frame_w, frame_h, colour, step=index)
        badge = "S" if index == 0 else str(index)
        draw.rectangle((x, pad, x + 40, pad + 36), fill=ACCENT)
        big.draw(draw, (x + 20, pad + 18), badge, fill=TEXT, centred=True)
        if index < len(SEGMENTS):
            number, seconds = SEGMENTS[index]
            start, end = x + frame_w + 10, x + frame_w + gap - 10
            middle = pad + frame_h // 2
            draw.line((start, middle, end - 4, middle), fill=MUTED, width=5)
            draw.polygon(((end, middle), (end - 16, middle - 10), (end - 16, middle + 10)), fill=MUTED)
            big.draw(draw, ((start + end) // 2, middle - 22), t("picture.segment_number", locale, n=number),
                     fill=TEXT, centred=True)
            small.draw(draw, ((start + end) // 2, middle + 24), t("picture.seconds", locale, seconds=seconds),
                       fill=MUTED, centred=True)
    total = sum(seconds for _, seconds in SEGMENTS)
    parts = " + ".join(t("picture.total_part", locale, n=n, seconds=s) for n, s in SEGMENTS)
    small.draw(draw, (width // 2, pad + frame_h + 40), t("picture.total", locale, parts=parts, total=total),
               fill=TEXT, centred=True)
    out = io.BytesIO()
    sheet.save(out, "PNG", optimize=True)
    return out.getvalue()


def _figure(draw: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int, colour: tuple[int, int, int],
            step: int) -> None:
    """A ball that moves and grows from frame to frame: what a segment animates between two keyframes."""
    radius = 16 + step * 6
    cx = x + 60 + step * (w - 120) // 2
    cy = y + h - 12 - radius - int(math.sin(step * math.pi / 2) * 40)
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour)


class Help(commands.Cog):
    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What the bot does, its commands and limits, and your quota")
    async def help(self, interaction: discord.Interaction[ViduBot]) -> None:
        locale = locale_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        quota_lines = None
        if interaction.guild_id is not None:
            role_ids = [r.id for r in getattr(interaction.user, "roles", [])]
            checks = await member_checks(self.bot, interaction.guild_id, interaction.user.id, role_ids)
            quota_lines = await describe_checks(self.bot, checks, locale) or [t("quota.none_set", locale)]
        text = help_text(locale, max_mb=self.bot.settings.image_max_bytes // MB, quota_lines=quota_lines)
        picture = await asyncio.to_thread(segments_picture, locale)
        await interaction.followup.send(text, file=discord.File(io.BytesIO(picture), filename=PICTURE_NAME),
                                        ephemeral=True)


async def setup(bot: ViduBot) -> None:
    await bot.add_cog(Help(bot))
