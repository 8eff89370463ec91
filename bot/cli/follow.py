"""Following a task to its end: progress on stderr, the video saved, the ledger told (the command line's jobs)."""

from __future__ import annotations

import asyncio
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import EXIT_TASK_FAILED, CliError, file_size
from bot.cli_progress import TaskProgress
from bot.config import Settings
from bot.provider import TaskResult, TaskStatus, ViduClient
from bot.schedule import next_poll_delay

if TYPE_CHECKING:  # (paid.py imports this module)
    from bot.cli.paid import OperatorLedger


def describe(result: TaskResult) -> str:
    if result.status is TaskStatus.PROCESSING:
        parts = ["generating"]
        if result.progress_percent:
            parts.append(f"{result.progress_percent}%")
        if result.eta:
            parts.append(f"(ETA {result.eta} s)")
        return " ".join(parts)
    return {
        TaskStatus.QUEUED: "queued at the provider",
        TaskStatus.SUCCEED: "done",
        TaskStatus.FAILED: f"failed: {result.reason or 'no reason given'}",
    }.get(result.status, result.status.value)


def resume_command(task_id: str, out: Path | None) -> str:
    return f"python -m bot task {shlex.quote(task_id)} --wait" + (f" --out {shlex.quote(str(out))}" if out else "")


@contextmanager
def resumable(task_id: str, out: Path | None) -> Iterator[None]:
    """Interrupted (Ctrl-C) while a task is followed: it goes on, and is billed; say how to follow it again."""
    try:
        yield
    except asyncio.CancelledError:
        print(f"interrupted: task {task_id} goes on at the provider, which bills it when it finishes; follow it "
              f"again with: {resume_command(task_id, out)}", file=sys.stderr)
        raise


async def follow(client: ViduClient, task_id: str, settings: Settings, out: Path | None,
                 ledger: OperatorLedger | None = None) -> None:
    """Poll until the task is final, show progress on stderr (live on a terminal), save the video, tell the
    ledger (the command line's own jobs). Callers wrap it in `resumable`."""
    polls = 0
    progress = TaskProgress(task_id, sys.stderr)
    try:
        while True:
            result = await client.get_task(task_id)
            polls += 1
            progress.show(result)
            if result.status in (TaskStatus.FAILED, TaskStatus.SUCCEED):
                break
            delay = next_poll_delay(
                polls, eta_seconds=result.eta, first=settings.poll_first_seconds,
                cap=settings.poll_max_seconds, eta_past_cap=False,  # someone watches the progress line
            )
            await progress.wait(delay)
    finally:
        progress.close()
    if ledger is not None:
        await ledger.seen(result)
    if result.status is TaskStatus.FAILED:
        raise CliError(f"task {task_id} failed: {result.reason or 'no reason given'}", EXIT_TASK_FAILED)
    if not result.videos:
        raise CliError(f"task {task_id} succeeded without a video", EXIT_TASK_FAILED)
    dest = out or Path(f"{task_id}.mp4")
    size = await client.download_video(
        result.videos[0].url, dest, max_bytes=settings.video_max_bytes,
        timeout=settings.video_download_timeout_seconds,
    )
    if ledger is not None:
        await ledger.saved()
    print(f"{task_id}: saved {dest} ({file_size(size)})", file=sys.stderr)
    print(dest)
