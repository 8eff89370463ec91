"""The provider's content refusals in the job loop (issue 25, item 6; the rules are bot/strikes.py).

Both steps that hear them end a job here: the submit (a 400 refusing the prompt or a picture) and the poll (a
task that FAILED for its content). The refusal is recorded first (its fingerprints flagged for every server,
its strike counted, the member paused at the server's limit), then the job ends with its own reason, refunded
like every refusal and failure. And just before a queued job is sent, its inputs are compared with the flags,
so a duplicate queued before the refusal never reaches the provider.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.jobs.models import Job, JobInput
from bot.jobs.states import JobState
from bot.jobs.steps import StepContext
from bot.jobs.store import JobStore
from bot.logs import job_ids
from bot.media.fingerprint import dhashes
from bot.strikes import (
    ContentRefusal,
    Part,
    RecordedRefusal,
    StrikeRule,
    Strikes,
    fingerprints_of,
    flagged_match,
    pause_note,
)

log = logging.getLogger("bot.jobs")


async def picture_hashes(inputs: Sequence[JobInput]) -> list[int]:
    """The job's pictures' difference hashes, in order, off the event loop."""
    return await asyncio.to_thread(dhashes, [i.data for i in inputs])


async def stopped_by_flags(store: JobStore, job: Job, inputs: Sequence[JobInput]) -> str | None:
    """Why a queued job must not be sent because the provider refused its prompt, a picture or the very same
    request before (any server); None when it may go."""
    found = await flagged_match(store, job.params.prompts, lambda: picture_hashes(inputs))
    return found.reason() if found is not None else None


@dataclass(frozen=True)
class Ended:
    moved: bool  # this call ended the job
    strikes: Strikes | None  # the member's strikes after this one (None: no strike, the server's watermark)
    rule: StrikeRule


async def end_for_content(steps: StepContext, job: Job, from_state: JobState, to: JobState,
                          refusal: ContentRefusal, inputs: Sequence[JobInput]) -> Ended:
    """Record the refusal (flags, strike, a pause at the limit), then end the job with its reason. Safe to call
    again for the same job (a retry after the database blinked): the record is kept once, the move is fenced."""
    store = steps.store
    settings = await store.guild_settings(job.guild_id)
    rule = StrikeRule(limit=settings.strike_limit, hours=settings.strike_hours)
    strikes = None
    if refusal.is_strike:
        prints = fingerprints_of(refusal, job.params.prompts, await picture_hashes(inputs))
        strikes = await store.record_content_refusal(
            RecordedRefusal(job.id, job.guild_id, job.user_id, refusal.part, tuple(prints)), now=steps.clock(),
            rule=rule)
    moved = await steps.finish(job, from_state, to, reason=refusal.reason())
    return Ended(moved, strikes, rule)


async def tell_about(steps: StepContext, job: Job, refusal: ContentRefusal, ended: Ended) -> None:
    """After the record: the log, and the mod-log when strikes paused the member or the server's watermark was
    the picture refused."""
    if ended.strikes is not None:
        log.warning("job %s: refused by the video service for its content (%s); strike %d of member %s here",
                    job.id, refusal.part.value, len(ended.strikes.job_ids), job.user_id, extra=job_ids(job))
        if ended.strikes.paused_now:
            await steps.tell(steps.listener.tell_moderators(job.guild_id, pause_note(job.user_id, ended.strikes,
                                                                                     ended.rule)), job)
    elif refusal.part is Part.WATERMARK and ended.moved:
        await steps.tell(steps.listener.tell_moderators(
            job.guild_id, f"⚠️ Job `{job.id}` (<@{job.user_id}>): the video service refused the server's watermark "
            "picture for its content; the job was refunded. /config watermark sets another picture (or none)."),
            job)


__all__ = ["Ended", "end_for_content", "picture_hashes", "stopped_by_flags", "tell_about"]
