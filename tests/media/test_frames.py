"""The frame picker (bot/media/frames.py): which instants of a finished video the screens look at, and the
frames ffmpeg takes there from a real MP4."""

from __future__ import annotations

import io
import itertools
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

from bot.media.frames import FRAME_MAX_SIDE, FRAMES_PER_VIDEO, frame_times, grab_frames
from tests.fakes.provider import SAMPLE_VIDEO


def test_frames_are_spread_over_the_whole_video_away_from_its_ends() -> None:
    assert frame_times(10.0, 5) == [1.0, 3.0, 5.0, 7.0, 9.0]
    times = frame_times(8.0)
    assert len(times) == FRAMES_PER_VIDEO and 4 <= FRAMES_PER_VIDEO <= 6
    assert 0 < times[0] < times[-1] < 8.0
    gaps = {round(b - a, 3) for a, b in itertools.pairwise(times)}
    assert gaps == {round(8.0 / FRAMES_PER_VIDEO, 3)}  # evenly spaced: no stretch of the video is skipped


def test_one_frame_and_an_unknown_length() -> None:
    assert frame_times(6.0, 1) == [3.0]
    assert frame_times(None) == [0.0]
    assert frame_times(0.0) == [0.0] and frame_times(float("nan")) == [0.0] and frame_times(-1.0) == [0.0]


def test_a_video_of_a_few_milliseconds_gets_each_instant_once() -> None:
    assert frame_times(0.002, 5) == [0.0, 0.001, 0.002]


def test_a_count_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        frame_times(5.0, 0)


def test_frames_of_a_real_mp4_scaled_to_fit(tmp_path: Path) -> None:
    assert len(grab_frames(SAMPLE_VIDEO)) == FRAMES_PER_VIDEO  # 1.5 s, 64×64
    big = tmp_path / "wide.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=size=1920x1080:rate=24:duration=3", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(big)],
                   check=True, timeout=120)
    frames = grab_frames(big, 4)
    assert len(frames) == 4
    with Image.open(io.BytesIO(frames[0])) as first:
        assert first.size == (FRAME_MAX_SIDE, 360)  # 16:9 kept
    assert len({bytes(f) for f in frames}) == 4  # testsrc moves: four different instants


def test_no_frames_from_what_is_not_a_video(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    assert grab_frames(junk) == []
