"""Confirm the cost first (a member's /settings): a checked request waits in a private "this costs about X:
Go / Cancel" before anything is stored or reserved. Go admits it again (time has passed) and starts it as
any request; Cancel and the time-out leave nothing behind. Like the storyboard preview, the checked pictures
live only in this view, in memory (bot/ui/pending.py): a restart drops open questions, which nobody has paid for."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.admission import Admission
from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.i18n.formats import money
from bot.jobs.models import Job
from bot.pricing import price_table
from bot.safety import Screening
from bot.ui.fit import clip
from bot.ui.intake import CheckedImage, Intake, start_job
from bot.ui.pending import PendingRequest

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.ui.confirm")
CONFIRM_TIMEOUT_SECONDS = 10 * 60  # inside the 15-minute interaction token that edits the question
GO_ID, CANCEL_ID = "vidu:confirm:go", "vidu:confirm:cancel"
MAX_OPEN_PER_MEMBER = 2  # open questions hold their checked pictures in memory
Answer = Callable[[Job], str]  # the private answer once the job is stored, in the member's language


async def start_or_confirm(bot: ServiceBot, interaction: discord.Interaction[Any], intake: Intake,
                           images: Sequence[CheckedImage], *, screening: Screening, admission: Admission | None,
                           answer: Answer, confirm: bool, parent_job_id: str | None = None) -> None:
    """Start the checked request now, or (`confirm`: the member's /settings) ask first. The interaction is
    acknowledged already; the answer is its private followup."""
    if not confirm:
        job = await start_job(bot, interaction, intake, images, screening=screening, parent_job_id=parent_job_id,
                              admission=admission)
        await interaction.followup.send(answer(job), ephemeral=True)
        return
    question = ConfirmCost(bot, interaction.user.id, intake, images, screening, answer=answer,
                           parent_job_id=parent_job_id, locale=locale_of(interaction))
    await question.send(interaction)


def question_text(intake: Intake, *, expires_at: float, locale: str = DEFAULT_LOCALE) -> str:
    cost = money(price_table().credits(intake.kind.value, intake.resolution, intake.duration_seconds), locale)
    lines = [t("confirm.ask", locale, cost=cost, seconds=intake.duration_seconds, resolution=intake.resolution),
             *intake.notes, t("confirm.press", locale, when=f"<t:{int(expires_at)}:R>")]
    return clip("\n".join(lines))


class ConfirmCost(PendingRequest):
    """Go / Cancel under the question; only its member sees it (a private message)."""

    what = "the cost confirmation"
    max_open_per_member = MAX_OPEN_PER_MEMBER

    def __init__(self, bot: ServiceBot, owner_id: int, intake: Intake, images: Sequence[CheckedImage],
                 screening: Screening, *, answer: Answer, parent_job_id: str | None,
                 timeout: float = CONFIRM_TIMEOUT_SECONDS, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(owner_id, images, timeout=timeout, locale=locale)
        self.bot = bot
        self.intake = intake
        self.screening = screening
        self.answer = answer
        self.parent_job_id = parent_job_id
        self.go.label = t("confirm.go", locale)
        self.cancel.label = t("button.cancel", locale)

    def expired_text(self) -> str:
        return t("confirm.expired", self.locale)

    def replaced_text(self) -> str:
        return t("confirm.replaced", self.locale, limit=MAX_OPEN_PER_MEMBER)

    async def send(self, interaction: discord.Interaction[Any]) -> None:
        self.message = await interaction.followup.send(
            question_text(self.intake, expires_at=self.expires_at, locale=self.locale), view=self, ephemeral=True,
            wait=True)
        await self.keep_open()

    @discord.ui.button(label="Go", style=discord.ButtonStyle.success, custom_id=GO_ID)
    async def go(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        if self._busy.locked() or self.is_finished():
            await interaction.response.send_message(t("confirm.already_starting", self.locale), ephemeral=True)
            return
        async with self._busy:
            await interaction.response.defer()
            # Admitted again (admission=None): quotas, cooldowns and blocks as they are now. A Refused is
            # answered by on_error and the question stays open.
            job = await start_job(self.bot, interaction, self.intake, self.images, screening=self.screening,
                                  parent_job_id=self.parent_job_id)
            self.finish()
            await interaction.edit_original_response(content=self.answer(job), view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=CANCEL_ID)
    async def cancel(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        if self._busy.locked():
            await interaction.response.send_message(t("confirm.already_starting", self.locale), ephemeral=True)
            return
        self.finish()
        log.info("user %s cancelled a request at its cost confirmation", self.owner_id)
        await interaction.response.edit_message(content=t("confirm.cancelled", self.locale), view=None)
