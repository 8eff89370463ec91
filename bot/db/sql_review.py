"""Screened videos (bot/jobs/review.py) for both SQL stores: recording the delivery's decision, and a
moderator's Approve or Remove of a held video, each one conditional write.

A moderator's decision is taken once: the row moves only from `held` (or `hold`: the mod-log message is out a
moment before the delivery records the video held), so of two presses (one moderator twice, or
two at once) one moves it and the other finds it decided. Remove ends the job expired in the same transaction as
its ledger's settlement (charged: the provider billed the video) and its audit row; Approve hands the job back to
the delivery with a fresh delivery deadline (the days it waited for a moderator are not the delivery's)."""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import Any

from bot.db.sql_store import RELEASE, RETURNING, SqlJobStore
from bot.jobs.models import Job
from bot.jobs.review import VideoReview
from bot.jobs.states import JobState


class SqlReviewStore(SqlJobStore):
    @abstractmethod
    async def _audit_in(self, conn: Any, guild_id: int, actor_id: int, action: str,
                        before: str | None, after: str | None) -> None:
        """One audit row, in the caller's transaction (SqlQuotaStore)."""

    async def record_video_review(self, job_id: str, review: str, *, fence: int, release: bool = False) -> Job | None:
        VideoReview(review)  # a value the schema takes
        arg = self._params()
        assignments = [f"video_review = {arg(review)}"]
        if release:
            assignments += RELEASE
        # Only over no decision or a hold not yet handed over: never over a moderator's, who may press as soon as
        # the mod-log message is there, before the delivery recorded the video held.
        undecided = f"(video_review IS NULL OR video_review = '{VideoReview.HOLD.value}')"
        sql = (f"UPDATE jobs SET {', '.join(assignments)} WHERE id = {arg(job_id)} "
               f"AND state = {arg(JobState.SUCCEEDED.value)} AND attempt = {arg(fence)} AND {undecided} {RETURNING}")
        async with self._write() as conn:
            return await self._fetch_row(conn, sql, arg.values)

    async def decide_review(self, job_id: str, *, approve: bool, actor_id: int, reason: str) -> Job | None:
        now = self._clock()
        at = self._time(now, "decide_review(now)")
        arg = self._params()
        decision = VideoReview.APPROVED if approve else VideoReview.REMOVED
        # A new fencing number: a delivery still holding the job (it posted the mod-log message and is about to
        # record the video held) can no longer write over the decision.
        assignments = [f"video_review = {arg(decision.value)}", f"reviewed_by = {arg(actor_id)}", *RELEASE,
                       "attempt = attempt + 1"]
        if approve:  # back to the delivery: a fresh deadline and count of tries
            assignments += [f"succeeded_at = {arg(at)}", "delivery_attempts = 0"]
        else:
            assignments += [f"state = {arg(JobState.EXPIRED.value)}", f"reason = {arg(reason)}",
                            f"finished_at = {arg(at)}"]
        sql = (f"UPDATE jobs SET {', '.join(assignments)} WHERE id = {arg(job_id)} "
               f"AND state = {arg(JobState.SUCCEEDED.value)} "
               f"AND video_review {arg.one_of([VideoReview.HOLD.value, VideoReview.HELD.value])} {RETURNING}")
        async with self._write() as conn:
            decided = await self._fetch_row(conn, sql, arg.values)
            if decided is None:
                return None
            if not approve:
                await self._settle_in(conn, job_id, JobState.EXPIRED, now)
            await self._audit_in(conn, decided.guild_id, actor_id, f"video.{'approve' if approve else 'remove'}",
                                 json.dumps({"job": job_id, "requester": decided.user_id, "video": "held"}),
                                 json.dumps({"job": job_id, "requester": decided.user_id, "video": decision.value}))
        return decided
