"""Images too big for the request are made smaller, never refused, unless nothing can fit."""

from __future__ import annotations

import asyncio
import io

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from images import RED, encode, marked, noise, solid
from PIL import Image

from bot.media import (
    ImageLimits,
    ImageProblem,
    PreparedImage,
    ProblemCode,
    prepare_image,
    prepare_image_async,
    prepare_images,
)


def opened(result: PreparedImage) -> Image.Image:
    im = Image.open(io.BytesIO(result.data))
    im.load()
    return im


def test_noisy_12_mp_photo_is_scaled_down_to_fit_a_small_budget() -> None:
    budget = 600_000
    data = encode(noise((4000, 3000)), "JPEG", quality=85)
    assert len(data) > budget
    result = prepare_image(data, "noisy.jpg", ImageLimits(data_uri_budget=budget))
    assert len(result.data_uri()) <= budget
    out = opened(result)
    assert out.size == (result.width, result.height)
    assert result.width < 4000
    assert abs(result.width / result.height - 4 / 3) <= 0.01 * 4 / 3
    assert any(fix.startswith("scaled down to ") and fix.endswith("to fit 585.9 KB") for fix in result.fixes)


def test_lower_quality_is_tried_before_scaling_down() -> None:
    data = encode(noise((600, 400)), "PNG")  # lossless noise: ~700 KB
    first = prepare_image(data, "n.png", ImageLimits(data_uri_budget=500_000))
    assert (first.width, first.height) == (600, 400)  # whole picture kept
    assert first.mime_type == "image/jpeg"
    assert any(fix.startswith("re-encoded as JPEG to fit") for fix in first.fixes)
    assert len(first.data_uri()) <= 500_000


def test_transparent_picture_over_budget_keeps_its_transparency() -> None:
    im = noise((500, 400)).convert("RGBA")
    im.paste((0, 0, 0, 0), (0, 0, 100, 100))
    result = prepare_image(encode(im, "PNG"), "cut.png", ImageLimits(data_uri_budget=300_000))
    assert result.mime_type == "image/webp"
    assert len(result.data_uri()) <= 300_000
    out = opened(result).convert("RGBA")
    assert out.getpixel((10, 10))[3] == 0


def test_small_picture_fits_untouched_at_the_default_budget() -> None:
    result = prepare_image(encode(marked(), "PNG"), "a.png")
    assert not any("fit" in fix for fix in result.fixes)


def test_shrinking_a_nearly_4_to_1_picture_never_makes_it_4_to_1() -> None:
    data = encode(noise((3999, 1000)), "JPEG", quality=90)
    result = prepare_image(data, "pano.jpg", ImageLimits(data_uri_budget=150_000))
    assert result.width < 3999
    assert result.width / result.height < 4


def test_budget_that_nothing_can_meet_is_cannot_fit() -> None:
    with pytest.raises(ImageProblem) as caught:
        prepare_image(encode(noise((300, 200)), "PNG"), "n.png", ImageLimits(data_uri_budget=2_000))
    assert caught.value.code is ProblemCode.CANNOT_FIT
    assert str(caught.value).startswith("n.png: cannot be made smaller than 2 KB")


# ---- many files at once --------------------------------------------------------------------------


async def test_prepare_images_reports_every_problem_in_input_order() -> None:
    files = [
        ("start.png", encode(marked(), "PNG")),
        ("frame1.png", encode(solid((520, 100)), "PNG")),
        ("frame2.jpg", b"not an image at all"),
        ("frame3.jpg", encode(marked((200, 300)), "JPEG")),
        ("frame4.png", b""),
        ("frame5.webp", encode(solid((100, 450)), "WEBP")),
    ]
    prepared, problems = await asyncio.wait_for(prepare_images(files), timeout=60)
    assert [p.filename for p in prepared] == ["start.png", "frame3.jpg"]
    assert [(p.filename, p.code) for p in problems] == [
        ("frame1.png", ProblemCode.ASPECT_RATIO),
        ("frame2.jpg", ProblemCode.NOT_AN_IMAGE),
        ("frame4.png", ProblemCode.EMPTY),
        ("frame5.webp", ProblemCode.ASPECT_RATIO),
    ]
    assert [str(p) for p in problems] == [
        "frame1.png: 5.2:1 is wider than 4:1; crop it to 399×100 or narrower",
        "frame2.jpg: this is not an image (use PNG, JPEG or WebP)",
        "frame4.png: the file is empty",
        "frame5.webp: 1:4.5 is taller than 1:4; crop it to 100×399 or shorter",
    ]


async def test_prepare_images_keeps_the_order_of_many_good_images() -> None:
    files = [(f"f{i}.png", encode(solid((40 + i, 30), RED), "PNG")) for i in range(8)]
    prepared, problems = await asyncio.wait_for(prepare_images(files, max_concurrency=3), timeout=60)
    assert problems == []
    assert [(p.filename, p.width) for p in prepared] == [(f"f{i}.png", 40 + i) for i in range(8)]


