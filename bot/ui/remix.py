"""Remix: under a finished video, a form with its prompt(s) filled in; sending it makes a new request with the
same pictures and settings and the edited prompts. A new charge, said on the button, in the form and on the
new request's card, and admitted like any request (the same path as Re-roll: bot/ui/video_actions.py).

A keyframes video has up to nine segment prompts and a form holds at most five fields, so its prompts share
one paragraph, one line per segment: line n is segment n, an empty line a segment without a prompt, and one
line alone is every segment's prompt (as in the other forms). Any other count of lines is refused, naming both
counts, and nothing is sent.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.i18n.formats import money
from bot.jobs.models import Job
from bot.jobs.states import JobState
from bot.params import Img2VideoParams, JobParams, StartEndParams
from bot.pricing import price_table
from bot.requests import InputProblem
from bot.ui.base import ViduModal
from bot.ui.buttons import JOB_ID
from bot.ui.intake import Intake, admit
from bot.ui.replies import Refused, answers_errors
from bot.ui.takedown import refuse_if_removed
from bot.ui.video_actions import _start

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.ui")
FORM_TEXT_LIMIT = 4000  # Discord's most for a text input's value, prefilled or typed
PROMPT_LIMIT = 2000  # a video from one picture: as /animate takes it


class RemixButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"vidu:remix:{JOB_ID}"):
    def __init__(self, job_id: str, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(discord.ui.Button(label=t("button.remix", locale), emoji="🎛️",
                                           style=discord.ButtonStyle.secondary, custom_id=f"vidu:remix:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> RemixButton:
        return cls(match["job_id"])

    @answers_errors("the Remix button")
    async def callback(self, interaction: discord.Interaction[ServiceBot]) -> None:  # type: ignore[override]
        locale = locale_of(interaction)
        job = await interaction.client.store.get_job(self.job_id)
        if job is None or job.guild_id != interaction.guild_id:
            await interaction.response.send_message(t("button.job_gone", locale), ephemeral=True)
            return
        # The requester's own request: a moderator may re-roll a member's video, but a remix is a new
        # request in someone's name with their words changed.
        if interaction.user.id != job.user_id:
            await interaction.response.send_message(t("remix.not_yours", locale), ephemeral=True)
            return
        await refuse_if_removed(interaction.client, job, locale)  # its posts were taken down
        if job.state not in (JobState.SUCCEEDED, JobState.DELIVERED):  # (the video shows before it is marked delivered)
            await interaction.response.send_message(t("remix.only_finished", locale), ephemeral=True)
            return
        text = prompts_text(job.params)
        if len(text) > FORM_TEXT_LIMIT:
            await interaction.response.send_message(
                t("remix.too_long", locale, length=len(text), limit=FORM_TEXT_LIMIT), ephemeral=True)
            return
        await interaction.response.send_modal(RemixModal(job, locale))


def prompts_text(params: JobParams) -> str:
    """The prompts as the form shows them: the prompt, or one line per segment (empty: no prompt)."""
    if isinstance(params, Img2VideoParams):
        return params.prompt
    return "\n".join(p or "" for p in params.prompts)


def edited_params(params: JobParams, text: str, locale: str = DEFAULT_LOCALE) -> JobParams:
    """The job's settings with the form's prompts; InputProblem names what is wrong with them."""
    if isinstance(params, Img2VideoParams):
        prompt = text.strip()
        if not prompt:
            raise InputProblem(t("remix.prompt_label", locale), t("remix.empty_prompt", locale))
        return replace(params, prompt=prompt)  # the same seed, if it had one: only the words change
    if isinstance(params, StartEndParams):  # one prompt, which the start-end endpoint lets be empty
        return replace(params, prompt=text.strip() or None)
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    while len(lines) > 1 and not lines[-1]:
        lines.pop()  # a trailing newline is no segment
    segments = params.segments
    if len(lines) == 1 and segments > 1:
        lines *= segments
    if len(lines) != segments:
        raise InputProblem(t("remix.prompt_label", locale),
                           t("remix.line_count", locale, lines=len(lines), segments=segments))
    return replace(params, prompts=tuple(line or None for line in lines))


class RemixModal(ViduModal):
    what = "the Remix form"

    def __init__(self, job: Job, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(title=t("remix.title", locale), custom_id="vidu:remix-form", timeout=15 * 60)
        self.job = job
        self.locale = locale
        cost = money(price_table().credits(job.kind.value, job.resolution, job.duration_seconds), locale)
        one = isinstance(job.params, Img2VideoParams | StartEndParams)
        self.prompts: discord.ui.TextInput[RemixModal] = discord.ui.TextInput(
            custom_id="prompts", style=discord.TextStyle.paragraph, default=prompts_text(job.params) or None,
            max_length=PROMPT_LIMIT if one else FORM_TEXT_LIMIT, required=isinstance(job.params, Img2VideoParams))
        label = (t("remix.prompt_label", locale) if one
                 else t("remix.prompts_label", locale, segments=len(job.params.prompts)))
        help_text = t("remix.help" if one else "remix.prompts_help", locale, cost=cost)
        self.add_item(discord.ui.Label(text=label, description=help_text, component=self.prompts))

    async def on_submit(self, interaction: discord.Interaction[ServiceBot]) -> None:  # type: ignore[override]
        await interaction.response.defer(ephemeral=True, thinking=True)
        job, bot, locale = self.job, interaction.client, self.locale
        try:
            params = edited_params(job.params, self.prompts.value, locale)
        except InputProblem as problem:
            raise Refused.listing([problem.text(locale)], locale) from None
        title = next((p for p in params.prompts if p), None) or t("title.remix", locale, job_id=job.id)
        intake = Intake(job.kind, params, job.resolution, job.duration_seconds, job.private, title=title,
                        spoiler=job.spoiler, notes=(t("remix.card", locale, parent_id=job.id),))
        await refuse_if_removed(bot, job, locale)  # (removed while the form was open: its pictures are dropped)
        # The member's rights and limits first: a refused Remix reads no stored picture.
        admission = await admit(bot, interaction, intake)
        inputs = await bot.store.get_inputs(job.id)
        if not inputs:
            raise Refused(t("remix.no_inputs", locale))
        await _start(interaction, intake, inputs, parent=job, verb="Remixing", admission=admission)

