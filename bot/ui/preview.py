"""The private preview of a /storyboard request: the storyboard picture, the settings, the estimated cost,
and Start / Cancel. Nothing is stored or sent before Start: the checked images live only in this view,
in memory, for its lifetime (a restart simply drops open previews, which nobody has paid for)."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.i18n import DEFAULT_LOCALE, t
from bot.jobs.models import JobKind
from bot.media.storyboard import panels_for
from bot.pricing import estimate_usd, format_usd
from bot.ui.intake import CheckedImage, Intake, Refused, draw_storyboard, start_job
from bot.ui.replies import tell_error

if TYPE_CHECKING:
    from bot.app import ViduBot

log = logging.getLogger("bot.ui.preview")
PREVIEW_TIMEOUT_SECONDS = 10 * 60  # well inside the 15-minute interaction token that edits the preview
PROMPT_PREVIEW_CHARS = 150  # nine long prompts must still fit one 2000-character message
START_ID, CANCEL_ID = "vidu:preview:start", "vidu:preview:cancel"


def preview_text(intake: Intake, *, expires_at: float, locale: str = DEFAULT_LOCALE) -> str:
    p = intake.params
    lines = [t("preview.head", locale)]
    for n, (prompt, duration) in enumerate(zip(p["prompts"], p["durations"], strict=True), start=1):
        shown = discord.utils.escape_markdown(_shorten(prompt) if prompt else t("card.no_prompt", locale))
        lines.append(f"{n}. {t('card.seconds', locale, seconds=duration)} — {shown}")
    cost = format_usd(estimate_usd(intake.kind.value, intake.resolution, intake.duration_seconds))
    where = t("preview.private_thread", locale) if intake.private else ""
    lines.append(t("preview.summary", locale, frames=len(p["durations"]) + 1, seconds=intake.duration_seconds,
                   resolution=intake.resolution, where=where, cost=cost))
    lines.append(t("preview.press", locale, when=f"<t:{int(expires_at)}:R>"))
    return "\n".join(lines)


def _shorten(text: str) -> str:
    return text if len(text) <= PROMPT_PREVIEW_CHARS else text[: PROMPT_PREVIEW_CHARS - 1] + "…"


async def render_preview_picture(intake: Intake, images: Sequence[CheckedImage]) -> bytes:
    """The same storyboard picture the request card will show, drawn where the card's is."""
    assert intake.kind is JobKind.MULTIFRAME
    panels = panels_for([i.data for i in images], intake.params["prompts"], intake.params["durations"])
    return await draw_storyboard(panels)


class StoryboardPreview(discord.ui.View):
    """Start / Cancel under a preview; only the member who asked may press them."""

    def __init__(self, bot: ViduBot, owner_id: int, intake: Intake, images: Sequence[CheckedImage],
                 *, timeout: float = PREVIEW_TIMEOUT_SECONDS, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(timeout=timeout)
        self.locale = locale
        self.start.label = t("button.start", locale)
        self.cancel.label = t("button.cancel", locale)
        self.bot = bot
        self.owner_id = owner_id
        self.intake = intake
        self.images: list[CheckedImage] = list(images)
        self.expires_at = time.time() + timeout
        self.message: discord.WebhookMessage | None = None  # set once the preview is posted
        self._busy = asyncio.Lock()  # a double press must not start two jobs

    async def send(self, interaction: discord.Interaction[Any]) -> discord.WebhookMessage:
        """Post the preview as the private answer to an acknowledged interaction."""
        picture = await render_preview_picture(self.intake, self.images)
        self.message = await interaction.followup.send(
            preview_text(self.intake, expires_at=self.expires_at, locale=self.locale),
            file=discord.File(io.BytesIO(picture), filename="storyboard.png"),
            view=self, ephemeral=True, wait=True,
        )
        return self.message

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(t("preview.not_owner", self.locale), ephemeral=True)
        return False

    @discord.ui.button(label="Start", style=discord.ButtonStyle.success, emoji="🎬", custom_id=START_ID)
    async def start(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        if self._busy.locked() or self.is_finished():
            await interaction.response.send_message(t("preview.already_starting", self.locale), ephemeral=True)
            return
        async with self._busy:
            await interaction.response.defer()  # thread, card and job take longer than Discord's 3 s allow
            try:
                job = await start_job(self.bot, interaction, self.intake, self.images)
            except Refused as refusal:
                # e.g. the member's queue is full: keep the preview so they can press Start again later
                await interaction.followup.send(str(refusal), ephemeral=True)
                return
            self._finish()
            await interaction.edit_original_response(
                content=t("preview.started", self.locale, job_id=job.id, thread_id=job.thread_id),
                attachments=[], view=None,
            )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=CANCEL_ID)
    async def cancel(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        if self._busy.locked():
            await interaction.response.send_message(t("preview.already_starting", self.locale), ephemeral=True)
            return
        self._finish()
        await interaction.response.edit_message(
            content=t("preview.cancelled", self.locale), attachments=[], view=None
        )

    async def on_timeout(self) -> None:
        self.images = []
        if self.message is None:
            return
        try:
            await self.message.edit(
                content=t("preview.expired", self.locale),
                attachments=[], view=None,
            )
        except discord.HTTPException:
            log.warning("could not mark an expired storyboard preview for user %s", self.owner_id)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception,
                       item: discord.ui.Item[Any], /) -> None:
        await tell_error(interaction, error, "the storyboard preview", self.locale)

    def _finish(self) -> None:
        self.images = []  # free the pictures now rather than at the timeout
        self.stop()
