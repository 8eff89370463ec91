"""The quota ledger, limits, server settings, moderation and audit log, for both SQL stores.

A base of SQLiteStore and PostgresStore, so every write shares the store's one-transaction `_write()`:
the reservation is written in the transaction that creates the job, refunds and consumption in the
transaction of the job transition that causes them, and every moderator change with its audit entry.
SQLite serialises all writers; PostgreSQL does not, so reserving first takes a per-server lock there
(`_lock_guild_in`): two requests (from any process) at the same instant check and reserve one after the
other and can never overdraw. The dialects differ only in the pieces of `SqlDialect`.
The operator's budget spans every server: when one applies, reserving first takes one global lock
(`_lock_budget_in`, before the server's), so requests from every server check it one after the other.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.db.dialect import SqlDialect
from bot.jobs.states import CHARGED_ENDINGS, REFUNDED_ENDINGS, JobState
from bot.moderation import BlockedTerm
from bot.quotas.models import Charge, GuildSettings, Limit, Period, QuotaCheck, QuotaExceeded, Scope, Usage

# A member's usage: reservations not refunded, less one-off grants. The pool ignores grants: a grant
# lets one member go further, never the server past its pool.
_USAGE = """
SELECT COALESCE(SUM(CASE WHEN kind = 'grant' THEN -videos ELSE videos END), 0),
       COALESCE(SUM(CASE WHEN kind = 'grant' THEN -seconds ELSE seconds END), 0),
       COALESCE(SUM(CASE WHEN kind = 'grant' THEN -credits ELSE credits END), 0)
FROM quota_ledger AS l
WHERE guild_id = {guild} AND at >= {since} AND {who}
  AND (kind = 'grant' OR (kind = 'reserve' AND NOT EXISTS
       (SELECT 1 FROM quota_ledger AS r WHERE r.entry = l.entry AND r.kind = 'refund')))
"""
# The operator's budget: every server's reservations not refunded (grants never count).
_BUDGET_USAGE = """
SELECT COALESCE(SUM(videos), 0), COALESCE(SUM(seconds), 0), COALESCE(SUM(credits), 0)
FROM quota_ledger AS l
WHERE kind = 'reserve' AND at >= {since}
  AND NOT EXISTS (SELECT 1 FROM quota_ledger AS r WHERE r.entry = l.entry AND r.kind = 'refund')
