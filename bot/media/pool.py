"""Keyframe preparation in a separate process, so Pillow's GIL time leaves the bot's interpreter.

In a worker thread, Pillow's decoding, resizing and encoding still take the bot's GIL in pieces of tens of
milliseconds, and the event loop waits for each piece (measured: the largest loop lag under a burst of
/keyframes). In a process, the bot only pickles bytes in and bytes out.

Rules (see tests/media/test_pool.py):
- Lazy: nothing starts until the first picture; the processes are started from a thread, off the loop.
- 'forkserver', never 'fork': the bot has threads and an event loop that a forked child must not inherit.
  The fork server imports only ``bot.media.keyframes``, so workers start small and quick.
- Bounded: at most ``workers`` pictures are in the pool at a time (each costs its input and output bytes,
  and up to ~160 MB of pixels in the worker); the others wait in the loop, holding nothing new.
- A worker that dies (killed, out of memory, a crash in a codec) breaks the pool: the pictures it was
  working on are refused with ``ProblemCode.WORKER_LOST`` (a clear line naming the file), the pool is
  replaced, and the next picture works. Since no more pictures are in the pool than there are workers,
  only the pictures being worked on at that moment are refused, never ones still waiting.
- Workers run at niceness 10: on 2 cores a busy worker would otherwise keep the loop's thread waiting
  for a CPU (measured as loop lag just like the GIL).
- ``run(fn, *args)`` takes other Pillow work too (the request card's storyboard picture); the caller
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

# One worker: on a 2-core machine the other core is the bot's (and the provider's); more workers would
# only take it away. A setting (IMAGE_WORKERS) belongs in bot/config.py; until then, this default.
IMAGE_WORKERS = 1
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
    """``prepare_image`` (and other Pillow work) in worker processes, awaited from the event loop."""

    def __init__(self, workers: int = IMAGE_WORKERS, *, start_method: str = START_METHOD) -> None:
        self.workers = max(1, workers)
        self._context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # The server imports only the pipeline (not discord, not the bot): small, quick workers.
            self._context.set_forkserver_preload(["bot.media.keyframes", "bot.media.storyboard"])
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._start_lock = threading.Lock()  # the pool is started from worker threads
        self._closed = False
        # A semaphore belongs to the event loop it first waits on: one gate per loop.
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self.replaced = 0  # pools replaced after a worker died (for logs and tests)

    @property
    def started(self) -> bool:
        return self._executor is not None

    def worker_pids(self) -> list[int]:
        """The live workers' process ids (empty before the first picture)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return [pid for pid, process in list(processes.items()) if process.is_alive()]

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
        gate = self._gate()
        await gate.acquire()
        released = False
        try:
            submitted = await self._submit(fn, args)
            if submitted is None:  # closed meanwhile
                return await asyncio.to_thread(fn, *args)
            executor, future = submitted
            # The gate opens when the worker is done with the call, not when we stop waiting for it:
            # a cancelled request must not let more calls into the pool than there are workers.
            _release_when_done(future, gate, asyncio.get_running_loop())
            released = True
            try:
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                self._replace(executor)
                log.warning("image worker died while running %s; pool replaced", getattr(fn, "__name__", fn))
                raise WorkerLost from None
        finally:
            if not released:
                gate.release()

    async def _submit(
        self, fn: Callable[..., T], args: tuple[object, ...]
    ) -> tuple[concurrent.futures.ProcessPoolExecutor, concurrent.futures.Future[T]] | None:
        """Hand the call to a working pool; None once the pool is closed."""
        for _ in range(3):
            try:
                executor = await self._running_executor()
            except RuntimeError:  # closed while starting
                return None
            except (BrokenProcessPool, concurrent.futures.TimeoutError):
                log.warning("image worker did not start")
                raise WorkerLost from None
            try:
                return executor, executor.submit(fn, *args)
            except BrokenProcessPool:
                # It broke before this call got in (the one being worked on is refused by its own
                # caller): this call goes to a new pool.
                self._replace(executor)
            except RuntimeError:  # shut down by close()
                return None
        raise WorkerLost  # new pools kept breaking at once: give up rather than loop

    async def close(self, grace: float = 2.0) -> None:
        """Stop the workers: at most ``grace`` seconds for the current picture, then they are killed."""
        executor = await asyncio.to_thread(self._close_for_good)
        if executor is not None:
            await asyncio.to_thread(_stop, executor, grace)

    def _close_for_good(self) -> concurrent.futures.ProcessPoolExecutor | None:
        with self._start_lock:  # waits for a start under way (in a thread): its pool must not outlive close()
            self._closed = True
            executor, self._executor = self._executor, None
            return executor

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.workers)
        return gate

    async def _running_executor(self) -> concurrent.futures.ProcessPoolExecutor:
        executor = self._executor
        if executor is None:
            # Starting a worker waits for the fork server to import Pillow: never on the loop.
            executor = await asyncio.to_thread(self._start)
        return executor

    def _start(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._start_lock:
            if self._closed:
                raise RuntimeError("the image pool is closed")
            if self._executor is None:
                executor = concurrent.futures.ProcessPoolExecutor(
                    self.workers, mp_context=self._context, initializer=_start_worker, initargs=(os.getpid(),)
                )
                try:
                    # Each call that finds no idle worker starts one: call them all at once, here in a thread.
                    ready = [executor.submit(_worker_ready) for _ in range(self.workers)]
                    for call in ready:
                        call.result(timeout=_START_TIMEOUT)
                except BaseException:
                    _stop(executor, grace=0)
                    raise
                self._executor = executor
            return self._executor

    def _replace(self, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        """Drop a broken pool (once, whoever sees it first); the next picture starts a new one.

        No lock (this runs on the loop): a start only ever replaces None, never a broken pool."""
        if self._executor is broken:
            self._executor = None
            self.replaced += 1
        broken.shutdown(wait=False, cancel_futures=True)


def _release_when_done(
    future: concurrent.futures.Future[Any], gate: asyncio.Semaphore, loop: asyncio.AbstractEventLoop
) -> None:
    def release(_: object) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits on this gate any more
            loop.call_soon_threadsafe(gate.release)

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
    return ImageProblem(filename, ProblemCode.WORKER_LOST, WORKER_LOST_DETAIL)


_default_pool: ImagePool | None = None


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