async def test_the_event_loop_keeps_running_while_an_image_is_prepared() -> None:
    data = encode(noise((2000, 1500)), "PNG")  # a few hundred ms of decoding and encoding
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    ticking = asyncio.create_task(ticker())
    ticks_before = ticks
    result = await asyncio.wait_for(prepare_image_async(data, "n.png"), timeout=60)
    ticks_during = ticks - ticks_before
    done.set()
    await asyncio.wait_for(ticking, timeout=5)
    assert result.width == 2000
    # Work done on the loop itself would leave the ticker frozen until the result came back.
    assert ticks_during >= 2


# ---- property ------------------------------------------------------------------------------------

_LIMITS = ImageLimits(max_pixels=600_000)


@st.composite
def picture(draw: st.DrawFn) -> tuple[int, int, str, str]:
    width = draw(st.integers(1, 1600))
    height = draw(st.integers(1, 1600))
    fmt = draw(st.sampled_from(["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"]))
    mode = draw(st.sampled_from(["RGB", "RGBA", "L", "P"]))
    return width, height, fmt, mode


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picture())
def test_any_size_inside_the_limits_comes_out_whole_and_same_ratio(case: tuple[int, int, str, str]) -> None:
    width, height, fmt, mode = case
    im = Image.new("RGB", (width, height), (30, 140, 220))
    if mode != "RGB" and not (fmt == "JPEG" and mode in ("RGBA", "P")):
        im = im.convert(mode)
    data = encode(im, fmt)
    ratio = width / height
    expected: set[ProblemCode] = set()
    if not 0.25 < ratio < 4:
        expected.add(ProblemCode.ASPECT_RATIO)
    if width * height > _LIMITS.max_pixels:
        expected.add(ProblemCode.TOO_MANY_PIXELS)
    if expected:
        with pytest.raises(ImageProblem) as caught:
            prepare_image(data, f"x.{fmt.lower()}", _LIMITS)
        assert caught.value.code in expected
        return
    result = prepare_image(data, f"x.{fmt.lower()}", _LIMITS)
    out = opened(result)
    assert out.size == (result.width, result.height)
    assert abs(result.width / result.height - ratio) <= 0.01 * ratio
    assert result.mime_type in ("image/png", "image/jpeg", "image/webp")
    assert len(result.data_uri()) <= _LIMITS.data_uri_budget


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    width=st.integers(100, 1200),
    height=st.integers(100, 1200),
    budget=st.integers(20_000, 400_000),
    alpha=st.booleans(),
)
def test_any_budget_is_met_or_refused_and_the_ratio_survives_shrinking(
    width: int, height: int, budget: int, alpha: bool
) -> None:
    assume(0.25 < width / height < 4)
    im = noise((width, height), seed=width * height)
    if alpha:
        im.putalpha(128)
    data = encode(im, "PNG")
    try:
        result = prepare_image(data, "n.png", ImageLimits(data_uri_budget=budget))
    except ImageProblem as problem:
        code = problem.code
        result = None
    if result is None:
        assert code is ProblemCode.CANNOT_FIT
        return
    assert len(result.data_uri()) <= budget
    assert abs(result.width / result.height - width / height) <= 0.01 * width / height
    assert 0.25 < result.width / result.height < 4  # still acceptable to the provider
    assert opened(result).size == (result.width, result.height)


def test_a_png_that_clearly_cannot_fit_goes_straight_to_jpeg_with_the_same_result() -> None:
    # Lossless noise: ~3 bytes a pixel, far over the budget as PNG at any size. Its PNG encoding is skipped
    # (the costliest step, thrown away), and what comes out is what trying it first gave.
    from bot.media.encode import EncodePlan, OutputFormat, encode_within_budget

    im = noise((800, 600))
    budget = 500_000
    tried = encode_within_budget(im, EncodePlan(OutputFormat.PNG, None), budget)
    skipped = encode_within_budget(im, EncodePlan(OutputFormat.PNG, None), budget, plan_cannot_fit=True)
    assert tried is not None and skipped == tried

    result = prepare_image(encode(im, "PNG"), "n.png", ImageLimits(data_uri_budget=budget))
    assert (result.mime_type, result.data) == ("image/jpeg", tried.data)
    assert any(fix.startswith("re-encoded as JPEG to fit") for fix in result.fixes)


def test_a_png_that_compresses_well_stays_a_png() -> None:
    # A screenshot-like picture: a few flat colours, a few kilobytes as PNG; never judged hopeless.
    im = solid((1600, 900), RED)
    im.paste((20, 20, 200), (100, 100, 800, 500))
    result = prepare_image(encode(im, "PNG"), "screen.png", ImageLimits(data_uri_budget=500_000,
                                                                       video_resolution="720p"))
    assert result.mime_type == "image/png"
