"""The quota ledger, limits, server settings and audit log in PostgreSQL (mirrors sqlite_quotas.py).

A mixin of PostgresStore, so every write shares the store's one-transaction `_write()`: the reservation
is written in the transaction that creates the job, and refunds and consumption in the transaction of
the job transition that causes them. SQLite serialises all writers; PostgreSQL does not, so reserving
first takes a per-server advisory transaction lock: two requests (from any process) at the same instant
check and reserve one after the other and can never overdraw.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from bot.jobs.rows import to_ms, to_whole_ms
from bot.jobs.states import JobState
from bot.moderation import BlockedTerm
from bot.quotas.models import Charge, GuildSettings, Limit, Period, QuotaCheck, QuotaExceeded, Scope, Usage
from bot.quotas.sqlite_quotas import REFUND_STATES

if TYPE_CHECKING:  # generic only in the stubs
    from asyncpg.pool import PoolConnectionProxy

    Connection = PoolConnectionProxy[asyncpg.Record]

# A member's usage: reservations not refunded, less one-off grants. The pool ignores grants: a grant
# lets one member go further, never the server past its pool.
_USAGE = """
SELECT COALESCE(SUM(CASE WHEN kind = 'grant' THEN -videos ELSE videos END), 0),
       COALESCE(SUM(CASE WHEN kind = 'grant' THEN -seconds ELSE seconds END), 0)
FROM quota_ledger AS l
WHERE guild_id = $1 AND at >= $2 AND {who}
  AND (kind = 'grant' OR (kind = 'reserve' AND NOT EXISTS
       (SELECT 1 FROM quota_ledger AS r WHERE r.entry = l.entry AND r.kind = 'refund')))
