"""What the job loop's steps (submit, poll, deliver) share: the loop's settings, the listener that speaks
for Discord, why a job ended (as codes), and a `StepContext` holding what each step works with and the few
things every step does the same way: end a leased job (fenced) and say so, tell people without failing the
job. Each step is handed this one object, so none reaches into the loop's or another step's state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from bot import metrics
from bot.config import default_setting
from bot.i18n import reason_code
from bot.jobs.leases import Leases
from bot.jobs.models import Job
from bot.jobs.states import TERMINAL_STATES, JobState
from bot.jobs.store import JobStore
from bot.logs import job_ids
from bot.params import Img2VideoParams
from bot.provider import ViduClient
from bot.safety import VideoScreening
from bot.safety.automod import KeywordRule, Where
from bot.schedule import FirstLook

log = logging.getLogger("bot.jobs")

# Why a job failed, stored as codes: each card renders them in the requester's language (bot/i18n).
REASON_TASK_LOST = reason_code("task_lost")
REASON_VIDEO_GONE = reason_code("video_gone")
REASON_VIDEO_TOO_LARGE = reason_code("video_too_large")
REASON_UNDELIVERABLE = reason_code("undeliverable")
REASON_DELIVERY_FAILED = reason_code("delivery_failed")
REASON_UNKNOWN = reason_code("unknown")
# The provider took the submit but named no task the bot can follow (probably billed; never resubmitted).
REASON_UNUSABLE_TASK_ID = reason_code("unusable_task_id")
REASON_PROVIDER_FAILED = reason_code("provider_failed")
# Not an ending: set on a SUBMITTED job once it runs past its expected time (the card and the video say so).
REASON_LATE = reason_code("late")
# Not an ending either: the server's watermark could not be fetched again from Discord, so the job was sent
# without it (a failure of ours must not hold a member's video back or cost them anything).
REASON_NO_WATERMARK = reason_code("no_watermark")
# Both notes at once (a job has one reason field): sent without the watermark, then late.
REASON_LATE_NO_WATERMARK = reason_code("late_no_watermark")


def is_late(job: Job) -> bool:
    """Past its expected time (told once; the card and the video say so)."""
    return job.reason in (REASON_LATE, REASON_LATE_NO_WATERMARK)


def lacks_watermark(job: Job) -> bool:
    """Sent without the server's watermark (the card says so for good)."""
    return job.reason in (REASON_NO_WATERMARK, REASON_LATE_NO_WATERMARK)


def late_reason(job: Job) -> str:
    """The note a job gets when it turns late, keeping the one it had."""
    return REASON_LATE_NO_WATERMARK if job.reason == REASON_NO_WATERMARK else REASON_LATE

# Presigned links say how long they live; a value past this is the provider's mistake, not a promise.
VIDEO_URL_TTL_MAX = timedelta(days=7)


class JobListener(Protocol):
    """What the Discord side does for the loop: show progress, post the video exactly once."""

    async def job_changed(self, job: Job) -> None: ...

    async def deliver(self, job: Job, video: Path, *, spoiler: bool = False) -> int:
        """Post the video in the job's thread (`spoiler`: behind a spoiler, with a content note); return the message
        id. Must be idempotent per job.
        Raises Undeliverable when there is nowhere to post it; RetryLater (bot/jobs/deliver.py) when it knows
        a later try may work, with `after=` when it knows when. Any other error is tried again later too."""
        ...

    async def video_screening(self, job: Job) -> VideoScreening:
        """What screens the job's video goes through before it is posted where it will be posted, and what a
        flagged one gets: the server's policy and the channel's age restriction (a thread follows its parent)."""
        ...

    async def hold_video(self, job: Job, video: Path) -> bool:
        """Hand a flagged video to the moderators: the mod-log gets it (behind a spoiler) with Approve / Remove,
        the member is told it waits for review. Idempotent per job (a retry after a crash finds what was posted).
        False when the server has no mod-log the bot can post in (the video is then posted behind a spoiler).
        Raises what a try that may work later raises, as `deliver` does."""
        ...

    async def job_late(self, job: Job) -> None:
        """Tell the member, once, that the task runs past its expected time and is still being followed."""
        ...

    async def fresh_attachment_url(self, url: str) -> str | None:
        """A fresh link to a Discord attachment the bot stored the URL of (the server's watermark): Discord's
        CDN links expire, and the provider fetches it. None when Discord will not refresh it (the picture's
        message was deleted, Discord is unreachable). Must not raise."""
        ...

    async def tell_moderators(self, guild_id: int, text: str) -> None:
        """One line in the server's mod-log channel, when it has one (English, like every mod-log line).
        Must not raise: a mod-log that cannot be written is logged and skipped."""
        ...

    async def automod_rules(self, guild_id: int) -> Sequence[KeywordRule]:
        """The server's AutoMod keyword rules, as kept current from Discord; none when they cannot be read.
        Must not raise."""
        ...

    async def automod_where(self, job: Job) -> Where | None:
        """Who asked for the job, where, as AutoMod's exemptions read it (the member's roles now; the channel,
        a thread's parent, the category); None when Discord cannot say. Must not raise."""
        ...


