"""The Discord bot: start-up wiring, the command tree's one error handler, graceful stop.

Start-up follows discord.py's advanced_startup example: the HTTP session and the store are opened
outside the bot and handed in; `setup_hook` loads the cogs, syncs commands to the dev server and starts
the job loop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot import metrics
from bot.config import Settings
from bot.db import open_store
from bot.discord_app import INTENTS, invite_link
from bot.health import BotProbes, MetricsServer
from bot.i18n.translator import ViduTranslator
from bot.jobs import JobStore
from bot.jobs.worker import JobWorker
from bot.looplag import loop_lag_enabled, watch_loop_lag
from bot.media.pool import close_image_pool, configure_image_pool
from bot.memory import freeze_startup_objects, release_memory_forever
from bot.pricing import use_price_table
from bot.ui.automod import AutoModRules
from bot.ui.automod import add_listeners as add_automod_listeners
from bot.ui.buttons import CancelButton
from bot.ui.client import ServiceBot
from bot.ui.delivery import DiscordJobListener
from bot.ui.remix import RemixButton
from bot.ui.replies import answer_error, outcome_of
from bot.ui.reports import ReportButton
from bot.ui.review import ReviewButton
from bot.ui.stale import answer_if_nobody_does
from bot.ui.takedown import TakeDownButton
from bot.ui.video_actions import ExtendButton, RerollButton
from bot.wiring import provider_client, worker_settings

log = logging.getLogger("bot.app")

COGS = ("cogs.generate", "cogs.jobs", "cogs.storyboard", "cogs.menu", "cogs.posts", "cogs.quota", "cogs.moderation",
        "cogs.help", "cogs.settings")
STOP_TASK_SECONDS = 30  # the job loop hands its jobs back on the way out: a few database writes


def point_discord_at(api_base: str | None, gateway_url: str | None) -> None:
    """Send REST and gateway traffic through a proxy (large bots do) or, in our tests, the fake Discord."""
    if api_base:
        discord.http.Route.BASE = api_base
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


AppCommand = app_commands.Command[Any, ..., Any] | app_commands.ContextMenu


class ViduTree(app_commands.CommandTree["ViduBot"]):
    async def on_error(
        self, interaction: discord.Interaction[ViduBot], error: app_commands.AppCommandError
    ) -> None:
        """Every command's one error handler: refusals, failed checks (moderators only, not in DMs) and
        unexpected errors are answered as our views, forms and buttons answer theirs (bot/ui/replies.py)."""
        command = interaction.command.qualified_name if interaction.command else "?"
        metrics.command_used(command, outcome_of(error))
        await answer_error(interaction, error, f"/{command}")


class ViduBot(ServiceBot):
    """Sharded from the start: one process runs every shard Discord recommends, or SHARD_COUNT/SHARD_IDS
    split them between several processes sharing one PostgreSQL database (the job loop leases jobs, so
    each runs in one process at a time whichever shard the request came in on)."""

    def __init__(self, settings: Settings, *, session: aiohttp.ClientSession, store: JobStore,
                 sync_only: bool = False) -> None:
        shards: dict[str, Any] = {}  # nothing given: discord.py asks Discord how many shards to run
        if settings.shard_count is not None:
            shards["shard_count"] = settings.shard_count
        if settings.shard_ids is not None:
            shards["shard_ids"] = list(settings.shard_ids)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(**dict.fromkeys(INTENTS, True)),
            tree_cls=ViduTree,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **shards,
        )
        self.settings = settings
        use_price_table(settings.price_table)  # request cards estimate from the table quotas charge by
        self.store = store
        self.provider = provider_client(settings, session)
        self.automod = AutoModRules()
        workdir = Path(settings.data_dir) / "videos"
        workdir.mkdir(parents=True, exist_ok=True)
        listener = DiscordJobListener(self, store, max_active=settings.max_active_jobs_per_member,
                                      provider_cap=settings.provider_max_in_flight, screens=settings.safety_screens,
                                      automod=self.automod)
        self.worker = JobWorker(store, self.provider, listener, worker_settings(settings), workdir=workdir)
        self._sync_only = sync_only
        self._worker_task: asyncio.Task[None] | None = None
        self._lag_task: asyncio.Task[None] | None = None
        self._trim_task: asyncio.Task[None] | None = None
        self._metrics: MetricsServer | None = None

    async def setup_hook(self) -> None:
        configure_image_pool(self.settings.image_workers)  # its processes start with the first picture
        self.add_dynamic_items(CancelButton, RerollButton, ExtendButton, RemixButton, ReviewButton, TakeDownButton,
                               ReportButton)
        self.add_listener(answer_if_nobody_does, "on_interaction")
        add_automod_listeners(self, self.automod)
        await self.tree.set_translator(ViduTranslator())  # zh-CN command names, synced as localizations
        for cog in COGS:
            await self.load_extension(cog)
        if self._sync_only:
            return
        if self.settings.shard_ids is None or 0 in self.settings.shard_ids:
            await self._commands_where_the_bot_runs()  # (one process syncs: the one holding shard 0)
        # Without these two RSS grew 30-45 MB/h under the soak's steady traffic (bot/memory.py).
        freeze_startup_objects()  # last thing before any work: the code and settings are all loaded by now
        self._trim_task = asyncio.create_task(release_memory_forever(), name="memory-release")
        self._worker_task = asyncio.create_task(self.worker.run(), name="job-worker")
        if loop_lag_enabled():  # a diagnostic for benchmarks, off by default
            self._lag_task = asyncio.create_task(watch_loop_lag(), name="loop-lag-probe")
        if self.settings.metrics_port is not None:
            self._metrics = await start_metrics(self, self.settings.metrics_host, self.settings.metrics_port)

    async def on_app_command_completion(self, interaction: discord.Interaction[Any], command: AppCommand) -> None:
        metrics.command_used(command.qualified_name, "ok")

    async def _commands_where_the_bot_runs(self) -> None:
        """DEV_GUILD_ID's server is synced at every start (instant there); without it, the global commands are
        synced once when Discord has none registered, so a first run has commands (later changes: `sync`)."""
        if self.settings.dev_guild_id:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to dev guild %s", len(synced), guild.id)
            return
        if await self.tree.fetch_commands():
            return
        synced = await self.tree.sync()
        log.info("no global commands were registered: synced %d (Discord may take up to an hour to show them; "
                 "after an update run `python -m bot sync`)", len(synced))

    async def on_ready(self) -> None:
        log.info("ready as %s in %d servers", self.user, len(self.guilds))
        if not self.guilds and self.application_id is not None:
            log.warning("the bot is in no server yet: invite it with %s", invite_link(self.application_id))

    async def close(self) -> None:
        if not self.is_closed() and self._worker_task is not None:
            log.info("stopping: the job loop hands its jobs back, then the connections close")
        started = time.monotonic()
        for task in (self._worker_task, self._lag_task, self._trim_task):
            if task is not None:
                task.cancel()
                # Bounded: a task that ignores its cancel must not keep the process from exiting.
                done, _ = await asyncio.wait({task}, timeout=STOP_TASK_SECONDS)
                if not done:
                    log.error("%s did not stop within %d s; exiting without it", task.get_name(), STOP_TASK_SECONDS)
                elif not task.cancelled() and task.exception() is not None:
                    log.error("%s had failed", task.get_name(), exc_info=task.exception())
        if self._metrics is not None:
            await self._metrics.stop()
        await close_image_pool()  # waits at most 2 s for a busy worker, then stops it
        await super().close()
        log.debug("stopped in %.1f s", time.monotonic() - started)


async def start_metrics(bot: ViduBot, host: str, port: int) -> MetricsServer:
    """/metrics and /healthz read the bot through plain callables (bot.metrics never imports discord)."""
    server = MetricsServer(
        BotProbes(store=bot.store, ready=bot.is_ready, gateway_latency=lambda: bot.latency,
                  heartbeat=lambda: bot.worker.heartbeat, max_tick_seconds=bot.settings.health_max_tick_seconds,
                  job_loop_outage=bot.worker.database_outage, servers=lambda: len(bot.guilds),
                  budget=(bot.settings.budget_per_day, bot.settings.budget_per_month)),
        host=host, port=port,
    )
    await server.start()
    return server


async def _run(settings: Settings, sync_only: bool) -> None:
    point_discord_at(settings.discord_api_base, settings.discord_gateway_url)
    async with aiohttp.ClientSession() as session, open_store(settings.database_url.get()) as store:
        bot = ViduBot(settings, session=session, store=store, sync_only=sync_only)
        async with bot:
            if sync_only:
                await bot.login(settings.discord_token.get())
                synced = await bot.tree.sync()
                print(f"synced {len(synced)} global commands (Discord may take up to an hour to show them)")
                return
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
            await bot.start(settings.discord_token.get())
    log.debug("the database and HTTP connections are closed")


def run_bot(settings: Settings, *, sync_only: bool = False) -> int:
    """0 after a graceful stop; 3 when Discord refuses the token; 4 when Discord cannot be reached (as the CLI
    exits when the provider cannot), each told in one line."""
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # the bot never joins a voice channel
    try:
        asyncio.run(_run(settings, sync_only))
    except discord.LoginFailure:
        log.error("DISCORD_TOKEN was refused by Discord")
        return 3
    except (aiohttp.ClientConnectionError, discord.GatewayNotFound, TimeoutError) as exc:
        log.error("cannot reach Discord at %s (%s): check the network or DISCORD_API_BASE",
                  settings.discord_api_base or "https://discord.com/api", _reason(exc))
        return 4
    except discord.DiscordServerError as exc:
        log.error("Discord is failing (HTTP %s): try again later", exc.status)
        return 4
    return 0


def _reason(exc: BaseException) -> str:
    """The first line of what went wrong, without the traceback."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
