"""/settings: a member's own defaults in this server (bot/member_settings.py), used wherever a request leaves
an option out; `show` lists them and what each kind of request makes of them, `reset` forgets them."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ViduBot
from bot.i18n import locale_of, t
from bot.member_settings import (
    BUILT_IN,
    IMG2VIDEO_RULES,
    MULTIFRAME_RULES,
    SETTING_DURATION_RANGE,
    SETTING_NAMES,
    MemberSettings,
    not_taken_by,
    shown_value,
)

Interaction = discord.Interaction[ViduBot]
LOW, HIGH = SETTING_DURATION_RANGE


def settings_lines(settings: MemberSettings, locale: str) -> list[str]:
    """One line per setting: the member's value (and the kinds of request that cannot take it), or not set."""
    lines = []
    for name in SETTING_NAMES:
        value = getattr(settings, name)
        label = t(f"settings.name_{name}", locale)
        if value is None:
            shown = t("settings.not_set", locale, value=shown_value(name, getattr(BUILT_IN, name), locale))
        else:
            caveats = [note for rules in (IMG2VIDEO_RULES, MULTIFRAME_RULES)
                       if (note := not_taken_by(rules, name, value, locale)) is not None]
            shown = " ".join([shown_value(name, value, locale), *caveats])
        lines.append(t("settings.line", locale, setting=label, value=shown))
    return lines


class Settings(commands.GroupCog, group_name="settings", group_description="Your own defaults in this server"):
    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="set", description="Change your defaults here (options you leave out stay as they are)")
    @app_commands.guild_only()
    @app_commands.describe(
        resolution="Video resolution when a request does not say",
        duration="Seconds when a request does not say (1-10; keyframes segments take 2-7)",
        movement="How much things move when a request does not say",
        private="Answer in a private thread when a request does not say",
        confirm="Ask before each paid request, showing its cost",
    )
    async def set(
        self,
        interaction: Interaction,
        resolution: Literal["540p", "720p", "1080p"] | None = None,
        duration: app_commands.Range[int, LOW, HIGH] | None = None,
        movement: Literal["auto", "small", "medium", "high"] | None = None,
        private: bool | None = None,
        confirm: bool | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        locale = locale_of(interaction)
        given = {"resolution": resolution, "duration": duration, "movement": movement, "private": private,
                 "confirm_cost": confirm}
        changes = {name: value for name, value in given.items() if value is not None}
        if not changes:
            await interaction.response.send_message(t("settings.none_given", locale), ephemeral=True)
            return
        store = self.bot.store
        now = await store.update_member_settings(interaction.guild_id, interaction.user.id, changes, now=store.now())
        text = "\n".join([t("settings.saved", locale), *settings_lines(now, locale), t("settings.where", locale)])
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="show", description="Your defaults here, and what each request makes of them")
    @app_commands.guild_only()
    async def show(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        locale = locale_of(interaction)
        mine = await self.bot.store.member_settings(interaction.guild_id, interaction.user.id)
        head = t("settings.show_none" if mine.is_empty() else "settings.show_head", locale)
        text = "\n".join([head, *settings_lines(mine, locale), t("settings.where", locale)])
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="reset", description="Forget all your defaults here")
    @app_commands.guild_only()
    async def reset(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        forgot = await self.bot.store.reset_member_settings(interaction.guild_id, interaction.user.id)
        locale = locale_of(interaction)
        await interaction.response.send_message(t("settings.reset" if forgot else "settings.reset_none", locale),
                                                ephemeral=True)


async def setup(bot: ViduBot) -> None:
    await bot.add_cog(Settings(bot))
