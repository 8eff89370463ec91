"""The ledger read `python -m bot ledger` reconciles with the provider: one query for both SQL stores.

A base of SQLiteStore and PostgresStore beside SqlQuotaStore; read-only, outside any write transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.db.dialect import SqlDialect
from bot.db.rows import EPOCH
from bot.jobs.ledger import LedgerEntry, Settlement
from bot.jobs.states import JobState

# A job's reservation, its settlement (one row per (entry, kind), so at most one of each) and its job.
_ENTRIES = """
SELECT r.entry, r.guild_id, r.user_id, j.state, j.task_id, r.videos, r.seconds, r.credits, r.at,
       c.entry IS NOT NULL, f.entry IS NOT NULL, j.succeeded_at IS NOT NULL
FROM quota_ledger AS r
JOIN jobs AS j ON j.id = r.entry
LEFT JOIN quota_ledger AS c ON c.entry = r.entry AND c.kind = 'consume'
LEFT JOIN quota_ledger AS f ON f.entry = r.entry AND f.kind = 'refund'
WHERE r.kind = 'reserve' AND r.at >= {since}{guild}
ORDER BY r.guild_id, r.at, r.entry
"""


class SqlLedgerReport(SqlDialect):
    async def ledger_entries(self, since: datetime, guild_id: int | None = None) -> list[LedgerEntry]:
        arg = self._params()
        since_at = arg(self._time(since, "since"))
        guild = "" if guild_id is None else f" AND r.guild_id = {arg(guild_id)}"
        rows = await self._fetch_rows(_ENTRIES.format(since=since_at, guild=guild), arg.values)
        entries: list[LedgerEntry] = []
        for row in rows:
            state = JobState(row[3])
            if row[9]:
                settlement = Settlement.CHARGED
            elif row[10]:
                settlement = Settlement.REFUNDED
            elif state is JobState.SUBMIT_UNKNOWN:
                settlement = Settlement.UNDECIDED
            else:
                settlement = Settlement.IN_FLIGHT
            entries.append(LedgerEntry(
                job_id=str(row[0]), guild_id=int(row[1]), user_id=int(row[2]), state=state,
                task_id=row[4] or None, videos=int(row[5]), seconds=int(row[6]), credits=int(row[7] or 0),
                reserved_at=EPOCH + timedelta(milliseconds=self._ms_from_db(row[8])), settlement=settlement,
                made=state is JobState.DELIVERED or bool(row[11]),
            ))
        return entries


__all__ = ["SqlLedgerReport"]
