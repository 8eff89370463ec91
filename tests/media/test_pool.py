"""Keyframe preparation in worker processes (bot.media.pool): same answers as in a thread, survives a
worker killed mid-picture, stops on close. Real processes (forkserver), real Pillow; nothing mocked."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import random
import signal
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot.media import ImageLimits, ImageProblem, PreparedImage, ProblemCode, prepare_image, prepare_images
from bot.media.pool import ImagePool
from bot.media.storyboard import panels_for, render_storyboard

BUDGET = ImageLimits(data_uri_budget=400_000)


def _encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def _noise(size: tuple[int, int], seed: int) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def _request(seed: int) -> list[tuple[str, bytes]]:
    """One member's pictures: good ones that need work, and each kind of refusal."""
    good_png = _encode(_noise((700, 500), seed), "PNG")  # over the budget: re-encoded / scaled down
    good_jpeg = _encode(_noise((900, 600), seed + 1), "JPEG", quality=90)
    small_webp = _encode(Image.new("RGBA", (64, 48), (0, 128, 255, 128)), "WEBP", lossless=True)
    cut = _encode(_noise((300, 200), seed + 2), "PNG")
    return [
        (f"frame-{seed}-a.png", good_png),
        (f"frame-{seed}-b.jpg", good_jpeg),
        (f"frame-{seed}-c.webp", small_webp),
        (f"frame-{seed}-cut.png", cut[: len(cut) // 2]),
        (f"frame-{seed}-wide.png", _encode(Image.new("RGB", (900, 100)), "PNG")),
        (f"frame-{seed}-notes.txt", b"not a picture at all"),
        (f"frame-{seed}-empty.png", b""),
    ]


def _comparable(result: tuple[list[PreparedImage], list[ImageProblem]]) -> tuple[list[object], list[object]]:
    prepared, problems = result
    return (
        [(p.filename, p.data, p.mime_type, p.width, p.height, p.fixes) for p in prepared],
        [(p.filename, p.code, str(p)) for p in problems],
    )


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _busy(pid: int, cpu_seconds: float = 0.3) -> None:
    """Return once the worker has spent ``cpu_seconds`` on the CPU: it is in the middle of the picture."""
    start = _cpu_seconds(pid)
    for _ in range(10_000):  # the caller's wait_for bounds the time; this only bounds the loop
        if _cpu_seconds(pid) - start >= cpu_seconds:
            return
        await asyncio.sleep(0.02)


def _slow_picture() -> bytes:
    # ~2 s of work with SLOW_LIMITS: a noisy 4000×3000 PNG, tried as PNG first (its bytes per pixel say it
    # might fit), then re-encoded as JPEG. (Against a small budget a PNG like it now goes straight to JPEG, in
    # a fraction of that: too quick to be killed in the middle of.)
    return _encode(_noise((4000, 3000), 7), "PNG", compress_level=1)


SLOW_LIMITS = ImageLimits(data_uri_budget=33_000_000)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
async def pool():
    pool = ImagePool(workers=1)
    yield pool
    await asyncio.wait_for(pool.close(), 30)


async def test_a_burst_through_the_pool_gives_the_same_answers_as_threads(pool: ImagePool) -> None:
    requests = [_request(seed) for seed in (1, 2, 3)]
    assert not pool.started and pool.worker_pids() == []  # nothing runs before the first picture

    in_pool = await asyncio.wait_for(
        asyncio.gather(*(prepare_images(files, BUDGET, prepare=pool.prepare) for files in requests)), 90
    )
    in_threads = await asyncio.wait_for(asyncio.gather(*(prepare_images(files, BUDGET) for files in requests)), 90)

    [worker] = pool.worker_pids()
    assert worker != os.getpid()
    nice = int(Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[16])
    assert nice >= 10  # the worker yields the CPU to the bot's event loop
    for got, expected in zip(in_pool, in_threads, strict=True):
        assert _comparable(got) == _comparable(expected)
        prepared, problems = got
        assert len(prepared) == 3  # the three good pictures of each request came back
        assert {p.code for p in problems} == {
            ProblemCode.TRUNCATED, ProblemCode.ASPECT_RATIO, ProblemCode.NOT_AN_IMAGE, ProblemCode.EMPTY,
        }
    # A refusal from the worker is the same line a member would read from the thread.
    cut = next(p for p in in_pool[0][1] if p.code is ProblemCode.TRUNCATED)
    assert str(cut) == "frame-1-cut.png: the file is cut short or damaged"

    # The request card's storyboard, drawn in the worker, is the same picture.
    panels = panels_for([p.data for p in in_pool[0][0]], ["a slow pan", "zoom out"], [4, 5], start="Start",
                        segment=lambda n, seconds: f"{n} · {seconds} s")
    drawn = await asyncio.wait_for(pool.run(render_storyboard, panels), 60)
    assert drawn == render_storyboard(panels)


async def test_a_worker_killed_mid_picture_refuses_that_request_and_the_next_one_works(pool: ImagePool) -> None:
    slow = _slow_picture()
    limits = SLOW_LIMITS
    await asyncio.wait_for(pool.prepare(_encode(Image.new("RGB", (32, 32)), "PNG"), "warm.png"), 60)
    [victim] = pool.worker_pids()
    files = [("big-scan.png", slow), *_request(4)[:2]]
    burst = asyncio.ensure_future(prepare_images(files, limits, prepare=pool.prepare))
    await asyncio.wait_for(_busy(victim), 60)
    os.kill(victim, signal.SIGKILL)

    prepared, problems = await asyncio.wait_for(burst, 90)
    # The picture being worked on is refused with a clear line naming it; nothing is lost silently.
    assert [(p.filename, p.code) for p in problems] == [("big-scan.png", ProblemCode.WORKER_LOST)]
    assert str(problems[0]).startswith("big-scan.png: the picture checker stopped")
    # The request's other pictures went to the new worker and came back as a thread would make them.
    expected = [prepare_image(data, name, limits) for name, data in files[1:]]
    assert _comparable((prepared, [])) == _comparable((expected, []))
    assert pool.replaced == 1
    assert victim not in pool.worker_pids()

    # The next request works, on a new worker.
    again = await asyncio.wait_for(pool.prepare(slow, "big-scan.png", limits), 60)
    assert again.data == prepare_image(slow, "big-scan.png", limits).data
    assert len(pool.worker_pids()) == 1


async def test_with_two_workers_a_killed_one_loses_only_its_own_picture() -> None:
    pool = ImagePool(workers=2)
    try:
        limits = SLOW_LIMITS
        slow = _slow_picture()
        burst = asyncio.ensure_future(prepare_images([("left.png", slow), ("right.png", slow)], limits,
                                                     prepare=pool.prepare))
        for _ in range(500):  # both workers start with the burst's first two pictures
            if len(pool.worker_pids()) == 2:
                break
            await asyncio.sleep(0.02)
        victim, survivor = pool.worker_pids()
        await asyncio.wait_for(_busy(victim), 60)
        os.kill(victim, signal.SIGKILL)

        prepared, problems = await asyncio.wait_for(burst, 90)
        # One picture refused (whichever the killed worker had), the other one delivered whole.
        assert [p.code for p in problems] == [ProblemCode.WORKER_LOST]
        assert len(prepared) == 1 and prepared[0].data == prepare_image(slow, "x.png", limits).data
        assert survivor in pool.worker_pids() and victim not in pool.worker_pids()
        assert pool.replaced == 1
    finally:
        await asyncio.wait_for(pool.close(), 30)


async def test_close_stops_a_busy_worker_without_waiting_for_its_picture() -> None:
    pool = ImagePool(workers=1)
    await asyncio.wait_for(pool.close(), 10)  # never started: nothing to stop
    pool = ImagePool(workers=1)
    await asyncio.wait_for(pool.prepare(_encode(Image.new("RGB", (32, 32)), "PNG"), "warm.png"), 60)
    [worker] = pool.worker_pids()
    busy = asyncio.ensure_future(pool.prepare(_slow_picture(), "big-scan.png", SLOW_LIMITS))
    await asyncio.wait_for(_busy(worker), 60)

    await asyncio.wait_for(pool.close(grace=0.1), 30)
    assert not _alive(worker)
    with pytest.raises(ImageProblem) as refused:
        await asyncio.wait_for(busy, 30)
    assert refused.value.code is ProblemCode.WORKER_LOST

    # After close, pictures are still prepared (in a thread): a command during shutdown gets its answer.
    late = await asyncio.wait_for(pool.prepare(_encode(Image.new("RGB", (40, 30)), "PNG"), "late.png"), 30)
    assert (late.width, late.height) == (40, 30)
    assert pool.worker_pids() == []


BOT_KILLED_WITH_A_POOL = """
import asyncio, io, os, signal
from PIL import Image
from bot.media.pool import ImagePool

async def main() -> None:
    pool = ImagePool()
    picture = io.BytesIO()
    Image.new("RGB", (64, 48)).save(picture, "PNG")
    await pool.prepare(picture.getvalue(), "a.png")
    print("workers", *pool.worker_pids(), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # the OOM killer, or kill -9: no close(), no atexit

if __name__ == "__main__":
    asyncio.run(main())
"""


async def test_a_bot_killed_outright_leaves_no_picture_worker_behind(tmp_path: Path) -> None:
    script = tmp_path / "killed_bot.py"
    script.write_text(BOT_KILLED_WITH_A_POOL)
    bot = await asyncio.create_subprocess_exec(
        sys.executable, str(script), cwd=Path(__file__).resolve().parents[2],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    assert bot.stdout is not None
    first = (await asyncio.wait_for(bot.stdout.readline(), 60)).decode()
    assert first.startswith("workers "), first
    workers = [int(pid) for pid in first.split()[1:]]
    assert await asyncio.wait_for(bot.wait(), 30) == -signal.SIGKILL
    # Every process still holding the bot's stdout (worker, fork server) has gone once the pipe ends.
    rest = await asyncio.wait_for(bot.stdout.read(), 10)
    assert b"Traceback" not in rest
    for pid in workers:
        assert await asyncio.wait_for(_ended(pid), 10)


async def _ended(pid: int) -> bool:
    """True once `pid` has exited (gone, or a zombie waiting for init to reap it)."""
    status = Path(f"/proc/{pid}/status")
    while status.exists():
        with contextlib.suppress(FileNotFoundError):
            if any(line.startswith("State:\tZ") for line in status.read_text().splitlines()):
                return True
        await asyncio.sleep(0.1)
    return True

