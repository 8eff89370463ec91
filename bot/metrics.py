"""Prometheus metrics and the health answer, served by a small aiohttp app when METRICS_PORT is set.

Counters are module-level (prometheus-client's default registry, which also brings the process's CPU and
memory) so a hook in the provider client or the job loop is one line. Figures that live in the database
(jobs by state, queue depth) are read at scrape time, so they are right across restarts and processes.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from bot.jobs.models import utcnow
from bot.jobs.outage import DatabaseUnavailable
from bot.jobs.states import TERMINAL_STATES, JobState
from bot.jobs.store import JobStore

log = logging.getLogger("bot.metrics")

# Jobs not yet final: the ones worth a gauge (final ones are counted as outcomes instead).
LIVE_STATES = (JobState.ACCEPTED, JobState.SUBMITTING, JobState.SUBMITTED, JobState.SUCCEEDED)
DATABASE_CHECK_SECONDS = 5.0

JOBS = Gauge("vidu_jobs", "Jobs in the database that are not final yet, by state.", ["state"])
QUEUE_DEPTH = Gauge("vidu_queue_depth", "Jobs waiting in the bot's own queue for a provider slot.")
JOB_TRANSITIONS = Counter("vidu_job_transitions", "Job states reached in this process (as the job loop reports them).",
                          ["state"])
JOB_OUTCOMES = Counter("vidu_jobs_finished", "Jobs that reached a final state in this process, by outcome.",
                       ["outcome"])
PROVIDER_LATENCY = Histogram(
    "vidu_provider_request_seconds", "Time of one provider API call (one attempt), by operation.", ["operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
PROVIDER_ERRORS = Counter("vidu_provider_errors", "Failed provider API calls (one attempt), by operation and error.",
                          ["operation", "error"])
QUOTA_REFUSALS = Counter("vidu_quota_refusals", "Requests refused because a quota was used up.")
GATEWAY_LATENCY = Gauge("vidu_gateway_latency_seconds", "Discord gateway heartbeat latency (NaN until connected).")
HEARTBEAT_AGE = Gauge("vidu_worker_heartbeat_age_seconds", "Seconds since the job loop last finished a round.")
DATABASE_UP = Gauge("vidu_database_up", "1 when the database answered the last check, else 0.")
PROVIDER_PAUSED = Gauge("vidu_provider_paused", "1 while submits to the provider are paused for every process "
                        "(its account out of credit, or its key refused), else 0.")


# ------------------------------------------------------------------------------------------ hooks
def observe_provider_call(operation: str, seconds: float, error: Exception | None) -> None:
    PROVIDER_LATENCY.labels(operation).observe(seconds)
    if error is not None:
        PROVIDER_ERRORS.labels(operation, type(error).__name__).inc()


def job_changed(state: str) -> None:
    JOB_TRANSITIONS.labels(state).inc()
    if JobState(state) in TERMINAL_STATES:
        JOB_OUTCOMES.labels(state).inc()


def quota_refused() -> None:
    QUOTA_REFUSALS.inc()


def provider_paused(paused: bool) -> None:
    PROVIDER_PAUSED.set(1 if paused else 0)


# ------------------------------------------------------------------------------------------ health
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


# ------------------------------------------------------------------------------------------ server
async def refresh_from_store(probes: BotProbes) -> None:
    """Scrape-time figures: jobs by state from the database, the gateway latency, the loop's heartbeat."""
    latency = probes.gateway_latency()
    GATEWAY_LATENCY.set(latency if math.isfinite(latency) else math.nan)
    age = heartbeat_age(probes.heartbeat())
    HEARTBEAT_AGE.set(math.nan if age is None else age)
    try:
        counts = await asyncio.wait_for(probes.store.count_by_state(LIVE_STATES), DATABASE_CHECK_SECONDS)
        for state, count in counts.items():
            JOBS.labels(state.value).set(count)
        QUEUE_DEPTH.set(counts[JobState.ACCEPTED])
        provider_paused(await asyncio.wait_for(probes.store.provider_pause(), DATABASE_CHECK_SECONDS) is not None)
        DATABASE_UP.set(1)
    except Exception as exc:  # a scrape must still answer: the gauge says the database is down
        DATABASE_UP.set(0)
        log.warning("metrics: could not count jobs (%s)", type(exc).__name__)


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

