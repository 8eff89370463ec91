"""The provider pause (bot/jobs/pause.py) for both SQL stores: one episode at a time, shared by every process.

A base of SQLiteStore and PostgresStore beside SqlJobStore, written over the dialect's pieces (dialect.py).
At most one episode is in force (ended_at NULL), kept so by a unique index: starting one is an INSERT that
a second process, at the same moment or later, finds done; claiming a probe and ending the pause are
conditional UPDATEs that one caller wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.db.dialect import SqlDialect
from bot.db.rows import EPOCH, MS
from bot.jobs.pause import PauseKind, ProviderPause
from bot.jobs.store import StoreError

_PAUSE_COLUMNS = "episode, kind, started_at, next_probe_at, probes"
_SELECT_PAUSE = f"SELECT {_PAUSE_COLUMNS} FROM provider_pauses"


class SqlPauseStore(SqlDialect):
    """The provider pause's writes and reads of a SQL store."""

    async def start_provider_pause(self, kind: PauseKind, *, now: datetime, next_probe_at: datetime) -> bool:
        kind = PauseKind(kind)
        arg = self._params()
        start = (f"INSERT INTO provider_pauses (kind, started_at, next_probe_at) VALUES ({arg(kind.value)}, "
                 f"{arg(self._time(now, 'pause(now)'))}, {arg(self._time(next_probe_at, 'pause(next_probe_at)'))}) "
                 "ON CONFLICT DO NOTHING RETURNING episode")
        again = self._params()
        update = (f"UPDATE provider_pauses SET kind = {again(kind.value)}, "
                  f"next_probe_at = {again(self._time(next_probe_at, 'pause(next_probe_at)'))} WHERE ended_at IS NULL")
        async with self._write() as conn:
            if await self._conn_rows(conn, start, arg.values):
                return True
            await self._conn_execute(conn, update, again.values)
            return False

    async def provider_pause(self) -> ProviderPause | None:
        rows = await self._fetch_rows(f"{_SELECT_PAUSE} WHERE ended_at IS NULL", ())
        return self._pause_from_row(rows[0]) if rows else None

    async def claim_provider_probe(self, *, owner: str, due_by: datetime, next_probe_at: datetime) -> bool:
        arg = self._params()
        sql = (f"UPDATE provider_pauses SET next_probe_at = {arg(self._time(next_probe_at, 'probe(next_probe_at)'))}, "
               f"probe_owner = {arg(owner)}, probes = probes + 1 WHERE ended_at IS NULL "
               f"AND next_probe_at <= {arg(self._time(due_by, 'probe(due_by)'))} RETURNING episode")
        async with self._write() as conn:
            return bool(await self._conn_rows(conn, sql, arg.values))

    async def end_provider_pause(self, *, now: datetime) -> ProviderPause | None:
        arg = self._params()
        sql = (f"UPDATE provider_pauses SET ended_at = {arg(self._time(now, 'end_pause(now)'))} "
               f"WHERE ended_at IS NULL RETURNING {_PAUSE_COLUMNS}")
        async with self._write() as conn:
            rows = await self._conn_rows(conn, sql, arg.values)
        return self._pause_from_row(rows[0]) if rows else None

    async def note_paused_guilds(self) -> list[int]:
        sql = ("INSERT INTO provider_pause_guilds (episode, guild_id) SELECT DISTINCT pause.episode, jobs.guild_id "
               "FROM provider_pauses AS pause, jobs WHERE pause.ended_at IS NULL AND jobs.state = 'accepted' "
               "ON CONFLICT DO NOTHING RETURNING guild_id")
        async with self._write() as conn:
            return sorted(int(row[0]) for row in await self._conn_rows(conn, sql, ()))

    async def paused_guilds(self, episode: int) -> list[int]:
        arg = self._params()
        rows = await self._fetch_rows(
            f"SELECT guild_id FROM provider_pause_guilds WHERE episode = {arg(episode)} ORDER BY guild_id", arg.values)
        return [int(row[0]) for row in rows]

    def _pause_from_row(self, row: Any) -> ProviderPause:
        try:
            return ProviderPause(
                episode=int(row[0]), kind=PauseKind(str(row[1])),
                started_at=EPOCH + self._ms_from_db(row[2]) * MS, next_probe_at=EPOCH + self._ms_from_db(row[3]) * MS,
                probes=int(row[4]),
            )
        except (TypeError, ValueError) as exc:
            raise StoreError(f"provider pause {row[0]}: unreadable ({exc})") from None
