"""Slash-command choices are written as Literal types (discord.py turns them into Discord's choices); the
provider's ranges are defined once in bot/provider/models.py. This keeps the two equal."""

from __future__ import annotations

from discord import app_commands

from bot.pricing import RESOLUTIONS
from bot.provider.models import FAST_RESOLUTIONS, MOVEMENT_AMPLITUDES, MULTIFRAME_RESOLUTIONS
from cogs.generate import Generate
from cogs.moderation import Config


def choices(command: app_commands.Command, name: str) -> tuple[str, ...]:  # type: ignore[type-arg]
    (parameter,) = [p for p in command.parameters if p.name == name]
    return tuple(str(c.value) for c in parameter.choices)


def test_the_commands_offer_exactly_what_the_provider_takes() -> None:
    assert choices(Generate.animate, "resolution") == FAST_RESOLUTIONS
    assert choices(Generate.animate, "movement") == MOVEMENT_AMPLITUDES
    assert choices(Generate.keyframes, "resolution") == MULTIFRAME_RESOLUTIONS
    assert choices(Config.weight, "resolution") == RESOLUTIONS == MULTIFRAME_RESOLUTIONS  # every resolution priced
