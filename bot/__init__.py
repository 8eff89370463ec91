"""vidu-bot: a Discord bot that turns pictures into videos with VIDU Q2 Pro."""

__version__ = "0.1.0"
