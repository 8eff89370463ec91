"""What a store offers for quotas, settings and moderation (both backends implement it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from bot.moderation import BlockedTerm
from bot.quotas.models import GuildSettings, Limit, Period, Scope, Usage


class QuotaStore(Protocol):
    async def usage(self, guild_id: int, user_id: int | None, since: datetime) -> Usage:
        """A member's (or, with None, the whole server's) net usage since `since`."""
        ...

    async def usage_by_member(self, guild_id: int, since: datetime, limit: int = 10) -> list[tuple[int, Usage]]: ...

    async def budget_usage(self, since: datetime) -> Usage:
        """Net usage of every server together since `since` (the operator's budget; grants do not count)."""
        ...

    async def limits(self, guild_id: int) -> list[Limit]: ...

    async def set_limit(self, limit: Limit, *, actor_id: int) -> Limit | None: ...

    async def clear_limit(self, guild_id: int, scope: Scope, target_id: int, period: Period, *,
                          actor_id: int) -> Limit | None: ...

    async def grant(self, guild_id: int, user_id: int, *, videos: int, seconds: int, actor_id: int,
                    credits: int = 0) -> None: ...

    async def guild_settings(self, guild_id: int) -> GuildSettings: ...

    async def set_guild_settings(self, guild_id: int, settings: GuildSettings, *, actor_id: int,
                                 action: str) -> GuildSettings: ...

    async def audit(self, guild_id: int, limit: int = 20) -> list[dict[str, Any]]: ...

    async def is_blocked(self, guild_id: int, user_id: int) -> bool: ...

    async def set_blocked(self, guild_id: int, user_id: int, blocked: bool, *, actor_id: int,
                          reason: str | None = None) -> bool: ...

    async def blocklist(self, guild_id: int) -> list[BlockedTerm]: ...

    async def set_blocklisted(self, guild_id: int, term: BlockedTerm, present: bool, *, actor_id: int) -> bool: ...
