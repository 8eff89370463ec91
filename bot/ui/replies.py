"""Answering a member privately whatever state their interaction is in, and reporting unexpected errors."""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import discord

from bot.i18n import locale_of, t
from bot.jobs.outage import is_database_outage
from bot.ui.status import job_headline

log = logging.getLogger("bot.ui")
# Interaction.extras key: the id of the job this interaction created (set by start_job once it is stored).
JOB_STARTED = "vidu_job_started"

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[None]])


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
    a moderator), never the details. "Nothing was charged" only when this interaction stored no job; once
    one exists, the member reads its id and real state instead (it goes ahead, and counts)."""
    error_id = secrets.token_hex(4)
    locale = locale or locale_of(interaction)
    job_id = interaction.extras.get(JOB_STARTED)
    if is_database_outage(error):
        # Not a bug: no traceback. Every store call is one transaction, so a failed one wrote nothing.
        log.warning("error %s in %s (guild %s, user %s): %s", error_id, what, interaction.guild_id,
                    interaction.user.id, error)
        if job_id is None:
            await reply_privately(interaction, t("error.database_away", locale, error_id=error_id))
            return
    else:
        log.error("error %s in %s (guild %s, user %s)", error_id, what, interaction.guild_id, interaction.user.id,
                  exc_info=error)
    if job_id is None:
        await reply_privately(interaction, t("error.internal", locale, error_id=error_id))
        return
    job = None
    try:
        job = await interaction.client.store.get_job(job_id)
    except Exception:  # the database is away too: say what is certain (it was stored)
        log.warning("error %s: could not read job %s back", error_id, job_id)
    state = job_headline(job, locale) if job else t("status.accepted", locale)
    await reply_privately(interaction, t("error.after_job", locale, error_id=error_id, job_id=job_id,
                                         state=state))


def answers_errors(what: str) -> Callable[[Handler], Handler]:
    """For a button's callback or a form's submit: discord.py only logs what a persistent button raises, and
    the member reads "This interaction failed". With this, they get tell_error's answer instead."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def answered(self: Any, interaction: discord.Interaction[Any]) -> None:
            try:
                await handler(self, interaction)
            except Exception as error:
                await tell_error(interaction, error, what)

        return answered  # type: ignore[return-value]

    return decorate
