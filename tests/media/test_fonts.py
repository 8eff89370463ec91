"""Text in our pictures is readable in Chinese too: prompts on storyboards, member names on usage charts."""

from __future__ import annotations

import io

from PIL import Image, ImageFont

from bot.media.charts import Bar, usage_chart
from bot.media.fonts import cjk_font_path, text_font
from bot.media.storyboard import Panel, render_storyboard, wrap_to_width


def glyph(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str) -> bytes:
    return bytes(font.getmask(char))


def test_chinese_characters_are_drawn_as_themselves_not_as_empty_boxes() -> None:
    assert cjk_font_path() is not None, "no CJK font: install fonts-wqy-microhei (.ci/run and the Dockerfile do)"
    font = text_font(20)
    cat, dog = glyph(font, "猫"), glyph(font, "狗")
    assert cat != dog and any(cat)
    # The built-in font draws both as the same box: what members saw before.
    builtin = ImageFont.load_default(size=20)
    assert glyph(builtin, "猫") == glyph(builtin, "狗")


def test_a_chinese_caption_wraps_inside_the_panel_and_says_when_it_was_cut() -> None:
    font = text_font(14)
    prompt = "一只橘猫在窗台上伸懒腰，然后跳下来追着阳光里的灰尘跑来跑去，最后躺在地毯上睡着了"
    lines = wrap_to_width(prompt, font, 150, 3)
    assert len(lines) == 3
    assert all(font.getlength(line) <= 150 for line in lines)
    assert lines[-1].endswith("…")
    assert "".join(lines).rstrip("…") == prompt[: len("".join(lines)) - 1]  # nothing skipped, only the end cut


def test_an_english_caption_breaks_between_words() -> None:
    font = text_font(14)
    lines = wrap_to_width("the cat stretches on the windowsill and jumps down", font, 120, 5)
    assert " ".join(lines) == "the cat stretches on the windowsill and jumps down"
    assert all(font.getlength(line) <= 120 for line in lines)


def test_a_storyboard_with_chinese_prompts_and_a_chart_with_chinese_names_render() -> None:
    frame = io.BytesIO()
    Image.new("RGB", (160, 90), (40, 90, 160)).save(frame, "PNG")
    png = render_storyboard([Panel(frame.getvalue(), "Start"), Panel(frame.getvalue(), "1 · 4 s", "猫在挥手")])
    assert Image.open(io.BytesIO(png)).size[0] > 0
    chart = usage_chart("本月用量", [Bar("小明", videos=3, seconds=15)])
    assert Image.open(io.BytesIO(chart)).format == "PNG"
