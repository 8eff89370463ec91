"""Issue 12, the balance pause: the provider's account out of credit (or its key refused) pauses submits for
every process instead of failing the queue; one probe at a time; the operator's log, the metrics, each
affected server's mod-log and the queued jobs' cards are told once per episode; the first task created
resumes everything. A real store, the strict fake provider, the manual clock; two job loops on one database
stand for two bot processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import REGISTRY

from bot.jobs import Job, JobInput, JobKind, JobState, JobStore
from bot.jobs.pause import PauseKind, pause_note
from bot.jobs.worker import JobWorker, WorkerSettings
from bot.params import Img2VideoParams
from bot.provider import RateLimiter, RetryPolicy, ViduClient
from bot.quotas import Charge, GuildSettings
from bot.ui.status import status_text
from tests.fakes.provider import FakeProvider
from tests.jobs.test_worker import API_KEY, EPOCH, RecordingListener, png
from tests.store.backends import ManualClock, chosen_backend

S = JobState
PROBE_SECONDS = 300.0
MODLOG = 77  # server 10 has a mod-log channel; server 11 has none


@dataclass
class CardListener(RecordingListener):
    """Records, besides, each job's status card as bot/ui/delivery.py renders it (with the pause note)."""

    store: JobStore | None = None
    cards: dict[str, str] = field(default_factory=dict)

    async def job_changed(self, job: Job) -> None:
        await super().job_changed(job)
        assert self.store is not None
        pause = await pause_note(self.store, job.guild_id) if job.state is S.ACCEPTED else None
        self.cards[job.id] = status_text(job, pause=pause)


@dataclass
class Loops:
    fake: FakeProvider
    clock: ManualClock
    a: JobWorker
    b: JobWorker  # a second process on the same database
    store: JobStore
    listener: CardListener

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.fake.advance(seconds)

    async def both(self, seconds: float = 1.0) -> None:
        """Both processes run a tick at the same moment."""
        self.advance(seconds)
        await asyncio.gather(self.a.tick(), self.b.tick())

    def submits(self) -> int:
        return len(self.fake.requests_to("submit"))

    async def states(self, jobs: list[Job]) -> list[JobState]:
        return [(await self.store.get_job(j.id)).state for j in jobs]  # type: ignore[union-attr]

    async def run_until_delivered(self, jobs: list[Job], max_steps: int = 200) -> None:
        for _ in range(max_steps):
            if set(await self.states(jobs)) == {S.DELIVERED}:
                return
            await self.both()
        raise AssertionError(f"not all delivered: {await self.states(jobs)}")


def paused_gauge() -> float | None:
    return REGISTRY.get_sample_value("vidu_provider_paused")


@pytest.fixture
async def loops(tmp_path: Path) -> AsyncIterator[Loops]:
    clock = ManualClock()
    fake = FakeProvider(api_key=API_KEY, time_scale=0.0)
    fake.queue_seconds, fake.processing_seconds = 2.0, 3.0
    await fake.start()
    store_a = await chosen_backend().open(tmp_path, clock)
    store_b = await chosen_backend().open(tmp_path, clock)
    listener = CardListener(store=store_a)
    settings = WorkerSettings(max_active_per_member=1, poll_first_seconds=2, poll_max_seconds=10,
                              provider_pause_probe_seconds=PROBE_SECONDS)
    async with aiohttp.ClientSession() as session:
        def client() -> ViduClient:
            return ViduClient(session, base_url=fake.base_url, api_key=API_KEY, limiter=RateLimiter(60_000),
                              timeout=5.0, retry=RetryPolicy(max_attempts=1))

        a = JobWorker(store_a, client(), listener, settings, workdir=tmp_path / "a", clock=clock, owner="A")
        b = JobWorker(store_b, client(), listener, settings, workdir=tmp_path / "b", clock=clock, owner="B")
        a.workdir.mkdir()
        b.workdir.mkdir()
        await store_a.set_guild_settings(10, GuildSettings(modlog_channel_id=MODLOG), actor_id=1, action="test")
        await asyncio.gather(a.tick(), b.tick())  # both running before the balance runs out (a process that
        # finds a pause in force when it starts probes at once: the last test)
        yield Loops(fake, clock, a, b, store_a, listener)
    await store_a.close()
    await store_b.close()
    await fake.stop()


async def queue(store: JobStore, count: int, *, guilds: tuple[int, ...] = (10, 11), first_user: int = 1) -> list[Job]:
    """`count` jobs, one per member, spread over `guilds`, each with its quota reservation."""
    jobs = []
    for n in range(count):
        guild, user = guilds[n % len(guilds)], first_user + n
        job = Job.new(guild_id=guild, channel_id=20, user_id=user, kind=JobKind.IMG2VIDEO,
                      params=Img2VideoParams(prompt=f"take {n}"), resolution="720p", duration_seconds=5,
                      thread_id=30)
        jobs.append(await store.create_job(job, [JobInput(0, "cat.png", "image/png", png())],
                                           charge=Charge(guild, user, 5)))
    return jobs


async def reserved(store: JobStore, guild: int) -> int:
    return (await store.usage(guild, None, EPOCH)).videos