"""
_LIMIT_COLUMNS = "guild_id, scope, target_id, period, videos, seconds, credits"


def _limit(row: Sequence[Any]) -> Limit:
    return Limit(int(row[0]), Scope(row[1]), int(row[2]), Period(row[3]), row[4], row[5], row[6])


def _usage(rows: Sequence[Any]) -> Usage:
    return Usage(int(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else Usage()


def _limit_json(limit: Limit | None) -> str | None:
    if limit is None:
        return None
    return json.dumps({"scope": limit.scope.value, "target_id": limit.target_id, "period": limit.period.value,
                       "videos": limit.videos, "seconds": limit.seconds, "credits": limit.credits})


class SqlQuotaStore(SqlDialect):
    # -- inside the job store's transactions ------------------------------------------------------

    async def _usage_in(self, conn: Any | None, guild_id: int, user_id: int | None, since: datetime) -> Usage:
        """Usage read inside `conn`'s transaction (None: on its own)."""
        arg = self._params()
        guild, since_at = arg(guild_id), arg(self._time(since, "since"))
        who = "kind <> 'grant'" if user_id is None else f"user_id = {arg(user_id)}"
        sql = _USAGE.format(guild=guild, since=since_at, who=who)
        rows = await (self._fetch_rows(sql, arg.values) if conn is None else self._conn_rows(conn, sql, arg.values))
        return _usage(rows)

    async def _budget_usage_in(self, conn: Any | None, since: datetime) -> Usage:
        """Every server's usage since `since`, inside `conn`'s transaction (None: on its own)."""
        arg = self._params()
        sql = _BUDGET_USAGE.format(since=arg(self._time(since, "since")))
        rows = await (self._fetch_rows(sql, arg.values) if conn is None else self._conn_rows(conn, sql, arg.values))
        return _usage(rows)

    async def _lock_budget_in(self, conn: Any) -> None:
        """Serialise reservations of every server until `conn`'s transaction ends (the operator's budget,
        which spans every server and process: one lock for all, taken before any server's)."""
        await self._lock_in(conn, "vidu-bot budget")

    async def _reserve_in(self, conn: Any, job_id: str, charge: Charge, checks: Sequence[QuotaCheck],
                          now: datetime) -> None:
        """Inside the job-creating transaction: refuse (QuotaExceeded) or write the reservation."""
        if any(check.is_budget for check in checks):
            await self._lock_budget_in(conn)  # always before the server's lock: one order, no deadlock
        await self._lock_guild_in(conn, charge.guild_id)
        for check in checks:
            if check.is_budget:
                used = await self._budget_usage_in(conn, check.since)
            else:
                used = await self._usage_in(conn, charge.guild_id, check.user_id, check.since)
            if not QuotaExceeded.fits(check.limit, used, charge):
                raise QuotaExceeded(check, used, charge)
        arg = self._params()
        await self._conn_execute(
            conn,
            "INSERT INTO quota_ledger (entry, kind, guild_id, user_id, videos, seconds, credits, at) "
            f"VALUES ({arg(job_id)}, 'reserve', {arg(charge.guild_id)}, {arg(charge.user_id)}, {arg(charge.videos)}, "
            f"{arg(charge.seconds)}, {arg(charge.credits)}, {arg(self._time(now, 'now'))})",
            arg.values,
        )

    async def _settle_in(self, conn: Any, job_id: str, to: JobState, now: datetime) -> None:
        """Inside a job transition: settle by what the provider billed (bot/jobs/states.py): consume a
        charged ending, refund one the provider did not bill; `submit_unknown` keeps its reservation. One
        row per (job, kind): a retried transition settles nothing twice."""
        kind = "consume" if to in CHARGED_ENDINGS else "refund" if to in REFUNDED_ENDINGS else None
        if kind is None:
            return
        arg = self._params()
        await self._conn_execute(
            conn,
            "INSERT INTO quota_ledger (entry, kind, guild_id, user_id, videos, seconds, credits, at) "
            f"SELECT entry, {arg(kind)}, guild_id, user_id, videos, seconds, credits, {arg(self._time(now, 'now'))} "
            f"FROM quota_ledger WHERE entry = {arg(job_id)} AND kind = 'reserve' "
            "ON CONFLICT (entry, kind) DO NOTHING",
            arg.values,
        )

    # -- the QuotaStore interface ---------------------------------------------------------------

    async def usage(self, guild_id: int, user_id: int | None, since: datetime) -> Usage:
        return await self._usage_in(None, guild_id, user_id, since)

    async def budget_usage(self, since: datetime) -> Usage:
        return await self._budget_usage_in(None, since)

    async def usage_by_member(self, guild_id: int, since: datetime, limit: int = 10) -> list[tuple[int, Usage]]:
        arg = self._params()
        rows = await self._fetch_rows(
            "SELECT user_id, SUM(videos), SUM(seconds), SUM(credits) FROM quota_ledger AS l "
            f"WHERE guild_id = {arg(guild_id)} AND at >= {arg(self._time(since, 'since'))} AND kind = 'reserve' "
            "AND NOT EXISTS (SELECT 1 FROM quota_ledger AS r WHERE r.entry = l.entry AND r.kind = 'refund') "
            f"GROUP BY user_id ORDER BY SUM(credits) DESC, SUM(seconds) DESC, SUM(videos) DESC LIMIT {arg(limit)}",
            arg.values,
        )
        return [(int(r[0]), Usage(int(r[1]), int(r[2]), int(r[3]))) for r in rows]

    async def limits(self, guild_id: int) -> list[Limit]:
        arg = self._params()
        rows = await self._fetch_rows(
            f"SELECT {_LIMIT_COLUMNS} FROM quota_limits WHERE guild_id = {arg(guild_id)} "
            "ORDER BY scope, target_id, period",
            arg.values,
        )
        return [_limit(r) for r in rows]

    async def set_limit(self, limit: Limit, *, actor_id: int) -> Limit | None:
        """Set (or replace) a limit; returns the one it replaced. Audited in the same transaction."""
        key = (limit.guild_id, limit.scope.value, limit.target_id, limit.period.value)
        async with self._write() as conn:
            before = await self._limit_in(conn, key)
            arg = self._params()
            await self._conn_execute(
                conn,
                f"INSERT INTO quota_limits ({_LIMIT_COLUMNS}) "
                f"VALUES ({', '.join(arg(v) for v in (*key, limit.videos, limit.seconds, limit.credits))}) "
                "ON CONFLICT (guild_id, scope, target_id, period) "
                "DO UPDATE SET videos = excluded.videos, seconds = excluded.seconds, credits = excluded.credits",
                arg.values,
            )
            await self._audit_in(conn, limit.guild_id, actor_id, "quota.set", _limit_json(before),
                                 _limit_json(limit))
        return before

    async def clear_limit(self, guild_id: int, scope: Scope, target_id: int, period: Period, *,
                          actor_id: int) -> Limit | None:
        key = (guild_id, scope.value, target_id, period.value)
        async with self._write() as conn:
            before = await self._limit_in(conn, key)
            if before is not None:
                arg = self._params()
                await self._conn_execute(conn, f"DELETE FROM quota_limits WHERE {_limit_key(arg, key)}", arg.values)
                await self._audit_in(conn, guild_id, actor_id, "quota.clear", _limit_json(before), None)
        return before

    async def grant(self, guild_id: int, user_id: int, *, videos: int, seconds: int, actor_id: int,
                    credits: int = 0) -> None:
        """A one-off allowance for a member in the current windows (a ledger row that counts negative)."""
        async with self._write() as conn:
            arg = self._params()
            values = (f"grant:{secrets.token_hex(8)}", guild_id, user_id, videos, seconds, credits,
                      self._time(self._clock(), "now"))
            await self._conn_execute(
                conn,
                "INSERT INTO quota_ledger (entry, kind, guild_id, user_id, videos, seconds, credits, at) "
                f"VALUES ({arg(values[0])}, 'grant', {', '.join(arg(v) for v in values[1:])})",
                arg.values,
            )
            await self._audit_in(conn, guild_id, actor_id, "quota.grant", None, json.dumps(
                {"user_id": user_id, "videos": videos, "seconds": seconds, "credits": credits}))

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        arg = self._params()
        rows = await self._fetch_rows(f"SELECT settings FROM guild_settings WHERE guild_id = {arg(guild_id)}",
                                      arg.values)
        return GuildSettings.from_json(json.loads(rows[0][0])) if rows else GuildSettings()

    async def set_guild_settings(self, guild_id: int, settings: GuildSettings, *, actor_id: int,
                                 action: str) -> GuildSettings:
        """Replace the server's settings; returns the previous ones. Audited in the same transaction."""
        async with self._write() as conn:
            arg = self._params()
            rows = await self._conn_rows(
                conn, f"SELECT settings FROM guild_settings WHERE guild_id = {arg(guild_id)}{self.FOR_UPDATE}",
                arg.values,
            )
            before = GuildSettings.from_json(json.loads(rows[0][0])) if rows else GuildSettings()
            after = json.dumps(settings.to_json())
            arg = self._params()
            await self._conn_execute(
                conn,
                f"INSERT INTO guild_settings (guild_id, settings) VALUES ({arg(guild_id)}, {arg(after)}) "
                "ON CONFLICT (guild_id) DO UPDATE SET settings = excluded.settings",
                arg.values,
            )
            await self._audit_in(conn, guild_id, actor_id, action, json.dumps(before.to_json()), after)
        return before

    async def audit(self, guild_id: int, limit: int = 20) -> list[dict[str, Any]]:
        arg = self._params()
        rows = await self._fetch_rows(
            "SELECT actor_id, action, before, after, at FROM audit_log "
            f"WHERE guild_id = {arg(guild_id)} ORDER BY id DESC LIMIT {arg(limit)}",
            arg.values,
        )
        # `at` in integer milliseconds since the epoch on every backend.
        return [{"actor_id": r[0], "action": r[1], "before": r[2], "after": r[3], "at": self._ms_from_db(r[4])}
                for r in rows]

    async def is_blocked(self, guild_id: int, user_id: int) -> bool:
        arg = self._params()
        rows = await self._fetch_rows(
            f"SELECT 1 FROM blocked_members WHERE guild_id = {arg(guild_id)} AND user_id = {arg(user_id)}",
            arg.values,
        )
        return bool(rows)

    async def set_blocked(self, guild_id: int, user_id: int, blocked: bool, *, actor_id: int,
                          reason: str | None = None) -> bool:
        """Block or unblock a member; returns whether they were blocked before. Audited."""
        async with self._write() as conn:
            arg = self._params()
            where = f"guild_id = {arg(guild_id)} AND user_id = {arg(user_id)}"
            before = bool(await self._conn_rows(conn, f"SELECT 1 FROM blocked_members WHERE {where}", arg.values))
            if blocked:
                arg = self._params()
                await self._conn_execute(
                    conn,
                    "INSERT INTO blocked_members (guild_id, user_id, reason) "
                    f"VALUES ({arg(guild_id)}, {arg(user_id)}, {arg(reason)}) "
                    # A moderator's block replaces a pause by strikes (bot/strikes.py): it is theirs now.
                    "ON CONFLICT (guild_id, user_id) DO UPDATE SET reason = excluded.reason, strikes = NULL",
                    arg.values,
                )
            else:
                await self._conn_execute(conn, f"DELETE FROM blocked_members WHERE {where}", arg.values)
                # Let go: the content strikes so far no longer count towards a pause (bot/strikes.py).
                arg = self._params()
                await self._conn_execute(
                    conn,
                    f"UPDATE content_strikes SET lifted_at = {arg(self._time(self._clock(), 'now'))} "
                    f"WHERE guild_id = {arg(guild_id)} AND user_id = {arg(user_id)} AND lifted_at IS NULL",
                    arg.values,
                )
            await self._audit_in(conn, guild_id, actor_id, "mod.block" if blocked else "mod.unblock",
                                 json.dumps({"user_id": user_id, "blocked": before}),
                                 json.dumps({"user_id": user_id, "blocked": blocked, "reason": reason}))
        return before

    async def blocklist(self, guild_id: int) -> list[BlockedTerm]:
        arg = self._params()
        rows = await self._fetch_rows(
            f"SELECT pattern, is_regex FROM prompt_blocklist WHERE guild_id = {arg(guild_id)} ORDER BY pattern",
            arg.values,
        )
        return [BlockedTerm(r[0], bool(r[1])) for r in rows]

    async def set_blocklisted(self, guild_id: int, term: BlockedTerm, present: bool, *, actor_id: int) -> bool:
        """Add or remove a blocklist term; returns whether it was there before. Audited."""
        key = (guild_id, term.pattern, self._flag(term.is_regex))
        async with self._write() as conn:
            arg = self._params()
            where = f"guild_id = {arg(key[0])} AND pattern = {arg(key[1])} AND is_regex = {arg(key[2])}"
            before = bool(await self._conn_rows(conn, f"SELECT 1 FROM prompt_blocklist WHERE {where}",
                                                arg.values))
            if present:
                arg = self._params()
                await self._conn_execute(
                    conn,
                    "INSERT INTO prompt_blocklist (guild_id, pattern, is_regex) "
                    f"VALUES ({', '.join(arg(v) for v in key)}) ON CONFLICT DO NOTHING",
                    arg.values,
                )
            else:
                await self._conn_execute(conn, f"DELETE FROM prompt_blocklist WHERE {where}", arg.values)
            shown = json.dumps({"term": term.shown(), "present": before})
            await self._audit_in(conn, guild_id, actor_id, "mod.blocklist", shown,
                                 json.dumps({"term": term.shown(), "present": present}))
        return before

    async def _limit_in(self, conn: Any, key: tuple[object, ...]) -> Limit | None:
        arg = self._params()
        rows = await self._conn_rows(
            conn, f"SELECT {_LIMIT_COLUMNS} FROM quota_limits WHERE {_limit_key(arg, key)}", arg.values
        )
        return _limit(rows[0]) if rows else None

    async def _audit_in(self, conn: Any, guild_id: int, actor_id: int, action: str,
                        before: str | None, after: str | None) -> None:
        arg = self._params()
        values = (guild_id, actor_id, action, before, after, self._time(self._clock(), "now"))
        await self._conn_execute(
            conn,
            "INSERT INTO audit_log (guild_id, actor_id, action, before, after, at) "
            f"VALUES ({', '.join(arg(v) for v in values)})",
            arg.values,
        )


def _limit_key(arg: Any, key: tuple[object, ...]) -> str:
    guild_id, scope, target_id, period = key
    return (f"guild_id = {arg(guild_id)} AND scope = {arg(scope)} AND target_id = {arg(target_id)} "
            f"AND period = {arg(period)}")


__all__ = ["SqlQuotaStore"]
