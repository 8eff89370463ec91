"""Time and memory to check and re-encode keyframe images.

    python -m benchmarks.media_bench            # the cases below, as a Markdown table
    python -m benchmarks.media_bench --video    # issue 16's figures as JSON (``python -m benchmarks --only media``)

Prints a Markdown table. Each case runs in its own child process so its peak RSS is its own: the
parent writes the inputs to a temporary folder, the child reads them, notes its RSS, then runs
``prepare_image`` / ``prepare_images`` and reports wall time and peak RSS (ru_maxrss).

``--video`` (item ``media`` of ``python -m benchmarks``): pictures sized for the video. Over the varied
12 MP pictures of benchmarks/photos.py, at 720p and 1080p: the bytes sent for the phone photo, the lowest
SSIM against the original at the video's size (bot.media.quality), and the time to prepare the phone photo
(median of several runs, wall and CPU, with the load average, since the machine may be shared).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import PIL
from PIL import Image

from bot.media import ImageLimits, prepare_image, prepare_images

_CASES = {
    "a1": "~50 MB noisy PNG, 4096×4096",
    "a2": "~50 MB JPEG q100, 7296×5472 (39.9 MP) grainy photo",
    "b": "12 MP phone JPEG, EXIF rotate 90° + GPS",
    "c": "10 × ~5 MB JPEGs via prepare_images",
}


def _photo(size: tuple[int, int], grain: float, seed: int) -> Image.Image:
    """Photo-like content: smooth gradients plus sensor grain (pure noise would be unrealistically hard)."""
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    blue = Image.linear_gradient("L").rotate(90).resize(size)
    base = Image.merge("RGB", (red, green, blue))
    grain_layer = Image.effect_noise(size, grain).convert("RGB")
    return Image.blend(base, grain_layer, 0.25 + (seed % 3) * 0.01)


def _noise(size: tuple[int, int]) -> Image.Image:
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def _save(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def _build_inputs(case: str, folder: Path) -> list[Path]:
    paths: list[Path] = []
    if case == "a1":
        paths.append(folder / "big.png")
        paths[0].write_bytes(_save(_noise((4096, 4096)), "PNG", compress_level=1))
    elif case == "a2":
        paths.append(folder / "big.jpg")
        photo = _photo((7296, 5472), grain=120, seed=0)
        paths[0].write_bytes(_save(photo, "JPEG", quality=100, subsampling=0))
    elif case == "b":
        exif = Image.Exif()
        exif[0x0112] = 6
        exif[0x010F] = "BenchPhone"
        exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
        paths.append(folder / "IMG_0001.jpg")
        photo = _photo((4032, 3024), grain=60, seed=0)
        paths[0].write_bytes(_save(photo, "JPEG", quality=92, exif=exif.tobytes()))
    else:
        for i in range(10):
            path = folder / f"frame{i}.jpg"
            path.write_bytes(_save(_photo((3600, 2400), grain=120, seed=i), "JPEG", quality=95))
            paths.append(path)
    return paths


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec, so a child would report its parent's.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _child(case: str, paths: list[str]) -> None:
    inputs = [(Path(p).name, Path(p).read_bytes()) for p in paths]
    rss_before = _rss_mb()
    start = time.perf_counter()
    if case == "c":
        prepared, problems = asyncio.run(prepare_images(inputs, ImageLimits()))
        assert not problems, problems
    else:
        prepared = [prepare_image(inputs[0][1], inputs[0][0], ImageLimits())]
    seconds = time.perf_counter() - start
    peak_mb = _peak_rss_mb()
    out = prepared[0]
    report = {
        "input_mb": sum(len(d) for _, d in inputs) / 1e6,
        "output_mb": sum(p.size for p in prepared) / 1e6,
        "output": f"{out.mime_type.split('/')[1]} {out.width}×{out.height}",
        "fixes": "; ".join(out.fixes) or "-",
        "seconds": seconds,
        "peak_mb": peak_mb,
        "rss_before_mb": rss_before,
    }
    print(json.dumps(report))


RESOLUTIONS = ("720p", "1080p")
_ROOT = Path(__file__).resolve().parents[1]


def _video_limits(resolution: str) -> ImageLimits:
    return ImageLimits(video_resolution=resolution)


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def video_figures(*, runs: int) -> dict[str, Any]:
    """Issue 16's figures (keys of ``python -m benchmarks``), with notes. Runs in a process of its own."""
    from benchmarks.photos import LOOK_ALIKE, NOISE_LIKE, PHOTOS, upright
    from bot.media.quality import ssim
    from bot.media.sizing import covering_size

    figures: dict[str, Any] = {}
    notes: list[str] = []
    scores: dict[str, float] = {}
    photo = PHOTOS["photo"]()
    for name in (*LOOK_ALIKE, *NOISE_LIKE):
        filename, data = photo if name == "photo" else PHOTOS[name]()
        original = upright(data)
        shown = []
        for resolution in RESOLUTIONS:
            result = prepare_image(data, filename, _video_limits(resolution))
            frame = covering_size(*original.size, resolution)
            sent = Image.open(io.BytesIO(result.data)).convert("RGB")
            if sent.size != frame:  # sent larger than the video uses: the provider shrinks it, so do we
                sent = sent.resize(frame, Image.Resampling.LANCZOS)
            score = scores[f"{name}@{resolution}"] = ssim(original.resize(frame, Image.Resampling.LANCZOS), sent)
            if name == "photo":
                figures[f"keyframe_bytes_{resolution}"] = round(result.size / 1e6, 3)
            shown.append(f"{resolution}: {result.width}×{result.height} {result.mime_type.split('/')[1]} "
                         f"{result.size / 1e6:.2f} MB, SSIM {score:.4f}")
        notes.append(f"media: {name} ({filename}, {len(data) / 1e6:.1f} MB, {original.width}×{original.height}): "
                     + "; ".join(shown))
    looked = {key: value for key, value in scores.items() if key.split("@")[0] in LOOK_ALIKE}
    worst = min(looked, key=looked.__getitem__)
    figures["keyframe_ssim_min"] = round(looked[worst], 4)
    notes.append(f"media: lowest SSIM over {', '.join(LOOK_ALIKE)} at {'/'.join(RESOLUTIONS)}: {worst} "
                 f"{looked[worst]:.4f}; not counted (uncorrelated per-pixel noise, see tests/media/test_quality.py): "
                 + ", ".join(f"{key} {scores[key]:.4f}" for key in scores if key not in looked))

    filename, data = photo
    for resolution in RESOLUTIONS:
        prepare_image(data, filename, _video_limits(resolution))  # warm-up: imports, first allocations
        load_before = os.getloadavg()[0]
        wall: list[float] = []
        cpu: list[float] = []
        for _ in range(runs):
            began_wall, began_cpu = time.perf_counter(), time.thread_time()
            prepare_image(data, filename, _video_limits(resolution))
            cpu.append(time.thread_time() - began_cpu)
            wall.append(time.perf_counter() - began_wall)
        load_after = os.getloadavg()[0]
        key = "prep_ms_12mp_jpeg" if resolution == "720p" else f"prep_ms_12mp_jpeg_{resolution}"
        figures[key] = _median_ms(wall)
        notes.append(f"media: preparing the 12 MP phone JPEG for {resolution}, {runs} runs: wall median "
                     f"{_median_ms(wall)} ms (min {min(wall) * 1000:.1f}), CPU median {_median_ms(cpu)} ms; "
                     f"load average {load_before:.2f} before, {load_after:.2f} after, {os.cpu_count()} CPUs")
    return {**figures, "notes": notes}


