"""Answering a member privately whatever state their interaction is in: refusals, check failures and
unexpected errors, from every entry point (the command tree, our views and forms, persistent buttons)."""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.jobs.outage import is_database_outage
from bot.ui.fit import clip
from bot.ui.moderators import NotModerator
from bot.ui.status import job_headline

log = logging.getLogger("bot.ui")
# Interaction.extras key: the id of the job this interaction created (set by start_job once it is stored).
JOB_STARTED = "vidu_job_started"
UNKNOWN_INTERACTION = 10062

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[None]])


class Refused(Exception):
    """The request cannot be taken; the message (one or several lines, in the member's language) goes to the
    member privately. Raise it from anywhere in a command, form or button: answer_error answers it.
    `problems`: the separate problems it lists, when it lists several (forms merge them with their own)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]

    @classmethod
    def listing(cls, problems: Sequence[str], locale: str = DEFAULT_LOCALE) -> Refused:
        return cls(problem_message(problems, locale), problems)


def problem_message(problems: Sequence[str], locale: str = DEFAULT_LOCALE) -> str:
    head = t("problems.one", locale) if len(problems) <= 1 else t("problems.many", locale, count=len(problems))
    return "\n".join([head, *(f"• {p}" for p in problems)])


async def reply_privately(interaction: discord.Interaction[Any], text: str) -> bool:
    """A private message to the member: the first answer, or a follow-up if the interaction was answered.
    False when Discord refused it (the interaction expired): nothing more can reach them. A long list of
    problems (ten files, each named) is cut to one message."""
    text = clip(text)
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


async def answer_error(interaction: discord.Interaction[Any], error: BaseException, what: str) -> None:
    """The one answer to whatever a command, a form or a button raised (the command tree's error handler, the
    views' and forms' base in bot/ui/base.py and `answers_errors` all end here): a refusal or a failed check
    is told to the member privately, in their language, whether or not the interaction was answered yet; an
    interaction that expired before it was acknowledged is only logged; anything else is tell_error's."""
    error = getattr(error, "original", error)  # app_commands wraps what a command raised (CommandInvokeError)
    locale = locale_of(interaction)
    match error:
        case Refused():
            await reply_privately(interaction, str(error))
        case discord.NotFound() if error.code == UNKNOWN_INTERACTION:
            # Acknowledged too late (a gateway hiccup): nobody is waiting for an answer any more.
            log.warning("interaction %s expired before it was acknowledged", interaction.id)
        case app_commands.NoPrivateMessage():
            await reply_privately(interaction, t("error.dm_only", locale))
        case NotModerator():
            await reply_privately(interaction, t("error.moderators_only", locale))
        case app_commands.CheckFailure():
            await reply_privately(interaction, t("error.not_allowed", locale))
        case _:
            await tell_error(interaction, error, what, locale)


def outcome_of(error: BaseException) -> str:
    """How a command ended, for the `vidu_commands` counter: the same cases answer_error tells apart."""
    error = getattr(error, "original", error)
    match error:
        case Refused() | app_commands.NoPrivateMessage() | NotModerator() | app_commands.CheckFailure():
            return "refused"
        case discord.NotFound() if error.code == UNKNOWN_INTERACTION:
            return "expired"
        case _:
            return "error"


def answers_errors(what: str) -> Callable[[Handler], Handler]:
    """For a persistent button's callback (discord.DynamicItem): discord.py only logs what it raises, and the
    member reads "This interaction failed". With this, answer_error answers it, as for any other entry point."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def answered(self: Any, interaction: discord.Interaction[Any]) -> None:
            try:
                await handler(self, interaction)
            except Exception as error:
                await answer_error(interaction, error, what)

        return answered  # type: ignore[return-value]

    return decorate
