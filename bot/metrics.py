"""Prometheus counters and gauges, and the one-line hooks that move them.

Module-level (prometheus-client's default registry, which also brings the process's CPU and memory) so a
hook in the job loop or the UI is one line. This module imports nothing of ours: the provider client is
handed `observe_provider_call` (bot/wiring.py), and bot/health.py serves the figures and fills the gauges
that live in the database at scrape time.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
COMMANDS = Counter("vidu_commands", "Slash commands and Apps-menu entries used, by name and outcome (ok: the "
                   "command ran; refused: a check or a limit refused the member; expired: acknowledged too late; "
                   "error: an unexpected error, with an error id).", ["command", "outcome"])
REQUEST_TO_VIDEO = Histogram(
    "vidu_request_to_video_seconds", "From a member's request to its video posted in Discord (delivered jobs).",
    buckets=(30, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1200, 1800, 3600, 7200, 21600),
)
SERVERS = Gauge("vidu_servers", "Discord servers this process serves (the servers on its shards).")
SPEND = Gauge("vidu_estimated_spend_dollars", "Estimated provider spend of every server in the budget's window "
              "(UTC day, month): reservations not refunded, priced by PRICE_TABLE.", ["period"])
BUDGET = Gauge("vidu_budget_dollars", "The operator's budget (BUDGET_PER_DAY, BUDGET_PER_MONTH), by period; "
               "absent when not set.", ["period"])
PROVIDER_PAUSED = Gauge("vidu_provider_paused", "1 while submits to the provider are paused for every process "
                        "(its account out of credit, or its key refused), else 0.")


# ------------------------------------------------------------------------------------------ hooks
def observe_provider_call(operation: str, seconds: float, error: Exception | None) -> None:
    PROVIDER_LATENCY.labels(operation).observe(seconds)
    if error is not None:
        PROVIDER_ERRORS.labels(operation, type(error).__name__).inc()


def job_changed(state: str, *, final: bool) -> None:
    JOB_TRANSITIONS.labels(state).inc()
    if final:
        JOB_OUTCOMES.labels(state).inc()


def quota_refused() -> None:
    QUOTA_REFUSALS.inc()


def provider_paused(paused: bool) -> None:
    PROVIDER_PAUSED.set(1 if paused else 0)


def command_used(command: str, outcome: str) -> None:
    COMMANDS.labels(command, outcome).inc()


def video_delivered(seconds: float) -> None:
    REQUEST_TO_VIDEO.observe(max(0.0, seconds))
