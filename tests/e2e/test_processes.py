"""Three bot processes on one PostgreSQL database, one Discord shard each (SHARD_COUNT=3, SHARD_IDS=i), as
an operator runs the bot when one process is not enough (README "Several processes").

Members of three servers (one per shard) ask for videos; whichever process leases a job submits, polls or
delivers it. A process killed with SIGKILL while it holds a job is not restarted: another process takes the
job over once the lease runs out. Nothing is posted twice, nothing submitted twice, quotas stay exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db import open_store
from bot.jobs import JobState
from tests.e2e.conftest import BotProcess, assert_no_secret_in, bot_env, launch_bot, png
from tests.e2e.test_animate import _is_video
from tests.fakes.discord import FakeChannel, FakeDiscord, Upload
from tests.fakes.discord.world import TestServer, build_test_server
from tests.fakes.provider import FakeProvider
from tests.store.backends import pg_url

SHARDS = 3
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class Cluster:
    fake: FakeDiscord
    servers: list[TestServer]  # servers[i] travels on shard i
    bots: list[BotProcess]  # bots[i] holds shard i
    database_url: str


@contextlib.asynccontextmanager
async def running_cluster(provider: FakeProvider, tmp_path: Path, **extra: str) -> AsyncIterator[Cluster]:
    """Three processes, one shard each, on one PostgreSQL database; `extra`: more of their environment."""
    fake = FakeDiscord()
    servers = [build_test_server(fake, shard=(i, SHARDS), name=f"Server {i}") for i in range(SHARDS)]
    fake.world = servers[0]
    await fake.start()
    url = pg_url(tmp_path)  # skips the test without PostgreSQL: several processes need it
    env = bot_env(fake, provider, tmp_path, DATABASE_URL=url, SHARD_COUNT=str(SHARDS), **extra)
    bots: list[BotProcess] = []
    try:
        sync = await launch_bot(env, tmp_path, "sync")  # global commands, as an operator does once
        assert await asyncio.wait_for(sync.process.wait(), 60) == 0, sync.output
        bots += [await launch_bot({**env, "SHARD_IDS": str(i), "DATA_DIR": str(tmp_path / f"data{i}")}, tmp_path)
                 for i in range(SHARDS)]
        await fake.wait_for_shards({(i, SHARDS) for i in range(SHARDS)}, timeout=60)
        for bot in bots:
            await bot.wait_for_line("bot.app: ready as", timeout=30)
        yield Cluster(fake, servers, bots, url)
    finally:
        for bot in bots:
            await bot.stop()
            print(f"--- bot output (exit {bot.process.returncode}) ---\n{bot.output}")
        await fake.stop()
    for bot in bots:
        assert_no_secret_in(bot, fake)
    assert not fake.violations, fake.violations


@pytest.fixture
async def cluster(provider: FakeProvider, tmp_path: Path) -> AsyncIterator[Cluster]:
    async with running_cluster(provider, tmp_path) as running:
        yield running


async def ask(cluster: Cluster, server: TestServer, prompt: str) -> FakeChannel:
    fake = cluster.fake
    known = {t.id for t in fake.threads(server.general)}
    record = await fake.slash(server.alice, "animate", channel=server.general,
                              options={"image": Upload("a.png", png()), "prompt": prompt})
    assert record.shard == (cluster.servers.index(server), SHARDS)  # the request came in on its server's shard
    thread = await fake.wait_for(
        lambda: next((t for t in fake.threads(server.general) if t.id not in known), None),
        timeout=20, what=f"a thread for {prompt!r}", seen=lambda: str(fake.threads(server.general)))
    await fake.wait_for_message(thread, lambda m: "job `" in m.text(), timeout=20)
    return thread


async def test_a_killed_process_hands_its_job_to_another_and_nothing_happens_twice(
    cluster: Cluster, provider: FakeProvider
) -> None:
    fake = cluster.fake
    provider.queue_seconds, provider.processing_seconds = 1.0, 2.0
    # The video of the first job is posted, but whoever posts it never hears back: it will be killed there.
    first = await ask(cluster, cluster.servers[0], "first")
    hold = fake.hold_next(f"POST */channels/{first.id}/messages", when="after")
    others = [await ask(cluster, server, f"job in {server.guild.name}") for server in cluster.servers]
    await asyncio.wait_for(hold.reached.wait(), 60)

    async with open_store(cluster.database_url) as store:
        holding = [job for job in await store.jobs_in_states([JobState.SUCCEEDED]) if job.thread_id == first.id]
        assert len(holding) == 1 and holding[0].lease_owner, holding
        pid = int(holding[0].lease_owner.split(":")[1])
        [victim] = [bot for bot in cluster.bots if bot.process.pid == pid]
        assert await victim.stop(signal.SIGKILL) == -signal.SIGKILL
        hold.release()  # the dead process's request is dropped

        # Another process finds the video already in the thread (after the lease ran out) and marks it delivered.
        threads = [first, *others]
        for thread in threads:
            await fake.wait_for(
                lambda thread=thread: any("Done" in m.text() for m in fake.messages(thread)) or None,
                timeout=60, what=f"the status card in {thread.name} to say Done",
                seen=lambda thread=thread: fake.describe_messages(fake.messages(thread)))
        for thread in threads:
            assert len([m for m in fake.messages(thread) if _is_video(m)]) == 1, fake.describe_messages(
                fake.messages(thread))

        assert len(provider.requests_to("submit")) == len(provider.tasks) == 4  # no job submitted twice
        jobs = [job for server in cluster.servers
                for job in await store.recent_jobs(server.guild.id, server.alice.id, limit=10)]
        assert sorted(job.state.value for job in jobs) == ["delivered"] * 4
        assert all(job.lease_owner is None for job in jobs)
        for server in cluster.servers:  # each delivered video counted once, none refunded
            mine = [job for job in jobs if job.guild_id == server.guild.id]
            used = await store.usage(server.guild.id, server.alice.id, EPOCH)
            assert used.videos == len(mine)
            assert used.seconds == sum(job.duration_seconds for job in mine)  # (720p: weight 1)

    # The survivors keep serving: a member of a server whose process is alive still gets a video.
    alive = next(server for i, server in enumerate(cluster.servers) if cluster.bots[i] is not victim)
    late = await ask(cluster, alive, "after the kill")
    await fake.wait_for_message(late, _is_video, timeout=60)


async def test_with_a_provider_cap_three_processes_together_never_run_more_tasks_than_it(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """PROVIDER_MAX_IN_FLIGHT=2 on three processes: six requests from three servers (each process takes its own
    server's), yet the provider never runs more than two of the bot's tasks at once; every video comes, once."""
    provider.queue_seconds, provider.processing_seconds = 1.0, 4.0
    async with running_cluster(provider, tmp_path, PROVIDER_MAX_IN_FLIGHT="2") as cluster:
        threads = [await ask(cluster, server, f"{server.guild.name} {n}")
                   for n in range(2) for server in cluster.servers]
        for thread in threads:
            await cluster.fake.wait_for_message(thread, _is_video, timeout=120)
        assert len(provider.requests_to("submit")) == len(provider.tasks) == 6
        assert provider.max_running_seen == 2  # the cap, reached and never passed
        async with open_store(cluster.database_url) as store:
            jobs = [job for server in cluster.servers
                    for job in await store.recent_jobs(server.guild.id, server.alice.id, limit=10)]
        assert sorted(job.state.value for job in jobs) == ["delivered"] * 6
        for thread in threads:
            assert len([m for m in cluster.fake.messages(thread) if _is_video(m)]) == 1
