"""/metrics and /healthz of the real bot process, against the fake Discord and the strict fake provider."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from pathlib import Path

import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e import test_moderators as moderators
from tests.e2e.conftest import eventually, png
from tests.fakes.discord import FakeDiscord, SentMessage, Upload
from tests.fakes.provider import FakeProvider, Fault
from tests.ops.conftest import StartOpsBot, get, wait_healthy
from tests.ops.test_docker_files import dockerfile, exec_form
from tests.store.backends import chosen_backend, pg_dsn_from_url, pg_url


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text page: (name, labels) -> value."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(page: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return page.get((name, frozenset(labels.items())), 0.0)


def is_video(message: SentMessage) -> bool:
    return any(a.filename.endswith(".mp4") for a in message.attachments)


async def animate(fake_discord: FakeDiscord, prompt: str = "the cat waves") -> None:
    world = fake_discord.world
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("cat.png", png()), "prompt": prompt, "duration": 4})


async def test_metrics_count_an_animated_job_and_the_provider_calls(
    fake_discord: FakeDiscord, provider: FakeProvider, start_ops_bot: StartOpsBot
) -> None:
    bot = await start_ops_bot(BUDGET_PER_DAY="10")
    status, before_text = await get(bot, "/metrics")
    assert status == 200
    before = samples(before_text)
    assert value(before, "vidu_jobs_finished_total", outcome="delivered") == 0
    assert value(before, "vidu_estimated_spend_dollars", period="day") == 0
    # A member's try at a moderators' command: refused by the check, counted as such.
    assert "moderators" in await moderators.run(fake_discord, fake_discord.world.alice, "config show")

    provider.inject("result", Fault.status(503, reason="SERVICE_BUSY"))  # one failed poll, retried
    await animate(fake_discord)
    thread = await fake_discord.wait_for_thread(fake_discord.world.general, timeout=15)
    await fake_discord.wait_for_message(thread, is_video, timeout=40)

    async def delivered_counted() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        while True:  # the count follows the post by a moment (the state change is recorded after it)
            page = samples((await get(bot, "/metrics"))[1])
            if value(page, "vidu_jobs_finished_total", outcome="delivered") >= 1:
                return page
            await asyncio.sleep(0.1)

    await asyncio.wait_for(delivered_counted(), 15)
    # A fresh scrape: the one that first saw the counter may have read the database just before the delivery
    # was committed (its gauges are read first, the counters when the page is written).
    page = samples((await get(bot, "/metrics"))[1])
    assert value(page, "vidu_jobs_finished_total", outcome="delivered") == 1
    for state in ("submitted", "succeeded", "delivered"):
        assert value(page, "vidu_job_transitions_total", state=state) == 1, state
    assert value(page, "vidu_provider_request_seconds_count", operation="submit") == 1
    polls = value(page, "vidu_provider_request_seconds_count", operation="result")
    assert polls >= 2  # the refused one and at least one answered
    assert polls == len(provider.requests_to("result"))
    assert value(page, "vidu_provider_errors_total", operation="result", error="TransientProviderError") == 1
    assert value(page, "vidu_provider_errors_total", operation="submit", error="TransientProviderError") == 0
    # Nothing is left in flight: the database-backed gauges say so.
    assert value(page, "vidu_queue_depth") == 0
    for state in ("accepted", "submitting", "submitted", "succeeded"):
        assert ("vidu_jobs", frozenset({("state", state)})) in page and value(page, "vidu_jobs", state=state) == 0
    assert value(page, "vidu_database_up") == 1
    assert ("vidu_quota_refusals_total", frozenset()) in page
    # What an operator's dashboard reads (deploy/grafana): commands by outcome, request → video, servers, spend.
    assert value(page, "vidu_commands_total", command="animate", outcome="ok") == 1
    assert value(page, "vidu_commands_total", command="config show", outcome="refused") == 1
    assert value(page, "vidu_request_to_video_seconds_count") == 1
    assert 0 < value(page, "vidu_request_to_video_seconds_sum") < 60
    assert value(page, "vidu_servers") == 1
    assert value(page, "vidu_budget_dollars", period="day") == 10
    assert ("vidu_budget_dollars", frozenset({("period", "month")})) not in page  # no monthly budget set
    spent = value(page, "vidu_estimated_spend_dollars", period="day")
    assert spent > 0 and value(page, "vidu_estimated_spend_dollars", period="month") == spent
    heartbeat_age = value(page, "vidu_worker_heartbeat_age_seconds")
    assert 0 <= heartbeat_age < 30
    latency = value(page, "vidu_gateway_latency_seconds")
    assert math.isnan(latency) or latency >= 0  # NaN until the first gateway heartbeat is acknowledged
    print(f"provider polls: {polls:.0f}; heartbeat age at scrape: {heartbeat_age:.2f} s")


async def healthcheck(bot_env: dict[str, str]) -> tuple[int, str]:
    """The Dockerfile's HEALTHCHECK command, run as the image would (python -> this interpreter)."""
    (args,) = [a for word, a in dockerfile() if word == "HEALTHCHECK"]
    argv = exec_form(args.partition("CMD ")[2].strip(), "HEALTHCHECK")
    process = await asyncio.create_subprocess_exec(
        sys.executable, *argv[1:], env=bot_env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, out.decode()


async def test_healthz_turns_503_while_the_job_loop_is_stuck_and_back_to_200(
    fake_discord: FakeDiscord, provider: FakeProvider, start_ops_bot: StartOpsBot
) -> None:
    # A poll the provider holds for 8 s stalls the job loop's round: longer than the 3 s allowed.
    bot = await start_ops_bot(HEALTH_MAX_TICK_SECONDS="3", PROVIDER_TIMEOUT_SECONDS="30")
    body = json.loads(await wait_healthy(bot, timeout=10))
    assert body == {"status": "ok", "reasons": []}
    code, out = await healthcheck(bot.env)
    assert code == 0 and "healthy" in out, out

    provider.inject("result", Fault.slow(8))
    await animate(fake_discord)
    body = json.loads(await wait_healthy(bot, timeout=20, healthy=False))
    assert body["status"] == "unhealthy"
    (reason,) = body["reasons"]
    assert "job loop has not finished a round" in reason and "HEALTH_MAX_TICK_SECONDS=3" in reason
    code, out = await healthcheck(bot.env)
    assert code == 1 and "job loop has not finished a round" in out, out

    # The held poll answers, the loop goes on: healthy again, and the video arrives.
    await wait_healthy(bot, timeout=20)
    thread = await fake_discord.wait_for_thread(fake_discord.world.general, timeout=5)
    await fake_discord.wait_for_message(thread, is_video, timeout=40)
    code, _ = await healthcheck(bot.env)
    assert code == 0


async def test_health_command_without_a_running_bot_says_so(
    fake_discord: FakeDiscord, provider: FakeProvider, start_ops_bot: StartOpsBot
) -> None:
    bot = await start_ops_bot()
    await bot.stop()
    code, out = await healthcheck(bot.env)
    assert code == 1 and "unhealthy: no answer from http://127.0.0.1:" in out, out
    code, out = await healthcheck({**bot.env, "METRICS_PORT": ""})
    assert code == 3 and "METRICS_PORT is not set" in out, out


@pytest.mark.skipif(chosen_backend().name != "postgresql",
                    reason="another process cannot stop SQLite (WAL) readers; run with TEST_E2E_DATABASE=postgresql")
async def test_healthz_turns_503_while_the_database_does_not_answer(
    fake_discord: FakeDiscord, provider: FakeProvider, start_ops_bot: StartOpsBot, tmp_path: Path
) -> None:
    bot = await start_ops_bot()
    # An operator's migration holding a lock on the bot's tables: the bot's queries wait, and /healthz says so.
    dsn, schema = pg_dsn_from_url(pg_url(tmp_path))
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        async with conn.transaction():
            await conn.execute(f'LOCK TABLE "{schema}".schema_version IN ACCESS EXCLUSIVE MODE')
            body = json.loads(await wait_healthy(bot, timeout=20, healthy=False))
            assert "database did not answer within 5 s" in body["reasons"]
            code, out = await healthcheck(bot.env)
            assert code == 1 and "database did not answer" in out
    finally:
        await conn.close()
    assert json.loads(await wait_healthy(bot, timeout=20)) == {"status": "ok", "reasons": []}


async def test_a_request_refused_by_a_quota_is_counted_once(
    fake_discord: FakeDiscord, provider: FakeProvider, start_ops_bot: StartOpsBot
) -> None:
    bot = await start_ops_bot()
    world = fake_discord.world
    await moderators.run(fake_discord, world.mod, "quota set", scope="default", period="day", videos=1)
    assert "on its way" in await moderators.animate(fake_discord, world.alice)
    refused = await moderators.animate(fake_discord, world.alice, "again")
    assert "your daily limit" in refused
    page = samples((await get(bot, "/metrics"))[1])
    assert value(page, "vidu_quota_refusals_total") == 1


async def test_a_job_cancelled_in_the_queue_is_counted_as_an_outcome(
    fake_discord: FakeDiscord, provider: FakeProvider, start_ops_bot: StartOpsBot
) -> None:
    bot = await start_ops_bot(MAX_ACTIVE_JOBS_PER_MEMBER="1")
    world = fake_discord.world
    provider.plan_next_task(queue_seconds=3600)  # the first job keeps the member's only slot
    assert "on its way" in await moderators.animate(fake_discord, world.alice, "first")
    await eventually(lambda: len(provider.tasks) == 1, timeout=15, what="the first job at the provider")
    await moderators.animate(fake_discord, world.alice, "second")
    second = next(t for t in fake_discord.threads(world.general) if t.name == "second")
    card = await fake_discord.wait_for_message(second, lambda m: "Position 1" in m.text(), timeout=10)
    (cancel,) = [c for c in card.custom_ids() if c.startswith("vidu:cancel:")]
    before = samples((await get(bot, "/metrics"))[1])
    assert value(before, "vidu_queue_depth") == 1

    await fake_discord.press_button(world.alice, card, cancel)
    await fake_discord.wait_for(lambda: "Cancelled" in fake_discord.message(card.id).text() or None,
                                timeout=10, what="the card to say Cancelled", seen=lambda: "")
    page = samples((await get(bot, "/metrics"))[1])
    assert value(page, "vidu_jobs_finished_total", outcome="cancelled") == 1
    assert value(page, "vidu_queue_depth") == 0
