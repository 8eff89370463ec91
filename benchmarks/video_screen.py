"""Time to screen a finished video before it is posted (issue 25 item 3): its frames taken by ffmpeg and each
checked by the screens, in an image worker as the bot runs it.

    python -m benchmarks.video_screen [--runs 10] [--screens nudenet]

Generated benign videos the size the provider makes (ffmpeg's moving test pattern, H.264): 5 s at 720p and
8 s at 1080p. For each, after one warm-up run (the worker loads the model once), `--runs` screenings: wall
time per video (what a delivery waits), the worker's CPU (its own and its ffmpeg's), and the same for taking
the frames alone. Prints the figures with the load average; figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

from bot.media.frames import FRAMES_PER_VIDEO, grab_frames
from bot.media.pool import ImagePool
from bot.safety.video import screen_video

CASES = (("720p, 5 s", "1280x720", 5), ("1080p, 8 s", "1920x1080", 8))


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_screen(screens: tuple[str, ...], path: str) -> tuple[bool, float]:
    """In the worker: (flagged, CPU seconds of the worker and its ffmpeg)."""
    started = _cpu()
    verdict = screen_video(screens, path, FRAMES_PER_VIDEO)
    return verdict is not None, _cpu() - started


def timed_frames(path: str) -> tuple[int, float]:
    started = _cpu()
    frames = grab_frames(Path(path), FRAMES_PER_VIDEO)
    return len(frames), _cpu() - started


def make_video(folder: Path, size: str, seconds: int) -> Path:
    out = folder / f"{size}-{seconds}s.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size={size}:rate=24:duration={seconds}", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    str(out)], check=True, timeout=300)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def run(runs: int, screens: tuple[str, ...]) -> None:
    pool = ImagePool(1)
    try:
        with tempfile.TemporaryDirectory() as folder:
            for name, size, seconds in CASES:
                video = str(make_video(Path(folder), size, seconds))
                await pool.run(timed_screen, screens, video)  # warm-up: the worker starts, the model loads
                walls, cpus, frame_walls, frame_cpus = [], [], [], []
                for _ in range(runs):
                    started = time.perf_counter()
                    flagged, cpu = await pool.run(timed_screen, screens, video)
                    walls.append(time.perf_counter() - started)
                    cpus.append(cpu)
                    assert not flagged, "a benign video was flagged"
                    started = time.perf_counter()
                    _, cpu = await pool.run(timed_frames, video)
                    frame_walls.append(time.perf_counter() - started)
                    frame_cpus.append(cpu)
                print(f"{name} ({FRAMES_PER_VIDEO} frames, {'+'.join(screens)}): per video wall p50 "
                      f"{statistics.median(walls) * 1000:.0f} ms, p95 {p95(walls) * 1000:.0f} ms; CPU p50 "
                      f"{statistics.median(cpus) * 1000:.0f} ms, p95 {p95(cpus) * 1000:.0f} ms; of which the frames "
                      f"(ffmpeg) wall p50 {statistics.median(frame_walls) * 1000:.0f} ms, CPU p50 "
                      f"{statistics.median(frame_cpus) * 1000:.0f} ms", flush=True)
    finally:
        await pool.close()
    print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--screens", default="nudenet", help="comma-separated SAFETY_SCREENS (default nudenet)")
    args = parser.parse_args()
    asyncio.run(run(args.runs, tuple(args.screens.split(","))))


if __name__ == "__main__":
    main()
