"""Two job loops on one database, as two bot processes would run them: each job is worked on by one loop
at a time, a stalled or dead loop hands its jobs over when its lease runs out, and its late writes are
refused. (tests/e2e/test_processes.py does the same with real bot processes on PostgreSQL.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.db import PostgresStore
from bot.jobs import JobState, JobStore
from bot.jobs.models import utcnow
from bot.jobs.worker import JobWorker, WorkerSettings
from bot.provider import RateLimiter, RetryPolicy, ViduClient
from tests.fakes.provider import FakeProvider, Fault
from tests.jobs.test_worker import API_KEY, RecordingListener, add_img2video
from tests.store.backends import ManualClock, chosen_backend, pg_url

S = JobState
A, B = "host-a:41:aaaaaa", "host-b:7:bbbbbb"  # worker names: host:pid:random (bot/jobs/leases.py)
LEASE_SECONDS = 30.0


@dataclass
class Pair:
    """Two loops ("process A" and "process B"), each with its own store handle, sharing one database."""

    fake: FakeProvider
    clock: ManualClock
    a: JobWorker
    b: JobWorker
    store: JobStore  # A's handle, for looking
    posted: RecordingListener  # both loops post through one listener: a second post would show here

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.fake.advance(seconds)

    async def wait_for_state(self, job_id: str, state: JobState) -> None:
        async def check() -> None:
            while (job := await self.store.get_job(job_id)) is None or job.state is not state:  # noqa: ASYNC110
                await asyncio.sleep(0.02)  # (the state is in the database: nothing to wait on but polling)

        await asyncio.wait_for(check(), 10)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    clock = ManualClock()
    fake = FakeProvider(api_key=API_KEY, time_scale=0.0)
    fake.queue_seconds, fake.processing_seconds = 5.0, 20.0
    await fake.start()
    store_a = await chosen_backend().open(tmp_path, clock)
    store_b = await chosen_backend().open(tmp_path, clock)
    listener = RecordingListener()
    settings = WorkerSettings(poll_first_seconds=2, poll_max_seconds=30, lease_seconds=LEASE_SECONDS)
    async with aiohttp.ClientSession() as session:
        def client() -> ViduClient:
            return ViduClient(session, base_url=fake.base_url, api_key=API_KEY, limiter=RateLimiter(60_000),
                              timeout=10.0, retry=RetryPolicy(max_attempts=1))

        a = JobWorker(store_a, client(), listener, settings, workdir=tmp_path / "a", clock=clock, owner=A)
        b = JobWorker(store_b, client(), listener, settings, workdir=tmp_path / "b", clock=clock, owner=B)
        a.workdir.mkdir()
        b.workdir.mkdir()
        yield Pair(fake, clock, a, b, store_a, listener)
    await store_a.close()
    await store_b.close()
    await fake.stop()


async def test_a_stalled_loops_late_poll_result_is_refused_after_another_took_the_job_over(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    pair.fake.processing_seconds = 200.0
    job = await add_img2video(pair.store)
    await pair.a.tick()  # A submits
    pair.advance(10)  # generating
    pair.fake.inject("result", Fault.slow(1.5))
    stalled = asyncio.create_task(pair.a.tick())  # A leases the poll and hangs on the provider's answer
    await asyncio.sleep(0.3)
    held = await pair.store.get_job(job.id)
    assert held is not None and held.lease_owner == A

    await pair.b.tick()
    assert (await pair.store.get_job(job.id)) == held  # still A's: B keeps off

    pair.advance(LEASE_SECONDS + 60)  # A never renewed: its lease has run out
    await pair.b.tick()  # B polls: further along now
    by_b = await pair.store.get_job(job.id)
    assert by_b is not None and by_b.state is S.SUBMITTED and by_b.lease_owner is None
    assert by_b.attempt == held.attempt + 1
    await pair.a.renew_leases()  # A, still stalled, tries to renew: the operator reads who has it now
    assert f"job {job.id}: lease lost to another process (done with it)" in caplog.text  # B polled and let go

    pair.advance(20)
    await asyncio.wait_for(stalled, 10)  # A wakes up and writes what it saw: refused, B's record stays
    assert await pair.store.get_job(job.id) == by_b

    pair.advance(200)
    for _ in range(3):
        await pair.b.tick()
        await pair.a.tick()
    delivered = await pair.store.get_job(job.id)
    assert delivered is not None and delivered.state is S.DELIVERED
    assert len(pair.posted.posted[job.id]) == 1
    assert len(pair.fake.requests_to("submit")) == 1


async def test_a_loop_that_dies_mid_submit_leaves_the_job_unknown_never_submitted_twice(pair: Pair) -> None:
    job = await add_img2video(pair.store)
    pair.fake.inject("submit", Fault.slow(2.0))
    dying = asyncio.create_task(pair.a.tick())
    await pair.wait_for_state(job.id, S.SUBMITTING)
    await asyncio.sleep(0.2)
    dying.cancel()  # the process is killed with the submit in flight (the provider creates the task)
    await asyncio.gather(dying, return_exceptions=True)

    await pair.b.tick()
    waiting = await pair.store.get_job(job.id)
    assert waiting is not None and waiting.state is S.SUBMITTING  # A's lease still runs: B keeps off

    pair.advance(LEASE_SECONDS + 1)
    await pair.b.tick()
    unknown = await pair.store.get_job(job.id)
    assert unknown is not None and unknown.state is S.SUBMIT_UNKNOWN
    for _ in range(3):
        pair.advance(5)
        await pair.b.tick()
    assert len(pair.fake.requests_to("submit")) == 1
    assert pair.posted.changes == [(job.id, S.SUBMIT_UNKNOWN)]


async def test_a_sole_process_restarted_after_a_crash_resumes_its_jobs_at_once(
    pair: Pair, tmp_path: Path
) -> None:
    job = await add_img2video(pair.store)
    pair.fake.inject("submit", Fault.slow(2.0))
    dying = asyncio.create_task(pair.a.tick())
    await pair.wait_for_state(job.id, S.SUBMITTING)
    await asyncio.sleep(0.2)
    dying.cancel()  # killed with the submit in flight; its lease runs for another 30 s
    await asyncio.gather(dying, return_exceptions=True)

    # The same bot started again on its host (a new owner name), the only process: no wait for the old lease.
    restarted = JobWorker(pair.b._store, pair.b._client, pair.posted,
                          WorkerSettings(lease_seconds=LEASE_SECONDS, sole_worker=True),
                          workdir=tmp_path / "b", clock=pair.clock, owner="host-a:41:restarted")
    running = asyncio.create_task(restarted.run())
    try:
        await pair.wait_for_state(job.id, S.SUBMIT_UNKNOWN)  # the clock has not moved
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert len(pair.fake.requests_to("submit")) == 1

    # One of several processes (not sole) never frees another's lease: B waits it out as before.
    other = await add_img2video(pair.store, user=2)
    pair.fake.inject("submit", Fault.slow(2.0))
    dying = asyncio.create_task(pair.a.tick())
    await pair.wait_for_state(other.id, S.SUBMITTING)
    dying.cancel()
    await asyncio.gather(dying, return_exceptions=True)
    await pair.b.tick()
    assert (await pair.store.get_job(other.id)).state is S.SUBMITTING  # type: ignore[union-attr]


async def test_a_long_delivery_keeps_its_job_while_it_renews_the_lease(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    job = await add_img2video(pair.store)
    await pair.a.tick()
    pair.advance(30)
    pair.fake.inject("video", Fault.slow(1.5))
    delivering = asyncio.create_task(pair.a.tick())  # A polls (done), leases the delivery; the download is slow
    await pair.wait_for_state(job.id, S.SUCCEEDED)
    await asyncio.sleep(0.3)
    assert (await pair.store.get_job(job.id)).lease_owner == A  # type: ignore[union-attr]
    for _ in range(3):  # 60 s on the clock, past the first lease, renewed every 20 s as run() does
        pair.advance(LEASE_SECONDS * 2 / 3)
        await pair.a.renew_leases()
        await pair.b.tick()  # B must keep off a job whose lease is renewed
    await asyncio.wait_for(delivering, 10)
    done = await pair.store.get_job(job.id)
    assert done is not None and done.state is S.DELIVERED and done.lease_owner is None
    assert len(pair.posted.posted[job.id]) == 1
    assert len(pair.fake.requests_to("video")) == 1  # B never started a second download
    await pair.a.renew_leases()  # (nothing held any more: nothing to say)
    assert "lease lost" not in caplog.text


async def test_a_loop_stopped_gracefully_hands_its_jobs_back_at_once(pair: Pair) -> None:
    job = await add_img2video(pair.store)
    await pair.a.tick()  # A submits
    pair.advance(10)  # a poll is due
    pair.fake.inject("result", Fault.slow(5))
    running = asyncio.create_task(pair.a.run())  # A leases the poll and waits on the provider...

    async def leased_by_a() -> None:
        while (await pair.store.get_job(job.id)).lease_owner != A:  # type: ignore[union-attr]  # noqa: ASYNC110
            await asyncio.sleep(0.02)

    await asyncio.wait_for(leased_by_a(), 10)
    held = await pair.store.get_job(job.id)
    running.cancel()  # ...and the bot is stopped (SIGTERM) meanwhile
    await asyncio.gather(running, return_exceptions=True)

    await pair.b.tick()  # no time has passed: B polls it at once instead of waiting out A's lease
    polled = await pair.store.get_job(job.id)
    assert held is not None and polled is not None
    assert polled.attempt == held.attempt + 1 and polled.poll_count == held.poll_count + 1
    assert polled.lease_owner is None


async def test_hosts_whose_clocks_differ_by_more_than_the_lease_keep_off_each_others_jobs(tmp_path: Path) -> None:
    """Two processes on hosts whose clocks are 3 leases apart, on one PostgreSQL: each keeps time by the
    server's clock (bot/db/clock.py), so the one running ahead does not see the other's lease on an
    in-flight submit as run out (judged by its own clock, it would, and submit the job again or give it up)."""
    url = pg_url(tmp_path)  # (skips without PostgreSQL: a SQLite file has one host, so one clock)
    skew = timedelta(seconds=LEASE_SECONDS * 3)
    fake = FakeProvider(api_key=API_KEY, time_scale=0.0)
    await fake.start()
    behind = await PostgresStore.open(url, host_clock=lambda: utcnow() - skew, max_size=4)
    ahead = await PostgresStore.open(url, host_clock=lambda: utcnow() + skew, max_size=4)
    listener = RecordingListener()
    settings = WorkerSettings(poll_first_seconds=2, lease_seconds=LEASE_SECONDS)
    try:
        assert abs(behind.now() - ahead.now()) < timedelta(seconds=1)  # both read the server's time
        async with aiohttp.ClientSession() as session:
            def client() -> ViduClient:
                return ViduClient(session, base_url=fake.base_url, api_key=API_KEY, limiter=RateLimiter(60_000),
                                  timeout=10.0, retry=RetryPolicy(max_attempts=1))

            a = JobWorker(behind, client(), listener, settings, workdir=tmp_path / "a", owner=A)  # no clock given
            b = JobWorker(ahead, client(), listener, settings, workdir=tmp_path / "b", owner=B)
            job = await add_img2video(behind)
            fake.inject("submit", Fault.slow(1.5))
            submitting = asyncio.create_task(a.tick())
            while (held := await ahead.get_job(job.id)) is None or held.sent_at is None:  # noqa: ASYNC110 (sent)
                await asyncio.sleep(0.02)
            assert held.lease_owner == A
            assert held.lease_until is not None
            assert timedelta(0) < held.lease_until - ahead.now() <= timedelta(seconds=LEASE_SECONDS)

            await b.tick()  # the host running ahead looks at the job mid-submit
            assert await ahead.get_job(job.id) == held

            await asyncio.wait_for(submitting, 10)
            submitted = await ahead.get_job(job.id)
            assert submitted is not None and submitted.state is S.SUBMITTED and submitted.task_id
            assert len(fake.requests_to("submit")) == 1
            assert S.SUBMIT_UNKNOWN not in [state for _, state in listener.changes]
    finally:
        await behind.close()
        await ahead.close()
        await fake.stop()
