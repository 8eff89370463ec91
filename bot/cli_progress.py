"""The command line's `--wait` progress: a task's state, percent, ETA and the time spent waiting.

On a terminal it is one line redrawn in place (`\\r`) every second, the ETA counting down between polls;
anywhere else (a pipe, a file, a CI log) plain lines, one each time the provider's answer changes. The
stream decides: progress goes to stderr, so `id=$(python -m bot animate … --wait)` still shows it live.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable
from typing import TextIO

from bot.provider import TaskResult, TaskStatus

REDRAW_SECONDS = 1.0
_STATES = {
    TaskStatus.QUEUED: "queued",
    TaskStatus.PROCESSING: "generating",
    TaskStatus.SUCCEED: "done",
}


def clock_text(seconds: float) -> str:
    """37 -> "0:37", 125 -> "2:05", 3725 -> "1:02:05"."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False


class TaskProgress:
    """Shows one task's progress on `stream`: call `show` after each poll, `wait` between polls, `close` at
    the end (it ends the live line, so what is printed next starts on a line of its own)."""

    def __init__(self, task_id: str, stream: TextIO, *, live: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.task_id = task_id
        self.stream = stream
        self.live = is_terminal(stream) if live is None else live
        self._clock = clock
        self._started = clock()
        self._result: TaskResult | None = None
        self._polled_at = self._started
        self._last_state = ""
        self._shown_width = 0  # characters of the live line on screen

    def show(self, result: TaskResult) -> None:
        self._result, self._polled_at = result, self._clock()
        if self.live:
            self._redraw()
            return
        state = self._state(self._polled_at)
        if state != self._last_state:
            self._last_state = state
            self.stream.write(f"{self.line(self._polled_at)}\n")
            self.stream.flush()

    async def wait(self, seconds: float) -> None:
        """Sleep `seconds`; on a terminal, redraw the line every second meanwhile (elapsed and ETA move)."""
        if not self.live:
            await asyncio.sleep(seconds)
            return
        end = self._clock() + seconds
        while (left := end - self._clock()) > 0:
            await asyncio.sleep(min(REDRAW_SECONDS, left))
            self._redraw()

    def close(self) -> None:
        if self.live and self._shown_width:
            self.stream.write("\n")
            self.stream.flush()
            self._shown_width = 0

    def line(self, now: float) -> str:
        """"<task>: generating 45% · ETA 0:12 · 0:37 elapsed" (fits 80 columns with a 32-character task id)."""
        return f"{self.task_id}: {self._state(now)} · {clock_text(now - self._started)} elapsed"

    def _state(self, now: float) -> str:
        result = self._result
        if result is None:
            return "asking the provider"
        if result.status is TaskStatus.FAILED:
            return f"failed: {result.reason or 'no reason given'}"
        state = _STATES.get(result.status, result.status.value)
        if result.status is TaskStatus.PROCESSING and result.progress_percent:
            state += f" {result.progress_percent}%"
        if not result.is_final and result.eta:
            # Between polls the ETA counts down on a terminal; a plain line gives the provider's figure.
            left = math.ceil(result.eta - (now - self._polled_at if self.live else 0))
            state += f" · ETA {clock_text(left)}" if left > 0 else " · ETA soon"
        return state

    def _redraw(self) -> None:
        text = self.line(self._clock())[: self._columns() - 1]
        padding = " " * max(0, self._shown_width - len(text))  # wipe what a longer line left
        self.stream.write(f"\r{text}{padding}")
        self.stream.flush()
        self._shown_width = len(text)

    def _columns(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            return 80
        return columns if columns > 0 else 80
