"""The job states and the one table of allowed transitions.

Every state change in every store goes through `check_transition`, so this table is the single
source of truth for what may follow what.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum


class JobState(StrEnum):
    ACCEPTED = "accepted"  # checked, waiting in the bot's own queue for a slot
    SUBMITTING = "submitting"  # the submit call is (or may be) in flight
    SUBMITTED = "submitted"  # the provider has the task (queued or processing)
    SUCCEEDED = "succeeded"  # video ready, not yet posted
    DELIVERED = "delivered"
    REJECTED = "rejected"  # the provider refused the request
    FAILED = "failed"  # the provider reported the task failed, or it never reached the provider
    SUBMIT_UNKNOWN = "submit_unknown"  # outcome of the paid submit unknown: never resubmitted automatically
    EXPIRED = "expired"  # the bot gave up on a task the provider accepted (never finished here, or undeliverable)
    CANCELLED = "cancelled"  # member cancelled while in the bot's queue


S = JobState

ALLOWED_TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    S.ACCEPTED: frozenset({S.SUBMITTING, S.CANCELLED}),
    # back to ACCEPTED only when the provider provably did not create a task (e.g. a 429 before any task)
    S.SUBMITTING: frozenset({S.SUBMITTED, S.REJECTED, S.FAILED, S.SUBMIT_UNKNOWN, S.ACCEPTED}),
    S.SUBMITTED: frozenset({S.SUCCEEDED, S.FAILED, S.EXPIRED}),
    # A finished video that cannot be delivered is EXPIRED, never FAILED: the provider billed it.
    S.SUCCEEDED: frozenset({S.DELIVERED, S.EXPIRED}),
    S.DELIVERED: frozenset(),
    S.REJECTED: frozenset(),
    S.FAILED: frozenset(),
    S.SUBMIT_UNKNOWN: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
}

TERMINAL_STATES: frozenset[JobState] = frozenset(s for s, nxt in ALLOWED_TRANSITIONS.items() if not nxt)

# Who pays for an ending (SPEC section 5): the provider bills every task it accepted and finished, so the
# ledger reads its settlement from these two sets, and the cards their sentences about money.
# Refunded: the provider billed nothing (refused, never sent, cancelled while queued, or the task FAILED).
REFUNDED_ENDINGS: frozenset[JobState] = frozenset({S.REJECTED, S.FAILED, S.CANCELLED})
# Charged: the video was made, or the bot gave up on a task the provider had accepted (it may finish and
# bill it). SUBMIT_UNKNOWN is in neither: it may have been billed, so its reservation is kept as it is
# (not refunded, not consumed) and `python -m bot ledger` checks it against the provider.
CHARGED_ENDINGS: frozenset[JobState] = frozenset({S.DELIVERED, S.EXPIRED})

# Jobs that hold one of the member's running slots.
ACTIVE_STATES: frozenset[JobState] = frozenset({S.SUBMITTING, S.SUBMITTED, S.SUCCEEDED})
# Jobs whose task is at the provider (or whose request is leaving): what PROVIDER_MAX_IN_FLIGHT caps. A finished
# video waiting to be posted no longer takes the provider's time; a submit_unknown ended in the bot's eyes.
IN_FLIGHT_STATES: frozenset[JobState] = frozenset({S.SUBMITTING, S.SUBMITTED})


def can_transition(from_state: JobState, to: JobState) -> bool:
    return to in ALLOWED_TRANSITIONS[from_state]


def check_transition(from_states: Collection[JobState], to: JobState) -> None:
    """Raise ValueError unless every `from_states` -> `to` step is in the table."""
    if not from_states:
        raise ValueError(f"transition to {to.value!r}: from_states is empty")
    bad = sorted(JobState(s).value for s in from_states if not can_transition(JobState(s), to))
    if bad:
        raise ValueError(f"transition not allowed: {', '.join(bad)} -> {to.value}")
