"""/quota: what a member may still make; and for moderators, setting limits, grants and usage."""

from __future__ import annotations

import asyncio
import io
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ViduBot
from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.i18n.commands import choice_label
from bot.i18n.formats import day, join, money
from bot.jobs.models import utcnow
from bot.media.charts import Bar, ChartWords, usage_chart
from bot.pricing import credits_from_number
from bot.quotas import Limit, Period, QuotaCheck, Scope, Usage, checks_for, window
from bot.quotas.text import describe_limit
from bot.quotas.windows import zone
from bot.ui.fit import fit_lines
from bot.ui.moderators import mod_log, moderators_only

Interaction = discord.Interaction[ViduBot]
ScopeName = Literal["default", "server", "role", "member"]
PeriodName = Literal["day", "week", "month"]


def _left(limit: Limit, used: Usage, locale: str) -> str:
    """What is left of each unit the limit caps ("3 of 5 videos left · $1.20 of $2.00 credits left")."""
    parts = []
    if limit.videos is not None:
        parts.append(t("quota.videos_left", locale, left=max(0, limit.videos - used.videos), limit=limit.videos))
    if limit.seconds is not None:
        parts.append(t("quota.seconds_left", locale, left=max(0, limit.seconds - used.seconds), limit=limit.seconds))
    if limit.credits is not None:
        parts.append(t("quota.credits_left", locale, left=money(max(0, limit.credits - used.credits), locale),
                       limit=money(limit.credits, locale)))
    return " · ".join(parts) or t("limit.none", locale)


async def describe_checks(bot: ViduBot, checks: list[QuotaCheck], locale: str = DEFAULT_LOCALE, *,
                          member: bool = False) -> list[str]:
    """One line per limit: whose quota, which period, what is left and when it resets ("Your daily quota", or
    "The member's daily quota" for a moderator's view)."""
    lines = []
    you = "quota.owner_member" if member else "quota.owner_you"
    for check in checks:
        used = await bot.store.usage(check.limit.guild_id, check.user_id, check.since)
        owner = t("quota.owner_server" if check.user_id is None else you, locale,
                  adjective=t(f"adjective.{check.limit.period.value}", locale))
        lines.append(t("quota.line", locale, owner=owner, left=_left(check.limit, used, locale),
                       when=f"<t:{int(check.resets_at.timestamp())}:R>"))
    if any(check.limit.credits is not None for check in checks):
        lines.append(t("quota.credits_note", locale))
    return lines


async def member_checks(bot: ViduBot, guild_id: int, user_id: int, role_ids: list[int]) -> list[QuotaCheck]:
    """A member's limits and the server pool's in force now (the bot's defaults where the server set none)."""
    store = bot.store
    limits = bot.settings.operator_limits().limits(await store.limits(guild_id), guild_id)
    return checks_for(limits, await store.guild_settings(guild_id), user_id=user_id, role_ids=role_ids,
                      now=utcnow())


def _shown(limit: Limit, locale: str) -> str:
    """A limit in words, marked when it is the bot's default rather than the server's own."""
    text = describe_limit(limit, locale)
    return t("mod.bot_default_limit", locale, limit=text) if limit.bot_default else text


def _bot_default(bot: ViduBot, scope: Scope, target_id: int, period: Period) -> Limit | None:
    """The operator's default limit for this scope and period, if there is one."""
    return next((x for x in bot.settings.operator_limits().defaults
                 if (x.scope, x.target_id, x.period) == (scope, target_id, period)), None)


def _target(scope: ScopeName, role: discord.Role | None, member: discord.Member | None,
            locale: str = DEFAULT_LOCALE) -> tuple[Scope, int, str]:
    """The limit's target from the options (and its name in `locale`); ValueError names what is missing."""
    if scope == "role":
        if role is None:
            raise ValueError(t("mod.choose_role", locale))
        return Scope.ROLE, role.id, t("mod.who_role", locale, mention=role.mention)
    if scope == "member":
        if member is None:
            raise ValueError(t("mod.choose_member", locale))
        return Scope.MEMBER, member.id, t("mod.who_member", locale, mention=member.mention)
    if role is not None or member is not None:
        raise ValueError(t("mod.scope_takes_nothing", locale, scope=choice_label(scope, locale)))
    if scope == "server":
        return Scope.SERVER, 0, t("mod.who_server", locale)
    return Scope.DEFAULT, 0, t("mod.who_default", locale)