"""


def _at(value: datetime) -> datetime:
    return to_whole_ms(value, "quota time")


async def usage_in(conn: Connection | asyncpg.Pool[asyncpg.Record], guild_id: int, user_id: int | None,
                   since: datetime) -> Usage:
    if user_id is None:
        row = await conn.fetchrow(_USAGE.format(who="kind <> 'grant'"), guild_id, _at(since))
    else:
        row = await conn.fetchrow(_USAGE.format(who="user_id = $3"), guild_id, _at(since), user_id)
    return Usage(int(row[0]), int(row[1])) if row else Usage()


async def reserve_in(conn: Connection, job_id: str, charge: Charge, checks: Sequence[QuotaCheck],
                     now: datetime) -> None:
    """Inside the job-creating transaction: refuse (QuotaExceeded) or write the reservation."""
    # Held until this transaction ends: the next reservation in this server waits, then sees this one.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"vidu-bot quota {charge.guild_id}")
    for check in checks:
        used = await usage_in(conn, charge.guild_id, check.user_id, check.since)
        if not QuotaExceeded.fits(check.limit, used, charge):
            raise QuotaExceeded(check, used, charge)
    await conn.execute(
        "INSERT INTO quota_ledger (entry, kind, guild_id, user_id, videos, seconds, at) "
        "VALUES ($1, 'reserve', $2, $3, $4, $5, $6)",
        job_id, charge.guild_id, charge.user_id, charge.videos, charge.seconds, _at(now),
    )


async def settle_in(conn: Connection, job_id: str, to: JobState, now: datetime) -> None:
    """Inside a job transition: consume on delivery, refund on every end that produced nothing.
    `submit_unknown` keeps its reservation: the provider may have charged for it."""
    kind = "consume" if to is JobState.DELIVERED else "refund" if to in REFUND_STATES else None
    if kind is None:
        return
    await conn.execute(
        "INSERT INTO quota_ledger (entry, kind, guild_id, user_id, videos, seconds, at) "
        "SELECT entry, $1, guild_id, user_id, videos, seconds, $2 FROM quota_ledger "
        "WHERE entry = $3 AND kind = 'reserve' ON CONFLICT (entry, kind) DO NOTHING",
        kind, _at(now), job_id,
    )


def _limit(row: asyncpg.Record) -> Limit:
    return Limit(int(row[0]), Scope(row[1]), int(row[2]), Period(row[3]), row[4], row[5])


def _limit_json(limit: Limit | None) -> str | None:
    if limit is None:
        return None
    return json.dumps({"scope": limit.scope.value, "target_id": limit.target_id, "period": limit.period.value,
                       "videos": limit.videos, "seconds": limit.seconds})


_LIMIT_KEY = "guild_id = $1 AND scope = $2 AND target_id = $3 AND period = $4"


class PgQuotaStoreMixin:
    """Quota methods of a store that has `_write()`, `_pool` and `_clock` (PostgresStore)."""

    _pool: asyncpg.Pool[asyncpg.Record]
    _clock: Callable[[], datetime]

    def _write(self) -> AbstractAsyncContextManager[Connection]:
        raise NotImplementedError  # the store's one-transaction writer

    async def usage(self, guild_id: int, user_id: int | None, since: datetime) -> Usage:
        return await usage_in(self._pool, guild_id, user_id, since)

    async def usage_by_member(self, guild_id: int, since: datetime, limit: int = 10) -> list[tuple[int, Usage]]:
        rows = await self._pool.fetch(
            "SELECT user_id, SUM(videos), SUM(seconds) FROM quota_ledger AS l "
            "WHERE guild_id = $1 AND at >= $2 AND kind = 'reserve' AND NOT EXISTS "
            "(SELECT 1 FROM quota_ledger AS r WHERE r.entry = l.entry AND r.kind = 'refund') "
            "GROUP BY user_id ORDER BY SUM(seconds) DESC, SUM(videos) DESC LIMIT $3",
            guild_id, _at(since), limit,
        )
        return [(int(r[0]), Usage(int(r[1]), int(r[2]))) for r in rows]

    async def limits(self, guild_id: int) -> list[Limit]:
        rows = await self._pool.fetch(
            "SELECT guild_id, scope, target_id, period, videos, seconds FROM quota_limits WHERE guild_id = $1 "
            "ORDER BY scope, target_id, period", guild_id)
        return [_limit(r) for r in rows]

    async def set_limit(self, limit: Limit, *, actor_id: int) -> Limit | None:
        """Set (or replace) a limit; returns the one it replaced. Audited in the same transaction."""
        key = (limit.guild_id, limit.scope.value, limit.target_id, limit.period.value)
        async with self._write() as conn:
            before = await self._limit_in(conn, *key)
            await conn.execute(
                "INSERT INTO quota_limits (guild_id, scope, target_id, period, videos, seconds) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (guild_id, scope, target_id, period) "
                "DO UPDATE SET videos = excluded.videos, seconds = excluded.seconds",
                *key, limit.videos, limit.seconds)
            await self._audit_in(conn, limit.guild_id, actor_id, "quota.set", _limit_json(before),
                                 _limit_json(limit))
        return before

    async def clear_limit(self, guild_id: int, scope: Scope, target_id: int, period: Period, *,
                          actor_id: int) -> Limit | None:
        key = (guild_id, scope.value, target_id, period.value)
        async with self._write() as conn:
            before = await self._limit_in(conn, *key)
            if before is not None:
                await conn.execute(f"DELETE FROM quota_limits WHERE {_LIMIT_KEY}", *key)  # noqa: S608
                await self._audit_in(conn, guild_id, actor_id, "quota.clear", _limit_json(before), None)
        return before

    async def grant(self, guild_id: int, user_id: int, *, videos: int, seconds: int, actor_id: int) -> None:
        """A one-off allowance for a member in the current windows (a ledger row that counts negative)."""
        async with self._write() as conn:
            await conn.execute(
                "INSERT INTO quota_ledger (entry, kind, guild_id, user_id, videos, seconds, at) "
                "VALUES ($1, 'grant', $2, $3, $4, $5, $6)",
                f"grant:{secrets.token_hex(8)}", guild_id, user_id, videos, seconds, _at(self._clock()))
            await self._audit_in(conn, guild_id, actor_id, "quota.grant", None,
                                 json.dumps({"user_id": user_id, "videos": videos, "seconds": seconds}))

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        raw = await self._pool.fetchval("SELECT settings FROM guild_settings WHERE guild_id = $1", guild_id)
        return GuildSettings.from_json(json.loads(raw)) if raw is not None else GuildSettings()

    async def set_guild_settings(self, guild_id: int, settings: GuildSettings, *, actor_id: int,
                                 action: str) -> GuildSettings:
        """Replace the server's settings; returns the previous ones. Audited in the same transaction."""
        async with self._write() as conn:
            raw = await conn.fetchval("SELECT settings FROM guild_settings WHERE guild_id = $1 FOR UPDATE",
                                      guild_id)
            before = GuildSettings.from_json(json.loads(raw)) if raw is not None else GuildSettings()
            after = json.dumps(settings.to_json())
            await conn.execute("INSERT INTO guild_settings (guild_id, settings) VALUES ($1, $2) "
                               "ON CONFLICT (guild_id) DO UPDATE SET settings = excluded.settings", guild_id, after)
            await self._audit_in(conn, guild_id, actor_id, action, json.dumps(before.to_json()), after)
        return before

    async def audit(self, guild_id: int, limit: int = 20) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT actor_id, action, before, after, at FROM audit_log WHERE guild_id = $1 ORDER BY id DESC LIMIT $2",
            guild_id, limit)
        # `at` in integer milliseconds, as the SQLite store gives it.
        return [{"actor_id": r[0], "action": r[1], "before": r[2], "after": r[3], "at": to_ms(r[4], "audit at")}
                for r in rows]

    async def is_blocked(self, guild_id: int, user_id: int) -> bool:
        found = await self._pool.fetchval(
            "SELECT 1 FROM blocked_members WHERE guild_id = $1 AND user_id = $2", guild_id, user_id)
        return found is not None

    async def set_blocked(self, guild_id: int, user_id: int, blocked: bool, *, actor_id: int,
                          reason: str | None = None) -> bool:
        """Block or unblock a member; returns whether they were blocked before. Audited."""
        async with self._write() as conn:
            before = await conn.fetchval("SELECT 1 FROM blocked_members WHERE guild_id = $1 AND user_id = $2",
                                         guild_id, user_id) is not None
            if blocked:
                await conn.execute(
                    "INSERT INTO blocked_members (guild_id, user_id, reason) VALUES ($1, $2, $3) "
                    "ON CONFLICT (guild_id, user_id) DO UPDATE SET reason = excluded.reason",
                    guild_id, user_id, reason)
            else:
                await conn.execute("DELETE FROM blocked_members WHERE guild_id = $1 AND user_id = $2",
                                   guild_id, user_id)
            await self._audit_in(conn, guild_id, actor_id, "mod.block" if blocked else "mod.unblock",
                                 json.dumps({"user_id": user_id, "blocked": before}),
                                 json.dumps({"user_id": user_id, "blocked": blocked, "reason": reason}))
        return before

    async def blocklist(self, guild_id: int) -> list[BlockedTerm]:
        rows = await self._pool.fetch(
            "SELECT pattern, is_regex FROM prompt_blocklist WHERE guild_id = $1 ORDER BY pattern", guild_id)
        return [BlockedTerm(r[0], bool(r[1])) for r in rows]

    async def set_blocklisted(self, guild_id: int, term: BlockedTerm, present: bool, *, actor_id: int) -> bool:
        """Add or remove a blocklist term; returns whether it was there before. Audited."""
        key = (guild_id, term.pattern, term.is_regex)
        where = "guild_id = $1 AND pattern = $2 AND is_regex = $3"
        async with self._write() as conn:
            before = await conn.fetchval(f"SELECT 1 FROM prompt_blocklist WHERE {where}", *key) is not None  # noqa: S608
            if present:
                await conn.execute("INSERT INTO prompt_blocklist (guild_id, pattern, is_regex) VALUES ($1, $2, $3) "
                                   "ON CONFLICT DO NOTHING", *key)
            else:
                await conn.execute(f"DELETE FROM prompt_blocklist WHERE {where}", *key)  # noqa: S608
            shown = json.dumps({"term": term.shown(), "present": before})
            await self._audit_in(conn, guild_id, actor_id, "mod.blocklist", shown,
                                 json.dumps({"term": term.shown(), "present": present}))
        return before

    async def _limit_in(self, conn: Connection, *key: object) -> Limit | None:
        row = await conn.fetchrow(
            f"SELECT guild_id, scope, target_id, period, videos, seconds FROM quota_limits WHERE {_LIMIT_KEY}",  # noqa: S608
            *key)
        return _limit(row) if row else None

    async def _audit_in(self, conn: Connection, guild_id: int, actor_id: int, action: str,
                        before: str | None, after: str | None) -> None:
        await conn.execute(
            "INSERT INTO audit_log (guild_id, actor_id, action, before, after, at) VALUES ($1, $2, $3, $4, $5, $6)",
            guild_id, actor_id, action, before, after, _at(self._clock()))


__all__ = ["PgQuotaStoreMixin", "reserve_in", "settle_in", "usage_in"]
