"""Finished videos through the screens (bot/safety/video.py), in the image workers as the bot runs them: a video
whose frames carry the test marker is flagged, a benign one is not (the marker screen and the real offline screen,
NudeNet, whose time per video is printed), and a file no frame can be taken from is not passed."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import imageio_ffmpeg
import pytest

from bot.media.frames import FRAMES_PER_VIDEO
from bot.media.pool import ImagePool
from bot.safety.nudenet import missing
from bot.safety.video import UNREADABLE, screen_video
from tests.fakes.provider import SAMPLE_VIDEO, marked_video


def benign_video(folder: Path, size: str = "1280x720", seconds: int = 5) -> Path:
    """A generated video of nothing explicit: ffmpeg's moving test pattern, as the provider's 720p output."""
    out = folder / "benign.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size={size}:rate=24:duration={seconds}", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    str(out)], check=True, timeout=120)
    return out


async def test_the_marker_flags_a_marked_video_and_passes_the_fake_providers_sample(tmp_path: Path) -> None:
    marked = tmp_path / "marked.mp4"
    marked.write_bytes(marked_video(SAMPLE_VIDEO.read_bytes()))
    pool = ImagePool(1)
    try:
        verdict = await pool.run(screen_video, ("marker",), str(marked), FRAMES_PER_VIDEO)
        assert verdict is not None and verdict.flagged and verdict.screen == "marker"
        assert await pool.run(screen_video, ("marker",), str(SAMPLE_VIDEO), FRAMES_PER_VIDEO) is None
    finally:
        await pool.close()


def test_a_file_no_frame_can_be_taken_from_is_not_passed(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 4096)
    assert screen_video(("marker",), str(junk), FRAMES_PER_VIDEO) == UNREADABLE


@pytest.mark.skipif(missing() is not None, reason="the .[safety] extra is not installed")
async def test_nudenet_passes_a_benign_generated_video_in_a_worker(tmp_path: Path) -> None:
    video = benign_video(tmp_path)
    pool = ImagePool(1)
    try:
        assert await pool.run(screen_video, ("nudenet",), str(video), FRAMES_PER_VIDEO) is None  # model loaded
        spent = []
        for _ in range(3):
            started = time.perf_counter()
            assert await pool.run(screen_video, ("nudenet",), str(video), FRAMES_PER_VIDEO) is None
            spent.append(time.perf_counter() - started)
    finally:
        await pool.close()
    print(f"nudenet on a 5 s 720p video ({FRAMES_PER_VIDEO} frames): {min(spent) * 1000:.0f} ms per video (best of 3)")