@dataclass(frozen=True)
class WorkerSettings:
    """The loop's settings; bot/wiring.py builds them from Settings. The defaults are the configuration's own
    (bot/config.py), so tests that override a few fields run with what an operator gets."""

    max_active_per_member: int = default_setting("max_active_jobs_per_member")
    provider_max_in_flight: int | None = default_setting("provider_max_in_flight")
    poll_first_seconds: float = default_setting("poll_first_seconds")
    poll_max_seconds: float = default_setting("poll_max_seconds")
    poll_concurrency: int = default_setting("poll_concurrency")
    # Past these a task is late: its member is told once, and the bot keeps following it (the provider
    # may still finish, and bill, it) until `give_up_after`; then it expires, charged (SPEC section 5).
    job_timeout: timedelta = timedelta(minutes=default_setting("job_timeout_minutes"))
    off_peak_timeout: timedelta = timedelta(hours=default_setting("off_peak_timeout_hours"))
    give_up_after: timedelta = timedelta(hours=default_setting("job_give_up_hours"))
    # A finished video whose download or post keeps failing ends after this long or this many tries:
    # expired (charged: it was made), its member given the provider's link, the mod-log told.
    delivery_give_up: timedelta = timedelta(hours=default_setting("delivery_give_up_hours"))
    delivery_max_attempts: int = default_setting("delivery_max_attempts")
    task_not_found_grace: timedelta = timedelta(minutes=10)
    busy_pause_seconds: float = 30.0
    # While the provider's account is out of credit (or its key refused), submits pause for every process and
    # one queued job is tried this often (bot/jobs/pause.py).
    provider_pause_probe_seconds: float = default_setting("provider_pause_probe_seconds")
    video_max_bytes: int = default_setting("video_max_bytes")
    video_download_timeout: float = default_setting("video_download_timeout_seconds")
    idle_tick_seconds: float = 1.0
    input_retention: timedelta = timedelta(hours=default_setting("input_retention_hours"))
    # How long a job stays with a process that stops renewing it (died, or stalled): the delay before
    # another process takes over. Renewed every third of it while the work runs.
    lease_seconds: float = default_setting("job_lease_seconds")
    # The only process on this database (it holds every Discord shard): on start, it frees leases left by
    # its own earlier run instead of waiting for them to run out.
    sole_worker: bool = False


@dataclass(frozen=True)
class StepContext:
    """What every step works with. `clock` is the database's by default: leases and poll times are shared
    with other processes, whose hosts' clocks may disagree with this one's (bot/db/clock.py). `wake` runs
    the loop's next tick at once (a job moved on: the next one may go)."""

    store: JobStore
    client: ViduClient
    listener: JobListener
    settings: WorkerSettings
    clock: Callable[[], datetime]
    leases: Leases
    wake: Callable[[], None]
    first_look: FirstLook  # learned per task shape, used while calls are scarce (bot/schedule.py)

    def first_poll_delay(self, job: Job) -> float:
        """Seconds from a job's submit to its first poll: quick while calls are plentiful; while they are what
        holds work back, when about half the tasks of its shape are done (one look for those, not two)."""
        if self.client.calls_are_scarce():
            return max(self.settings.poll_first_seconds, self.first_look.delay(task_shape(job)))
        return self.settings.poll_first_seconds

    async def finish(self, job: Job, from_state: JobState, to: JobState, *, reason: str, **fields: object) -> bool:
        """End a leased job (fenced by its lease); whether this call moved it."""
        moved = await self.store.transition(job.id, from_states=[from_state], to=to, reason=reason,
                                            fence=job.attempt, **fields)
        if moved:
            log.info("job %s: %s (%s)", job.id, to.value, reason, extra=job_ids(job))
            await self.notify(moved)
            self.wake()
        return moved is not None

    async def tell(self, telling: Awaitable[None], job: Job) -> None:
        """A message to people (the member, the mod-log) that must not stop the job."""
        try:
            await telling
        except Exception:
            log.exception("job %s: could not send a notice", job.id)

    async def notify(self, job: Job) -> None:
        metrics.job_changed(job.state, final=job.state in TERMINAL_STATES)
        if job.state is JobState.DELIVERED and job.finished_at is not None:
            metrics.video_delivered((job.finished_at - job.created_at).total_seconds())
        try:
            await self.listener.job_changed(job)
        except Exception:  # a status card that cannot be edited must not stop the job
            log.exception("job %s: status update failed", job.id)


def task_shape(job: Job) -> Hashable:
    """What decides how long the provider takes over a job's task (FirstLook learns per shape)."""
    off_peak = isinstance(job.params, Img2VideoParams) and job.params.off_peak
    return (job.kind, job.resolution, job.duration_seconds, off_peak)
