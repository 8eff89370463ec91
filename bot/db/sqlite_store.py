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
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.db.migration_files import MIGRATIONS_ROOT, Migration
from bot.db.migration_files import load_migrations as load_sql_files
from bot.db.rows import JOB_COLUMNS, check_field, check_job, decode_job, from_ms, to_ms
from bot.db.sql_quotas import SqlQuotaStore
from bot.db.sql_report import SqlLedgerReport
from bot.db.sql_store import SqlJobStore
from bot.jobs.models import Job, JobInput, new_job_id, utcnow
from bot.jobs.outage import translate_outages
from bot.jobs.states import ACTIVE_STATES, JobState
from bot.jobs.store import StoreError
from bot.quotas.models import Charge, MemberPace, QuotaCheck

log = logging.getLogger(__name__)

MIGRATIONS_DIR = MIGRATIONS_ROOT / "sqlite"
BUSY_TIMEOUT_MS = 10_000
_ID_ATTEMPTS = 8  # fresh ids to draw when one is taken; 40-bit ids make a second clash near impossible

_SELECT_JOB = f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs"  # noqa: S608 - fixed column list


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


# ------------------------------------------------------------------------------------------- encoding


def _sqlite_value(value: object) -> object:
    """A checked value (rows.check_field / check_job) in its SQLite form: times as integer milliseconds
    since the epoch, booleans as 0/1."""
    if isinstance(value, datetime):
        return to_ms(value, "time")
    if isinstance(value, bool):
        return int(value)
    return value


def _encode_field(job_id: str, column: str, value: object) -> object:
    return _sqlite_value(check_field(job_id, column, value))


def _encode_job(job: Job) -> dict[str, object]:
    return {column: _sqlite_value(value) for column, value in check_job(job).items()}


