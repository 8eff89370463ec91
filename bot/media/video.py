"""Finished videos: fit one under a server's upload limit, take its last frame (for Extend).

ffmpeg is optional at run time (the Docker image has it): without it, `fit_video` and `last_frame`
return None and the caller falls back to the provider's link. ffmpeg runs as a subprocess, so the
event loop is never blocked, and every run has a time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from pathlib import Path

log = logging.getLogger("bot.media.video")

SIZE_MARGIN = 0.92  # container overhead and rate-control overshoot
AUDIO_KBPS = 64
MIN_VIDEO_KBPS = 150  # below this a video is not worth watching: link it instead


def find_ffmpeg() -> str | None:
    return shutil.which("ffmpeg")


def find_ffprobe() -> str | None:
    return shutil.which("ffprobe")


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


async def probe(path: Path, *, ffprobe: str | None = None, timeout: float = 30) -> tuple[float, bool] | None:
    """(duration in seconds, has an audio stream), or None when ffprobe is missing or cannot read it."""
    ffprobe = ffprobe or find_ffprobe()
    if ffprobe is None:
        return None
    code, out, _ = await _run(
        [ffprobe, "-v", "error", "-show_entries", "format=duration:stream=codec_type", "-of", "csv=p=0",
         str(path)], timeout)
    if code != 0:
        return None
    lines = [line.strip().rstrip(",") for line in out.decode().splitlines() if line.strip()]
    try:
        duration = float(next(line for line in lines if line.replace(".", "", 1).isdigit()))
    except StopIteration:
        return None
    return duration, "audio" in lines


async def fit_video(
    src: Path, dest: Path, max_bytes: int, *, ffmpeg: str | None = None, timeout: float = 300
) -> Path | None:
    """Re-encode `src` into `dest` so it is at most `max_bytes`; None when that is not possible here."""
    ffmpeg = ffmpeg or find_ffmpeg()
    probed = await probe(src, ffprobe=_sibling(ffmpeg, "ffprobe")) if ffmpeg else None
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
    ffmpeg = ffmpeg or find_ffmpeg()
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


def _sibling(ffmpeg: str | None, name: str) -> str | None:
    """ffprobe next to the given ffmpeg (so a test or an operator can point at one installation)."""
    if ffmpeg is None:
        return None
    candidate = Path(ffmpeg).with_name(name)
    return str(candidate) if candidate.exists() else find_ffprobe()