async def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    """``python -m benchmarks`` item ``media``: ``video_figures`` in a fresh process (no other threads in it)."""
    runs = "5" if quick else "15"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.media_bench", "--video", "--runs", runs,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=_ROOT,
    )
    out, err = await asyncio.wait_for(child.communicate(), 900)
    if child.returncode != 0:
        raise RuntimeError(f"media benchmark failed:\n{err.decode(errors='replace')[-2000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--cases", default=",".join(_CASES), help="comma-separated: " + ", ".join(_CASES))
    parser.add_argument("--video", action="store_true", help="issue 16's figures (sizing for the video) as JSON")
    parser.add_argument("--runs", type=int, default=15, help="--video: timed runs per resolution")
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1:])
        return
    if args.video:
        print(json.dumps(video_figures(runs=args.runs)))
        return

    rows = [
        "| case | input | output (first) | fixes (first) | time (s) | peak RSS (MB) | RSS before (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            folder = Path(tmp) / case
            folder.mkdir()
            paths = _build_inputs(case, folder)
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.media_bench", "--child", case, *map(str, paths)],
                capture_output=True,
                text=True,
                check=False,
                timeout=600,
            )
            if done.returncode != 0:
                sys.exit(f"case {case} failed:\n{done.stderr}")
            r = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(
                f"| {_CASES[case]} | {r['input_mb']:.1f} MB | {r['output']}, {r['output_mb']:.1f} MB | "
                f"{r['fixes']} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | {r['rss_before_mb']:.0f} |"
            )
            for path in paths:
                path.unlink()
    print(f"Pillow {PIL.__version__}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
