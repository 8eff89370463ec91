"""Take-down (issue 25 item 7): a job's requester or a moderator removes the bot's posts about it.

Entry points: the Remove button under a posted video (and under a report in the mod-log), and the Apps-menu
entry on any of the job's messages (cogs/posts.py). Both open a short form (an optional reason; sending it is
the confirmation). Then the video message and the request card are deleted from Discord (their pictures go
with them), the job's stored pictures are dropped, the status card says the post was removed, the removal is
recorded and audited (bot/takedowns.py), and the mod-log is told. A job still waiting in the bot's queue is
cancelled first (refunded, as Cancel does); a job the video service is making cannot be removed until its
video is posted (its video would otherwise arrive after the removal).

Who may: the requester, or a moderator: Manage Server (the bot's moderators, bot/ui/moderators.py) or
Manage Messages where the job's messages are (Discord's own right to delete others' messages there).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot import metrics
from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.jobs.models import Job
from bot.jobs.states import ACTIVE_STATES, JobState
from bot.takedowns import REASON_MAX, Role, Takedown
from bot.ui.base import ViduModal
from bot.ui.buttons import JOB_ID
from bot.ui.cards import edit_card, status_card
from bot.ui.fit import quote
from bot.ui.moderators import is_moderator, post_mod_log
from bot.ui.replies import Refused, answers_errors
from bot.ui.status import marker

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.ui.takedown")
MODLOG_REASON = 300  # characters of a typed reason the mod-log line repeats


def removal_role(interaction: discord.Interaction[Any], job: Job) -> Role | None:
    """In which capacity this member may remove the job's posts, or None."""
    if interaction.guild_id != job.guild_id:
        return None
    if interaction.user.id == job.user_id:
        return Role.REQUESTER
    if is_moderator(interaction):
        return Role.MODERATOR
    # Manage Messages counts where the job's messages are (its thread, or the channel it was asked in), as
    # Discord's own right to delete them does: not from another channel (the mod-log) where a member has it.
    if interaction.permissions.manage_messages and interaction.channel_id in (job.thread_id, job.channel_id):
        return Role.MODERATOR
    return None


async def refuse_if_removed(bot: ServiceBot, job: Job, locale: str) -> None:
    """Re-roll, Extend and Remix of a removed job would post its pictures (or its video's frame) again: refused."""
    if await bot.store.takedown(job.id) is not None:
        raise Refused(t("takedown.buttons_gone", locale))


async def job_of_message(bot: ServiceBot, interaction: discord.Interaction[Any], message: discord.Message) -> str:
    """The job a message of the bot's is about (its request card, status card or video), for the Apps menu."""
    locale = locale_of(interaction)
    job_id = None
    if interaction.guild_id is not None and bot.user is not None and message.author.id == bot.user.id:
        job_id = await bot.store.job_for_message(interaction.guild_id, message.id)
    if job_id is None:
        raise Refused(t("takedown.not_a_post", locale))
    return job_id


async def open_takedown(interaction: discord.Interaction[ServiceBot], job_id: str) -> None:
    """The take-down form for this job, or the reason this member cannot remove it (privately)."""
    bot = interaction.client
    locale = locale_of(interaction)
    job = await bot.store.get_job(job_id)
    if job is None or job.guild_id != interaction.guild_id:
        raise Refused(t("button.job_gone", locale))
    role = removal_role(interaction, job)
    if role is None:
        raise Refused(t("takedown.not_allowed", locale))
    if await bot.store.takedown(job.id) is not None:
        raise Refused(t("takedown.already", locale, job_id=job.id))
    if job.state in ACTIVE_STATES:
        raise Refused(t("takedown.in_flight", locale, job_id=job.id))
    await interaction.response.send_modal(TakedownForm(job, role, locale))


class TakeDownButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"vidu:takedown:{JOB_ID}"):
    def __init__(self, job_id: str, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(discord.ui.Button(label=t("button.remove", locale), emoji="🗑️",
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=f"vidu:takedown:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> TakeDownButton:
        return cls(match["job_id"])

    @answers_errors("the Remove button")
    async def callback(self, interaction: discord.Interaction[ServiceBot]) -> None:  # type: ignore[override]
        await open_takedown(interaction, self.job_id)


class TakedownForm(ViduModal):
    """Sending it confirms the removal; closing it removes nothing."""

    what = "the Remove form"

    def __init__(self, job: Job, role: Role, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(title=t("takedown.title", locale), custom_id="vidu:takedown-form", timeout=15 * 60)
        self.job, self.role, self.locale = job, role, locale
        self.reason: discord.ui.TextInput[TakedownForm] = discord.ui.TextInput(
            custom_id="reason", style=discord.TextStyle.paragraph, required=False, max_length=REASON_MAX)
        self.add_item(discord.ui.Label(text=t("takedown.reason_label", locale),
                                       description=t("takedown.reason_help", locale), component=self.reason))

    async def on_submit(self, interaction: discord.Interaction[ServiceBot]) -> None:  # type: ignore[override]
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot, locale = interaction.client, self.locale
        job = await bot.store.get_job(self.job.id) or self.job  # its state may have moved since the form opened
        cancelled = False
        if job.state is JobState.ACCEPTED:  # still in our queue: cancelled (refunded) first, as Cancel does
            moved = await bot.store.transition(job.id, from_states=[JobState.ACCEPTED], to=JobState.CANCELLED,
                                               reason="removed")
            if moved is not None:
                job, cancelled = moved, True
                metrics.job_changed(moved.state, final=True)
                bot.worker.wake()
        if job.state in ACTIVE_STATES:
            raise Refused(t("takedown.in_flight", locale, job_id=job.id))
        reason = self.reason.value.strip() or None
        takedown = Takedown(job_id=job.id, guild_id=job.guild_id, actor_id=interaction.user.id, role=self.role,
                            reason=reason, at=bot.store.now())
        if not await bot.store.record_takedown(takedown):
            raise Refused(t("takedown.already", locale, job_id=job.id))
        deleted = await remove_posts(bot, job, takedown)
        key = "takedown.done_cancelled" if cancelled else "takedown.done"
        await interaction.followup.send(t(key, locale, job_id=job.id), ephemeral=True)
        log.info("job %s: posts removed by user %s as %s (%d messages deleted)", job.id, interaction.user.id,
                 self.role.value, deleted)
        said = f": {quote(reason, MODLOG_REASON)}" if reason else ""
        who = "its requester" if self.role is Role.REQUESTER else "a moderator"
        await post_mod_log(bot, job.guild_id, f"🗑️ {interaction.user.mention} ({who}) removed job `{job.id}` of "
                                              f"<@{job.user_id}>: its video and request card{said}")


async def remove_posts(bot: ServiceBot, job: Job, takedown: Takedown) -> int:
    """Delete the job's video and request card (their pictures go with them), drop its stored pictures, and
    turn its status card into the removal's notice. Returns how many messages were deleted."""
    deleted = 0
    channel = None
    if job.thread_id is not None:
        try:
            channel = bot.get_channel(job.thread_id) or await bot.fetch_channel(job.thread_id)
        except discord.HTTPException:
            log.warning("job %s: its thread %s cannot be read; nothing deleted there", job.id, job.thread_id)
    if isinstance(channel, discord.abc.Messageable):
        for message_id in (job.delivered_message_id, job.card_message_id):
            if message_id is None:
                continue
            try:
                await channel.get_partial_message(message_id).delete()
                deleted += 1
            except discord.NotFound:  # someone deleted it already
                pass
            except discord.HTTPException as exc:
                log.warning("job %s: message %s could not be deleted (%s %s)", job.id, message_id, exc.status,
                            exc.code)
        if job.status_message_id is not None:
            text = "\n".join([f"**{t('status.removed', job.locale)}** · {marker(job)}",
                              t(f"takedown.removed_by_{takedown.role.value}", job.locale)])
            try:
                card = channel.get_partial_message(job.status_message_id)
                await edit_card(card.edit, status_card(job, text), text, None)
            except discord.HTTPException as exc:
                log.warning("job %s: its status card could not say it was removed (%s %s)", job.id, exc.status,
                            exc.code)
    await bot.store.delete_inputs(job.id)
    return deleted
