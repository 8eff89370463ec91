"""The /quota usage picture: a horizontal bar chart of the top members' credits, seconds and videos. Pure Pillow.

Every word on it comes from the caller, in the reader's language (bot/media never reads the catalogs)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.media.fonts import text_font
from bot.media.palette import BACKGROUND, BLURPLE, GREEN, MUTED, TEXT, YELLOW

SECONDS = BLURPLE
VIDEOS = GREEN
CREDITS = YELLOW


@dataclass(frozen=True)
class Bar:
    label: str
    videos: int
    seconds: int
    credits: int = 0  # estimated cost, in thousandths of a dollar (bot.pricing): the bar's length
    credits_label: str = ""  # the same, as the caller writes money in the reader's language: drawn beside the bar
    seconds_label: str = ""  # the seconds as the reader writes them ("15 s", "15 秒"), beside their bar
    videos_label: str = ""  # the videos likewise ("1 video", "1 个视频")


@dataclass(frozen=True)
class ChartWords:
    """The legend and the empty chart's sentence, in the reader's language."""

    credits: str
    seconds: str
    videos: str
    empty: str


def usage_chart(title: str, bars: Sequence[Bar], words: ChartWords, *, width: int = 900) -> bytes:
    """A PNG: one row per member, a bar for credits, one for seconds and a thinner one for videos, each scaled
    to its max."""
    font = text_font(18)
    small = text_font(14)
    row_h, top, left, right = 64, 56, 220, 120
    height = top + max(1, len(bars)) * row_h + 20
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font.draw(draw, (16, 14), title, fill=TEXT)
    # The legend, right-aligned: each entry as wide as its words.
    x = width - 16.0
    for text, colour in reversed(((words.credits, CREDITS), (words.seconds, SECONDS), (words.videos, VIDEOS))):
        x -= small.getlength(f"■ {text}")
        small.draw(draw, (x, 18), f"■ {text}", fill=colour)
        x -= 24
    if not bars:
        font.draw(draw, (16, top + 10), words.empty, fill=MUTED)
    most_seconds = max((b.seconds for b in bars), default=0) or 1
    most_videos = max((b.videos for b in bars), default=0) or 1
    most_credits = max((b.credits for b in bars), default=0) or 1
    span = width - left - right
    for n, bar in enumerate(bars):
        y = top + n * row_h
        label = bar.label if len(bar.label) <= 22 else bar.label[:21] + "…"
        font.draw(draw, (16, y + 8), label, fill=TEXT)
        credits_w = max(2, round(span * bar.credits / most_credits))
        seconds_w = max(2, round(span * bar.seconds / most_seconds))
        videos_w = max(2, round(span * bar.videos / most_videos))
        draw.rectangle((left, y + 6, left + credits_w, y + 22), fill=CREDITS)
        draw.rectangle((left, y + 26, left + seconds_w, y + 40), fill=SECONDS)
        draw.rectangle((left, y + 44, left + videos_w, y + 52), fill=VIDEOS)
        small.draw(draw, (left + credits_w + 8, y + 6), bar.credits_label, fill=TEXT)
        small.draw(draw, (left + seconds_w + 8, y + 25), bar.seconds_label, fill=TEXT)
        small.draw(draw, (left + videos_w + 8, y + 40), bar.videos_label, fill=MUTED)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
