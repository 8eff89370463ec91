"""Finished videos: fit one under a server's upload limit, take its last frame (for Extend).

ffmpeg comes from the Python package index: imageio-ffmpeg's wheels carry a static build, so `pip install`
is all the set-up (no system package). It is always that build, so the bot, the tests and the Docker image
run one ffmpeg; `IMAGEIO_FFMPEG_EXE=/path/to/ffmpeg` picks another (a platform without such a wheel:
imageio-ffmpeg then looks for a system ffmpeg itself). Without any, `fit_video` and `last_frame` return None
and the caller falls back to the provider's link. ffmpeg runs as a subprocess, so the event loop is never
blocked, and every run has a time limit. There is no ffprobe in the wheel: ffmpeg reads the file's header.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
from pathlib import Path

import imageio_ffmpeg

log = logging.getLogger("bot.media.video")

SIZE_MARGIN = 0.92  # container overhead and rate-control overshoot
AUDIO_KBPS = 64
MIN_VIDEO_KBPS = 150  # below this a video is not worth watching: link it instead

# What `ffmpeg -i FILE` says about its input (on stderr, in every version since the 2000s).
_DURATION = re.compile(rb"^\s*Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", re.MULTILINE)
_AUDIO_STREAM = re.compile(rb"^\s*Stream #\d+:\d+\S*: Audio: ", re.MULTILINE)


def find_ffmpeg() -> str | None:
    """The ffmpeg to run (imageio-ffmpeg's, or IMAGEIO_FFMPEG_EXE's), or None when there is none.

    The first call runs `ffmpeg -version` to check the binary: call it in a thread (`ffmpeg_exe`)."""
    try:
        exe = str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:  # no binary for this platform, and none on the system
        return None
    return shutil.which(exe)


async def ffmpeg_exe() -> str | None:
    return await asyncio.to_thread(find_ffmpeg)


async def _run(args: list[str], timeout: float) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    return process.returncode or 0, out, err


async def probe(path: Path, *, ffmpeg: str | None = None, timeout: float = 30) -> tuple[float, bool] | None:
    """(duration in seconds, has an audio stream), or None when there is no ffmpeg or it cannot read the file."""
    ffmpeg = ffmpeg or await ffmpeg_exe()
    if ffmpeg is None:
        return None
    # With no output named, ffmpeg describes its input on stderr and exits 1: nothing is decoded.
    _, _, err = await _run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)], timeout)
    duration = parse_duration(err)
    if duration is None:
        return None
    return duration, _AUDIO_STREAM.search(err) is not None


def parse_duration(described: bytes) -> float | None:
    """The duration in seconds from what `ffmpeg -i FILE` says of its input; None when it names none (not a
    video, or a duration of N/A)."""
    found = _DURATION.search(described)
    if found is None:
        return None
    hours, minutes, seconds = found.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


async def fit_video(
    src: Path, dest: Path, max_bytes: int, *, ffmpeg: str | None = None, timeout: float = 300
) -> Path | None:
    """Re-encode `src` into `dest` so it is at most `max_bytes`; None when that is not possible here."""
    ffmpeg = ffmpeg or await ffmpeg_exe()
    probed = await probe(src, ffmpeg=ffmpeg) if ffmpeg else None
    if ffmpeg is None or probed is None or probed[0] <= 0:
        return None
    duration, has_audio = probed
    audio_kbps = AUDIO_KBPS if has_audio else 0
    budget_kbps = max_bytes * 8 * SIZE_MARGIN / duration / 1000
    for attempt in range(2):  # one retry at a lower rate when the encoder overshoots
        video_kbps = int((budget_kbps - audio_kbps) * (0.8 ** attempt))
        if video_kbps < MIN_VIDEO_KBPS:
            return None
        height = 1080 if video_kbps >= 4000 else 720 if video_kbps >= 1500 else 480
        args = [ffmpeg, "-y", "-v", "error", "-i", str(src), "-c:v", "libx264", "-preset", "veryfast",
                "-b:v", f"{video_kbps}k", "-maxrate", f"{video_kbps}k", "-bufsize", f"{video_kbps * 2}k",
                "-vf", f"scale=-2:'min({height},ih)'", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
        args += ["-c:a", "aac", "-b:a", f"{audio_kbps}k"] if has_audio else ["-an"]
        code, _, err = await _run([*args, str(dest)], timeout)
        if code != 0:
            log.warning("ffmpeg could not re-encode %s: %s", src.name, err.decode(errors="replace")[-300:])
            return None
        size = (await asyncio.to_thread(dest.stat)).st_size
        if size <= max_bytes:
            log.info("fitted %s: %.1f MB at %d kbps", src.name, size / 1e6, video_kbps)
            return dest
    return None


async def last_frame(src: Path, *, ffmpeg: str | None = None, timeout: float = 60) -> bytes | None:
    """The video's final frame as PNG bytes (the start of an Extend request), or None."""
    ffmpeg = ffmpeg or await ffmpeg_exe()
    if ffmpeg is None:
        return None
    out = src.with_name(src.stem + ".last.png")
    try:
        # Decode the last half second; with -update 1 every frame overwrites the file, so the last stays.
        code, _, _ = await _run(
            [ffmpeg, "-y", "-v", "error", "-sseof", "-0.5", "-i", str(src), "-update", "1", "-an", str(out)],
            timeout)
        data = await asyncio.to_thread(out.read_bytes) if code == 0 and out.exists() else b""
    finally:
        await asyncio.to_thread(out.unlink, True)
    return data if data.startswith(b"\x89PNG") else None
