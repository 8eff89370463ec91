"""The Apps-menu entries on the bot's posts: "Remove post" (its requester or a moderator; bot/ui/takedown.py)
and "Report video" (any member; bot/ui/reports.py). Either works on any message of a job: its request card,
its status card or its video."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ViduBot
from bot.ui.reports import open_report
from bot.ui.takedown import job_of_message, open_takedown

Interaction = discord.Interaction[ViduBot]


class PostMenus(commands.Cog):
    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot
        # Context menus cannot be decorated inside a cog class: built here and added to the tree.
        self.menus = [app_commands.guild_only(app_commands.ContextMenu(name="Remove post", callback=self.remove)),
                      app_commands.guild_only(app_commands.ContextMenu(name="Report video", callback=self.report))]
        for menu in self.menus:
            bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)

    async def remove(self, interaction: Interaction, message: discord.Message) -> None:
        await open_takedown(interaction, await job_of_message(self.bot, interaction, message))

    async def report(self, interaction: Interaction, message: discord.Message) -> None:
        await open_report(interaction, await job_of_message(self.bot, interaction, message), message.id)


async def setup(bot: ViduBot) -> None:
    await bot.add_cog(PostMenus(bot))
