"""A guild's AutoMod rules: moderators create, change and delete them (the acting API, as Discord's client
does through POST/PATCH/DELETE /guilds/{id}/auto-moderation/rules), the bot reads them (GET list and one rule,
403 50013 without Manage Server) and hears of changes (AUTO_MODERATION_RULE_* with intent 1 << 20).

What a moderator sends is checked like Discord checks it: the request body against Discord's OpenAPI
description (when present: every error, limits included), the moderator's Manage Server permission, and the
fake's own rules of Discord's (at most 6 keyword rules a guild, a BLOCK_MESSAGE custom message of at most 150
characters, roles and channels of this guild). A mistake raises FakeUsageError: Discord's client could not
send it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import permissions as perms
from .errors import DiscordAPIError, FakeUsageError, missing_permissions
from .models import FakeMember

if TYPE_CHECKING:
    from .fake import FakeDiscord
    from .models import FakeGuild

RULES_PATH = "/guilds/{guild_id}/auto-moderation/rules"
RULE_PATH = "/guilds/{guild_id}/auto-moderation/rules/{rule_id}"
UNKNOWN_AUTOMOD_RULE = 10066
MESSAGE_SEND, KEYWORD, BLOCK_MESSAGE = 1, 1, 1
MAX_KEYWORD_RULES = 6
MAX_CUSTOM_MESSAGE = 150


@dataclass
class FakeAutoModRule:
    id: int
    guild_id: int
    creator_id: int
    body: dict[str, Any]  # the rule as a moderator last set it (POST then PATCH fields)

    @property
    def name(self) -> str:
        return str(self.body["name"])

    def to_json(self) -> dict[str, Any]:
        """As Discord answers it (KeywordRuleResponse): every field present, snowflakes as strings."""
        body = self.body
        metadata = body.get("trigger_metadata") or {}
        actions = []
        for action in body.get("actions") or []:
            meta = action.get("metadata") or {}
            if action["type"] == BLOCK_MESSAGE:
                meta = {"custom_message": meta.get("custom_message")} if meta.get("custom_message") else {}
            actions.append({"type": action["type"], "metadata": meta})
        return {
            "id": str(self.id), "guild_id": str(self.guild_id), "creator_id": str(self.creator_id),
            "name": body["name"], "event_type": body["event_type"], "trigger_type": body["trigger_type"],
            "actions": actions, "enabled": bool(body.get("enabled", False)),
            "exempt_roles": [str(r) for r in body.get("exempt_roles") or []],
            "exempt_channels": [str(c) for c in body.get("exempt_channels") or []],
            "trigger_metadata": {key: list(metadata.get(key) or [])
                                 for key in ("keyword_filter", "regex_patterns", "allow_list")},
        }


def rule_body(
    name: str, *, keywords: list[str] | None = None, regex_patterns: list[str] | None = None,
    allow_list: list[str] | None = None, exempt_roles: list[Any] | None = None,
    exempt_channels: list[Any] | None = None, custom_message: str | None = None, enabled: bool = True,
) -> dict[str, Any]:
    """A keyword rule for messages members send that blocks them, as Discord's client posts it."""
    block: dict[str, Any] = {"type": BLOCK_MESSAGE}
    if custom_message is not None:
        block["metadata"] = {"custom_message": custom_message}
    return {
        "name": name, "event_type": MESSAGE_SEND, "trigger_type": KEYWORD, "enabled": enabled,
        "actions": [block],
        "trigger_metadata": {"keyword_filter": keywords or [], "regex_patterns": regex_patterns or [],
                             "allow_list": allow_list or []},
        "exempt_roles": [str(getattr(r, "id", r)) for r in exempt_roles or []],
        "exempt_channels": [str(getattr(c, "id", c)) for c in exempt_channels or []],
    }


