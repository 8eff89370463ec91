"""Keyframe preparation in a separate process, so Pillow's GIL time leaves the bot's interpreter.

In a worker thread, Pillow's decoding, resizing and encoding still take the bot's GIL in pieces of tens of
milliseconds, and the event loop waits for each piece (measured: the largest loop lag under a burst of
/keyframes). In a process, the bot only pickles bytes in and bytes out.

Rules (see tests/media/test_pool.py):
- Lazy: nothing starts until the first picture; the processes are started from a thread, off the loop.
- 'forkserver', never 'fork': the bot has threads and an event loop that a forked child must not inherit.
  The fork server imports only ``bot.media.keyframes``, so workers start small and quick.
- Bounded: one picture per worker at a time (each costs its input and output bytes, and up to ~160 MB of
  pixels in the worker); the others wait in the loop, holding nothing new.
- A worker that dies (killed, out of memory, a crash in a codec) loses only the picture it was working on:
  that one is refused with ``ProblemCode.WORKER_LOST`` (a clear line naming the file), the worker is
  replaced, and the next picture works. Each worker has its own one-process executor, because a
  ProcessPoolExecutor fails every call it holds when any of its processes dies.
- Workers run at niceness 10: on 2 cores a busy worker would otherwise keep the loop's thread waiting
  for a CPU (measured as loop lag just like the GIL).
- ``run(fn, *args)`` takes other Pillow work too (the storyboard preview's picture); the caller
  decides what a ``WorkerLost`` means for it.
- ``close()`` stops the workers without waiting for more than ``grace`` seconds; afterwards pictures are
  prepared in a thread, so a command arriving during shutdown still gets an answer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from bot.media.keyframes import ImageLimits, PreparedImage, prepare_image
from bot.media.problems import ImageProblem, ProblemCode

log = logging.getLogger("bot.media.pool")
T = TypeVar("T")

# Workers (processes) preparing pictures at once; niced, so the loop keeps its core. Measured on 2 cores
# (50 × /keyframes with ten 5 MB pictures): one worker 157-215 s for the burst, two 103-112 s, and the loop
# lag no worse with two. Each worker peaks at several hundred MB on a 40 MP picture (a 52 MB q100 JPEG:
# ~560 MB in the media benchmark). The bot sets it from IMAGE_WORKERS (bot/config.py); this is the default.
IMAGE_WORKERS = 2
START_METHOD = "forkserver"
# Scheduler weight 110 against the bot's 1024: the loop's thread preempts a busy worker at once.
WORKER_NICENESS = 10
# How long a starting worker may take to answer its first call (import Pillow, fork from the server).
_START_TIMEOUT = 60.0
_WATCH_SECONDS = 0.5
_DEFAULT_LIMITS = ImageLimits()
WORKER_LOST_DETAIL = "the picture checker stopped while working on this picture; nothing was kept, please send it again"


def _start_worker(bot_pid: int) -> None:
    """Each worker's first act: yield the CPU to the bot (preparing a picture is batch work that may take a
    second longer; the bot's event loop must wake on time), and go when the bot goes."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    threading.Thread(target=_exit_when_gone, args=(bot_pid,), name="bot-watch", daemon=True).start()


