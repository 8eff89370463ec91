"""The rate limiter holds callers back once the burst is spent, in order, and is shared by every call.

A hand-moved clock decides when tokens come back, so the tests check order and waiting, not timing.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.provider import Img2VideoRequest, RateLimiter, ViduClient
from tests.fakes.provider import FakeProvider
from tests.provider.conftest import API_KEY, TINY_RETRY, data_uri


class HandClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def settle() -> None:
    """Let every runnable task run (a few loop turns; no waiting on time)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_third_request_of_a_burst_waits_for_a_token() -> None:
    clock = HandClock()
    limiter = RateLimiter(120, clock=clock)  # 2 a second, burst of 2
    done: list[int] = []

    async def call(number: int) -> None:
        await limiter.acquire()
        done.append(number)

    tasks = [asyncio.create_task(call(n)) for n in range(3)]
    await settle()
    assert done == [0, 1]
    assert not tasks[2].done()

    clock.now += 0.5  # half a second at 2/s is one token
    await asyncio.wait_for(tasks[2], timeout=10)
    assert done == [0, 1, 2]


async def test_waiters_are_served_in_arrival_order() -> None:
    clock = HandClock()
    limiter = RateLimiter(6000, burst=1, clock=clock)  # 100 a second, one at a time
    order: list[int] = []

    async def call(number: int) -> None:
        await limiter.acquire()
        order.append(number)

    tasks = []
    for number in range(5):
        tasks.append(asyncio.create_task(call(number)))
        await settle()
    assert order == [0]
    for expected in range(1, 5):
        clock.now += 0.01
        await asyncio.wait_for(tasks[expected], timeout=10)
    assert order == [0, 1, 2, 3, 4]


async def test_cancelled_waiter_does_not_use_a_token() -> None:
    clock = HandClock()
    limiter = RateLimiter(6000, burst=1, clock=clock)
    await limiter.acquire()
    waiting = asyncio.create_task(limiter.acquire())
    await settle()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    clock.now += 0.01
    await asyncio.wait_for(limiter.acquire(), timeout=10)  # the returned token is still there


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        RateLimiter(0)
    with pytest.raises(ValueError, match="burst"):
        RateLimiter(60, burst=0)


async def test_submits_and_polls_share_one_limiter(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    clock = HandClock()
    limiter = RateLimiter(120, clock=clock)
    client = ViduClient(session, base_url=fake.base_url, api_key=API_KEY, limiter=limiter, retry=TINY_RETRY)
    other = ViduClient(session, base_url=fake.base_url, api_key=API_KEY, limiter=limiter, retry=TINY_RETRY)

    task_id = (await client.submit(Img2VideoRequest(image=data_uri(), prompt="a cat walks"))).task_id
    await other.get_task(task_id)
    third = asyncio.create_task(client.get_task(task_id))
    await asyncio.sleep(0.2)  # real time for the request to reach the fake, were it let through
    assert not third.done()
    assert len(fake.requests) == 2

    clock.now += 0.5
    result = await asyncio.wait_for(third, timeout=10)
    assert result.task_id == task_id
    assert len(fake.requests) == 3


async def test_the_limiter_says_when_callers_waited_for_a_token() -> None:
    clock = HandClock()
    limiter = RateLimiter(60, clock=clock)  # 1 a second, burst of 1
    await limiter.acquire()
    assert not limiter.waited_within(30)  # the burst covered it: calls are plentiful

    waiting = asyncio.create_task(limiter.acquire())
    await settle()
    clock.now += 1.0
    await asyncio.wait_for(waiting, timeout=10)
    assert limiter.waited_within(30)
    clock.now += 31.0
    assert not limiter.waited_within(30)
