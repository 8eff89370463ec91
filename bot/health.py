"""The health answer and the /metrics page, served by a small aiohttp app when METRICS_PORT is set.

Figures that live in the database (jobs by state, queue depth, the provider pause) are read at scrape time,
so they are right across restarts and processes; the counters themselves are in bot/metrics.py.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from bot.jobs.models import utcnow
from bot.jobs.outage import DatabaseUnavailable
from bot.jobs.states import JobState
from bot.jobs.store import JobStore
from bot.metrics import (
    BUDGET,
    DATABASE_UP,
    GATEWAY_LATENCY,
    HEARTBEAT_AGE,
    JOBS,
    QUEUE_DEPTH,
    SERVERS,
    SPEND,
    provider_paused,
)
from bot.quotas.models import Period
from bot.quotas.windows import window

log = logging.getLogger("bot.metrics")

# Jobs not yet final: the ones worth a gauge (final ones are counted as outcomes instead).
LIVE_STATES = (JobState.ACCEPTED, JobState.SUBMITTING, JobState.SUBMITTED, JobState.SUCCEEDED)
DATABASE_CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Health:
    healthy: bool
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {"status": "ok" if self.healthy else "unhealthy", "reasons": list(self.reasons)}


@dataclass(frozen=True)
class BotProbes:
    """What the server reads from the running bot (plain callables: the bot is not imported here)."""

    store: JobStore
    ready: Callable[[], bool]
    gateway_latency: Callable[[], float]
    heartbeat: Callable[[], datetime | None]
    max_tick_seconds: float
    # Why the job loop cannot use the database right now (it may still answer the health check's read: a
    # SQLite file locked for writing does), or None.
    job_loop_outage: Callable[[], str | None] = lambda: None
    servers: Callable[[], int] = lambda: 0
    # The operator's budget in credits (thousandths of a dollar): BUDGET_PER_DAY, BUDGET_PER_MONTH, or None.
    budget: tuple[int | None, int | None] = (None, None)


async def database_reachable(store: JobStore) -> str | None:
    """None when the database answers; else a reason (the exception's type only: its text may hold a URL)."""
    try:
        await asyncio.wait_for(store.schema_versions(), DATABASE_CHECK_SECONDS)
    except TimeoutError:
        return f"database did not answer within {DATABASE_CHECK_SECONDS:g} s"
    except Exception as exc:  # any failure means unreachable; say which kind
        cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) and exc.__cause__ else exc
        return f"database unreachable ({type(cause).__name__})"
    return None


def heartbeat_age(heartbeat: datetime | None) -> float | None:
    return None if heartbeat is None else (utcnow() - heartbeat).total_seconds()


async def check_health(probes: BotProbes) -> Health:
    reasons: list[str] = []
    if not probes.ready():
        reasons.append("not connected to Discord (not ready)")
    age = heartbeat_age(probes.heartbeat())
    if age is None:
        reasons.append("the job loop has not finished a round yet")
    elif age > probes.max_tick_seconds:
        reasons.append(f"the job loop has not finished a round for {age:.0f} s "
                       f"(HEALTH_MAX_TICK_SECONDS={probes.max_tick_seconds:g})")
    problem = await database_reachable(probes.store)
    DATABASE_UP.set(0 if problem else 1)
    if problem:
        reasons.append(problem)
    outage = probes.job_loop_outage()
    if outage:
        reasons.append(f"the job loop cannot use the database: {outage}")
    return Health(not reasons, tuple(reasons))


async def refresh_from_store(probes: BotProbes) -> None:
    """Scrape-time figures: jobs by state from the database, the gateway latency, the loop's heartbeat."""
    latency = probes.gateway_latency()
    GATEWAY_LATENCY.set(latency if math.isfinite(latency) else math.nan)
    age = heartbeat_age(probes.heartbeat())
    HEARTBEAT_AGE.set(math.nan if age is None else age)
    SERVERS.set(probes.servers())
    try:
        counts = await asyncio.wait_for(probes.store.count_by_state(LIVE_STATES), DATABASE_CHECK_SECONDS)
        for state, count in counts.items():
            JOBS.labels(state.value).set(count)
        QUEUE_DEPTH.set(counts[JobState.ACCEPTED])
        provider_paused(await asyncio.wait_for(probes.store.provider_pause(), DATABASE_CHECK_SECONDS) is not None)
        await asyncio.wait_for(_spend(probes), DATABASE_CHECK_SECONDS)
        DATABASE_UP.set(1)
    except Exception as exc:  # a scrape must still answer: the gauge says the database is down
        DATABASE_UP.set(0)
        log.warning("metrics: could not count jobs (%s)", type(exc).__name__)


async def _spend(probes: BotProbes) -> None:
    """Spend in the budget's windows (the same reads the budget check makes), and the budget beside it, so an
    alert can fire before requests are refused (deploy/prometheus/alerts.yml)."""
    now = probes.store.now()
    for period, amount in zip((Period.DAY, Period.MONTH), probes.budget, strict=True):
        start, _ = window(period, now, "UTC")
        used = await probes.store.budget_usage(start)
        SPEND.labels(period.value).set(used.credits / 1000)
        if amount is not None:
            BUDGET.labels(period.value).set(amount / 1000)


def build_app(probes: BotProbes) -> web.Application:
    async def metrics(_: web.Request) -> web.Response:
        await refresh_from_store(probes)
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_: web.Request) -> web.Response:
        health = await check_health(probes)
        return web.json_response(health.as_json(), status=200 if health.healthy else 503)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    return app


class MetricsServer:
    def __init__(self, probes: BotProbes, *, host: str, port: int) -> None:
        self._runner = web.AppRunner(build_app(probes), access_log=None)
        self._host, self._port = host, port
        self.port: int | None = None

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self.port = self._runner.addresses[0][1]  # the real port when METRICS_PORT=0
        log.info("metrics and health on http://%s:%d (/metrics, /healthz)", self._host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()