def _exit_when_gone(bot_pid: int) -> None:
    """A bot killed outright (SIGKILL, the OOM killer) never closes its pool, and a worker would wait for
    work forever (it holds both ends of its own call queue), keeping the fork server alive with it and the
    bot's stdout open. So each worker checks its bot twice a second and leaves once it has gone; the fork
    server then sees its last client go and exits too."""
    while True:
        time.sleep(_WATCH_SECONDS)
        try:
            os.kill(bot_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # the pid now belongs to another user's process: ours has gone
            os._exit(0)


def _worker_ready() -> int:
    """The first call into a new worker: proves it runs, returns its pid."""
    return os.getpid()


class WorkerLost(Exception):
    """The worker process died while running the call (killed, out of memory, a crash in a codec)."""


class ImagePool:
    """``prepare_image`` (and other Pillow work) in worker processes, awaited from the event loop.

    Each worker is its own one-process executor (a slot): when one dies, ProcessPoolExecutor fails every
    call in that executor, so one executor per worker keeps the loss to the call that worker had."""

    def __init__(self, workers: int = IMAGE_WORKERS, *, start_method: str = START_METHOD) -> None:
        self.workers = max(1, workers)
        context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # The server imports only the pipeline (not discord, not the bot): small, quick workers.
            context.set_forkserver_preload(["bot.media.keyframes", "bot.media.storyboard"])
        self._slots = [_Slot(context) for _ in range(self.workers)]
        self._closed = False
        # An asyncio.Queue belongs to the event loop it first waits on: free slots per loop.
        self._free: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Queue[_Slot]] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def started(self) -> bool:
        return any(slot.executor is not None for slot in self._slots)

    @property
    def replaced(self) -> int:
        """Workers replaced after one died (for logs and tests)."""
        return sum(slot.replaced for slot in self._slots)

    def worker_pids(self) -> list[int]:
        """The live workers' process ids (empty before the first picture)."""
        return [pid for slot in self._slots for pid in slot.pids()]

    async def prepare(self, data: bytes, filename: str, limits: ImageLimits = _DEFAULT_LIMITS) -> PreparedImage:
        """``prepare_image`` in a worker: the PreparedImage, or ImageProblem (WORKER_LOST if it died)."""
        try:
            return await self.run(prepare_image, data, filename, limits)
        except WorkerLost:
            raise _worker_lost(filename) from None

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` in a worker (``fn`` and its arguments are pickled: a module-level function and
        plain data); in a thread once the pool is closed. Raises WorkerLost if the worker died meanwhile."""
        if self._closed:
            return await asyncio.to_thread(fn, *args)
        free = self._free_slots()
        slot = await free.get()
        handed_over = False
        try:
            submitted = await slot.submit(fn, args)
            if submitted is None:  # closed meanwhile
                return await asyncio.to_thread(fn, *args)
            executor, future = submitted
            # The slot is free again when its worker is done with the call, not when we stop waiting for
            # it: a cancelled request must not put more calls into the pool than there are workers.
            _free_when_done(future, free, slot, asyncio.get_running_loop())
            handed_over = True
            try:
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                slot.replace(executor)
                log.warning("image worker died while running %s; worker replaced", getattr(fn, "__name__", fn))
                raise WorkerLost from None
        finally:
            if not handed_over:
                free.put_nowait(slot)

    async def close(self, grace: float = 2.0) -> None:
        """Stop the workers: at most ``grace`` seconds for the current picture, then they are killed."""
        self._closed = True
        await asyncio.gather(*(slot.close(grace) for slot in self._slots))

    def _free_slots(self) -> asyncio.Queue[_Slot]:
        loop = asyncio.get_running_loop()
        free = self._free.get(loop)
        if free is None:
            free = self._free[loop] = asyncio.Queue()
            for slot in self._slots:
                free.put_nowait(slot)
        return free


class _Slot:
    """One worker process in its own executor, started lazily (from a thread) and replaced if it dies."""

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        self._context = context
        self.executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._start_lock = threading.Lock()  # starts happen in worker threads
        self._closed = False
        self.replaced = 0

    def pids(self) -> list[int]:
        processes = getattr(self.executor, "_processes", None) or {}
        return [pid for pid, process in list(processes.items()) if process.is_alive()]

    async def submit(
        self, fn: Callable[..., T], args: tuple[object, ...]
    ) -> tuple[concurrent.futures.ProcessPoolExecutor, concurrent.futures.Future[T]] | None:
        """Hand the call to this slot's worker; None once closed."""
        for _ in range(3):
            try:
                current = self.executor
                executor = current if current is not None else await asyncio.to_thread(self._start)  # off the loop
            except RuntimeError:  # closed while starting
                return None
            except (BrokenProcessPool, concurrent.futures.TimeoutError):
                log.warning("image worker did not start")
                raise WorkerLost from None
            try:
                return executor, executor.submit(fn, *args)
            except BrokenProcessPool:  # it broke after its last call; that caller saw it: start anew
                self.replace(executor)
            except RuntimeError:  # shut down by close()
                return None
        raise WorkerLost  # new workers kept breaking at once: give up rather than loop

    def _start(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._start_lock:
            if self._closed:
                raise RuntimeError("the image pool is closed")
            if self.executor is None:
                executor = concurrent.futures.ProcessPoolExecutor(
                    1, mp_context=self._context, initializer=_start_worker, initargs=(os.getpid(),)
                )
                try:
                    # Starting waits for the fork server (the first time: its import of Pillow).
                    executor.submit(_worker_ready).result(timeout=_START_TIMEOUT)
                except BaseException:
                    _stop(executor, grace=0)
                    raise
                self.executor = executor
            return self.executor

    def replace(self, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        """Drop a broken executor (once, whoever sees it first); the next call starts a new worker.

        No lock (this runs on the loop): a start only ever fills an empty slot, never a broken one."""
        if self.executor is broken:
            self.executor = None
            self.replaced += 1
        broken.shutdown(wait=False, cancel_futures=True)

    async def close(self, grace: float) -> None:
        executor = await asyncio.to_thread(self._close_for_good)
        if executor is not None:
            await asyncio.to_thread(_stop, executor, grace)

    def _close_for_good(self) -> concurrent.futures.ProcessPoolExecutor | None:
        with self._start_lock:  # waits for a start under way: its worker must not outlive close()
            self._closed = True
            executor, self.executor = self.executor, None
            return executor


def _free_when_done(
    future: concurrent.futures.Future[Any], free: asyncio.Queue[_Slot], slot: _Slot, loop: asyncio.AbstractEventLoop
) -> None:
    def release(_: object) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for a slot any more
            loop.call_soon_threadsafe(free.put_nowait, slot)

    future.add_done_callback(release)


def _stop(executor: concurrent.futures.ProcessPoolExecutor, grace: float) -> None:
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():  # still on a big picture: nobody waits for its answer any more
            process.kill()
            process.join(5)


def _worker_lost(filename: str) -> ImageProblem:
    return ImageProblem(filename, ProblemCode.WORKER_LOST, WORKER_LOST_DETAIL, key="worker_lost")


_default_pool: ImagePool | None = None


def configure_image_pool(workers: int) -> None:
    """Set the bot's number of image workers (IMAGE_WORKERS), before the first picture."""
    global _default_pool
    if _default_pool is not None and _default_pool.started:
        raise RuntimeError("the image pool has already started; configure it before the first picture")
    _default_pool = ImagePool(workers)


def image_pool() -> ImagePool:
    """The bot's pool (created on first use; its workers start with the first picture)."""
    global _default_pool
    if _default_pool is None:
        _default_pool = ImagePool()
    return _default_pool


async def close_image_pool(grace: float = 2.0) -> None:
    """Stop the bot's image workers (for the bot's close()). Safe to call when none were started."""
    if _default_pool is not None:
        await _default_pool.close(grace)
