"""What every moderator command shares: the permission check at run time and the mod-log line."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.i18n import locale_of, t

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.moderators")


async def require_moderator(interaction: discord.Interaction[Any]) -> bool:
    """Checked again when the command runs: Discord's default permissions can be changed by the server,
    and a member's roles can change after the command list was drawn."""
    if interaction.guild_id is not None and interaction.permissions.manage_guild:
        return True
    await interaction.response.send_message(t("error.moderators_only", locale_of(interaction)), ephemeral=True)
    return False


async def mod_log(bot: ServiceBot, interaction: discord.Interaction[Any], what: str, before: str, after: str) -> None:
    """Who changed what, before → after, in the server's mod-log channel (when one is set)."""
    assert interaction.guild_id is not None
    settings = await bot.store.guild_settings(interaction.guild_id)
    if settings.modlog_channel_id is None:
        return
    try:
        channel = bot.get_channel(settings.modlog_channel_id) or await bot.fetch_channel(settings.modlog_channel_id)
        if not isinstance(channel, discord.abc.Messageable) or getattr(channel, "guild", None) is None \
                or channel.guild.id != interaction.guild_id:
            return  # never write into another server's channel
        await channel.send(f"🛠️ {interaction.user.mention} changed **{what}**: {before} → {after}",
                           allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException:
        log.warning("guild %s: could not write to the mod-log channel %s", interaction.guild_id,
                    settings.modlog_channel_id)
