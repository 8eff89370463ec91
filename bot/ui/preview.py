"""The private preview of a /storyboard request: the storyboard picture, the settings, the estimated cost,
and Start / Cancel. Nothing is stored or sent before Start: the checked images live only in this view,
in memory, for its lifetime (a restart simply drops open previews, which nobody has paid for)."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.i18n import DEFAULT_LOCALE, t
from bot.media.pool import WorkerLost, image_pool
from bot.media.storyboard import Panel, panels_for, render_storyboard
from bot.params import Img2VideoParams, StartEndParams
from bot.safety import Screening
from bot.ui.fit import clip
from bot.ui.intake import CARD_PROMPT_BUDGET, CheckedImage, Intake, cost_text, fitted_text, start_job
from bot.ui.pending import PendingRequest
from bot.ui.text import prompt_lines

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.ui.preview")
PREVIEW_TIMEOUT_SECONDS = 10 * 60  # well inside the 15-minute interaction token that edits the preview
START_ID, CANCEL_ID = "vidu:preview:start", "vidu:preview:cancel"
# Open previews hold their checked pictures in memory (up to ten each): a member keeps this many at most.
# Opening one more closes their oldest, which they have most likely left anyway, rather than refusing.
MAX_OPEN_PREVIEWS_PER_MEMBER = 2


def preview_text(intake: Intake, *, expires_at: float, locale: str = DEFAULT_LOCALE) -> str:
    p = intake.params
    assert not isinstance(p, Img2VideoParams)  # a storyboard is a multiframe or a start-end request
    # The prompts as the request card will show them: nine long ones, escaped, still fit one message.
    lines = [t("preview.head", locale),
             *([t("card.startend", locale)] if isinstance(p, StartEndParams) else []),
             *prompt_lines(p.prompts, p.durations, budget=CARD_PROMPT_BUDGET, locale=locale)]
    if intake.fitted is not None:
        lines.append(fitted_text(intake.fitted, locale))
    cost = cost_text(intake, locale)
    where = t("preview.private_thread", locale) if intake.private else ""
    lines.append(t("preview.summary", locale, frames=len(p.durations) + 1, seconds=intake.duration_seconds,
                   resolution=intake.resolution, where=where, cost=cost))
    lines += intake.notes  # which values are the member's /settings
    lines.append(t("preview.press", locale, when=f"<t:{int(expires_at)}:R>"))
    return clip("\n".join(lines))


async def draw_storyboard(panels: Sequence[Panel]) -> bytes:
    """A storyboard picture (the /storyboard preview's), drawn in an image worker: FreeType and Pillow
    hold the GIL, and the fonts they load (~10 MB of the bot's RSS, measured in the soak) stay out of the bot."""
    try:
        return await image_pool().run(render_storyboard, panels)
    except WorkerLost:  # a picture of our own re-encoded images, not the member's request: draw it here
        return await asyncio.to_thread(render_storyboard, panels)


async def render_preview_picture(intake: Intake, images: Sequence[CheckedImage], locale: str = DEFAULT_LOCALE) -> bytes:
    """The storyboard picture: each keyframe with its segment's seconds and prompt, drawn in an image worker."""
    p = intake.params
    assert not isinstance(p, Img2VideoParams)
    panels = panels_for([i.data for i in images], list(p.prompts), list(p.durations), **panel_words(locale))
    return await draw_storyboard(panels)


def panel_words(locale: str) -> dict[str, Any]:
    """The titles of a storyboard picture's panels in `locale` (panels_for's `start` and `segment`)."""
    return {"start": t("picture.start", locale),
            "segment": lambda n, seconds: t("picture.segment", locale, n=n, seconds=seconds)}


class StoryboardPreview(PendingRequest):
    """Start / Cancel under a preview; only the member who asked may press them."""

    what = "the storyboard preview"
    max_open_per_member = MAX_OPEN_PREVIEWS_PER_MEMBER

    def __init__(self, bot: ServiceBot, owner_id: int, intake: Intake, images: Sequence[CheckedImage],
                 screening: Screening, *, timeout: float = PREVIEW_TIMEOUT_SECONDS,
                 locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(owner_id, images, timeout=timeout, locale=locale)
        self.start.label = t("button.start", locale)
        self.cancel.label = t("button.cancel", locale)
        self.bot = bot
        self.intake = intake
        self.screening = screening  # how the pictures were checked: the card shows only screened ones

    def expired_text(self) -> str:
        return t("preview.expired", self.locale)

    def replaced_text(self) -> str:
        return t("preview.replaced", self.locale, limit=MAX_OPEN_PREVIEWS_PER_MEMBER)

    async def send(self, interaction: discord.Interaction[Any]) -> discord.WebhookMessage:
        """Post the preview as the private answer to an acknowledged interaction; the member's oldest open
        preview is closed if this one is over MAX_OPEN_PREVIEWS_PER_MEMBER."""
        picture = await render_preview_picture(self.intake, self.images, self.locale)
        self.message = await interaction.followup.send(
            preview_text(self.intake, expires_at=self.expires_at, locale=self.locale),
            file=discord.File(io.BytesIO(picture), filename="storyboard.png"),
            view=self, ephemeral=True, wait=True,
        )
        await self.keep_open()
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
            # Refused (e.g. the member's queue is full): on_error tells them why, and the preview stays open
            # (only a started job finishes it) so they can press Start again later.
            job = await start_job(self.bot, interaction, self.intake, self.images, screening=self.screening)
            self.finish()
            await interaction.edit_original_response(
                content=t("preview.started", self.locale, job_id=job.id, thread_id=job.thread_id),
                attachments=[], view=None,
            )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=CANCEL_ID)
    async def cancel(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        if self._busy.locked():
            await interaction.response.send_message(t("preview.already_starting", self.locale), ephemeral=True)
            return
        self.finish()
        await interaction.response.edit_message(
            content=t("preview.cancelled", self.locale), attachments=[], view=None
        )


def open_previews(owner_id: int) -> int:
    """How many previews a member has open in this process."""
    return StoryboardPreview.open_for(owner_id)
