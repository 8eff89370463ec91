"""Finished videos screened before they are posted (issue 25 item 3): the decision a job keeps, and the step of
the delivery that makes it.

Where the server's policy asks for it (the Discord side says, `JobListener.video_screening`), a few frames of the
downloaded video go through the screens in the image workers. The decision is recorded on the job (its
`video_review`, fenced by the delivery's lease) before anything is posted, so every later try, after a crash
or a failed post, follows it without screening again:

- passed: posted plainly; spoiler: posted behind a spoiler with a content note;
- hold -> held: handed to the moderators (the mod-log gets the video with Approve / Remove; the member is told it
  waits for review), then held: no process leases it, it holds none of its member's slots;
- approved (by a moderator): posted plainly, by the ordinary delivery, exactly once;
- removed (by a moderator): the job ends expired, charged (the provider billed it), never posted.

A job the policy does not screen keeps no decision and is posted as today.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path

from bot.i18n import reason_code
from bot.jobs.models import Job
from bot.jobs.states import JobState
from bot.jobs.steps import StepContext
from bot.logs import job_ids
from bot.media.frames import FRAMES_PER_VIDEO
from bot.media.pool import image_pool
from bot.safety import FlaggedVideo
from bot.safety.video import screen_video

log = logging.getLogger("bot.jobs")


class VideoReview(StrEnum):
    PASSED = "passed"
    SPOILER = "spoiler"
    HOLD = "hold"
    HELD = "held"
    APPROVED = "approved"
    REMOVED = "removed"


# A held video a moderator removed: its job ends expired (charged: the provider billed it), never posted.
REASON_NOT_APPROVED = reason_code("not_approved")
# Decisions that keep a flagged video from its requester: nobody is handed the provider's link to it.
WITHHELD = frozenset({VideoReview.HOLD, VideoReview.HELD, VideoReview.REMOVED})


def review_of(job: Job) -> VideoReview | None:
    """The job's screening decision; an unknown stored value (a newer bot's) reads as held, the safe side."""
    if job.video_review is None:
        return None
    try:
        return VideoReview(job.video_review)
    except ValueError:
        return VideoReview.HELD


def is_held(job: Job) -> bool:
    """Made, flagged, and waiting for a moderator in the mod-log."""
    return job.state is JobState.SUCCEEDED and review_of(job) is VideoReview.HELD


def was_removed(job: Job) -> bool:
    """A moderator removed the held video: never posted."""
    return review_of(job) is VideoReview.REMOVED


def withheld(job: Job) -> bool:
    """A flagged video its requester may not be given (held, to be held, or removed)."""
    return review_of(job) in WITHHELD


async def decide(steps: StepContext, job: Job, video: Path) -> Job | None:
    """The job with its screening decided and recorded (fenced by its lease), or as it is when nothing screens
    it here or it was decided before; None when another process has leased the job since. A worker lost on the
    way raises (the delivery is tried again)."""
    if job.video_review is not None:
        return job
    plan = await steps.listener.video_screening(job)
    if not plan.screens:
        return job
    verdict = await image_pool().run(screen_video, plan.screens, str(video), FRAMES_PER_VIDEO)
    if verdict is None:
        review = VideoReview.PASSED
    else:
        review = VideoReview.HOLD if plan.flagged is FlaggedVideo.HOLD else VideoReview.SPOILER
        # What the operator may need to judge a false alarm: the screen's label and score, never a frame.
        log.info("job %s: video flagged by screen %s (%s %.2f): %s", job.id, verdict.screen, verdict.label,
                 verdict.score, review.value, extra=job_ids(job))
    return await steps.store.record_video_review(job.id, review.value, fence=job.attempt)
