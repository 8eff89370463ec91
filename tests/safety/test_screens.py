"""The screens on benign pictures only (issue 25 item 8): the test marker is flagged through the image
pipeline's re-encoding, the real offline screen (NudeNet) flags nothing benign and its cost is measured, and
both run in the image workers as the bot runs them."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from bot.media import ImageLimits, prepare_image
from bot.media.pool import ImagePool
from bot.safety import installed_screens, screen_picture
from bot.safety.marker import MarkerScreen, mark
from bot.safety.nudenet import NudeNetScreen, missing


def picture(fmt: str, size: tuple[int, int] = (640, 480), color: tuple[int, int, int] = (30, 140, 220),
            marked: bool = False) -> bytes:
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 40):  # some structure, not a flat colour
        image.paste((240, 240, 240), (x, 0, x + 8, size[1]))
    out = io.BytesIO()
    (mark(image) if marked else image).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_the_marker_survives_the_pipeline_and_nothing_else_is_flagged(fmt: str) -> None:
    screen = MarkerScreen()
    limits = ImageLimits(video_resolution="720p")
    flagged = prepare_image(picture(fmt, (4000, 3000), marked=True), f"m.{fmt.lower()}", limits)
    assert screen.check(flagged.data).flagged  # scaled down to 1280×960 and re-encoded: still seen
    plain = prepare_image(picture(fmt, (4000, 3000)), f"p.{fmt.lower()}", limits)
    assert not screen.check(plain.data).flagged
    magenta_elsewhere = Image.new("RGB", (200, 200), (30, 140, 220))
    magenta_elsewhere.paste((255, 0, 255), (100, 100, 200, 200))
    out = io.BytesIO()
    magenta_elsewhere.save(out, "PNG")
    assert not screen.check(out.getvalue()).flagged


def test_the_real_screen_is_installed_by_the_dev_extra() -> None:
    assert missing() is None
    assert installed_screens(("nudenet", "marker")) == (("nudenet", "marker"), {})


def test_the_real_screen_flags_no_benign_picture_and_costs_tens_of_ms() -> None:
    screen = NudeNetScreen()
    benign = [picture("JPEG", (1280, 720)), picture("PNG", (720, 1280), (200, 30, 30)),
              picture("WEBP", (960, 960), (30, 200, 30)), picture("JPEG", (64, 64))]
    screen.check(benign[0])  # the first run sets onnxruntime up
    cpu = []
    for data in benign * 3:
        started = time.process_time()
        verdict = screen.check(data)
        cpu.append(time.process_time() - started)
        assert not verdict.flagged, verdict
        assert verdict.screen == "nudenet" and 0 <= verdict.score < 0.5
    worst = max(cpu) * 1000
    print(f"nudenet: {sorted(cpu)[len(cpu) // 2] * 1000:.0f} ms CPU per picture (median), worst {worst:.0f} ms")
    assert worst < 500  # the benchmark holds the 60 ms target; this only catches a screen gone wrong


async def test_screens_run_in_the_image_workers() -> None:
    pool = ImagePool(1)
    try:
        assert await pool.run(screen_picture, ("nudenet", "marker"), picture("JPEG")) is None
        verdict = await pool.run(screen_picture, ("nudenet", "marker"), picture("PNG", marked=True))
        assert verdict is not None and (verdict.screen, verdict.label) == ("marker", "marker")
        assert pool.started and pool.worker_pids()  # a process of its own, not this interpreter
    finally:
        await pool.close()


def test_an_unknown_screen_is_reported_not_raised() -> None:
    assert installed_screens(("nudenet", "eyeball")) == (("nudenet",), {"eyeball": "unknown screen"})
