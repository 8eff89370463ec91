"""When the job loop first polls a new task: quickly while calls are plentiful; while they wait for the rate
limit, at the time learned for tasks of its shape (bot/schedule.py FirstLook), saving a call on half of them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp

from bot.jobs import JobState
from bot.jobs.steps import task_shape
from bot.jobs.worker import JobWorker, WorkerSettings
from bot.provider import RateLimiter, RetryPolicy, ViduClient
from bot.schedule import FirstLook
from tests.fakes.provider import FakeProvider
from tests.jobs.test_worker import API_KEY, RecordingListener, add_img2video
from tests.store.backends import ManualClock, chosen_backend

LEARNED = 60.0


async def _first_poll_after(tmp_path: Path, *, scarce: bool) -> float:
    clock = ManualClock()
    fake = FakeProvider(api_key=API_KEY, time_scale=0.0)
    await fake.start()
    store = await chosen_backend().open(tmp_path, clock)
    limiter = RateLimiter(120, burst=1)  # a token every half second
    try:
        async with aiohttp.ClientSession() as session:
            client = ViduClient(session, base_url=fake.base_url, api_key=API_KEY, limiter=limiter, timeout=5.0,
                                retry=RetryPolicy(max_attempts=1))
            settings = WorkerSettings(poll_first_seconds=2, poll_max_seconds=30)
            look = FirstLook(shortest=2)
            job = await add_img2video(store)
            for _ in range(40):  # taught: tasks of this shape are done about a minute after their submit
                look.learn(task_shape(job), elapsed=look.delay(task_shape(job)), finished=False, eta_seconds=120)
            assert look.delay(task_shape(job)) >= LEARNED
            worker = JobWorker(store, client, RecordingListener(), settings, workdir=tmp_path, clock=clock,
                               first_look=look)
            if scarce:  # other calls took the burst: this one waited for its token
                await limiter.acquire()
                await limiter.acquire()
            await worker.tick()
            submitted = await store.get_job(job.id)
            assert submitted is not None and submitted.state is JobState.SUBMITTED
            assert submitted.next_poll_at is not None and submitted.submitted_at is not None
            return (submitted.next_poll_at - submitted.submitted_at) / timedelta(seconds=1)
    finally:
        await store.close()
        await fake.stop()


async def test_while_calls_are_plentiful_the_first_look_is_quick(tmp_path: Path) -> None:
    assert await _first_poll_after(tmp_path, scarce=False) == 2


async def test_while_calls_are_scarce_the_first_look_waits_for_the_learned_time(tmp_path: Path) -> None:
    assert await _first_poll_after(tmp_path, scarce=True) >= LEARNED
