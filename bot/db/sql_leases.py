"""How work on a job is leased between processes, for both SQL stores: claiming a submit, leasing, renewing.

A lease (`lease_owner`, `lease_until`) is fenced by `attempt`, which every claim and lease moves on, so a
holder whose lease ran out cannot write over its successor (docs/DESIGN.md). Written once over the dialect's
pieces, except the statement that picks and leases jobs (`_lease_sql`): PostgreSQL passes over rows another
process is leasing (FOR UPDATE SKIP LOCKED); SQLite needs no such thing, its BEGIN IMMEDIATE already
serialises every writer of the file.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Collection, Sequence
from datetime import datetime

from bot.db.dialect import Params
from bot.db.sql_store import IN_FLIGHT_SQL, RELEASE, RETURNING, SqlJobStore, count_active_sql
from bot.jobs.models import Job
from bot.jobs.states import JobState

# Due polls: servers take turns, each server's longest waiting first (a NULL first: never polled yet). A server's
# 200 jobs at the provider then cannot hold back a small server's one when polls queue for the rate limit.
# Members need no turns here: each holds at most the active limit of jobs at the provider.
FAIR_POLLS = "ROW_NUMBER() OVER (PARTITION BY guild_id ORDER BY next_poll_at NULLS FIRST, seq)"


class SqlLeases(SqlJobStore):
    """The job store with its leases: what SQLiteStore and PostgresStore build on."""

    @abstractmethod
    def _lease_sql(self, arg: Params, states: Sequence[str], *, owner: str, now: object, until: object,
                   limit: int, due_only: bool) -> str:
        """The statement leasing up to `limit` jobs in `states` whose lease is free or ran out by `now` (with
        `due_only`, only polls due by `now`, longest waiting first, a NULL first; else oldest first) to
        `owner` until `until`, a fresh fencing number each; it returns `seq` and the job's columns."""

    async def _before_lease(self) -> None:
        """Run by each lease that may take jobs, before its transaction (PostgreSQL: keeps the clock in step)."""

    async def claim_submit(self, job_id: str, *, max_active: int, owner: str, until: datetime,
                           provider_cap: int | None = None) -> Job | None:
        arg = self._params()
        member = f"SELECT guild_id, user_id FROM jobs WHERE id = {arg(job_id)} AND state = 'accepted'"
        async with self._write() as conn:
            found = await self._conn_rows(conn, member, arg.values)
            if not found:
                return None
            guild_id, user_id = int(found[0][0]), int(found[0][1])
            # Held to the end of this transaction: two processes cannot both count the member's last free slot.
            await self._lock_in(conn, f"vidu-bot slots {guild_id} {user_id}")
            count = self._params()
            running = await self._conn_rows(conn, count_active_sql(count, guild_id, user_id), count.values)
            if int(running[0][0]) >= max_active:
                return None
            if provider_cap is not None:
                # Taken after the member's lock, always in this order: no two claims wait on each other.
                await self._lock_in(conn, "vidu-bot provider slots")
                flying = await self._conn_rows(conn, IN_FLIGHT_SQL, [])
                if int(flying[0][0]) >= provider_cap:
                    return None
            claim = self._params()
            # sent_at cleared: this claim has sent nothing yet (mark_sent sets it just before the paid call).
            sql = (f"UPDATE jobs SET state = 'submitting', attempt = attempt + 1, sent_at = NULL, "
                   f"lease_owner = {claim(owner)}, "
                   f"lease_until = {claim(self._time(until, 'claim_submit(until)'))} "
                   f"WHERE id = {claim(job_id)} AND state = 'accepted' {RETURNING}")
            rows = await self._conn_rows(conn, sql, claim.values)
        return self._decode_row(rows[0]) if rows else None

    async def lease(
        self,
        states: Collection[JobState],
        *,
        owner: str,
        now: datetime,
        until: datetime,
        limit: int,
        due_only: bool = False,
    ) -> list[Job]:
        values = sorted(JobState(s).value for s in states)
        if not values or limit <= 0:
            return []
        await self._before_lease()
        arg = self._params()
        sql = self._lease_sql(arg, values, owner=owner, now=self._time(now, "lease(now)"),
                              until=self._time(until, "lease(until)"), limit=limit, due_only=due_only)
        async with self._write() as conn:
            rows = await self._conn_rows(conn, sql, arg.values)
        # RETURNING gives no order; callers expect oldest first.
        return [self._decode_row(row) for row in sorted(rows, key=lambda r: int(r["seq"]))]

    async def renew_leases(self, owner: str, job_ids: Collection[str], *, until: datetime) -> set[str]:
        if not job_ids:
            return set()
        arg = self._params()
        sql = (f"UPDATE jobs SET lease_until = {arg(self._time(until, 'renew(until)'))} WHERE lease_owner = "
               f"{arg(owner)} AND id {arg.one_of(sorted(job_ids))} RETURNING id")
        async with self._write() as conn:
            return {str(row[0]) for row in await self._conn_rows(conn, sql, arg.values)}

    async def release_leases(self, *, host: str, except_owner: str) -> list[str]:
        prefix = f"{host}:"
        arg = self._params()
        sql = (f"UPDATE jobs SET {', '.join(RELEASE)} WHERE lease_owner IS NOT NULL "
               f"AND substr(lease_owner, 1, {arg(len(prefix))}) = {arg(prefix)} "
               f"AND lease_owner <> {arg(except_owner)} RETURNING id")
        async with self._write() as conn:
            return sorted(str(row[0]) for row in await self._conn_rows(conn, sql, arg.values))
