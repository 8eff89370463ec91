"""Text in our pictures is readable in Chinese too: prompts on storyboards, member names on usage charts.

The fonts come with `pip install` (weblate-fonts): nothing here needs or looks for a system font."""

from __future__ import annotations

import io
from pathlib import Path

import weblate_fonts
from PIL import Image, ImageDraw, ImageFont

from bot.media.charts import Bar, ChartWords, usage_chart
from bot.media.fonts import FONT_FILES, font_paths, text_font
from bot.media.storyboard import Panel, render_storyboard, wrap_to_width


def glyph(face: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str) -> bytes:
    return bytes(face.getmask(char))


def test_the_fonts_are_the_packaged_ones_not_the_systems() -> None:
    package = Path(weblate_fonts.__file__).parent
    assert [p.name for p in font_paths()] == list(FONT_FILES)
    assert all(p.is_relative_to(package) for p in font_paths())
    assert [getattr(face, "path", None) for face in text_font(20).faces] == [str(p) for p in font_paths()]


def test_chinese_characters_are_drawn_as_themselves_not_as_empty_boxes() -> None:
    font = text_font(20)
    cat, dog = glyph(font.face_for("猫"), "猫"), glyph(font.face_for("狗"), "狗")
    assert cat != dog and any(cat)
    # The built-in font draws both as the same box: what members saw before.
    builtin = ImageFont.load_default(size=20)
    assert glyph(builtin, "猫") == glyph(builtin, "狗")


def test_each_script_is_drawn_by_a_face_that_has_it() -> None:
    font = text_font(20)
    samples = {"latin": "A", "chinese": "猫", "traditional": "貓", "kana": "さ", "hangul": "한", "arabic": "م"}
    faces = {name: font.face_for(char) for name, char in samples.items()}
    for name, char in samples.items():
        assert glyph(faces[name], char) != glyph(faces[name], "\U0010fffd"), f"{name} is drawn as a box"
    assert faces["chinese"] is font.faces[0] and faces["kana"] is not font.faces[0]
    # A mixed name is cut into pieces, each drawn by its face, and measured as their sum.
    runs = font.runs("Ana さくら 猫")
    assert "".join(piece for _, piece in runs) == "Ana さくら 猫" and len(runs) >= 3
    assert font.getlength("Ana さくら 猫") == sum(face.getlength(piece) for face, piece in runs)


def test_pieces_in_other_faces_sit_on_one_baseline() -> None:
    font = text_font(24)
    image = Image.new("RGB", (200, 60))
    font.draw(ImageDraw.Draw(image), (4, 10), "猫さ한", fill=(255, 255, 255))
    columns = [image.crop((x, 0, x + 24, 60)).getbbox() for x in (4, 28, 52)]
    assert all(box is not None for box in columns)
    bottoms = [box[3] for box in columns if box is not None]
    assert max(bottoms) - min(bottoms) <= 3, bottoms


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
    chart = usage_chart("本月用量", [Bar("小明", videos=3, seconds=15), Bar("さくら", videos=1, seconds=4)],
                        ChartWords("预估费用（美元）", "秒数", "视频数", "此周期内还没有视频。"))
    assert Image.open(io.BytesIO(chart)).format == "PNG"
