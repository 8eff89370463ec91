"""Reports (issue 25 item 7): any member tells the moderators about a video, with a reason.

Entry points: the Report button under a posted video and the Apps-menu entry on any of the job's messages
(cogs/posts.py). The form asks for the reason; the mod-log gets the report with a link to the message, the
job id and the reporter, and a Remove button (bot/ui/takedown.py). A video gets one mod-log message: the
first report posts it, later reports by other members edit it (how many, the latest reasons). A member's
second report of the same video changes nothing, and a member may send REPORTS_PER_WINDOW reports an hour
(bot/takedowns.py), so neither a repeated nor a flooded report floods the mod-log.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.jobs.models import Job
from bot.takedowns import REASON_MAX, Report, ReportOutcome, ReportResult
from bot.ui.base import ViduModal, ViduView
from bot.ui.buttons import JOB_ID
from bot.ui.fit import clip, quote
from bot.ui.moderators import modlog_channel, post_mod_log
from bot.ui.replies import Refused, answers_errors
from bot.ui.takedown import TakeDownButton

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.ui.reports")
REASON_MIN = 3  # "bad" is a reason; a lone character is a stray click
SHOWN_REPORTS = 5  # the latest reasons a video's mod-log message repeats
REPORT_REASON = 300  # characters of each reason there


class ReportButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"vidu:report:{JOB_ID}"):
    def __init__(self, job_id: str, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(discord.ui.Button(label=t("button.report", locale), emoji="🚩",
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=f"vidu:report:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ReportButton:
        return cls(match["job_id"])

    @answers_errors("the Report button")
    async def callback(self, interaction: discord.Interaction[ServiceBot]) -> None:  # type: ignore[override]
        message_id = interaction.message.id if interaction.message is not None else None
        await open_report(interaction, self.job_id, message_id)


async def open_report(interaction: discord.Interaction[ServiceBot], job_id: str, message_id: int | None) -> None:
    """The report form for this job's video, or why it cannot be reported (privately)."""
    bot = interaction.client
    locale = locale_of(interaction)
    job = await bot.store.get_job(job_id)
    if job is None or job.guild_id != interaction.guild_id:
        raise Refused(t("button.job_gone", locale))
    if await bot.store.takedown(job.id) is not None:
        raise Refused(t("report.removed", locale, job_id=job.id))
    where = None
    if message_id is not None and interaction.channel_id is not None:
        where = f"https://discord.com/channels/{job.guild_id}/{interaction.channel_id}/{message_id}"
    await interaction.response.send_modal(ReportForm(job, where, locale))


class ReportForm(ViduModal):
    what = "the Report form"

    def __init__(self, job: Job, link: str | None, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(title=t("report.title", locale), custom_id="vidu:report-form", timeout=15 * 60)
        self.job, self.link, self.locale = job, link, locale
        self.reason: discord.ui.TextInput[ReportForm] = discord.ui.TextInput(
            custom_id="reason", style=discord.TextStyle.paragraph, min_length=REASON_MIN, max_length=REASON_MAX)
        self.add_item(discord.ui.Label(text=t("report.reason_label", locale),
                                       description=t("report.reason_help", locale), component=self.reason))

    async def on_submit(self, interaction: discord.Interaction[ServiceBot]) -> None:  # type: ignore[override]
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot, job, locale = interaction.client, self.job, self.locale
        reason = self.reason.value.strip()
        if len(reason) < REASON_MIN:  # spaces only: Discord counted them
            raise Refused(t("report.empty", locale, count=REASON_MIN))
        result = await bot.store.record_report(job.guild_id, job.id, interaction.user.id, reason, now=bot.store.now())
        if result.outcome is ReportOutcome.REPEAT:
            raise Refused(t("report.repeat", locale, job_id=job.id))
        if result.outcome is ReportOutcome.TOO_MANY:
            assert result.retry_at is not None
            raise Refused(t("report.too_many", locale, when=f"<t:{int(result.retry_at.timestamp()) + 1}:R>"))
        log.info("job %s: reported by user %s (%d reporters)", job.id, interaction.user.id, result.reporters)
        told = await tell_moderators(bot, job, self.link, result)
        await interaction.followup.send(t("report.thanks" if told else "report.recorded", locale, job_id=job.id),
                                        ephemeral=True)


async def tell_moderators(bot: ServiceBot, job: Job, link: str | None, result: ReportResult) -> bool:
    """The job's one report message in the mod-log: posted by the first report, edited by later ones. False when
    the server has no mod-log channel (or Discord refused both)."""
    text = report_text(job, link, await bot.store.reports(job.id))
    view = ViduView(timeout=None)
    view.add_item(TakeDownButton(job.id))  # the moderators' mod-log is in English, like every mod-log line
    if result.modlog_message_id is not None:
        channel = await modlog_channel(bot, job.guild_id)
        if channel is not None:
            try:
                await channel.get_partial_message(result.modlog_message_id).edit(  # type: ignore[attr-defined]
                    content=text, view=view, allowed_mentions=discord.AllowedMentions.none())
                return True
            except discord.HTTPException:  # deleted by a moderator meanwhile: a new one
                log.info("job %s: its report message is gone; posting a new one", job.id)
    posted = await post_mod_log(bot, job.guild_id, text, view)
    if posted is None:
        return False
    await bot.store.set_report_message(job.id, posted.id)
    return True


def report_text(job: Job, link: str | None, reports: list[Report]) -> str:
    """English, like every mod-log line: the job, its requester, the link, how many members reported it and the
    latest reasons, each escaped and cut (bot/ui/fit.py)."""
    count = len(reports)
    head = (f"🚩 Job `{job.id}` of <@{job.user_id}> reported by {count} member{'s' if count != 1 else ''}"
            f"{f': {link}' if link else ''}")
    lines = [f"• <@{r.reporter_id}> <t:{int(r.at.timestamp())}:R>: {quote(r.reason, REPORT_REASON)}"
             for r in reports[-SHOWN_REPORTS:]]
    if count > SHOWN_REPORTS:
        lines.insert(0, f"(the latest {SHOWN_REPORTS})")
    return clip("\n".join([head, *lines]))
