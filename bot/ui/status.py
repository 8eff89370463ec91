"""The words of a job's status card, from the job alone (the card is re-rendered, never patched), in the
language of the member who asked (Job.locale)."""

from __future__ import annotations

from bot.i18n import render_reason, t
from bot.jobs.models import Job
from bot.jobs.states import JobState

S = JobState


def headline(state: JobState, locale: str) -> str:
    return t(f"status.{state.value}", locale)


def marker(job: Job) -> str:
    """A line every message about the job carries, so a restarted bot can find what it already posted."""
    return t("status.marker", job.locale, job_id=job.id)


def status_text(job: Job, *, queue_position: int | None = None) -> str:
    locale = job.locale
    lines = [f"**{headline(job.state, locale)}** · {marker(job)}"]
    if job.state is S.ACCEPTED and queue_position:
        lines.append(t("status.position", locale, position=queue_position))
    if job.state is S.SUBMITTED:
        queued = job.provider_status == "TASK_STATUS_QUEUED"
        detail = t("status.queued_at_service" if queued else "status.in_progress", locale)
        if job.progress_percent:
            detail = t("status.percent", locale, percent=job.progress_percent)
        if job.eta_seconds:
            detail = t("status.eta", locale, detail=detail, left=_duration(job.eta_seconds, locale))
        lines.append(detail)
    if job.reason and job.state in (S.REJECTED, S.FAILED, S.SUBMIT_UNKNOWN, S.EXPIRED):
        lines.append(t("status.why", locale, reason=render_reason(job.reason, locale)))
        if job.state is not S.SUBMIT_UNKNOWN:
            lines.append(t("status.not_counted", locale))
    return "\n".join(lines)


def _duration(seconds: int, locale: str) -> str:
    if seconds < 90:
        return t("status.seconds", locale, seconds=seconds)
    return t("status.minutes", locale, minutes=round(seconds / 60))
