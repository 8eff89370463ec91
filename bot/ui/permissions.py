"""Can the bot answer where a member asked? Checked from the permissions Discord sends with every
interaction (`app_permissions`: the bot's own, in that channel, overwrites included), so a request in a
channel the bot cannot work in is refused at once, with the missing permissions named, before anything
is used."""

from __future__ import annotations

from typing import Any

import discord

from bot.discord_app import IN_THREAD, OPEN_PRIVATE, OPEN_PUBLIC
from bot.i18n import t
from bot.i18n.formats import join


def opens_private_thread_beside(thread: discord.Thread, *, private: bool) -> bool:
    """A private request made in a thread others can read gets a private thread of its own in the parent."""
    return private and thread.type is not discord.ChannelType.private_thread


def missing_permissions(interaction: discord.Interaction[Any], *, private: bool) -> list[str]:
    """The permission names (discord.Permissions attributes) the bot lacks to answer this request here."""
    channel = interaction.channel
    needed: tuple[str, ...]
    if isinstance(channel, discord.Thread):
        # (A thread's permissions are its parent's, where a private request's own thread is opened.)
        needed = IN_THREAD + (OPEN_PRIVATE if opens_private_thread_beside(channel, private=private) else ())
    elif isinstance(channel, discord.TextChannel):
        needed = IN_THREAD + (OPEN_PRIVATE if private else OPEN_PUBLIC)
    else:
        return []  # not a channel the bot works in at all: the thread opener says so
    have = interaction.app_permissions
    return [name for name in needed if not getattr(have, name)]


def missing_permissions_text(missing: list[str], locale: str) -> str:
    names = [t(f"permission.{name}", locale) for name in missing]
    return t("refuse.missing_permissions", locale, permissions=join(names, locale))
