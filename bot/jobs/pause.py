"""The provider pause (SPEC section 5, issue 12): what it is, and what members and moderators read about it.

When the provider says its account is out of credit (NOT_ENOUGH_BALANCE) or refuses the bot's key, no task
was created: the job goes back to the queue and submits pause for every bot process, kept in the store
(`JobStore.start_provider_pause`), instead of failing every queued job. One process at a time submits one
queued job every PROVIDER_PAUSE_PROBE_SECONDS to see (a probe); the first task created ends the pause.
Queued jobs keep their place and their quota reservation meanwhile: nothing fails, nothing is billed.
The job loop's side is bot/jobs/pause_control.py; this module is pure (no store calls but `pause_note`'s
reads, no Discord).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.jobs.store import JobStore


class PauseKind(StrEnum):
    NO_CREDIT = "no_credit"  # NOT_ENOUGH_BALANCE
    MISCONFIGURED = "misconfigured"  # the key refused (FAILED_TO_AUTH, INVALID_API_KEY, ACCESS_DENY), a wrong address


@dataclass(frozen=True, slots=True)
class ProviderPause:
    """One episode of paused submits, as the store keeps it."""

    episode: int
    kind: PauseKind
    started_at: datetime
    next_probe_at: datetime
    probes: int  # probes claimed so far in this episode


@dataclass(frozen=True, slots=True)
class PauseNote:
    """What a queued job's card says while submits are paused."""

    kind: PauseKind
    moderators_told: bool  # the server has a mod-log channel (told once per episode); else only the operator


async def pause_note(store: JobStore, guild_id: int) -> PauseNote | None:
    """The note for a queued job's card in this server; None when submits are not paused."""
    pause = await store.provider_pause()
    if pause is None:
        return None
    settings = await store.guild_settings(guild_id)
    return PauseNote(pause.kind, moderators_told=settings.modlog_channel_id is not None)


# -- the mod-log lines (English, like every mod-log line) --------------------------------------------------


def every_text(seconds: float) -> str:
    """The probe interval as moderators read it: "5 min", "90 s"."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:g} s"


def duration_text(elapsed: timedelta) -> str:
    minutes = max(0, round(elapsed.total_seconds() / 60))
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def paused_text(kind: PauseKind, *, probe_seconds: float) -> str:
    every = every_text(probe_seconds)
    if kind is PauseKind.NO_CREDIT:
        why = "The video service says the bot's account is out of credit (NOT_ENOUGH_BALANCE)"
        until = "once the account is topped up"
    else:
        why = "The video service refuses the bot's requests: its API key (or address) is wrong or not allowed"
        until = "once the bot's operator fixes it (a new VIDU_API_KEY takes a restart)"
    return (f"⏸️ {why}, so the bot has paused sending jobs, for every server. Queued jobs keep their place and "
            "their quota reservation: none has failed, and none is billed while it waits. The bot tries one job "
            f"every {every} and resumes by itself {until}. The bot's operator has been told (log and metrics).")


def resumed_text(kind: PauseKind, *, paused_for: timedelta) -> str:
    what = "has credit again" if kind is PauseKind.NO_CREDIT else "accepts the bot's requests again"
    return (f"▶️ The video service {what}: the bot has resumed sending jobs (paused for "
            f"{duration_text(paused_for)}). Queued jobs go ahead in order by themselves.")


__all__ = ["PauseKind", "PauseNote", "ProviderPause", "duration_text", "every_text", "pause_note", "paused_text",
           "resumed_text"]
