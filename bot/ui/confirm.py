"""Confirm the cost first (a member's /settings): a checked request waits in a private "this costs about X:
Go / Cancel" before anything is stored or reserved. Go admits it again (time has passed) and starts it as
any request; Cancel and the time-out leave nothing behind. Like the storyboard preview, the checked pictures
live only in this view, in memory: a restart drops open questions, which nobody has paid for."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.admission import Admission
from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.jobs.models import Job
from bot.pricing import estimate_usd, format_dollars
from bot.safety import Screening
from bot.ui.base import ViduView
from bot.ui.fit import clip
from bot.ui.intake import CheckedImage, Intake, start_job

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.ui.confirm")
CONFIRM_TIMEOUT_SECONDS = 10 * 60  # inside the 15-minute interaction token that edits the question
GO_ID, CANCEL_ID = "vidu:confirm:go", "vidu:confirm:cancel"
# Open questions hold their checked pictures in memory: a member keeps this many at most; one more closes
# their oldest (most likely left behind) rather than refusing the new one.
MAX_OPEN_PER_MEMBER = 2
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
    cost = format_dollars(estimate_usd(intake.kind.value, intake.resolution, intake.duration_seconds))
    lines = [t("confirm.ask", locale, cost=cost, seconds=intake.duration_seconds, resolution=intake.resolution),
             *intake.notes, t("confirm.press", locale, when=f"<t:{int(expires_at)}:R>")]
    return clip("\n".join(lines))


class ConfirmCost(ViduView):
    """Go / Cancel under the question; only its member sees it (a private message)."""

    what = "the cost confirmation"

    def __init__(self, bot: ServiceBot, owner_id: int, intake: Intake, images: Sequence[CheckedImage],
                 screening: Screening, *, answer: Answer, parent_job_id: str | None,
                 timeout: float = CONFIRM_TIMEOUT_SECONDS, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(timeout=timeout)
        self.bot = bot
        self.owner_id = owner_id
        self.intake = intake
        self.images: list[CheckedImage] = list(images)
        self.screening = screening
        self.answer = answer
        self.parent_job_id = parent_job_id
        self.locale = locale
        self.go.label = t("confirm.go", locale)
        self.cancel.label = t("button.cancel", locale)
        self.expires_at = time.time() + timeout
        self.message: discord.WebhookMessage | None = None
        self._busy = asyncio.Lock()  # a double press must not start two jobs

    async def send(self, interaction: discord.Interaction[Any]) -> None:
        self.message = await interaction.followup.send(
            question_text(self.intake, expires_at=self.expires_at, locale=self.locale), view=self, ephemeral=True,
            wait=True)
        mine = _OPEN.setdefault(self.owner_id, [])
        mine.append(self)
        while len(mine) > MAX_OPEN_PER_MEMBER:
            oldest = next((q for q in mine if not q._busy.locked()), None)
            if oldest is None:  # every other one is starting its job right now
                break
            oldest._finish()
            await oldest._close_with(t("confirm.replaced", oldest.locale, limit=MAX_OPEN_PER_MEMBER))

    @discord.ui.button(label="Go", style=discord.ButtonStyle.success, custom_id=GO_ID)
    async def go(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        if self._busy.locked() or self.is_finished():
            await interaction.response.send_message(t("preview.already_starting", self.locale), ephemeral=True)
            return
        async with self._busy:
            await interaction.response.defer()
            # Admitted again (admission=None): quotas, cooldowns and blocks as they are now. A Refused is
            # answered by on_error and the question stays open.
            job = await start_job(self.bot, interaction, self.intake, self.images, screening=self.screening,
                                  parent_job_id=self.parent_job_id)
            self._finish()
            await interaction.edit_original_response(content=self.answer(job), view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=CANCEL_ID)
    async def cancel(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        if self._busy.locked():
            await interaction.response.send_message(t("preview.already_starting", self.locale), ephemeral=True)
            return
        self._finish()
        log.info("user %s cancelled a request at its cost confirmation", self.owner_id)
        await interaction.response.edit_message(content=t("confirm.cancelled", self.locale), view=None)

    async def on_timeout(self) -> None:
        self._forget()
        await self._close_with(t("confirm.expired", self.locale))

    async def _close_with(self, text: str) -> None:
        if self.message is None:
            return
        try:
            await self.message.edit(content=text, view=None)
        except discord.HTTPException:
            log.warning("could not close a cost confirmation for user %s", self.owner_id)

    def _finish(self) -> None:
        self._forget()
        self.stop()

    def _forget(self) -> None:
        self.images = []  # free the pictures now rather than at the timeout
        mine = _OPEN.get(self.owner_id, [])
        if self in mine:
            mine.remove(self)
        if not mine:
            _OPEN.pop(self.owner_id, None)


# Open questions by member, oldest first; per process (a question lives in the process that asked it).
_OPEN: dict[int, list[ConfirmCost]] = {}
