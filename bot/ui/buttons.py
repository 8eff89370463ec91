"""Buttons that keep working after a restart: the job id lives in the custom_id (discord.py DynamicItem),
and every press re-reads the job from the store, so nothing depends on what this process remembers."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot import metrics
from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.jobs.models import Job
from bot.jobs.states import JobState
from bot.ui.cards import edit_card, status_card
from bot.ui.moderators import is_moderator
from bot.ui.replies import answers_errors
from bot.ui.status import status_text

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.ui")
JOB_ID = r"(?P<job_id>[0-9A-HJKMNP-TV-Z]{8})"


def may_manage(interaction: discord.Interaction[Any], job: Job) -> bool:
    """The requester, or a moderator (Manage Server) of the job's own server."""
    if interaction.guild_id != job.guild_id:
        return False
    return interaction.user.id == job.user_id or is_moderator(interaction)


async def load_managed_job(interaction: discord.Interaction[ServiceBot], job_id: str) -> Job | None:
    """The job behind a pressed button, or None after telling the member why they cannot use it."""
    job = await interaction.client.store.get_job(job_id)
    if job is None or job.guild_id != interaction.guild_id:
        await interaction.response.send_message(t("button.job_gone", locale_of(interaction)), ephemeral=True)
        return None
    if not may_manage(interaction, job):
        await interaction.response.send_message(t("button.not_yours", locale_of(interaction)), ephemeral=True)
        return None
    return job


class CancelButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"vidu:cancel:{JOB_ID}"):
    def __init__(self, job_id: str, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(discord.ui.Button(label=t("button.cancel", locale), style=discord.ButtonStyle.secondary,
                                           emoji="✖️",
                                           custom_id=f"vidu:cancel:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> CancelButton:
        return cls(match["job_id"])

    @answers_errors("the Cancel button")
    async def callback(self, interaction: discord.Interaction[ServiceBot]) -> None:  # type: ignore[override]
        job = await load_managed_job(interaction, self.job_id)
        if job is None:
            return
        bot = interaction.client
        cancelled = await bot.store.transition(job.id, from_states=[JobState.ACCEPTED], to=JobState.CANCELLED,
                                               reason="cancelled by the member")
        if cancelled is None:
            await interaction.response.send_message(t("button.too_late", locale_of(interaction)), ephemeral=True)
            return
        text = status_text(cancelled)
        await edit_card(interaction.response.edit_message, status_card(cancelled, text), text, None)
        metrics.job_changed(cancelled.state, final=True)
        log.info("job %s: cancelled by user %s", job.id, interaction.user.id)
        await bot.store.delete_inputs(job.id)
        bot.worker.wake()


def queue_buttons(job: Job) -> list[discord.ui.Item[Any]]:
    """Cancel, while the job waits in the bot's queue."""
    return [CancelButton(job.id, job.locale)] if job.state is JobState.ACCEPTED else []

