"""Fitting a finished video under an upload limit, and taking its last frame, with the real ffmpeg: the one
imageio-ffmpeg's wheel brings (nothing here is skipped for a missing ffmpeg: `pip install` provides it)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

from bot.media.video import find_ffmpeg, fit_video, last_frame, probe

FFMPEG = find_ffmpeg()


def test_the_ffmpeg_used_is_the_one_from_the_package_index() -> None:
    assert FFMPEG is not None, "imageio-ffmpeg brings ffmpeg: is the package installed (pip install -e .)?"
    assert Path(FFMPEG).is_relative_to(Path(imageio_ffmpeg.__file__).parent), FFMPEG


def make_video(path: Path, *filters: str, audio: bool = True, seconds: int = 3) -> Path:
    """A few seconds of video made by ffmpeg's own sources (noise, at -crf 4, makes a big file)."""
    assert FFMPEG is not None
    args = [FFMPEG, "-y", "-v", "error"]
    for source in filters:
        args += ["-f", "lavfi", "-i", source]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    if len(filters) > 1:
        args += ["-filter_complex", "".join(f"[{n}:v]" for n in range(len(filters)))
                 + f"concat=n={len(filters)}:v=1:a=0[v]", "-map", "[v]"]
        if audio:
            args += ["-map", f"{len(filters)}:a"]
    args += ["-c:v", "libx264", "-crf", "4", "-pix_fmt", "yuv420p", "-shortest", str(path)]
    subprocess.run(args, check=True, timeout=60)
    return path


async def test_a_video_over_the_limit_is_re_encoded_under_it(tmp_path: Path) -> None:
    src = make_video(tmp_path / "in.mp4", "testsrc2=s=320x180:d=2,noise=alls=40:allf=t+u", seconds=2)
    limit = 250_000
    assert src.stat().st_size > 3 * limit
    fitted = await fit_video(src, tmp_path / "out.mp4", limit)
    assert fitted is not None
    assert fitted.stat().st_size <= limit
    probed = await probe(fitted)
    assert probed is not None
    duration, has_audio = probed
    assert abs(duration - 2.0) < 0.2
    assert has_audio


async def test_a_limit_too_small_for_a_watchable_video_gives_none(tmp_path: Path) -> None:
    src = make_video(tmp_path / "in.mp4", "testsrc=s=320x240:d=3")
    assert await fit_video(src, tmp_path / "out.mp4", 20_000) is None


async def test_not_a_video_gives_none(tmp_path: Path) -> None:
    src = tmp_path / "junk.mp4"
    src.write_bytes(b"not a video at all")
    assert await fit_video(src, tmp_path / "out.mp4", 1_000_000) is None
    assert await last_frame(src) is None


async def test_last_frame_is_the_end_of_the_video(tmp_path: Path) -> None:
    src = make_video(tmp_path / "in.mp4", "color=c=red:s=320x240:d=1", "color=c=blue:s=320x240:d=1", audio=False)
    probed = await probe(src)
    assert probed is not None and abs(probed[0] - 2.0) < 0.2 and not probed[1]  # no audio stream
    frame = await last_frame(src)
    assert frame is not None
    image = Image.open(io.BytesIO(frame)).convert("RGB")
    assert image.size == (320, 240)
    red, _, blue = image.getpixel((160, 120))  # type: ignore[misc]
    assert blue > 200 and red < 60
    assert not list(tmp_path.glob("*.last.png"))  # the temporary frame file is gone


async def test_without_ffmpeg_installed_the_caller_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in.mp4"
    src.write_bytes(b"\x00" * 100)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-ffmpeg-here"))  # as where none can be found
    assert find_ffmpeg() is None
    assert await fit_video(src, tmp_path / "out.mp4", 10) is None
    assert await last_frame(src) is None
