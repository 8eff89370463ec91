"""The words of a job's status card, from the job alone (the card is re-rendered, never patched), in the
language of the member who asked (Job.locale)."""

from __future__ import annotations

from bot.i18n import render_reason, t
from bot.jobs.models import Job, utcnow
from bot.jobs.pause import PauseNote
from bot.jobs.queue_place import QueuePlace, WaitingFor
from bot.jobs.review import VideoReview, review_of, was_removed, withheld
from bot.jobs.states import REFUNDED_ENDINGS, JobState
from bot.jobs.steps import is_late, lacks_watermark

S = JobState


def headline(state: JobState, locale: str, *, made: bool = False) -> str:
    """`made`: the provider finished the video (an expired job then was made but not delivered)."""
    if state is S.EXPIRED and made:
        return t("status.undelivered", locale)
    return t(f"status.{state.value}", locale)


def job_headline(job: Job, locale: str) -> str:
    """The job's state in `locale` (an expired job whose video was made says so, and a screened video held for
    the moderators or removed by them)."""
    if waits_for_review(job):
        return t("status.held", locale)
    if was_removed(job):
        return t("status.not_approved", locale)
    return headline(job.state, locale, made=job.succeeded_at is not None)


def waits_for_review(job: Job) -> bool:
    """Flagged by a screen and held (or about to be) for a moderator (bot/jobs/review.py)."""
    return job.state is S.SUCCEEDED and review_of(job) in (VideoReview.HOLD, VideoReview.HELD)


def marker(job: Job) -> str:
    """A line every message about the job carries, so a restarted bot can find what it already posted."""
    return t("status.marker", job.locale, job_id=job.id)


def status_text(job: Job, *, place: QueuePlace | None = None, pause: PauseNote | None = None) -> str:
    """`place`: what a queued job waits for (bot/jobs/queue_place.py). `pause`: submits are paused
    (bot/jobs/pause.py): a queued job's card says why."""
    locale = job.locale
    lines = [f"**{job_headline(job, locale)}** · {marker(job)}"]
    if job.state is S.ACCEPTED and place is not None:
        key = "status.position" if place.waiting_for is WaitingFor.MEMBER else "status.position_provider"
        lines.append(t(key, locale, position=place.position))
    if job.state is S.ACCEPTED and pause is not None:
        lines.append(pause_text(pause, locale))
    if job.state is S.SUBMITTED:
        queued = job.provider_status == "TASK_STATUS_QUEUED"
        detail = t("status.queued_at_service" if queued else "status.in_progress", locale)
        if job.progress_percent:
            detail = t("status.percent", locale, percent=job.progress_percent)
        if job.eta_seconds:
            detail = t("status.eta", locale, detail=detail, left=_duration(job.eta_seconds, locale))
        lines.append(detail)
        if is_late(job) and job.submitted_at is not None:
            lines.append(late_text(job))
    if waits_for_review(job):
        lines.append(t("status.held_detail", locale))
    if lacks_watermark(job):  # for good: the video has no watermark
        lines.append(t("status.no_watermark", locale))
    if job.state is S.CANCELLED:  # nothing was sent: the member reads that it cost nothing
        lines.append(money_text(job))
    if job.reason and job.state in (S.REJECTED, S.FAILED, S.SUBMIT_UNKNOWN, S.EXPIRED):
        lines.append(t("status.why", locale, reason=render_reason(job.reason, locale)))
        lines.append(money_text(job))
        link = live_link_text(job)
        if link:
            lines.append(link)
    return "\n".join(lines)


def pause_text(pause: PauseNote, locale: str) -> str:
    """Why a queued job waits while submits are paused, and what happens to it (true to the money: it keeps
    its reservation, and nothing is billed while it waits)."""
    told = t("status.paused_told_moderators" if pause.moderators_told else "status.paused_told_operator", locale)
    return t(f"status.paused_{pause.kind.value}", locale, told=told)


def late_text(job: Job) -> str:
    assert job.submitted_at is not None
    return t("status.late", job.locale, when=f"<t:{int(job.submitted_at.timestamp())}:R>")


def money_text(job: Job) -> str:
    """What an ending cost the member, true to what the provider bills (bot/jobs/states.py)."""
    if job.state in REFUNDED_ENDINGS:
        return t("status.not_counted", job.locale)
    if job.state is S.SUBMIT_UNKNOWN:
        return t("status.maybe_counted", job.locale)
    return t("status.counted", job.locale)


def live_link_text(job: Job) -> str | None:
    """A made video that could not be posted: the provider's own link, while it lives."""
    if job.state is not S.EXPIRED or not job.video_url or job.video_expires_at is None:
        return None
    if withheld(job):  # a flagged video the moderators hold or removed: never handed out by a link
        return None
    if job.video_expires_at <= utcnow():
        return None
    return t("status.link", job.locale, url=job.video_url, when=f"<t:{int(job.video_expires_at.timestamp())}:f>")


def _duration(seconds: int, locale: str) -> str:
    if seconds < 90:
        return t("status.seconds", locale, seconds=seconds)
    return t("status.minutes", locale, minutes=round(seconds / 60))
