"""Who is a moderator, the check every moderator command carries, and the mod-log line."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.ui.fit import clip

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.moderators")
T = TypeVar("T")


class NotModerator(app_commands.CheckFailure):
    """A member who is not a moderator asked for something only moderators may do. The command tree's error
    handler answers it (bot/ui/replies.py answer_error: "This is for moderators (Manage Server).")."""


def is_moderator(interaction: discord.Interaction[Any]) -> bool:
    """The one rule: Manage Server in this server (the member's permissions as Discord sent them with this
    interaction). Checked when the command runs, not only by Discord's default permissions: a server can
    change those, and a member's roles can change after the command list was drawn."""
    return interaction.guild_id is not None and interaction.permissions.manage_guild


def require_moderator(interaction: discord.Interaction[Any]) -> None:
    """Inside a command whose moderator part depends on what was asked (/jobs all): raise NotModerator."""
    if not is_moderator(interaction):
        raise NotModerator()


def _moderator_check(interaction: discord.Interaction[Any]) -> bool:
    require_moderator(interaction)
    return True


def moderators_only() -> Callable[[T], T]:
    """The app_commands.check on every moderator command (a failed one raises NotModerator). Each command
    carries it: discord.py would silently ignore a check put on a Group or GroupCog class, so that is refused."""
    check: Callable[[T], T] = app_commands.check(_moderator_check)

    def decorate(command: T) -> T:
        if isinstance(command, type):
            raise TypeError(f"moderators_only() goes on each command of {command.__name__}, not on the class")
        return check(command)

    return decorate


async def mod_log(bot: ServiceBot, interaction: discord.Interaction[Any], what: str, before: str, after: str) -> None:
    """Who changed what, before → after, in the server's mod-log channel (when one is set)."""
    await mod_log_changes(bot, interaction, [(what, before, after)])


async def mod_log_changes(bot: ServiceBot, interaction: discord.Interaction[Any],
                          changes: Sequence[tuple[str, str, str]]) -> None:
    """One line for one command: each (what, before, after) it changed, in order; nothing when it changed
    nothing."""
    assert interaction.guild_id is not None
    if not changes:
        return
    said = "; ".join(f"**{what}**: {before} → {after}" for what, before, after in changes)
    await post_mod_log(bot, interaction.guild_id, f"🛠️ {interaction.user.mention} changed {said}")


async def modlog_channel(bot: ServiceBot, guild_id: int) -> discord.abc.Messageable | None:
    """The server's mod-log channel, or None (none set, gone, or not in this server: never another server's)."""
    settings = await bot.store.guild_settings(guild_id)
    if settings.modlog_channel_id is None:
        return None
    try:
        channel = bot.get_channel(settings.modlog_channel_id) or await bot.fetch_channel(settings.modlog_channel_id)
    except discord.HTTPException:
        log.warning("guild %s: the mod-log channel %s cannot be read", guild_id, settings.modlog_channel_id)
        return None
    if not isinstance(channel, discord.abc.Messageable) or getattr(channel, "guild", None) is None \
            or channel.guild.id != guild_id:
        return None
    return channel


async def post_mod_log(bot: ServiceBot, guild_id: int, text: str,
                       view: discord.ui.View | None = None) -> discord.Message | None:
    """One message in the server's mod-log channel (when one is set), mentioning nobody; None when there is
    none or Discord refused it (logged: a mod-log that cannot be written never fails what was done)."""
    channel = await modlog_channel(bot, guild_id)
    if channel is None:
        return None
    try:
        if view is None:
            return await channel.send(clip(text), allowed_mentions=discord.AllowedMentions.none())
        return await channel.send(clip(text), allowed_mentions=discord.AllowedMentions.none(), view=view)
    except discord.HTTPException:
        log.warning("guild %s: could not write to the mod-log channel", guild_id)
        return None
