"""A few still frames of a finished video, for the screens to look at before it is posted (bot/safety/video.py).

Synchronous on purpose: it runs inside an image worker process (bot/media/pool.py), never on the event loop,
and ffmpeg (imageio-ffmpeg's static build, as for bot/media/video.py) is its subprocess there: one decoding pass
takes every frame and stops after the last (docs/PERFORMANCE.md "Screening finished videos").
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from pathlib import Path

from bot.media.video import find_ffmpeg, parse_duration

# Frames per video: spread over its length, enough that a flagged stretch of a 4-8 s video is seen, few
# enough to cost a fraction of a second (docs/PERFORMANCE.md, video screening).
FRAMES_PER_VIDEO = 5
# Frames are scaled to fit this square: a screen looks at 320 px (NudeNet) or a corner (the test marker), and a
# 1080p frame would only cost more to write and read.
FRAME_MAX_SIDE = 640
_SCALE = (f"scale='min({FRAME_MAX_SIDE},iw)':'min({FRAME_MAX_SIDE},ih)'"
          ":force_original_aspect_ratio=decrease")


def frame_times(duration: float | None, count: int = FRAMES_PER_VIDEO) -> list[float]:
    """Seconds into a video of `duration` at which to take `count` frames: the middle of each of `count` equal
    parts, so the frames cover the whole video and none sits on the very first or last instant (often a fade,
    or past the last frame). An unknown or zero duration: one frame, the first."""
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    if duration is None or not math.isfinite(duration) or duration <= 0:
        return [0.0]
    times = [round(duration * (i + 0.5) / count, 3) for i in range(count)]
    return sorted(set(times))  # a video of a few milliseconds: the same instant once


def video_duration(path: Path, ffmpeg: str, timeout: float = 30) -> float | None:
    """What ffmpeg reads of the file's length (its header only), or None."""
    # With no output named, ffmpeg describes its input on stderr and exits 1: nothing is decoded.
    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True,  # noqa: S603
                          timeout=timeout, check=False)
    return parse_duration(done.stderr)


def grab_frames(path: Path, count: int = FRAMES_PER_VIDEO, *, timeout: float = 60) -> list[bytes]:
    """Up to `count` frames of the video spread over its length (frame_times), each a BMP (no compression to
    spend time on); fewer when ffmpeg finds fewer, none when there is no ffmpeg or the file is no video."""
    ffmpeg = find_ffmpeg()
    if ffmpeg is None:
        return []
    times = frame_times(video_duration(path, ffmpeg), count)
    # One decoding pass that stops after the last frame wanted: the first frame at or past the first time, then
    # one each time as far on again (a seek per frame decodes from the keyframe before it, which in a generated
    # video is often the first frame: measured 2-3 times the work). The loop filter is skipped: a screen does
    # not need the deblocked picture, and it saves a fifth of the decoding.
    step = (times[1] - times[0]) * 0.999 if len(times) > 1 else 0
    pick = f"isnan(prev_selected_t)*gte(t,{times[0]:.3f})" + (f"+gte(t-prev_selected_t,{step:.3f})" if step else "")
    with tempfile.TemporaryDirectory(prefix="vidu-frames-") as folder:
        args = [ffmpeg, "-v", "error", "-nostdin", "-y", "-skip_loop_filter", "all", "-i", str(path),
                "-vf", f"select='{pick}',{_SCALE}", "-fps_mode", "passthrough", "-frames:v", str(len(times)),
                "-pix_fmt", "bgr24", str(Path(folder) / "%d.bmp")]
        try:
            subprocess.run(args, capture_output=True, timeout=timeout, check=False)  # noqa: S603
        except subprocess.TimeoutExpired:
            return []
        taken = sorted(Path(folder).glob("*.bmp"), key=lambda p: int(p.stem))
        return [out.read_bytes() for out in taken if out.stat().st_size > 0]
