"""The bot as the UI sees it: a discord.py bot that carries the services the cards and buttons use.

bot/app.py's ViduBot subclasses this and fills the attributes in at start-up. The UI types its interactions
against this class, so it never imports bot.app (which imports the UI to register its buttons and the job
loop's listener): the package graph stays without cycles (tests/unit/test_layers.py).
"""

from __future__ import annotations

from discord.ext import commands

from bot.config import Settings
from bot.jobs.store import JobStore
from bot.jobs.worker import JobWorker
from bot.provider import ViduClient
from bot.ui.automod import AutoModRules


class ServiceBot(commands.AutoShardedBot):
    settings: Settings
    store: JobStore
    provider: ViduClient
    worker: JobWorker
    automod: AutoModRules  # the servers' AutoMod keyword rules, kept current (bot/ui/automod.py)