async def test_an_empty_balance_pauses_every_queued_job_and_a_top_up_delivers_them_all(loops: Loops) -> None:
    loops.fake.balance_empty = True
    jobs = await queue(loops.store, 20)
    told = loops.listener.told_moderators

    await loops.a.tick()
    assert loops.submits() == 1  # the first refusal pauses: the other 19 are not tried
    assert set(await loops.states(jobs)) == {S.ACCEPTED}  # nothing failed, nobody pinged
    assert paused_gauge() == 1
    pause = await loops.store.provider_pause()
    assert pause is not None and pause.kind is PauseKind.NO_CREDIT
    assert sorted(g for g, _ in told) == [10, 11]
    assert all("out of credit" in text and "every 5 min" in text and "none has failed" in text for _, text in told)
    # Every queued job's card says why it waits; the moderators of a server without a mod-log were not told.
    assert set(loops.listener.cards) == {j.id for j in jobs}
    for job in jobs:
        card = loops.listener.cards[job.id]
        assert "out of credit" in card and "starts by itself once the account is topped up" in card
        assert "nothing is billed" in card
        assert ("The moderators have been told." in card) == (job.guild_id == 10)
    assert await reserved(loops.store, 10) == await reserved(loops.store, 11) == 10  # reservations kept

    for _ in range(3):  # one probe per period, by one process, with one job
        await loops.both(PROBE_SECONDS - 1)
        assert loops.submits() == 1 + _
        await loops.both(1)
        assert loops.submits() == 2 + _
    assert set(await loops.states(jobs)) == {S.ACCEPTED}
    assert len(told) == 2 and paused_gauge() == 1

    loops.fake.balance_empty = False  # topped up
    await loops.both(PROBE_SECONDS)
    assert await loops.store.provider_pause() is None and paused_gauge() == 0
    await loops.run_until_delivered(jobs)
    assert {job_id: len(videos) for job_id, videos in loops.listener.posted.items()} == {j.id: 1 for j in jobs}
    assert len(loops.fake.tasks) == 20 and loops.submits() == 4 + 20  # 4 refused, then each job once
    resumed = told[2:]
    assert sorted(g for g, _ in resumed) == [10, 11] and all("resumed" in text for _, text in resumed)
    assert await reserved(loops.store, 10) == await reserved(loops.store, 11) == 10  # charged once each
    assert S.FAILED not in {state for _, state in loops.listener.changes}


async def test_two_processes_probe_one_at_a_time_and_each_server_is_told_once(loops: Loops) -> None:
    loops.fake.balance_empty = True
    jobs = await queue(loops.store, 4)
    await loops.both(0)
    assert loops.submits() in (1, 2)  # both may have been mid-submit when the balance ran out
    started = loops.submits()
    told = loops.listener.told_moderators
    assert sorted(g for g, _ in told) == [10, 11]

    later = await queue(loops.store, 2, guilds=(12,), first_user=100)  # a third server queues during the pause
    await loops.both(1)
    assert sorted(g for g, _ in told) == [10, 11, 12]  # told once, by one of the two
    for probe in range(1, 4):
        await loops.both(PROBE_SECONDS)
        assert loops.submits() == started + probe
    assert set(await loops.states(jobs + later)) == {S.ACCEPTED}

    loops.fake.balance_empty = False
    await loops.both(PROBE_SECONDS)
    await loops.run_until_delivered(jobs + later)
    assert [g for g, text in told[3:]] == sorted(g for g, text in told[3:]) == [10, 11, 12]
    assert all("resumed" in text for _, text in told[3:])
    assert {job_id: len(videos) for job_id, videos in loops.listener.posted.items()} == {
        j.id: 1 for j in jobs + later}


async def test_a_refused_key_pauses_the_same_way_and_a_restart_with_a_good_key_resumes_at_once(
    loops: Loops, tmp_path: Path
) -> None:
    loops.fake.api_key = "sk-the-key-the-provider-now-expects"  # ours is refused: 401 INVALID_API_KEY
    jobs = await queue(loops.store, 3, guilds=(10,))
    await loops.a.tick()
    pause = await loops.store.provider_pause()
    assert pause is not None and pause.kind is PauseKind.MISCONFIGURED
    assert set(await loops.states(jobs)) == {S.ACCEPTED} and loops.submits() == 1
    ((guild, text),) = loops.listener.told_moderators
    assert guild == 10 and "API key" in text and "out of credit" not in text
    card = loops.listener.cards[jobs[0].id]
    assert "refuses the bot's requests" in card and "once that is fixed" in card and "out of credit" not in card

    loops.fake.api_key = API_KEY  # the operator fixes the key and restarts the bot: no wait for the probe
    restarted = JobWorker(loops.b._store, loops.b._client, loops.listener, WorkerSettings(max_active_per_member=1),
                          workdir=loops.b.workdir, clock=loops.clock, owner="B-restarted")
    await restarted.tick()
    assert await loops.store.provider_pause() is None
    assert set(await loops.states(jobs)) == {S.SUBMITTED}
    assert [g for g, t in loops.listener.told_moderators[1:]] == [10]
