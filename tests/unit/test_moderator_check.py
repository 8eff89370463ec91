"""Every moderator command carries the moderator check (bot/ui/moderators.py), and only those do: read from
the command objects discord.py builds from the cogs, so a new command without it fails here."""

from __future__ import annotations

import pytest
from discord import app_commands
from discord.ext import commands

from bot.ui.moderators import _moderator_check, moderators_only
from cogs.generate import Generate
from cogs.help import Help
from cogs.jobs import Jobs
from cogs.moderation import Config, Mod
from cogs.quota import Quota
from cogs.storyboard import Storyboard

FOR_MEMBERS = {"quota me", "animate", "keyframes", "storyboard", "jobs", "help"}


def commands_of(*cogs: type) -> dict[str, app_commands.Command]:
    """By the name a member types ("mod blocklist add"): on the class, a GroupCog's commands have no parent yet."""
    found = {}
    for cog in cogs:
        group = f"{cog.__cog_group_name__} " if issubclass(cog, commands.GroupCog) else ""
        for item in cog.__cog_app_commands__:
            for command in item.walk_commands() if isinstance(item, app_commands.Group) else [item]:
                found[group + command.qualified_name] = command
    return found


def test_moderator_commands_and_only_they_carry_the_check() -> None:
    everything = commands_of(Config, Mod, Quota, Jobs, Generate, Storyboard, Help)
    checked = {name for name, command in everything.items() if _moderator_check in command.checks}
    assert checked == set(everything) - FOR_MEMBERS
    assert len(checked) == 20  # with /config strikes and /config safety (issue 25)


def test_the_check_cannot_be_put_on_a_class_where_discord_py_would_ignore_it() -> None:
    with pytest.raises(TypeError, match="on each command"):
        moderators_only()(Config)
