"""`JobStore` on SQLite (aiosqlite), durable: WAL, synchronous=FULL, BEGIN IMMEDIATE writes.

Two connections per store:
- one *writer*, guarded by an asyncio.Lock, so each mutation is one whole `BEGIN IMMEDIATE ... COMMIT`
  that no other coroutine can interleave statements into (a shared connection has one transaction);
- one *reader* in autocommit, so a read never sees another coroutine's uncommitted write (WAL gives it
  the last committed snapshot) and reads never queue behind a write's fsync.
Several processes on one file are safe too: BEGIN IMMEDIATE takes the write lock up front and
`busy_timeout` makes the loser wait instead of failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.db.dialect import Params
from bot.db.migration_files import MIGRATIONS_ROOT, Migration
from bot.db.migration_files import load_migrations as load_sql_files
from bot.db.rows import JOB_COLUMNS, from_ms, to_ms
from bot.db.sql_leases import FAIR_POLLS, SqlLeases
from bot.db.sql_member_settings import SqlMemberSettings
from bot.db.sql_migrate import Begin, SqlMigrations
from bot.db.sql_pause import SqlPauseStore
from bot.db.sql_quotas import SqlQuotaStore
from bot.db.sql_report import SqlLedgerReport
from bot.db.sql_review import SqlReviewStore
from bot.db.sql_store import LOOP_JOBS, NOT_HELD
from bot.db.sql_strikes import SqlStrikeStore
from bot.db.sql_takedowns import SqlTakedownStore
from bot.jobs.models import utcnow
from bot.jobs.outage import translate_outages
from bot.jobs.store import StoreError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = MIGRATIONS_ROOT / "sqlite"
BUSY_TIMEOUT_MS = 10_000


# ---------------------------------------------------------------------------------------------- paths


def sqlite_path_from_url(path_or_url: str | os.PathLike[str]) -> Path:
    """`sqlite:///rel/path.db` (relative), `sqlite:////abs/path.db` (absolute) or a bare path."""
    text = os.fspath(path_or_url)
    if "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme.lower() not in ("sqlite", "sqlite3"):
            raise ValueError(f"DATABASE_URL: scheme {scheme!r} is not SQLite (expected sqlite:///path.db)")
        if not rest.startswith("/"):
            raise ValueError("DATABASE_URL: a SQLite URL has no host; use sqlite:///relative.db or sqlite:////abs.db")
        text = rest[1:]
    if not text.strip():
        raise ValueError("DATABASE_URL: the SQLite database path is empty")
    if text == ":memory:" or text.startswith("file:"):
        raise ValueError(f"DATABASE_URL: {text!r} is not a file path; jobs must survive a restart")
    return Path(text)


# ----------------------------------------------------------------------------------------- migrations


def split_statements(script: str) -> list[str]:
    """Split a SQL file into statements (so they can run inside our own transaction; executescript
    would commit first). sqlite3.complete_statement understands quotes and trigger bodies."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    leftover = [ln for ln in pending.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    if leftover:
        raise ValueError(f"unterminated SQL statement (missing ';'?): {leftover[0].strip()[:80]!r}")
    return statements


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every `V<n>__<name>.sql` in `directory`, by version. Blocking: call in a thread."""
    return load_sql_files(directory, split_statements)


# ---------------------------------------------------------------------------------------------- store


# What the file being away looks like: SQLite's own words for it, after its busy timeout where that applies.
_SQLITE_OUTAGE_WORDS = ("unable to open", "disk i/o", "database is locked", "readonly database", "disk is full")


def _sqlite_outage(error: BaseException) -> bool:
    if isinstance(error, sqlite3.OperationalError):
        return any(words in str(error).lower() for words in _SQLITE_OUTAGE_WORDS)
    return isinstance(error, OSError)


@translate_outages(_sqlite_outage)
class SQLiteStore(SqlQuotaStore, SqlLedgerReport, SqlPauseStore, SqlStrikeStore, SqlReviewStore,
                  SqlMemberSettings, SqlTakedownStore, SqlMigrations, SqlLeases):
    """Open with `await SQLiteStore.open(url)` (or `async with await SQLiteStore.open(url) as store`)."""

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        *,
        clock: Callable[[], datetime],
        migrations_dir: Path,
    ) -> None:
        self.path = path
        self._where = str(path)
        self._writer = writer
        self._reader = reader
        self._clock = clock
        self._migrations_dir = migrations_dir
        self._write_lock = asyncio.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    @classmethod
    async def open(
        cls,
        path_or_url: str | os.PathLike[str],
        *,
        clock: Callable[[], datetime] = utcnow,
        migrate: bool = True,
        migrations_dir: Path = MIGRATIONS_DIR,
    ) -> SQLiteStore:
        path = sqlite_path_from_url(path_or_url)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        try:
            writer = await _connect(path)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot open the SQLite database ({exc})") from None
        try:
            # WAL is a property of the file: set once by the writer, readers then use it too.
            async with writer.execute("PRAGMA journal_mode=WAL") as cursor:
                mode = await cursor.fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise StoreError(f"{path}: could not switch the database to WAL journal mode")
            reader = await _connect(path)
        except sqlite3.DatabaseError as exc:
            await writer.close()
            raise StoreError(f"{path}: not a usable SQLite database ({exc})") from None
        except BaseException:
            await writer.close()
            raise
        store = cls(path, writer, reader, clock=clock, migrations_dir=migrations_dir)
        if migrate:
            try:
                await store.migrate()
            except BaseException:
                await store.close()
                raise
        return store

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._write_lock:  # let an in-flight transaction finish rather than cut it
            await self._writer.close()
        await self._reader.close()

    # -- the dialect's pieces (dialect.py) ---------------------------------------------------------

    async def _fetch_rows(self, sql: str, values: Sequence[object]) -> Sequence[Any]:
        return list(await self._reader.execute_fetchall(sql, values))

    async def _conn_rows(self, conn: aiosqlite.Connection, sql: str, values: Sequence[object]) -> Sequence[Any]:
        async with conn.execute(sql, values) as cursor:
            return list(await cursor.fetchall())

    async def _conn_execute(self, conn: aiosqlite.Connection, sql: str, values: Sequence[object]) -> None:
        await conn.execute(sql, values)

    async def _conn_count(self, conn: aiosqlite.Connection, sql: str, values: Sequence[object]) -> int:
        async with conn.execute(sql, values) as cursor:
            return cursor.rowcount

    async def _conn_executemany(self, conn: aiosqlite.Connection, sql: str, rows: Sequence[Sequence[object]]) -> None:
        await conn.executemany(sql, rows)

    def _time(self, value: datetime, what: str) -> object:
        return to_ms(value, what)

    def _time_from_db(self, value: Any) -> datetime | None:
        return from_ms(value)

    def _ms_from_db(self, value: Any) -> int:
        return int(value)

    def _flag(self, value: bool) -> object:
        return int(value)

    async def _lock_in(self, conn: aiosqlite.Connection, name: str) -> None:
        pass  # BEGIN IMMEDIATE already holds SQLite's one write lock: every writer of the file waits for us

    def _lease_sql(self, arg: Params, states: Sequence[str], *, owner: str, now: object, until: object,
                   limit: int, due_only: bool) -> str:
        # One process per SQLite file is the supported shape, but the same statement keeps several processes
        # on one file correct too: BEGIN IMMEDIATE serialises them (no SKIP LOCKED needed: nothing is locked
        # by others while we hold the write lock).
        # `?` placeholders: the values are added in the order the statement names them.
        sql = (f"UPDATE jobs SET lease_owner = {arg(owner)}, lease_until = {arg(until)}, attempt = attempt + 1 "  # noqa: S608
               f"WHERE seq IN (SELECT seq FROM ")
        free = (f"state {arg.one_of(states)} AND {LOOP_JOBS} AND (lease_until IS NULL OR lease_until <= {arg(now)}) "
                f"AND {NOT_HELD}")
        if due_only:  # servers take turns (FAIR_POLLS); ascending order puts a NULL first in SQLite
            sql += (f"(SELECT seq, next_poll_at, {FAIR_POLLS} AS turn FROM jobs WHERE {free} "  # noqa: S608
                    f"AND (next_poll_at IS NULL OR next_poll_at <= {arg(now)})) ORDER BY turn, next_poll_at, seq")
        else:
            sql += f"jobs WHERE {free} ORDER BY seq"
        return f"{sql} LIMIT {arg(limit)}) RETURNING seq, {', '.join(JOB_COLUMNS)}"

    # -- transactions ----------------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One BEGIN IMMEDIATE transaction on the writer. Every mutation goes through here, so a later
        quota-ledger write can join the same transaction as the job transition it belongs to."""
        if self._closed:
            raise StoreError(f"{self!r} is closed")
        async with self._write_lock:
            conn = self._writer
            try:
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
                await asyncio.shield(conn.commit())
            except BaseException:
                # Shielded: a cancelled caller must not leave the shared connection mid-transaction.
                # (After a commit that went through, the ROLLBACK finds no transaction and does nothing.)
                await asyncio.shield(_rollback(conn))
                raise

    # -- migrations (sql_migrate.py) ------------------------------------------------------------

    async def migrate(self) -> list[int]:
        migrations = await asyncio.to_thread(load_migrations, self._migrations_dir)
        return await self._apply_migrations(migrations, driver_error=sqlite3.Error, log=log)

    @asynccontextmanager
    async def _migrating(self) -> AsyncIterator[Begin]:
        # Nothing to hold: each migration's BEGIN IMMEDIATE makes a second process opening the file at once
        # wait, then find the migration applied.
        async with self._write() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
            )
        yield self._write


async def _connect(path: Path) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves instead of the module's implicit BEGIN.
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        for pragma in (
            f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
            "PRAGMA synchronous = FULL",  # a committed transition survives a power cut, not only a crash
            "PRAGMA foreign_keys = ON",
        ):
            await conn.execute(pragma)
    except BaseException:
        await conn.close()
        raise
    return conn


async def _rollback(conn: aiosqlite.Connection) -> None:
    with contextlib.suppress(sqlite3.OperationalError):  # BEGIN failed or never ran: nothing to undo
        await conn.execute("ROLLBACK")
