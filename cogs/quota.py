"""/quota: what a member may still make; and for moderators, setting limits, grants and usage."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ViduBot
from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.jobs.models import utcnow
from bot.media.charts import Bar, usage_chart
from bot.quotas import Limit, Period, QuotaCheck, Scope, checks_for, window
from bot.ui.moderators import mod_log, require_moderator

Interaction = discord.Interaction[ViduBot]
ScopeName = Literal["default", "server", "role", "member"]
PeriodName = Literal["day", "week", "month"]


def _left(limit: int | None, used: int, unit: str, locale: str) -> str:
    if limit is None:
        return t(f"quota.no_{unit}_limit", locale)
    return t(f"quota.{unit}s_left", locale, left=max(0, limit - used), limit=limit)


async def describe_checks(bot: ViduBot, checks: list[QuotaCheck], locale: str = DEFAULT_LOCALE, *,
                          member: bool = False) -> list[str]:
    """One line per limit: what is left and when it resets ("You", or "Member" for a moderator's view)."""
    lines = []
    you = t("quota.owner_member" if member else "quota.owner_you", locale)
    for check in checks:
        used = await bot.store.usage(check.limit.guild_id, check.user_id, check.since)
        owner = t("quota.owner_server", locale) if check.user_id is None else you
        lines.append(t("quota.line", locale, owner=owner, period=t(f"period.{check.limit.period.value}", locale),
                       videos=_left(check.limit.videos, used.videos, "video", locale),
                       seconds=_left(check.limit.seconds, used.seconds, "second", locale),
                       when=f"<t:{int(check.resets_at.timestamp())}:R>"))
    return lines


def _target(scope: ScopeName, role: discord.Role | None, member: discord.Member | None) -> tuple[Scope, int, str]:
    """The limit's target from the options; ValueError names what is missing."""
    if scope == "role":
        if role is None:
            raise ValueError("choose the `role` this limit is for")
        return Scope.ROLE, role.id, f"role {role.mention}"
    if scope == "member":
        if member is None:
            raise ValueError("choose the `member` this limit is for")
        return Scope.MEMBER, member.id, f"member {member.mention}"
    if role is not None or member is not None:
        raise ValueError(f"scope `{scope}` takes no role or member")
    return (Scope.SERVER, 0, "the server pool") if scope == "server" else (Scope.DEFAULT, 0, "every member")


class Quota(commands.GroupCog, group_name="quota", group_description="Video quotas"):
    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="me", description="What you may still make here, and when it resets")
    @app_commands.guild_only()
    async def me(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        store = self.bot.store
        settings = await store.guild_settings(interaction.guild_id)
        role_ids = [r.id for r in getattr(interaction.user, "roles", [])]
        checks = checks_for(await store.limits(interaction.guild_id), settings, user_id=interaction.user.id,
                            role_ids=role_ids, now=utcnow())
        locale = locale_of(interaction)
        lines = await describe_checks(self.bot, checks, locale) or [t("quota.none_set", locale)]
        weight = settings.weights.get("1080p", 1.0)
        if weight != 1.0:
            lines.append(t("quota.weight", locale, weight=f"{weight:g}"))
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @app_commands.command(name="set", description="Moderators: set a limit in videos and/or seconds")
    @app_commands.guild_only()
    @app_commands.describe(scope="Who the limit is for", period="The window it counts over",
                           videos="Videos per window (empty: no video limit)",
                           seconds="Seconds of video per window (empty: no seconds limit)",
                           role="For scope role", member="For scope member")
    async def set_(self, interaction: Interaction, scope: ScopeName, period: PeriodName,
                   videos: app_commands.Range[int, 0, 100000] | None = None,
                   seconds: app_commands.Range[int, 0, 10000000] | None = None,
                   role: discord.Role | None = None, member: discord.Member | None = None) -> None:
        if not await require_moderator(interaction):
            return
        assert interaction.guild_id is not None
        if videos is None and seconds is None:
            await interaction.response.send_message("Give `videos`, `seconds` or both (to remove a limit, use "
                                                    "`/quota clear`).", ephemeral=True)
            return
        try:
            kind, target_id, who = _target(scope, role, member)
        except ValueError as problem:
            await interaction.response.send_message(f"Not changed: {problem}.", ephemeral=True)
            return
        limit = Limit(interaction.guild_id, kind, target_id, Period(period), videos, seconds)
        before = await self.bot.store.set_limit(limit, actor_id=interaction.user.id)
        was = before.describe() if before else "no limit"
        await interaction.response.send_message(f"Limit for {who}: {was} → {limit.describe()}.", ephemeral=True)
        await mod_log(self.bot, interaction, f"quota for {who}", was, limit.describe())

    @app_commands.command(name="clear", description="Moderators: remove a limit")
    @app_commands.guild_only()
    async def clear(self, interaction: Interaction, scope: ScopeName, period: PeriodName,
                    role: discord.Role | None = None, member: discord.Member | None = None) -> None:
        if not await require_moderator(interaction):
            return
        assert interaction.guild_id is not None
        try:
            kind, target_id, who = _target(scope, role, member)
        except ValueError as problem:
            await interaction.response.send_message(f"Not changed: {problem}.", ephemeral=True)
            return
        before = await self.bot.store.clear_limit(interaction.guild_id, kind, target_id, Period(period),
                                                  actor_id=interaction.user.id)
        if before is None:
            await interaction.response.send_message(f"There was no {period} limit for {who}.", ephemeral=True)
            return
        await interaction.response.send_message(f"Removed the limit for {who} ({before.describe()}).", ephemeral=True)
        await mod_log(self.bot, interaction, f"quota for {who}", before.describe(), "no limit")

    @app_commands.command(name="show", description="Moderators: the limits of the server, a role or a member")
    @app_commands.guild_only()
    async def show(self, interaction: Interaction, member: discord.Member | None = None,
                   role: discord.Role | None = None) -> None:
        if not await require_moderator(interaction):
            return
        assert interaction.guild_id is not None
        store = self.bot.store
        limits = await store.limits(interaction.guild_id)
        if member is not None:
            settings = await store.guild_settings(interaction.guild_id)
            checks = checks_for(limits, settings, user_id=member.id, role_ids=[r.id for r in member.roles],
                                now=utcnow())
            lines = [f"**{member.mention}**",
                     *(await describe_checks(self.bot, checks, locale_of(interaction), member=True))]
            text = "\n".join(lines)
        else:
            chosen = [x for x in limits if role is None or (x.scope is Scope.ROLE and x.target_id == role.id)]
            text = "\n".join(f"• {_who(x)}: {x.describe()}" for x in chosen) or "No limits set."
        await interaction.response.send_message(text, ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="grant", description="Moderators: a one-off extra allowance for a member")
    @app_commands.guild_only()
    async def grant(self, interaction: Interaction, member: discord.Member,
                    seconds: app_commands.Range[int, 0, 100000], videos: app_commands.Range[int, 0, 1000] = 0) -> None:
        if not await require_moderator(interaction):
            return
        assert interaction.guild_id is not None
        await self.bot.store.grant(interaction.guild_id, member.id, videos=videos, seconds=seconds,
                                   actor_id=interaction.user.id)
        given = f"+{seconds} s, +{videos} videos"
        await interaction.response.send_message(f"Granted {member.mention} {given} for the current windows.",
                                                ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        await mod_log(self.bot, interaction, f"grant for {member.mention}", "—", given)

    @app_commands.command(name="usage", description="Moderators: who used what, as a chart")
    @app_commands.guild_only()
    async def usage(self, interaction: Interaction, period: PeriodName = "month") -> None:
        if not await require_moderator(interaction):
            return
        assert interaction.guild_id is not None and interaction.guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings = await self.bot.store.guild_settings(interaction.guild_id)
        since, _ = window(Period(period), utcnow(), settings.timezone)
        rows = await self.bot.store.usage_by_member(interaction.guild_id, since)
        bars = [Bar(await _name(interaction.guild, user_id), u.videos, u.seconds) for user_id, u in rows]
        title = f"Usage this {period} (since {_day(since)})"
        png = await asyncio.to_thread(usage_chart, title, bars)
        lines = [f"**{title}**", *(f"<@{user_id}>: {u.videos} videos, {u.seconds} s" for user_id, u in rows)]
        await interaction.followup.send("\n".join(lines) if rows else f"**{title}**\nNo videos yet.",
                                        file=discord.File(io.BytesIO(png), filename="usage.png"), ephemeral=True,
                                        allowed_mentions=discord.AllowedMentions.none())


def _who(limit: Limit) -> str:
    return {Scope.SERVER: "server pool", Scope.DEFAULT: "every member", Scope.ROLE: f"role <@&{limit.target_id}>",
            Scope.MEMBER: f"member <@{limit.target_id}>"}[limit.scope]


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


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
