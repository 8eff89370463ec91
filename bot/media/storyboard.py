"""The storyboard picture of a request card: the input frames in order, numbered, with each segment's
duration and prompt under the keyframe that ends it. Pure Pillow; call it in a thread."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps

from bot.media.fonts import TextFont, text_font
from bot.media.palette import BACKGROUND, CARD, MUTED, TEXT
from bot.media.palette import BLURPLE as ACCENT


@dataclass(frozen=True)
class Panel:
    image: bytes
    title: str  # "Start", "1 · 4 s" (in the reader's language)
    caption: str | None = None  # the segment's prompt


def render_storyboard(panels: Sequence[Panel], *, thumb: int = 220, per_row: int = 5) -> bytes:
    """A PNG with one panel per frame, at most `per_row` to a row."""
    title_size, caption_size = max(12, thumb // 11), max(10, thumb // 14)
    title_font = text_font(title_size)
    caption_font = text_font(caption_size)
    caption_lines = 3
    line_height = caption_size + 4
    pad = max(8, thumb // 20)
    panel_w, panel_h = thumb, thumb + title_size + pad + caption_lines * line_height
    columns = min(per_row, max(1, len(panels)))
    rows = (len(panels) + columns - 1) // columns
    sheet = Image.new("RGB", (pad + columns * (panel_w + pad), pad + rows * (panel_h + pad)), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for index, panel in enumerate(panels):
        x = pad + (index % columns) * (panel_w + pad)
        y = pad + (index // columns) * (panel_h + pad)
        draw.rectangle((x, y, x + panel_w - 1, y + panel_h - 1), fill=CARD)
        with Image.open(io.BytesIO(panel.image)) as source:
            frame = ImageOps.contain(source.convert("RGB"), (thumb, thumb))
        sheet.paste(frame, (x + (thumb - frame.width) // 2, y + (thumb - frame.height) // 2))
        badge = str(index) if index else "S"
        draw.rectangle((x, y, x + title_size * 2, y + title_size + pad // 2), fill=ACCENT)
        title_font.draw(draw, (x + pad // 2, y + pad // 4), badge, fill=TEXT)
        title_font.draw(draw, (x + pad // 2, y + thumb + pad // 2), panel.title, fill=TEXT)
        if panel.caption:
            lines = wrap_to_width(panel.caption, caption_font, thumb - pad, caption_lines)
            for n, line in enumerate(lines):
                caption_font.draw(draw, (x + pad // 2, y + thumb + title_size + pad + n * line_height), line,
                                  fill=MUTED)
    out = io.BytesIO()
    sheet.save(out, "PNG", optimize=True)
    return out.getvalue()


def wrap_to_width(text: str, font: TextFont, width: float, max_lines: int) -> list[str]:
    """`text` in lines that fit `width` pixels, at most `max_lines` (the last ends in "…" when cut).
    Breaks at spaces where there are some, anywhere in text without them (Chinese has none)."""
    words = " ".join(text.split())
    lines: list[str] = []
    line = ""
    for char in words:
        if font.getlength(line + char) <= width:
            line += char
            continue
        space = line.rfind(" ")
        if char != " " and space > 0:  # carry the unfinished word over to the next line
            lines.append(line[:space])
            line = line[space + 1:] + char
        else:
            lines.append(line)
            line = "" if char == " " else char
        if len(lines) > max_lines:
            break  # cut here: the rest is never drawn (measuring it took seconds for a 2000-character prompt)
    else:
        if line:
            lines.append(line)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return lines


def panels_for(images: Sequence[bytes], prompts: Sequence[str | None], durations: Sequence[int], *,
               start: str, segment: Callable[[int, int], str]) -> list[Panel]:
    """Panels of a request: the start frame, then each keyframe with the segment it ends. The titles are the
    reader's words: `start` ("Start", "起始帧") and `segment(n, seconds)` ("1 · 4 s", "第 1 段 · 4 秒")."""
    panels = [Panel(images[0], start)]
    for n, (image, prompt, duration) in enumerate(zip(images[1:], prompts, durations, strict=True), start=1):
        panels.append(Panel(image, segment(n, duration), prompt))
    return panels
