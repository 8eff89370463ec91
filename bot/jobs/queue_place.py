"""Where a queued job stands, for its card: whose slots it waits for, and its place in that wait.

A job waits in the bot's queue for one of two things: a running slot of its member (MAX_ACTIVE_JOBS_PER_MEMBER
or the server's own limit), or, with PROVIDER_MAX_IN_FLIGHT set, room at the provider for every server. In the
first case its place is among the member's own queued jobs; in the second, in the fair order the submitter
takes jobs in (JobStore.queued_fairly), which is the real order since nothing else is sent meanwhile. The
place is true when the card is drawn; cards are redrawn when their own job changes, not every time one ahead
of it leaves, so a place can only get better than the card says.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.jobs.models import Job
from bot.jobs.states import IN_FLIGHT_STATES, JobState
from bot.jobs.store import JobStore


class WaitingFor(StrEnum):
    MEMBER = "member"  # one of the member's own jobs to end
    PROVIDER = "provider"  # room at the provider (PROVIDER_MAX_IN_FLIGHT)


@dataclass(frozen=True)
class QueuePlace:
    position: int  # 1: next
    waiting_for: WaitingFor


async def queue_place(store: JobStore, job: Job, *, max_active: int, provider_cap: int | None) -> QueuePlace | None:
    """The queued job's place, or None when it is not waiting for anything (it goes out in the next round)."""
    if job.state is not JobState.ACCEPTED:
        return None
    if await store.count_active(job.guild_id, job.user_id) >= max_active:
        queued = await store.queued_for(job.guild_id, job.user_id)
        mine = next((i + 1 for i, j in enumerate(queued) if j.id == job.id), None)
        return QueuePlace(mine, WaitingFor.MEMBER) if mine else None
    if provider_cap is not None and sum((await store.count_by_state(IN_FLIGHT_STATES)).values()) >= provider_cap:
        place = await store.fair_place(job.id)
        return QueuePlace(place, WaitingFor.PROVIDER) if place else None
    return None