def _decode_job(row: sqlite3.Row) -> Job:
    return decode_job(row, from_ms)


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
class SQLiteStore(SqlQuotaStore, SqlLedgerReport, SqlJobStore):
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

    def now(self) -> datetime:
        # The file lives on one host: every process using it reads that host's clock.
        return self._clock()

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

    # -- the dialect's pieces for SqlJobStore -------------------------------------------------------

    async def _fetch_row(self, conn: aiosqlite.Connection, sql: str, values: list[object]) -> Job | None:
        async with conn.execute(sql, values) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _decode_job(row)

    def _encode_field(self, job_id: str, column: str, value: object) -> object:
        return _encode_field(job_id, column, value)

    async def _conn_rows(self, conn: aiosqlite.Connection, sql: str, values: Sequence[object]) -> Sequence[Any]:
        async with conn.execute(sql, values) as cursor:
            return list(await cursor.fetchall())

    async def _conn_execute(self, conn: aiosqlite.Connection, sql: str, values: Sequence[object]) -> None:
        await conn.execute(sql, values)

    def _ms_from_db(self, value: Any) -> int:
        return int(value)

    def _flag(self, value: bool) -> object:
        return int(value)

    async def _lock_guild_in(self, conn: aiosqlite.Connection, guild_id: int) -> None:
        pass  # BEGIN IMMEDIATE already holds SQLite's one write lock

    async def _lock_budget_in(self, conn: aiosqlite.Connection) -> None:
        pass  # the same: every writer of the file waits for this transaction

    async def _fetch_rows(self, sql: str, values: Sequence[object]) -> Sequence[Any]:
        return list(await self._reader.execute_fetchall(sql, values))

    def _decode_row(self, row: Any) -> Job:
        return _decode_job(row)

    def _time(self, value: datetime, what: str) -> object:
        return to_ms(value, what)

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

    # -- migrations ------------------------------------------------------------------------------

    async def migrate(self) -> list[int]:
        migrations = await asyncio.to_thread(load_migrations, self._migrations_dir)
        known = max((m.version for m in migrations), default=0)
        async with self._write() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
            )
            async with conn.execute("SELECT max(version) FROM schema_version") as cursor:
                row = await cursor.fetchone()
            current = (row[0] if row else None) or 0
        if current > known:
            raise StoreError(
                f"{self.path}: database schema version {current} is newer than this bot knows ({known}); "
                "run a newer bot or restore a backup"
            )
        applied: list[int] = []
        for migration in migrations:
            # Each migration in its own transaction, re-checked inside it: two processes opening the
            # same file at once apply it exactly once.
            async with self._write() as conn:
                async with conn.execute(
                    "SELECT 1 FROM schema_version WHERE version = ?", (migration.version,)
                ) as cursor:
                    if await cursor.fetchone() is not None:
                        continue
                for statement in migration.statements:
                    try:
                        await conn.execute(statement)
                    except sqlite3.Error as exc:
                        raise StoreError(f"migration V{migration.version}__{migration.name}.sql failed: {exc}") from exc
                await conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, to_ms(self._clock(), "clock")),
                )
            applied.append(migration.version)
            log.info("applied migration V%d__%s to %s", migration.version, migration.name, self.path)
        return applied

    async def schema_versions(self) -> list[tuple[int, str]]:
        rows = await self._reader.execute_fetchall("SELECT version, name FROM schema_version ORDER BY version")
        return [(int(r[0]), str(r[1])) for r in rows]

    # -- mutations -------------------------------------------------------------------------------

    async def create_job(
        self, job: Job, inputs: Sequence[JobInput], *, charge: Charge | None = None,
        checks: Sequence[QuotaCheck] = (), pace: MemberPace | None = None,
    ) -> Job:
        if job.state is not JobState.ACCEPTED:
            raise ValueError(f"job {job.id}: a new job must start in 'accepted', not {job.state.value!r}")
        positions = [i.position for i in inputs]
        if len(set(positions)) != len(positions):
            raise ValueError(f"job {job.id}: two inputs share a position ({sorted(positions)})")
        for item in inputs:
            if item.position < 0 or not isinstance(item.data, bytes):
                raise ValueError(f"job {job.id}, input {item.filename!r}: bad position or data")
        row = _encode_job(job)
        columns = ", ".join(JOB_COLUMNS)
        marks = ", ".join("?" for _ in JOB_COLUMNS)
        # RETURNING: hand back exactly what was stored (times cut to whole milliseconds, a fresh id).
        insert = f"INSERT INTO jobs ({columns}) VALUES ({marks}) RETURNING {columns}"  # noqa: S608 - fixed columns
        stored: sqlite3.Row | None = None
        async with self._write() as conn:
            await self._pace_in(conn, job, pace)
            for _ in range(_ID_ATTEMPTS):
                try:
                    async with conn.execute(insert, [row[c] for c in JOB_COLUMNS]) as cursor:
                        stored = await cursor.fetchone()
                    break
                except sqlite3.IntegrityError as exc:
                    if "jobs.id" not in str(exc):
                        raise
                    # Only this statement failed; the transaction is intact, so just draw again.
                    row["id"] = new_job_id()
            else:  # pragma: no cover - would need eight 40-bit collisions in a row
                raise StoreError("could not draw an unused job id")
            await conn.executemany(
                "INSERT INTO job_inputs (job_id, position, filename, mime_type, data) VALUES (?, ?, ?, ?, ?)",
                [(row["id"], i.position, i.filename, i.mime_type, i.data) for i in inputs],
            )
            if charge is not None:  # same transaction: no job without its reservation, nor the reverse
                await self._reserve_in(conn, str(row["id"]), charge, checks, self._clock())
        if stored is None:  # pragma: no cover - an INSERT ... RETURNING always returns its row
            raise StoreError(f"job {row['id']}: the database returned nothing for the new row")
        return _decode_job(stored)

    async def delete_inputs(self, job_id: str) -> int:
        delete = "DELETE FROM job_inputs WHERE job_id = ?"
        async with self._write() as conn, conn.execute(delete, (job_id,)) as cursor:
            return cursor.rowcount

    async def delete_inputs_finished_before(self, cutoff: datetime) -> int:
        delete = (
            "DELETE FROM job_inputs WHERE job_id IN "
            "(SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?)"
        )
        async with self._write() as conn, conn.execute(delete, (to_ms(cutoff, "cutoff"),)) as cursor:
            return cursor.rowcount

    # -- leases ----------------------------------------------------------------------------------
    # One process per SQLite file is the supported shape, but the same calls keep several processes on one
    # file correct too: BEGIN IMMEDIATE serialises them (no SKIP LOCKED needed: nothing is locked by others
    # while we hold the write lock).

    async def claim_submit(self, job_id: str, *, max_active: int, owner: str, until: datetime) -> Job | None:
        active = sorted(s.value for s in ACTIVE_STATES)
        sql = (
            "UPDATE jobs SET state = 'submitting', attempt = attempt + 1, lease_owner = ?, lease_until = ? "  # noqa: S608
            "WHERE id = ? AND state = 'accepted' AND (SELECT count(*) FROM jobs AS mine "
            "WHERE mine.guild_id = jobs.guild_id AND mine.user_id = jobs.user_id "
            f"AND mine.state IN ({', '.join('?' for _ in active)})) < ? "
            f"RETURNING {', '.join(JOB_COLUMNS)}"
        )
        params = [owner, to_ms(until, "claim_submit(until)"), job_id, *active, max_active]
        async with self._write() as conn, conn.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _decode_job(row)

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
        now_ms = to_ms(now, "lease(now)")
        due = " AND (next_poll_at IS NULL OR next_poll_at <= ?)" if due_only else ""
        order = "next_poll_at, seq" if due_only else "seq"
        sql = (
            "UPDATE jobs SET lease_owner = ?, lease_until = ?, attempt = attempt + 1 WHERE seq IN ("  # noqa: S608
            f"SELECT seq FROM jobs WHERE state IN ({', '.join('?' for _ in values)}) "
            f"AND (lease_until IS NULL OR lease_until <= ?){due} ORDER BY {order} LIMIT ?) "
            f"RETURNING seq, {', '.join(JOB_COLUMNS)}"
        )
        params: list[object] = [owner, to_ms(until, "lease(until)"),
                                *values, now_ms, *([now_ms] if due_only else []), limit]
        async with self._write() as conn, conn.execute(sql, params) as cursor:
            rows = list(await cursor.fetchall())
        rows.sort(key=lambda r: int(r["seq"]))  # RETURNING gives no order; callers expect oldest first
        return [_decode_job(row) for row in rows]

    # -- reads -----------------------------------------------------------------------------------

    async def get_inputs(self, job_id: str) -> list[JobInput]:
        rows = await self._reader.execute_fetchall(
            "SELECT position, filename, mime_type, data FROM job_inputs WHERE job_id = ? ORDER BY position",
            (job_id,),
        )
        return [JobInput(int(r[0]), str(r[1]), str(r[2]), bytes(r[3])) for r in rows]

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
