"""Buttons and forms that outlived their session: a storyboard preview's Start, an Apps → Animate form
left open while the bot restarted. Their state lived in memory, so nothing handles them any more, and
Discord would only show "This interaction failed". Never silent: if nothing has answered such an
interaction shortly before Discord's 3-second limit, say what happened."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord

from bot.i18n import locale_of, t

log = logging.getLogger("bot.ui.stale")

# Every live handler answers (or defers) within milliseconds; 3 s is Discord's limit for the first answer.
UNANSWERED_AFTER_SECONDS = 2.0
OURS = "vidu:"


async def answer_if_nobody_does(interaction: discord.Interaction[Any]) -> None:
    """The `on_interaction` listener: for our components and forms only (commands always have a handler)."""
    if interaction.type not in (discord.InteractionType.component, discord.InteractionType.modal_submit):
        return
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = str(data.get("custom_id", ""))
    if not custom_id.startswith(OURS):
        return
    await asyncio.sleep(UNANSWERED_AFTER_SECONDS)
    if interaction.response.is_done():
        return
    log.info("no handler for %s from user %s (its session ended); told the member", custom_id, interaction.user.id)
    with contextlib.suppress(discord.HTTPException):  # answered meanwhile after all, or already too late
        await interaction.response.send_message(t("error.stale", locale_of(interaction)), ephemeral=True)
