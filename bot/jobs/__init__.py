"""Durable jobs: the model, the state machine, the store's interface and the job loop.

The SQL stores that implement the interface are in bot/db (which imports this package, never the reverse)."""

from __future__ import annotations

from bot.jobs.models import Job, JobInput, JobKind, JobSource, new_job_id, normalize_job_id, utcnow
from bot.jobs.states import (
    ACTIVE_STATES,
    ALLOWED_TRANSITIONS,
    TERMINAL_STATES,
    JobState,
    can_transition,
    check_transition,
)
from bot.jobs.store import TRANSITION_FIELDS, JobStore, StoreError

__all__ = [
    "ACTIVE_STATES",
    "ALLOWED_TRANSITIONS",
    "TERMINAL_STATES",
    "TRANSITION_FIELDS",
    "Job",
    "JobInput",
    "JobKind",
    "JobSource",
    "JobState",
    "JobStore",
    "StoreError",
    "can_transition",
    "check_transition",
    "new_job_id",
    "normalize_job_id",
    "utcnow",
]
