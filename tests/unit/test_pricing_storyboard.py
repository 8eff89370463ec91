"""The estimate on the request card, and the storyboard picture members see."""

from __future__ import annotations

import io

from PIL import Image

from bot.i18n.formats import estimate
from bot.media.storyboard import Panel, panels_for, render_storyboard
from bot.pricing import estimate_usd, price_table
from bot.ui.preview import panel_words


def test_estimates_follow_the_published_reseller_rates() -> None:
    assert estimate_usd("img2video", "720p", 5) == 0.09
    assert estimate_usd("img2video", "1080p", 5) == 0.18
    assert estimate_usd("multiframe", "720p", 12) == 0.675
    assert estimate_usd("multiframe", "540p", 10) == 0.575  # 540p costs what 720p costs
    # The card shows the estimate to the credit, as /quota writes amounts, in the member's language.
    credits = price_table().credits("multiframe", "720p", 12)
    assert estimate(credits, "en-US") == "about $0.675"
    assert estimate(credits, "zh-CN") == "预估费用 约 US$0.675"
    assert estimate(price_table().credits("img2video", "1080p", 5), "en-US") == "about $0.18"


def _png(color: tuple[int, int, int], size: tuple[int, int] = (400, 300)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def test_storyboard_shows_every_frame_in_order_in_rows_of_five() -> None:
    colors = [(250, 0, 0), (0, 250, 0), (0, 0, 250), (250, 250, 0), (0, 250, 250), (250, 0, 250), (90, 90, 90)]
    panels = panels_for([_png(c) for c in colors], ["walk", None, "sit", "jump", "run", "end"], [4, 5, 3, 2, 7, 5],
                        **panel_words("en-US"))
    sheet = Image.open(io.BytesIO(render_storyboard(panels, thumb=200)))
    assert sheet.format == "PNG"
    assert sheet.width > sheet.height  # two rows of five columns
    pad = 10
    # the middle of each frame's thumbnail carries that frame's colour, in reading order
    for index, color in enumerate(colors):
        column, row = index % 5, index // 5
        panel_h = (sheet.height - pad) // 2 - pad
        x = pad + column * (200 + pad) + 100
        y = pad + row * (panel_h + pad) + 100
        assert sheet.convert("RGB").getpixel((x, y)) == color, index


def test_panels_pair_each_keyframe_with_the_segment_it_ends() -> None:
    panels = panels_for([b"s", b"k1", b"k2"], ["walk in", None], [4, 6], **panel_words("en-US"))
    assert panels == [Panel(b"s", "Start"), Panel(b"k1", "1 · 4 s", "walk in"), Panel(b"k2", "2 · 6 s", None)]
    chinese = panels_for([b"s", b"k1"], ["走进来"], [4], **panel_words("zh-CN"))
    assert chinese == [Panel(b"s", "起始帧"), Panel(b"k1", "第 1 段 · 4 秒", "走进来")]


def test_data_uris_built_in_pieces_equal_one_encoding() -> None:
    import base64
    import os

    from bot.media.encode import data_uri

    for size in (0, 1, 2, 3, 786_431, 786_432, 786_433, 2_500_001):
        data = os.urandom(size)
        assert data_uri("image/png", data) == "data:image/png;base64," + base64.b64encode(data).decode()
