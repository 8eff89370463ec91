"""PostgreSQL stopped under the running bot, then started again: members are told "temporarily unavailable,
nothing was charged", nothing is half-written, /healthz says why, and the job loop resumes by itself.

The server is one of the test's own (tests/store/pg_server.py): the shared one serves the other tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from bot.jobs import JobState, PostgresStore
from bot.jobs.rows import EPOCH
from tests.e2e.conftest import eventually, png
from tests.e2e.test_animate import private_answer
from tests.fakes.discord import FakeDiscord, Upload
from tests.fakes.provider import FakeProvider
from tests.ops.conftest import StartOpsBot, wait_healthy
from tests.ops.test_metrics_health import is_video
from tests.store.backends import chosen_backend
from tests.store.pg_server import PrivateServer

pytestmark = pytest.mark.skipif(chosen_backend().name != "postgresql",
                                reason="the PostgreSQL pass runs it (TEST_E2E_DATABASE=postgresql)")


@pytest.fixture
async def own_server() -> AsyncIterator[PrivateServer]:
    server = await asyncio.to_thread(PrivateServer.create)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.destroy)


async def test_postgresql_stopped_and_started_again_under_the_running_bot(
    fake_discord: FakeDiscord, provider: FakeProvider, start_ops_bot: StartOpsBot, own_server: PrivateServer
) -> None:
    provider.processing_seconds = 4.0
    bot = await start_ops_bot(DATABASE_URL=own_server.url)
    world = fake_discord.world
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("cat.png", png()), "prompt": "before the outage"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await eventually(lambda: provider.requests_to("submit"), timeout=20, what="the job to be submitted")

    await asyncio.to_thread(own_server.stop)  # the task is generating at the provider meanwhile

    body = json.loads(await wait_healthy(bot, timeout=20, healthy=False))
    assert "database unreachable (" in " ".join(body["reasons"]), body
    refused = await fake_discord.slash(world.bob, "animate", channel=world.general,
                                       options={"image": Upload("dog.png", png()), "prompt": "during the outage"})
    answer = await private_answer(fake_discord, refused)
    # (Bob reads Chinese: "the database is temporarily unavailable... nothing was charged, nothing changed")
    assert "数据库暂时不可用" in answer.content and "没有扣除任何额度" in answer.content, answer.content
    assert answer.ephemeral
    await bot.wait_for_line("the job loop: the database (", timeout=20)  # told once, then it waits quietly
    assert len(provider.tasks) == 1

    await asyncio.to_thread(own_server.start)
    await bot.wait_for_line("the database answers again after", timeout=60)
    video = await fake_discord.wait_for_message(thread, is_video, timeout=60)
    assert video.mentions == [world.alice.id]
    assert json.loads(await wait_healthy(bot, timeout=30)) == {"status": "ok", "reasons": []}

    store = await PostgresStore.open(own_server.url, migrate=False)
    try:
        jobs = await store.recent_jobs(world.guild.id, world.alice.id) + await store.recent_jobs(world.guild.id,
                                                                                                world.bob.id)
        assert [(job.user_id, job.state) for job in jobs] == [(world.alice.id, JobState.DELIVERED)]
        assert (await store.usage(world.guild.id, world.bob.id, EPOCH)).videos == 0  # the refused one: no charge
    finally:
        await store.close()
    assert bot.output.count("the job loop: the database (") == 1  # not once a second
    assert "Traceback" not in bot.output.split("the job loop: the database (", 1)[1].split("answers again")[0]
