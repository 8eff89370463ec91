"""The words of a job's status card, from the job alone (the card is re-rendered, never patched)."""

from __future__ import annotations

from bot.jobs.models import Job
from bot.jobs.states import JobState

S = JobState

HEADLINES: dict[JobState, str] = {
    S.ACCEPTED: "⏳ Waiting in the queue",
    S.SUBMITTING: "📤 Sending to the video service",
    S.SUBMITTED: "🎬 Generating",
    S.SUCCEEDED: "📥 Finished, posting the video",
    S.DELIVERED: "✅ Done",
    S.REJECTED: "🚫 Refused by the video service",
    S.FAILED: "❌ Failed",
    S.SUBMIT_UNKNOWN: "⚠️ Unknown whether the job started",
    S.EXPIRED: "⌛ Timed out",
    S.CANCELLED: "✖️ Cancelled",
}


def marker(job: Job) -> str:
    """A line every message about the job carries, so a restarted bot can find what it already posted."""
    return f"job `{job.id}`"


def status_text(job: Job, *, queue_position: int | None = None) -> str:
    lines = [f"**{HEADLINES[job.state]}** · {marker(job)}"]
    if job.state is S.ACCEPTED and queue_position:
        lines.append(f"Position {queue_position} in your queue: it starts when one of your jobs ends.")
    if job.state is S.SUBMITTED:
        queued = job.provider_status == "TASK_STATUS_QUEUED"
        detail = "queued at the video service" if queued else "in progress"
        if job.progress_percent:
            detail = f"{job.progress_percent}%"
        if job.eta_seconds:
            detail += f", about {_duration(job.eta_seconds)} left"
        lines.append(detail)
    if job.reason and job.state in (S.REJECTED, S.FAILED, S.SUBMIT_UNKNOWN, S.EXPIRED):
        lines.append(f"Why: {job.reason}")
        if job.state is not S.SUBMIT_UNKNOWN:
            lines.append("Nothing was counted against your quota.")
    return "\n".join(lines)


def _duration(seconds: int) -> str:
    return f"{seconds} s" if seconds < 90 else f"{round(seconds / 60)} min"
