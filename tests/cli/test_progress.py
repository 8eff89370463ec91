"""`--wait`'s progress on a terminal (a real pseudo-terminal): one line redrawn in place. A real `python -m bot`
subprocess against the strict fake provider, as in test_cli (whose --wait tests check the plain lines in a pipe)."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import sys
import termios
from pathlib import Path

from tests.cli.test_cli import API_KEY, ELAPSED, cli_environ, fake, write_image
from tests.fakes.provider import FakeProvider

__all__ = ["fake"]  # the fixture, shared with test_cli


def read_until_closed(fd: int) -> bytes:
    """Everything written to a pseudo-terminal until its last writer is gone (Linux then says EIO)."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


async def test_on_a_terminal_progress_is_one_line_redrawn_in_place(tmp_path: Path, fake: FakeProvider) -> None:
    fake.queue_seconds, fake.processing_seconds = 0.8, 2.0  # a few seconds: several redraws
    image = write_image(tmp_path / "cat.png")
    controller, terminal = pty.openpty()
    termios.tcsetwinsize(terminal, (24, 80))
    # A poll a second at most (and no client-side pacing), so the task is seen queued and then generating.
    env = cli_environ(fake, PROVIDER_REQUESTS_PER_MINUTE="6000", POLL_MAX_SECONDS="1")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "animate", "--yes", str(image), "--prompt", "waves", "--wait", "--out",
            "v.mp4",
            cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=terminal, stderr=terminal,
        )
        os.close(terminal)
        raw = await asyncio.wait_for(asyncio.to_thread(read_until_closed, controller), timeout=60)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0, raw
    finally:
        os.close(controller)
    text = raw.decode().replace("\r\n", "\n")  # the terminal turns each newline into \r\n
    assert "Traceback" not in text and API_KEY not in text
    estimate, task_id, progress, saved, path = text.split("\n")[:5]
    assert text.count("\n") == 5, text  # the estimate, task id, the progress line once it ends, "saved", the path
    assert estimate.startswith("estimated cost: $")
    assert saved.startswith(f"{task_id}: saved v.mp4") and path == "v.mp4"
    frames = [frame.rstrip() for frame in progress.split("\r") if frame.strip()]
    assert len(frames) >= 3, frames  # redrawn in place, never a new line
    assert all(frame.startswith(f"{task_id}: ") and ELAPSED.search(frame) for frame in frames), frames
    assert any(re.search(r": generating \d+% · ETA \d+:\d\d · ", frame) for frame in frames), frames
    assert any(re.search(r": queued · ETA \d+:\d\d · ", frame) for frame in frames), frames
    assert frames[-1].startswith(f"{task_id}: done · ")
    seconds = [int(m[1]) * 60 + int(m[2]) for frame in frames if (m := ELAPSED.search(frame))]
    assert seconds == sorted(seconds) and seconds[-1] >= 2  # the clock moves between polls