class Quota(commands.GroupCog, group_name="quota", group_description="Video quotas"):
    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="me", description="What you may still make here, and when it resets")
    @app_commands.guild_only()
    async def me(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        settings = await self.bot.store.guild_settings(interaction.guild_id)
        role_ids = [r.id for r in getattr(interaction.user, "roles", [])]
        checks = await member_checks(self.bot, interaction.guild_id, interaction.user.id, role_ids)
        locale = locale_of(interaction)
        lines = await describe_checks(self.bot, checks, locale) or [t("quota.none_set", locale)]
        weight = settings.weights.get("1080p", 1.0)
        if weight != 1.0:
            lines.append(t("quota.weight", locale, weight=f"{weight:g}"))
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @app_commands.command(name="set", description="Moderators: set a limit in videos, seconds and/or credits")
    @app_commands.guild_only()
    @app_commands.describe(scope="Who the limit is for", period="The window it counts over",
                           videos="Videos per window (empty: no video limit)",
                           seconds="Seconds of video per window (empty: no seconds limit)",
                           credits="Estimated cost in US dollars per window, e.g. 5.00 (empty: no credits limit)",
                           role="For scope role", member="For scope member")
    @moderators_only()
    async def set_(self, interaction: Interaction, scope: ScopeName, period: PeriodName,
                   videos: app_commands.Range[int, 0, 100000] | None = None,
                   seconds: app_commands.Range[int, 0, 10000000] | None = None,
                   credits: app_commands.Range[float, 0, 1000000] | None = None,
                   role: discord.Role | None = None, member: discord.Member | None = None) -> None:
        assert interaction.guild_id is not None
        locale = locale_of(interaction)
        if videos is None and seconds is None and credits is None:
            await interaction.response.send_message(t("mod.give_videos_or_seconds", locale), ephemeral=True)
            return
        try:
            kind, target_id, who = _target(scope, role, member, locale)
        except ValueError as problem:
            await interaction.response.send_message(t("mod.not_changed", locale, problem=problem), ephemeral=True)
            return
        limit = Limit(interaction.guild_id, kind, target_id, Period(period), videos, seconds,
                      None if credits is None else credits_from_number(credits))
        # Before: the server's own limit, else the bot's default it replaces (if any).
        before = (await self.bot.store.set_limit(limit, actor_id=interaction.user.id)
                  or _bot_default(self.bot, kind, target_id, Period(period)))
        was = _shown(before, locale) if before else t("limit.none", locale)
        await interaction.response.send_message(
            t("mod.limit_changed", locale, who=who, before=was, after=describe_limit(limit, locale)), ephemeral=True)
        # The mod-log is a record for every moderator: it stays in English.
        await mod_log(self.bot, interaction, f"quota for {_target(scope, role, member)[2]}",
                      _shown(before, DEFAULT_LOCALE) if before else "no limit", limit.describe())

    @app_commands.command(name="clear", description="Moderators: remove a limit")
    @app_commands.guild_only()
    @moderators_only()
    async def clear(self, interaction: Interaction, scope: ScopeName, period: PeriodName,
                    role: discord.Role | None = None, member: discord.Member | None = None) -> None:
        assert interaction.guild_id is not None
        locale = locale_of(interaction)
        try:
            kind, target_id, who = _target(scope, role, member, locale)
        except ValueError as problem:
            await interaction.response.send_message(t("mod.not_changed", locale, problem=problem), ephemeral=True)
            return
        before = await self.bot.store.clear_limit(interaction.guild_id, kind, target_id, Period(period),
                                                  actor_id=interaction.user.id)
        default = _bot_default(self.bot, kind, target_id, Period(period))
        if before is None:
            text = t("mod.no_limit_for", locale, period=t(f"adjective.{period}", locale), who=who)
            if default is not None:
                text += " " + t("mod.only_bot_default", locale, limit=describe_limit(default, locale))
            await interaction.response.send_message(text, ephemeral=True)
            return
        text = t("mod.limit_removed", locale, who=who, limit=describe_limit(before, locale))
        if default is not None:
            text += " " + t("mod.bot_default_again", locale, limit=describe_limit(default, locale))
        await interaction.response.send_message(text, ephemeral=True)
        await mod_log(self.bot, interaction, f"quota for {_target(scope, role, member)[2]}", before.describe(),
                      _shown(default, DEFAULT_LOCALE) if default else "no limit")

    @app_commands.command(name="show", description="Moderators: the limits of the server, a role or a member")
    @app_commands.guild_only()
    @moderators_only()
    async def show(self, interaction: Interaction, member: discord.Member | None = None,
                   role: discord.Role | None = None) -> None:
        assert interaction.guild_id is not None
        if member is not None:
            checks = await member_checks(self.bot, interaction.guild_id, member.id, [r.id for r in member.roles])
            locale = locale_of(interaction)
            text = fit_lines([f"**{member.mention}**"],
                             await describe_checks(self.bot, checks, locale, member=True), locale)
        else:
            limits = self.bot.settings.operator_limits().limits(await self.bot.store.limits(interaction.guild_id),
                                                                interaction.guild_id)
            chosen = [x for x in limits if role is None or (x.scope is Scope.ROLE and x.target_id == role.id)]
            locale = locale_of(interaction)
            text = (fit_lines([], [t("mod.limit_line", locale, who=_who(x, locale), limit=_shown(x, locale))
                                   for x in chosen], locale)
                    if chosen else t("mod.no_limits", locale))
        await interaction.response.send_message(text, ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="grant", description="Moderators: a one-off extra allowance for a member")
    @app_commands.guild_only()
    @app_commands.describe(credits="Extra estimated cost in US dollars, e.g. 1.50")
    @moderators_only()
    async def grant(self, interaction: Interaction, member: discord.Member,
                    seconds: app_commands.Range[int, 0, 100000] = 0, videos: app_commands.Range[int, 0, 1000] = 0,
                    credits: app_commands.Range[float, 0, 100000] = 0) -> None:
        assert interaction.guild_id is not None
        extra = credits_from_number(credits)
        await self.bot.store.grant(interaction.guild_id, member.id, videos=videos, seconds=seconds, credits=extra,
                                   actor_id=interaction.user.id)
        locale = locale_of(interaction)
        given = granted_text(locale, seconds=seconds, videos=videos, credits=extra)
        await interaction.response.send_message(t("mod.granted", locale, mention=member.mention, given=given),
                                                ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        await mod_log(self.bot, interaction, f"grant for {member.mention}", "—",
                      granted_text(DEFAULT_LOCALE, seconds=seconds, videos=videos, credits=extra))

    @app_commands.command(name="usage", description="Moderators: who used what, as a chart")
    @app_commands.guild_only()
    @moderators_only()
    async def usage(self, interaction: Interaction, period: PeriodName = "month") -> None:
        assert interaction.guild_id is not None and interaction.guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings = await self.bot.store.guild_settings(interaction.guild_id)
        since, _ = window(Period(period), utcnow(), settings.timezone)
        rows = await self.bot.store.usage_by_member(interaction.guild_id, since)
        locale = locale_of(interaction)
        bars = [usage_bar(await _name(interaction.guild, user_id), u, locale) for user_id, u in rows]
        # The settings' time zone: the day the period started where the server lives.
        title = t(f"mod.usage_title.{period}", locale, day=day(since.astimezone(zone(settings.timezone)), locale))
        png = await asyncio.to_thread(usage_chart, title, bars, chart_words(locale))
        lines = [t("mod.usage_line", locale, mention=f"<@{user_id}>", videos=u.videos, seconds=u.seconds,
                   credits=money(u.credits, locale)) for user_id, u in rows]
        text = fit_lines([f"**{title}**"], lines or [t("mod.usage_none", locale)], locale)  # a big server: many
        await interaction.followup.send(text,
                                        file=discord.File(io.BytesIO(png), filename="usage.png"), ephemeral=True,
                                        allowed_mentions=discord.AllowedMentions.none())


def _who(limit: Limit, locale: str) -> str:
    if limit.scope is Scope.ROLE:
        return t("mod.who_role", locale, mention=f"<@&{limit.target_id}>")
    if limit.scope is Scope.MEMBER:
        return t("mod.who_member", locale, mention=f"<@{limit.target_id}>")
    return t("mod.list_server" if limit.scope is Scope.SERVER else "mod.who_default", locale)


def granted_text(locale: str, *, seconds: int, videos: int, credits: int) -> str:
    """What a grant added, only the units it added ("+10 s and +1 video")."""
    parts = [t(key, locale, **{name: value}) for key, name, value, given in (
        ("mod.granted_seconds", "count", seconds, seconds),
        ("mod.granted_videos", "count", videos, videos),
        ("mod.granted_credits", "amount", money(credits, locale), credits)) if given]
    return join(parts, locale) if parts else t("mod.granted_nothing", locale)


def usage_bar(name: str, used: Usage, locale: str) -> Bar:
    """One member's row of the usage chart, its figures written in `locale`."""
    return Bar(name, used.videos, used.seconds, used.credits, money(used.credits, locale),
               t("chart.seconds_value", locale, count=used.seconds),
               t("chart.videos_value", locale, count=used.videos))


def chart_words(locale: str) -> ChartWords:
    return ChartWords(credits=t("chart.credits", locale), seconds=t("chart.seconds", locale),
                      videos=t("chart.videos", locale), empty=t("chart.empty", locale))


async def _name(guild: discord.Guild, user_id: int) -> str:
    member = guild.get_member(user_id)
    if member is None:
        try:
            member = await guild.fetch_member(user_id)
        except discord.HTTPException:
            return str(user_id)
    return member.display_name


async def setup(bot: ViduBot) -> None:
    await bot.add_cog(Quota(bot))
