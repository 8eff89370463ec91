"""/jobs: a member's recent jobs in this server, or one job again with its settings and buttons."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import MISSING

from bot.app import ViduBot
from bot.i18n import locale_of, t
from bot.jobs.models import Job, normalize_job_id
from bot.jobs.states import JobState
from bot.params import Img2VideoParams, StartEndParams
from bot.ui.buttons import may_manage
from bot.ui.fit import MESSAGE_LIMIT, clip, code, fit_lines, quote
from bot.ui.moderators import require_moderator
from bot.ui.status import job_headline, status_text
from bot.ui.text import request_lines
from bot.ui.video_actions import status_view

RECENT = 10
# The detail's prompts, escaped, share what a message holds after the status card's lines and the links
# (SETTINGS_ROOM: the settings line under them).
DETAIL_PROMPT_BUDGET = 1400
SETTINGS_ROOM = 300
SNIPPET = 80  # a job's prompts in /jobs all
JOB_ECHO = 40  # a job id typed that matches nothing, echoed
IN_FLIGHT = [JobState.ACCEPTED, JobState.SUBMITTING, JobState.SUBMITTED, JobState.SUCCEEDED]


def _link(job: Job, message_id: int | None) -> str | None:
    if message_id is None or job.thread_id is None:
        return None
    return f"https://discord.com/channels/{job.guild_id}/{job.thread_id}/{message_id}"


def job_line(job: Job, locale: str) -> str:
    where = f" · <#{job.thread_id}>" if job.thread_id else ""
    p = job.params
    kind = (t("jobs.one_image", locale) if isinstance(p, Img2VideoParams)
            else t("jobs.startend", locale) if isinstance(p, StartEndParams)
            else t("jobs.frames", locale, count=p.segments + 1))
    return t("jobs.line", locale, job_id=job.id, headline=job_headline(job, locale), kind=kind,
             seconds=job.duration_seconds, resolution=job.resolution, where=where,
             when=f"<t:{int(job.created_at.timestamp())}:R>")


def job_details(job: Job) -> str:
    """One job again, in the language of its requester (the only member, with moderators, who may see it):
    its status card's lines, then what was asked as its request card shows it, then links to both."""
    locale = job.locale
    status = status_text(job)
    links = [t(key, locale, link=link) for key, message_id in (("jobs.inputs_link", job.card_message_id),
                                                               ("jobs.video_link", job.delivered_message_id))
             if (link := _link(job, message_id))]
    room = MESSAGE_LIMIT - len(status) - len("\n".join(links)) - SETTINGS_ROOM
    asked = request_lines(job.params, job.duration_seconds, locale, budget=max(100, min(DETAIL_PROMPT_BUDGET, room)))
    return clip("\n".join([status, "", *asked, *links]))


class Jobs(commands.Cog):
    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot

    @app_commands.command(name="jobs", description="Your recent videos in this server, or one job in detail")
    @app_commands.guild_only()
    @app_commands.describe(job="A job id (the code in the status card), e.g. 7K3QZ2MD; moderators: all")
    async def jobs(self, interaction: discord.Interaction[ViduBot], job: str | None = None) -> None:
        assert interaction.guild_id is not None
        locale = locale_of(interaction)
        if job is None:
            recent = await self.bot.store.recent_jobs(interaction.guild_id, interaction.user.id, limit=RECENT)
            if not recent:
                await interaction.response.send_message(t("jobs.none", locale), ephemeral=True)
                return
            text = fit_lines([t("jobs.recent_head", locale)], [job_line(j, locale) for j in recent], locale)
            await interaction.response.send_message(text, ephemeral=True)
            return
        if job.strip().lower() == "all":
            await self._all(interaction)
            return
        found = await self.bot.store.get_job(normalize_job_id(job))
        if found is None or not may_manage(interaction, found):
            # The same answer for "does not exist" and "not yours": job ids of others stay private.
            await interaction.response.send_message(t("jobs.not_found", locale, job=code(job, JOB_ECHO)),
                                                    ephemeral=True)
            return
        await interaction.response.send_message(job_details(found), view=status_view(found) or MISSING,
                                                ephemeral=True)

    async def _all(self, interaction: discord.Interaction[ViduBot]) -> None:
        """Moderators: every queued and running job in this server, with its requester and prompt."""
        require_moderator(interaction)  # /jobs itself is for everyone: only this answer is the moderators'
        assert interaction.guild_id is not None
        locale = locale_of(interaction)
        jobs = await self.bot.store.guild_jobs(interaction.guild_id, IN_FLIGHT)
        lines = [f"{job_line(j, locale)} · <@{j.user_id}> · {_prompt_snippet(j)}" for j in jobs]
        text = fit_lines([t("jobs.all_head", locale, count=len(jobs))], lines, locale)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())


def _prompt_snippet(job: Job) -> str:
    return quote(" | ".join(p or "-" for p in job.params.prompts), SNIPPET)


async def setup(bot: ViduBot) -> None:
    await bot.add_cog(Jobs(bot))
