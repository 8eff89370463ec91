"""Answering a member privately whatever state their interaction is in, and reporting unexpected errors."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import discord

from bot.i18n import locale_of, t

log = logging.getLogger("bot.ui")


async def reply_privately(interaction: discord.Interaction[Any], text: str) -> bool:
    """A private message to the member: the first answer, or a follow-up if the interaction was answered.
    False when Discord refused it (the interaction expired): nothing more can reach them."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not answer user %s privately", interaction.user.id)
        return False
    return True


async def tell_error(interaction: discord.Interaction[Any], error: BaseException, what: str,
                     locale: str | None = None) -> None:
    """An unexpected failure: logged with a short id and the traceback; the member gets the id (to quote to
    a moderator), never the details. Nothing was charged: callers fail before a job is stored."""
    error_id = secrets.token_hex(4)
    log.error("error %s in %s (guild %s, user %s)", error_id, what, interaction.guild_id, interaction.user.id,
              exc_info=error)
    await reply_privately(interaction, t("error.internal", locale or locale_of(interaction), error_id=error_id))
