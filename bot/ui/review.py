"""A flagged video held for the moderators (bot/jobs/review.py), the Discord side: its message in the mod-log
(the video behind a spoiler, the job and its requester, Approve / Remove) and the two buttons.

The buttons survive restarts (the job id is in the custom_id, discord.DynamicItem) and re-read the job on every
press. Only moderators (Manage Server) may press them. The store takes one decision (a conditional write that
also audits it, bot/db/sql_review.py); a second press, by the same moderator or another, is told who decided
what. Approve hands the job back to the delivery, which posts it as any video (exactly once: its nonce and
marker); Remove ends it unposted and its requester is told, through the job loop's own listener."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord.utils import MISSING

from bot.i18n import locale_of, t
from bot.jobs.models import Job
from bot.jobs.review import REASON_NOT_APPROVED, VideoReview, review_of
from bot.logs import job_ids
from bot.media.video import fit_video
from bot.ui.base import ViduView
from bot.ui.buttons import JOB_ID
from bot.ui.cards import upload_limit
from bot.ui.fit import clip
from bot.ui.moderators import require_moderator
from bot.ui.replies import answers_errors

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.review")
LOOKBACK_MESSAGES = 50  # how far back a retried hold looks in the mod-log for the message it already posted
UPLOAD_HEADROOM = 256 * 1024


def review_marker(job: Job) -> str:
    """The first words of the held video's mod-log message: a retry after a crash finds it by them."""
    return f"⏸️ Held for review: job `{job.id}`"


def review_text(job: Job, *, note: str = "") -> str:
    """The mod-log message (English, like every mod-log line: a record)."""
    place = f" in <#{job.thread_id}>" if job.thread_id else ""
    text = (f"{review_marker(job)}, requested by <@{job.user_id}>{place}.\n"
            "A content check flagged this generated video, so it was not posted; its requester was told it waits "
            "for a moderator's review. **Approve** posts it in their thread as a normal delivery; **Remove** ends "
            "it unposted. The video service billed it either way.")
    return f"{text}\n{note}" if note else text


async def post_for_review(channel: discord.abc.Messageable, me: discord.abc.User | None, job: Job,
                          video: Path) -> int:
    """The held video in the mod-log `channel`, once: a message posted before a crash is found again by its
    marker. Returns its id. Raises discord's errors (the caller decides what a closed mod-log means)."""
    needle = review_marker(job)
    async for message in channel.history(limit=LOOKBACK_MESSAGES):
        if me is not None and message.author.id == me.id and message.content.startswith(needle):
            log.info("job %s: already in the mod-log as %s", job.id, message.id, extra=job_ids(job))
            return message.id
    size = (await asyncio.to_thread(video.stat)).st_size
    limit = upload_limit(getattr(channel, "guild", None), None)
    upload: Path | None = video
    note = ""
    if size > limit:  # a smaller copy to judge by; the full one stays here for an approval to post
        upload = await fit_video(video, video.with_suffix(".review.mp4"), limit - UPLOAD_HEADROOM)
        note = "(A smaller copy: the video is larger than this server's upload limit.)" if upload else \
            "(The video is larger than this server's upload limit and no smaller copy could be made.)"
    try:
        file = discord.File(upload, filename=f"{job.id}.mp4", spoiler=True) if upload else None
        message = await channel.send(clip(review_text(job, note=note)), file=file or MISSING,
                                     view=review_view(job.id), nonce=f"vidu-rv-{job.id}",
                                     allowed_mentions=discord.AllowedMentions.none())
    finally:
        if upload is not None and upload != video:
            await asyncio.to_thread(upload.unlink, True)
    return message.id


def review_view(job_id: str) -> ViduView:
    view = ViduView(timeout=None)
    view.add_item(ReviewButton(job_id, "approve"))
    view.add_item(ReviewButton(job_id, "remove"))
    return view


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=rf"vidu:review:(?P<decision>approve|remove):{JOB_ID}"):
    def __init__(self, job_id: str, decision: str) -> None:
        approve = decision == "approve"
        super().__init__(discord.ui.Button(
            label="Approve" if approve else "Remove", emoji="✅" if approve else "🗑️",
            style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
            custom_id=f"vidu:review:{decision}:{job_id}"))
        self.job_id = job_id
        self.approve = approve

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ReviewButton:
        return cls(match["job_id"], match["decision"])

    @answers_errors("a held video's review button")
    async def callback(self, interaction: discord.Interaction[ServiceBot]) -> None:  # type: ignore[override]
        require_moderator(interaction)  # raises NotModerator: "This is for moderators (Manage Server)."
        bot = interaction.client
        locale = locale_of(interaction)
        job = await bot.store.get_job(self.job_id)
        if job is None or job.guild_id != interaction.guild_id:
            await interaction.response.send_message(t("review.not_held", locale), ephemeral=True)
            return
        decided = await bot.store.decide_review(job.id, approve=self.approve, actor_id=interaction.user.id,
                                                reason=REASON_NOT_APPROVED)
        if decided is None:
            await interaction.response.send_message(already_decided(await bot.store.get_job(job.id), locale),
                                                    ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
            return
        mod = interaction.user.mention
        if self.approve:
            log.info("job %s: held video approved by moderator %s", job.id, interaction.user.id, extra=job_ids(job))
            outcome = f"✅ Approved by {mod}: posted to <@{job.user_id}> as a normal delivery."
            await interaction.response.edit_message(content=clip(f"{review_text(job)}\n{outcome}"), view=None)
            bot.worker.wake()  # the delivery posts it now
            return
        log.info("job %s: held video removed by moderator %s", job.id, interaction.user.id, extra=job_ids(job))
        outcome = f"🗑️ Removed by {mod}: not posted; <@{job.user_id}> was told it was not approved."
        # The video leaves the mod-log with the decision: nobody needs to see it again.
        await interaction.response.edit_message(content=clip(f"{review_text(job)}\n{outcome}"), view=None,
                                                attachments=[])
        await asyncio.to_thread((bot.worker.workdir / f"{job.id}.mp4").unlink, True)
        await bot.worker.job_changed(decided)  # its card says so and its requester is pinged


def already_decided(job: Job | None, locale: str) -> str:
    """The honest answer to a press after the decision: who decided what."""
    review = review_of(job) if job is not None else None
    moderator = f"<@{job.reviewed_by}>" if job is not None and job.reviewed_by else "?"
    if review is VideoReview.APPROVED:
        return t("review.already_approved", locale, moderator=moderator)
    if review is VideoReview.REMOVED:
        return t("review.already_removed", locale, moderator=moderator)
    return t("review.not_held", locale)
