"""Take-downs and reports (bot/takedowns.py) for both SQL stores, over the dialect's pieces (dialect.py)."""

from __future__ import annotations

import json
from datetime import datetime

from bot.db.dialect import SqlDialect
from bot.takedowns import (
    REPORT_WINDOW,
    REPORTS_PER_WINDOW,
    Report,
    ReportOutcome,
    ReportResult,
    Role,
    Takedown,
)

_TAKEDOWN_COLUMNS = "job_id, guild_id, actor_id, role, reason, at"


class SqlTakedownStore(SqlDialect):
    """The take-downs' and reports' reads and writes of a SQL store."""

    async def record_takedown(self, takedown: Takedown) -> bool:
        at = self._time(takedown.at, "record_takedown(at)")
        async with self._write() as conn:
            arg = self._params()
            new = await self._conn_rows(
                conn,
                f"INSERT INTO takedowns ({_TAKEDOWN_COLUMNS}) VALUES ({arg(takedown.job_id)}, "
                f"{arg(takedown.guild_id)}, {arg(takedown.actor_id)}, {arg(takedown.role.value)}, "
                f"{arg(takedown.reason)}, {arg(at)}) "
                "ON CONFLICT (job_id) DO NOTHING RETURNING job_id",
                arg.values)
            if not new:  # removed before (two presses at once, or another process): that one stands
                return False
            arg = self._params()
            after = json.dumps({"job_id": takedown.job_id, "as": takedown.role.value, "reason": takedown.reason},
                               ensure_ascii=False)
            await self._conn_execute(
                conn,
                "INSERT INTO audit_log (guild_id, actor_id, action, before, after, at) "
                f"VALUES ({arg(takedown.guild_id)}, {arg(takedown.actor_id)}, 'post.takedown', NULL, {arg(after)}, "
                f"{arg(at)})",
                arg.values)
        return True

    async def takedown(self, job_id: str) -> Takedown | None:
        arg = self._params()
        rows = await self._fetch_rows(f"SELECT {_TAKEDOWN_COLUMNS} FROM takedowns WHERE job_id = {arg(job_id)}",
                                      arg.values)
        if not rows:
            return None
        row = rows[0]
        at = self._time_from_db(row[5])
        assert at is not None
        return Takedown(job_id=str(row[0]), guild_id=int(row[1]), actor_id=int(row[2]), role=Role(row[3]),
                        reason=row[4], at=at)

    async def job_for_message(self, guild_id: int, message_id: int) -> str | None:
        arg = self._params()
        server = f"guild_id = {arg(guild_id)}"  # (placeholders in the order they are written: SQLite's are `?`)
        where = " OR ".join(f"{column} = {arg(message_id)}"
                            for column in ("card_message_id", "delivered_message_id", "status_message_id"))
        rows = await self._fetch_rows(f"SELECT id FROM jobs WHERE {server} AND ({where}) LIMIT 1", arg.values)
        return str(rows[0][0]) if rows else None

    async def record_report(self, guild_id: int, job_id: str, reporter_id: int, reason: str, *,
                            now: datetime) -> ReportResult:
        at = self._time(now, "record_report(now)")
        async with self._write() as conn:
            await self._lock_guild_in(conn, guild_id)  # a member's burst of reports is counted one at a time
            arg = self._params()
            if await self._conn_rows(
                conn, f"SELECT 1 FROM video_reports WHERE job_id = {arg(job_id)} AND reporter_id = {arg(reporter_id)}",
                arg.values,
            ):
                return ReportResult(ReportOutcome.REPEAT)
            arg = self._params()
            since = self._time(now - REPORT_WINDOW, "record_report(since)")
            recent = await self._conn_rows(
                conn,
                f"SELECT at FROM video_reports WHERE guild_id = {arg(guild_id)} AND reporter_id = {arg(reporter_id)} "
                f"AND at > {arg(since)} ORDER BY at",
                arg.values)
            if len(recent) >= REPORTS_PER_WINDOW:
                # Free again once the oldest report that counts leaves the window.
                oldest = self._time_from_db(recent[len(recent) - REPORTS_PER_WINDOW][0])
                assert oldest is not None
                return ReportResult(ReportOutcome.TOO_MANY, retry_at=oldest + REPORT_WINDOW)
            arg = self._params()
            await self._conn_execute(
                conn,
                "INSERT INTO video_reports (job_id, reporter_id, guild_id, reason, at) "
                f"VALUES ({arg(job_id)}, {arg(reporter_id)}, {arg(guild_id)}, {arg(reason)}, {arg(at)})",
                arg.values)
            arg = self._params()
            rows = await self._conn_rows(
                conn, f"SELECT count(*), max(modlog_message_id) FROM video_reports WHERE job_id = {arg(job_id)}",
                arg.values)
            posted = rows[0][1]
            return ReportResult(ReportOutcome.NEW, reporters=int(rows[0][0]),
                                modlog_message_id=None if posted is None else int(posted))

    async def reports(self, job_id: str) -> list[Report]:
        arg = self._params()
        rows = await self._fetch_rows(
            f"SELECT reporter_id, reason, at FROM video_reports WHERE job_id = {arg(job_id)} ORDER BY at, reporter_id",
            arg.values)
        found = []
        for row in rows:
            at = self._time_from_db(row[2])
            assert at is not None
            found.append(Report(reporter_id=int(row[0]), reason=str(row[1]), at=at))
        return found

    async def set_report_message(self, job_id: str, message_id: int) -> None:
        arg = self._params()
        async with self._write() as conn:
            await self._conn_execute(
                conn, f"UPDATE video_reports SET modlog_message_id = {arg(message_id)} WHERE job_id = {arg(job_id)}",
                arg.values)


__all__ = ["SqlTakedownStore"]
