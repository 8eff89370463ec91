"""The Discord side of the server's AutoMod rules: read them (GET /guilds/{id}/auto-moderation/rules, which
needs Manage Server), keep them per server, refresh them on the gateway's AUTO_MODERATION_RULE_* events, and
convert them to plain `KeywordRule`s; bot/safety/automod.py decides. Also who asks where (`where_of`).

Only enabled keyword rules (trigger type 1) for messages members send count. Keyword preset rules (Discord's
own word lists) cannot be read by any bot, and mention-spam, spam and member-profile rules are not about text
a member writes in a message: they are left out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import discord
from discord.ext import commands

from bot.safety.automod import KeywordRule, Where, channel_chain

log = logging.getLogger("bot.automod")


def keyword_rule(rule: discord.AutoModRule) -> KeywordRule | None:
    """The rule as plain data, or None when it does not apply to the prompts members send."""
    if (not rule.enabled or rule.event_type is not discord.AutoModRuleEventType.message_send
            or rule.trigger.type is not discord.AutoModRuleTriggerType.keyword):
        return None
    message = next((a.custom_message for a in rule.actions
                    if a.type is discord.AutoModRuleActionType.block_message and a.custom_message), None)
    trigger = rule.trigger
    return KeywordRule(
        id=rule.id, name=rule.name, keywords=tuple(trigger.keyword_filter),
        regex_patterns=tuple(trigger.regex_patterns), allow_list=tuple(trigger.allow_list),
        exempt_roles=frozenset(rule.exempt_role_ids), exempt_channels=frozenset(rule.exempt_channel_ids),
        custom_message=message,
    )


@dataclass
class _Server:
    rules: dict[int, KeywordRule] | None = None  # None: not read yet (or forgotten: read again when asked)
    generation: int = 0  # bumped by every event: a read that started before one is not kept
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class AutoModRules:
    """Each server's keyword rules, read once and then kept current by the gateway's events."""

    def __init__(self) -> None:
        self._servers: dict[int, _Server] = {}
        self._told_unreadable: set[int] = set()

    def _server(self, guild_id: int) -> _Server:
        return self._servers.setdefault(guild_id, _Server())

    @staticmethod
    def readable(guild: discord.Guild) -> bool:
        """Whether the bot may read the server's rules (Manage Server), as far as its cache knows."""
        me = guild.me
        return me is None or me.guild_permissions.manage_guild

    async def rules_for(self, guild: discord.Guild) -> tuple[KeywordRule, ...] | None:
        """The server's keyword rules; None when the bot may not read them (logged once per server)."""
        if not self.readable(guild):
            self._unreadable(guild.id)
            return None
        server = self._server(guild.id)
        if server.rules is not None:
            return tuple(server.rules.values())
        async with server.lock:  # a burst of requests reads the rules once
            if server.rules is None:
                generation = server.generation
                try:
                    fetched = await guild.fetch_automod_rules()
                except discord.Forbidden:
                    self._unreadable(guild.id)
                    return None
                except (discord.HTTPException, OSError, TimeoutError) as exc:
                    # Discord failing this one call: prompts go ahead on the blocklist; the next one reads again.
                    log.warning("guild %s: AutoMod rules could not be read (%s); not applied to this prompt",
                                guild.id, exc)
                    return None
                rules = {r.id: r for r in (keyword_rule(f) for f in fetched) if r is not None}
                if server.generation != generation:  # an event came meanwhile: use this read, keep none
                    return tuple(rules.values())
                server.rules = rules
                self._told_unreadable.discard(guild.id)
                log.info("guild %s: %d AutoMod keyword rules apply to prompts", guild.id, len(rules))
            return tuple(server.rules.values())

    def _unreadable(self, guild_id: int) -> None:
        if guild_id not in self._told_unreadable:
            self._told_unreadable.add(guild_id)
            log.warning("guild %s: the bot lacks Manage Server, so it cannot read the server's AutoMod rules; "
                        "prompts are checked against the bot's own blocklist only", guild_id)

    def changed(self, rule: discord.AutoModRule, *, deleted: bool = False) -> None:
        """AUTO_MODERATION_RULE_CREATE / UPDATE / DELETE: the kept rules follow at once."""
        server = self._server(rule.guild.id)
        server.generation += 1
        if server.rules is None:
            return  # read in full when next asked
        converted = None if deleted else keyword_rule(rule)
        if converted is None:
            server.rules.pop(rule.id, None)
        else:
            server.rules[rule.id] = converted

    def forget(self, guild_id: int) -> None:
        """Read the server's rules again when next asked (the bot's roles changed, the server came back)."""
        server = self._server(guild_id)
        server.generation += 1
        server.rules = None


def where_of(member: discord.abc.User | None, channel: Any) -> Where:
    """Who asks, where: the member's roles and Manage Server or Administrator (AutoMod exempts those), the
    channel with a thread's parent and the category."""
    roles: Iterable[discord.abc.Snowflake] = getattr(member, "roles", [])
    perms = getattr(member, "guild_permissions", None)
    parent = getattr(channel, "parent", None)
    category = getattr(parent if parent is not None else channel, "category_id", None)
    return Where(
        role_ids=frozenset(r.id for r in roles),
        channel_ids=channel_chain(getattr(channel, "id", None), getattr(channel, "parent_id", None), category),
        privileged=bool(perms is not None and (perms.manage_guild or perms.administrator)),
    )


def add_listeners(bot: commands.AutoShardedBot, rules: AutoModRules) -> None:
    """Keep `rules` current from the gateway (intent AUTO_MODERATION_CONFIGURATION)."""

    async def created(rule: discord.AutoModRule) -> None:
        rules.changed(rule)

    async def deleted(rule: discord.AutoModRule) -> None:
        rules.changed(rule, deleted=True)

    async def guild_back(guild: discord.Guild) -> None:
        rules.forget(guild.id)  # events missed while away are not replayed on a new session

    async def role_changed(before: discord.Role, after: discord.Role) -> None:
        rules.forget(after.guild.id)  # Manage Server may have been granted (or taken)

    async def member_changed(before: discord.Member, after: discord.Member) -> None:
        if bot.user is not None and after.id == bot.user.id:
            rules.forget(after.guild.id)

    for handler, event in ((created, "on_automod_rule_create"), (created, "on_automod_rule_update"),
                           (deleted, "on_automod_rule_delete"), (guild_back, "on_guild_available"),
                           (guild_back, "on_guild_join"), (role_changed, "on_guild_role_update"),
                           (member_changed, "on_member_update")):
        bot.add_listener(handler, event)