class AutoModRules:
    """The acting API (FakeDiscord.create_automod_rule / update_automod_rule / delete_automod_rule) and the
    bot's REST routes."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.rules: dict[int, FakeAutoModRule] = {}

    def in_guild(self, guild_id: int) -> list[FakeAutoModRule]:
        return [r for r in self.rules.values() if r.guild_id == guild_id]

    def _checked(self, method: str, path: str, body: dict[str, Any], guild: FakeGuild, by: FakeMember) -> None:
        if not by.has(perms.MANAGE_GUILD) and not by.has(perms.ADMINISTRATOR) and by.id != guild.owner_id:
            raise FakeUsageError(f"{by.name} lacks Manage Server: Discord refuses their AutoMod changes")
        error = self.fake.openapi.check(method, path, body)
        if error is not None:
            raise FakeUsageError(f"{method} {path}: {error}")
        for action in body.get("actions") or []:
            message = (action.get("metadata") or {}).get("custom_message")
            if message is not None and len(message) > MAX_CUSTOM_MESSAGE:
                raise FakeUsageError(f"custom_message longer than {MAX_CUSTOM_MESSAGE} characters")
        for role in body.get("exempt_roles") or []:
            if int(role) not in guild.roles:
                raise FakeUsageError(f"exempt role {role} is not a role of {guild.name}")
        for channel in body.get("exempt_channels") or []:
            if int(channel) not in guild.channels:
                raise FakeUsageError(f"exempt channel {channel} is not a channel of {guild.name}")

    async def create(self, guild: FakeGuild, by: FakeMember, body: dict[str, Any]) -> FakeAutoModRule:
        self._checked("POST", RULES_PATH, body, guild, by)
        if body.get("trigger_type") == KEYWORD and len(
                [r for r in self.in_guild(guild.id) if r.body["trigger_type"] == KEYWORD]) >= MAX_KEYWORD_RULES:
            raise FakeUsageError(f"a guild holds at most {MAX_KEYWORD_RULES} keyword rules")
        rule = FakeAutoModRule(self.fake.new_id(), guild.id, by.id, copy.deepcopy(body))
        self.rules[rule.id] = rule
        await self._announce("AUTO_MODERATION_RULE_CREATE", rule)
        return rule

    async def update(self, rule: FakeAutoModRule, by: FakeMember, changes: dict[str, Any]) -> FakeAutoModRule:
        guild = self.fake.guilds[rule.guild_id]
        self._checked("PATCH", RULE_PATH, changes, guild, by)
        if "trigger_type" in changes and changes["trigger_type"] != rule.body["trigger_type"]:
            raise FakeUsageError("a rule's trigger_type cannot change")
        rule.body.update(copy.deepcopy(changes))
        await self._announce("AUTO_MODERATION_RULE_UPDATE", rule)
        return rule

    async def delete(self, rule: FakeAutoModRule, by: FakeMember) -> None:
        guild = self.fake.guilds[rule.guild_id]
        if not by.has(perms.MANAGE_GUILD) and not by.has(perms.ADMINISTRATOR) and by.id != guild.owner_id:
            raise FakeUsageError(f"{by.name} lacks Manage Server: Discord refuses their AutoMod changes")
        if self.rules.pop(rule.id, None) is None:
            raise FakeUsageError(f"AutoMod rule {rule.name!r} was already deleted")
        await self._announce("AUTO_MODERATION_RULE_DELETE", rule)

    async def _announce(self, event: str, rule: FakeAutoModRule) -> None:
        await self.fake.emit(event, rule.to_json())  # only to sessions with AUTO_MODERATION_CONFIGURATION
        await self.fake.touch()

    # --- the bot's REST routes -----------------------------------------------------------------------

    def _readable_guild(self, guild: FakeGuild) -> None:
        """Discord: listing or reading rules needs Manage Server (guild-level: overwrites do not apply)."""
        bot = guild.members[self.fake.bot_user.id]
        if not (bot.has(perms.MANAGE_GUILD) or bot.has(perms.ADMINISTRATOR)):
            raise missing_permissions()

    async def list_rules(self, request: web.Request, guild: FakeGuild) -> list[dict[str, Any]]:
        self._readable_guild(guild)
        return [r.to_json() for r in self.in_guild(guild.id)]

    async def get_rule(self, request: web.Request, guild: FakeGuild, rule_id: int) -> dict[str, Any]:
        self._readable_guild(guild)
        rule = self.rules.get(rule_id)
        if rule is None or rule.guild_id != guild.id:
            raise DiscordAPIError(404, UNKNOWN_AUTOMOD_RULE, "Unknown Auto Moderation Rule")
        return rule.to_json()
