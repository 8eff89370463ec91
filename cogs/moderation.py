"""/config (the server's own settings) and /mod (blocking members, the prompt blocklist, the audit log)."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ViduBot
from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.i18n.formats import join
from bot.moderation import BlockedTerm, check_new_term
from bot.quotas import GuildSettings, zone
from bot.ui.fit import code, cut, fit_lines, quote
from bot.ui.intake import check_images, term_text
from bot.ui.moderators import mod_log, mod_log_changes, moderators_only
from bot.ui.replies import Refused
from bot.ui.screening import safety_lines, screening_here, video_lines

Interaction = discord.Interaction[ViduBot]
ZONE_ECHO = 60  # a time zone name typed that is none, echoed
PROBLEM = 600  # why a blocklist term was not added (it quotes the term)
AUDIT_LINE = 400  # one change in /mod audit (settings before and after)
PicturePolicyChoice = Literal["outside_age_restricted", "everywhere", "off"]  # bot/safety/policy.py
FlaggedVideoChoice = Literal["hold", "spoiler"]  # bot/safety/policy.py FlaggedVideo
WatermarkPosition = Literal["bottom_left", "bottom_right", "top_left", "top_right"]  # the provider's wm_position


def watermark_record(settings: GuildSettings) -> str:
    """The watermark as the mod-log records it (English, like every mod-log line)."""
    return "none" if settings.watermark_url is None else f"a picture, {settings.watermark_position}"


def describe(settings: GuildSettings, locale: str = DEFAULT_LOCALE, *, screens: tuple[str, ...] = (),
             automod_rules: int | None = 0) -> str:
    """The server's settings as /config shows them; `automod_rules`: how many of the server's AutoMod keyword
    rules apply to prompts, None when the bot cannot read them."""
    channels = (join([f"<#{c}>" for c in settings.channel_ids], locale) if settings.channel_ids
                else t("config.every_channel", locale))
    weights = join([t("config.weight", locale, resolution=r, weight=f"{w:g}")
                    for r, w in sorted(settings.weights.items())], locale)
    def dflt(value: int | None) -> str:
        return t("config.bot_default", locale) if value is None else str(value)
    modlog = f"<#{settings.modlog_channel_id}>" if settings.modlog_channel_id else t("config.none", locale)
    mark = (t("config.none", locale) if settings.watermark_url is None
            else t("config.watermark_at", locale, position=t(f"corner.{settings.watermark_position}", locale)))
    return "\n".join([
        t("config.channels", locale, channels=channels),
        t("config.modlog", locale, channel=modlog),
        t("config.jobs", locale, in_flight=dflt(settings.max_active), queue=dflt(settings.max_queued)),
        t("config.cooldown", locale, seconds=settings.cooldown_seconds),
        t("config.zone", locale, zone=settings.timezone, weights=weights),
        t("config.watermark", locale, watermark=mark),
        strikes_line(settings, locale),
        *safety_lines(settings.safety_pictures, screens, locale),
        *video_lines(settings.safety_videos, settings.safety_flagged_videos,
                     has_modlog=settings.modlog_channel_id is not None, locale=locale),
        automod_line(automod_rules, locale),
    ])


def automod_line(rules: int | None, locale: str) -> str:
    return t("config.automod_unreadable", locale) if rules is None else t("config.automod", locale, count=rules)


def strikes_line(settings: GuildSettings, locale: str = DEFAULT_LOCALE) -> str:
    """The server's content-strike rule (bot/strikes.py), as /config show says it."""
    if settings.strike_limit <= 0:
        return t("config.strikes_off", locale)
    return t("config.strikes", locale, limit=settings.strike_limit, hours=settings.strike_hours)


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Config(commands.GroupCog, group_name="config", group_description="Moderators: this server's settings"):
    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot
        super().__init__()

    async def _change(self, interaction: Interaction, what: str, *,
                      shown: Callable[[GuildSettings], str] | None = None, **changes: object) -> None:
        """Store the change (audited as "config.<what>" in the same transaction), answer with the settings,
        tell the mod-log: `shown` words the before and after of `what` there; without it, each field of
        `changes` whose value changed is named with its before and after as JSON (the audit's words)."""
        assert interaction.guild_id is not None
        store = self.bot.store
        current = await store.guild_settings(interaction.guild_id)
        updated = dataclasses.replace(current, **changes)  # type: ignore[arg-type]
        before = await store.set_guild_settings(interaction.guild_id, updated, actor_id=interaction.user.id,
                                                action=f"config.{what}")
        locale = locale_of(interaction)
        settings = describe(updated, locale, screens=self.bot.settings.safety_screens,
                            automod_rules=await self._automod_rules(interaction))
        answer = f"{t('mod.updated', locale)}\n{settings}"
        if interaction.response.is_done():
            await interaction.followup.send(answer, ephemeral=True)
        else:
            await interaction.response.send_message(answer, ephemeral=True)
        if shown is not None:
            said = [(f"config {what}", shown(before), shown(updated))]
        else:
            was, now = before.to_json(), updated.to_json()
            said = [(f"config {name}", json.dumps(was[name]), json.dumps(now[name])) for name in changes
                    if was[name] != now[name]]
        await mod_log_changes(self.bot, interaction, said)

    @app_commands.command(name="show", description="This server's settings")
    @moderators_only()
    async def show(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        settings = await self.bot.store.guild_settings(interaction.guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)  # reading AutoMod's rules may take a call
        await interaction.followup.send(
            describe(settings, locale_of(interaction), screens=self.bot.settings.safety_screens,
                     automod_rules=await self._automod_rules(interaction)), ephemeral=True)

    async def _automod_rules(self, interaction: Interaction) -> int | None:
        rules = await self.bot.automod.rules_for(interaction.guild) if interaction.guild is not None else None
        return None if rules is None else len(rules)

    @app_commands.command(name="channel", description="Allow or stop the bot in a channel (none allowed: all)")
    @moderators_only()
    async def channel(self, interaction: Interaction, channel: discord.TextChannel | discord.ForumChannel,
                      allowed: bool) -> None:
        assert interaction.guild_id is not None
        current = (await self.bot.store.guild_settings(interaction.guild_id)).channel_ids
        ids = sorted({*current, channel.id} if allowed else set(current) - {channel.id})
        await self._change(interaction, "channel_ids", channel_ids=tuple(ids))

    @app_commands.command(name="modlog", description="Where moderator changes are reported (empty: nowhere)")
    @moderators_only()
    async def modlog(self, interaction: Interaction, channel: discord.TextChannel | None = None) -> None:
        await self._change(interaction, "modlog_channel_id", modlog_channel_id=channel.id if channel else None)

    @app_commands.command(name="watermark",
                          description="The server's picture on every keyframes video (no image: none)")
    @app_commands.describe(image="The watermark picture (png, jpeg or webp), kept in the mod-log channel",
                           position="Where it goes on the video (default bottom_left)")
    @moderators_only()
    async def watermark(self, interaction: Interaction, image: discord.Attachment | None = None,
                        position: WatermarkPosition = "bottom_left") -> None:
        assert interaction.guild_id is not None
        if image is None:
            await self._change(interaction, "watermark", shown=watermark_record, watermark_url=None)
            return
        locale = locale_of(interaction)
        settings = await self.bot.store.guild_settings(interaction.guild_id)
        if settings.modlog_channel_id is None:
            raise Refused(t("config.watermark_needs_modlog", locale))
        await interaction.response.defer(ephemeral=True, thinking=True)  # reading the picture takes a moment
        # The same checks as a member's picture (type, size, aspect ratio): a refusal names the problem and
        # stores nothing.
        # Screened wherever the server screens at all: the watermark shows on videos in every channel.
        screening = await screening_here(self.bot, interaction, everywhere=True)
        (picture,) = await check_images(self.bot, [image], locale, screening=screening)
        # The provider fetches wm_url itself, so the picture must stay at a Discord link the bot can refresh
        # before every submit: a message of the bot's own in the mod-log channel lives until someone deletes
        # it (an interaction's upload is not promised to), and moderators see there what is applied.
        channel = self.bot.get_channel(settings.modlog_channel_id) or \
            await self.bot.fetch_channel(settings.modlog_channel_id)
        if not isinstance(channel, discord.TextChannel) or channel.guild.id != interaction.guild_id:
            raise Refused(t("config.watermark_needs_modlog", locale))
        extension = picture.mime_type.removeprefix("image/")
        try:
            kept = await channel.send(
                f"🖼️ The server's watermark ({position}), set by {interaction.user.mention}. Keep this message: "
                "the bot fetches the picture from it for every keyframes video.",
                file=discord.File(io.BytesIO(picture.data), filename=f"watermark.{extension}"),
                allowed_mentions=discord.AllowedMentions.none())
        except (discord.Forbidden, discord.NotFound):
            raise Refused(t("config.watermark_not_kept", locale, channel=channel.mention)) from None
        await self._change(interaction, "watermark", shown=watermark_record, watermark_url=kept.attachments[0].url,
                           watermark_position=position)

    @app_commands.command(name="safety", description="Where members' pictures and generated videos are screened")
    @app_commands.describe(pictures="outside_age_restricted (default): every channel that is not age-restricted; "
                                    "everywhere; off",
                           videos="Finished videos before they are posted: the same three choices",
                           flagged_videos="A flagged video: hold for a moderator (default) or post it behind a spoiler")
    @moderators_only()
    async def safety(self, interaction: Interaction, pictures: PicturePolicyChoice | None = None,
                     videos: PicturePolicyChoice | None = None,
                     flagged_videos: FlaggedVideoChoice | None = None) -> None:
        assert interaction.guild_id is not None
        given = {"safety_pictures": pictures, "safety_videos": videos, "safety_flagged_videos": flagged_videos}
        # Nothing given changes nothing and answers with the settings, as every /config change does.
        changes = {k: v for k, v in given.items() if v is not None}
        await self._change(interaction, "safety", **changes)  # type: ignore[arg-type]

    @app_commands.command(name="limits", description="Jobs in flight and queued per member, cooldown")
    @moderators_only()
    async def limits(self, interaction: Interaction, in_flight: app_commands.Range[int, 1, 20] | None = None,
                     queue: app_commands.Range[int, 0, 50] | None = None,
                     cooldown_seconds: app_commands.Range[int, 0, 86400] | None = None) -> None:
        assert interaction.guild_id is not None
        current = await self.bot.store.guild_settings(interaction.guild_id)
        await self._change(interaction, "limits",
                           max_active=in_flight if in_flight is not None else current.max_active,
                           max_queued=queue if queue is not None else current.max_queued,
                           cooldown_seconds=cooldown_seconds if cooldown_seconds is not None
                           else current.cooldown_seconds)

    @app_commands.command(name="strikes",
                          description="How many content refusals by the video service pause a member here")
    @app_commands.describe(count="Refusals that pause a member (0: never)", hours="Within how many hours")
    @moderators_only()
    async def strikes(self, interaction: Interaction, count: app_commands.Range[int, 0, 20],
                      hours: app_commands.Range[int, 1, 720] = 24) -> None:
        await self._change(interaction, "strikes", strike_limit=count, strike_hours=hours)

    @app_commands.command(name="timezone", description="The time zone quota days, weeks and months follow")
    @app_commands.describe(name="e.g. Europe/Paris, Asia/Shanghai, America/New_York")
    @moderators_only()
    async def timezone(self, interaction: Interaction, name: str) -> None:
        try:
            zone(name)
        except ValueError:
            await interaction.response.send_message(t("config.bad_zone", locale_of(interaction),
                                                      zone=code(name, ZONE_ECHO)), ephemeral=True)
            return
        await self._change(interaction, "timezone", timezone=name)

    @app_commands.command(name="weight", description="How much a second at a resolution counts against quotas")
    @moderators_only()
    async def weight(self, interaction: Interaction, resolution: Literal["540p", "720p", "1080p"],
                     weight: app_commands.Range[float, 0.1, 10.0]) -> None:
        assert interaction.guild_id is not None
        weights = dict((await self.bot.store.guild_settings(interaction.guild_id)).weights)
        weights[resolution] = float(weight)
        await self._change(interaction, "weights", weights=weights)


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Mod(commands.GroupCog, group_name="mod", group_description="Moderators: members, prompts, audit"):
    blocklist = app_commands.Group(name="blocklist", description="Words and patterns refused in prompts")

    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot
        super().__init__()

    async def _set_block(self, interaction: Interaction, member: discord.Member, blocked: bool,
                         reason: str | None) -> None:
        assert interaction.guild_id is not None
        before = await self.bot.store.set_blocked(interaction.guild_id, member.id, blocked,
                                                  actor_id=interaction.user.id, reason=reason)
        locale = locale_of(interaction)
        shown = {True: t("mod.blocked", locale), False: t("mod.allowed", locale)}
        await interaction.response.send_message(
            t("mod.change", locale, what=member.mention, before=shown[before], after=shown[blocked]),
            ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        state = {True: "blocked", False: "allowed"}  # the mod-log is a record: English
        await mod_log(self.bot, interaction, f"video requests of {member.mention}", state[before], state[blocked])

    @app_commands.command(name="block", description="Stop a member from making videos here")
    @moderators_only()
    async def block(self, interaction: Interaction, member: discord.Member, reason: str | None = None) -> None:
        await self._set_block(interaction, member, True, reason)

    @app_commands.command(name="unblock", description="Let a member make videos here again")
    @moderators_only()
    async def unblock(self, interaction: Interaction, member: discord.Member) -> None:
        await self._set_block(interaction, member, False, None)

    @blocklist.command(name="add", description="Refuse prompts containing a word (or a regular expression)")
    @moderators_only()
    async def blocklist_add(self, interaction: Interaction, term: app_commands.Range[str, 1, 200],
                            regex: bool = False) -> None:
        await self._blocklist(interaction, BlockedTerm(term, regex), True)

    @blocklist.command(name="remove", description="Stop refusing a word or pattern")
    @moderators_only()
    async def blocklist_remove(self, interaction: Interaction, term: app_commands.Range[str, 1, 200],
                               regex: bool = False) -> None:
        await self._blocklist(interaction, BlockedTerm(term, regex), False)

    @blocklist.command(name="show", description="The words and patterns refused in prompts")
    @moderators_only()
    async def blocklist_show(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        terms = await self.bot.store.blocklist(interaction.guild_id)
        locale = locale_of(interaction)
        lines = [f"• {term_text(term)}" for term in terms]
        text = fit_lines([], lines, locale) if lines else t("mod.blocklist_empty", locale)
        await interaction.response.send_message(text, ephemeral=True)

    async def _blocklist(self, interaction: Interaction, term: BlockedTerm, present: bool) -> None:
        assert interaction.guild_id is not None
        locale = locale_of(interaction)
        problem = check_new_term(term) if present else None
        if problem is not None:
            problem_text = quote(t(problem.key, locale, **problem.params), PROBLEM)
            await interaction.response.send_message(t("mod.not_added", locale, problem=problem_text),
                                                    ephemeral=True)
            return
        before = await self.bot.store.set_blocklisted(interaction.guild_id, term, present,
                                                      actor_id=interaction.user.id)
        shown = {True: t("mod.refused", locale), False: t("mod.allowed", locale)}
        await interaction.response.send_message(
            t("mod.change", locale, what=term_text(term), before=shown[before], after=shown[present]), ephemeral=True)
        state = {True: "refused", False: "allowed"}  # the mod-log is a record: English
        await mod_log(self.bot, interaction, f"blocklist {term_text(term)}", state[before], state[present])

    @app_commands.command(name="audit", description="The latest moderator changes in this server")
    @moderators_only()
    async def audit(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        rows = await self.bot.store.audit(interaction.guild_id, limit=15)
        locale = locale_of(interaction)
        bot_itself = t("mod.the_bot", locale)  # actor 0: a change the bot made (a pause by content strikes)
        lines = [cut(f"<t:{row['at'] // 1000}:f> {_actor(row['actor_id'], bot_itself)} {row['action']}: "
                     f"{row['before'] or '—'} → {row['after'] or '—'}", AUDIT_LINE) for row in rows]
        text = fit_lines([], lines, locale) if lines else t("mod.no_changes", locale)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())


def _actor(actor_id: int, bot_itself: str) -> str:
    return f"<@{actor_id}>" if actor_id else bot_itself


async def setup(bot: ViduBot) -> None:
    await bot.add_cog(Config(bot))
    await bot.add_cog(Mod(bot))
