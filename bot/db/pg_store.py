"""`JobStore` on PostgreSQL (asyncpg): the same semantics and errors as the SQLite store.

- A connection pool; every mutation is one transaction on one pooled connection (`_write`), and the
  conditional `UPDATE ... WHERE state = ANY(...)` makes a concurrent second claimant (another coroutine
  or another process) find the row already moved: under READ COMMITTED it waits for the first writer,
  then re-checks the WHERE clause against the committed row.
- Migrations are plain SQL files (migrations/postgresql/V<n>__<name>.sql), each applied whole in one
  transaction and recorded in schema_version, under an advisory lock so that several processes starting
  at once apply each exactly once.
- DATABASE_URL: postgresql://user:password@host:port/database, optionally `?schema=name` to keep the
  tables in their own schema (created if missing; handy for one database shared by several bots or tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from bot.db.clock import DatabaseClock
from bot.db.dialect import Params
from bot.db.migration_files import MIGRATIONS_ROOT, load_migrations
from bot.db.rows import EPOCH, JOB_COLUMNS, to_ms, to_whole_ms
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

MIGRATIONS_DIR = MIGRATIONS_ROOT / "postgresql"
PG_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
CONNECT_TIMEOUT_SECONDS = 10.0
CLOSE_TIMEOUT_SECONDS = 10.0
POOL_MAX_SIZE = 10
# Worth a line in the log: a host this far off is not synchronised (its own logs' times are off too).
CLOCK_WARN_OFFSET = timedelta(seconds=5)
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

if TYPE_CHECKING:  # generic only in the stubs
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = PoolConnectionProxy[asyncpg.Record]


# ---------------------------------------------------------------------------------------------- URLs


def pg_dsn_from_url(url: str) -> tuple[str, str | None]:
    """DATABASE_URL -> (the DSN asyncpg connects with, the schema named by `?schema=` or None).

    Errors never repeat the URL: it holds the password."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in PG_SCHEMES:
        raise ValueError(f"DATABASE_URL: scheme {parts.scheme!r} is not PostgreSQL (expected postgresql://...)")
    if not parts.hostname and "host=" not in parts.query:
        raise ValueError("DATABASE_URL: a PostgreSQL URL needs a host (postgresql://user:pass@host/db)")
    query: list[tuple[str, str]] = []
    schema: str | None = None
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "schema":
            query.append((key, value))
        elif not _SCHEMA_NAME.match(value):
            raise ValueError(
                f"DATABASE_URL: schema {value!r} must be lower-case letters, digits and _ (not starting with a digit)"
            )
        else:
            schema = value
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query), ""))
    return dsn, schema


def _describe(dsn: str, schema: str | None) -> str:
    """Where the store is, for reprs and errors: host, port, database and schema, never the password."""
    parts = urlsplit(dsn)
    where = f"{parts.hostname or '?'}:{parts.port or 5432}{parts.path or '/'}"
    return where + (f" schema={schema}" if schema else "")


# ------------------------------------------------------------------------------------ driver values


def _time_from_db(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"expected a timestamp, got {type(value).__name__}")
    return value.astimezone(UTC)


def _whole_file(script: str) -> list[str]:
    # PostgreSQL runs a multi-statement script in one simple-query call (dollar-quoted bodies included),
    # so a migration file is never cut up.
    return [script]


def _rowcount(status: str) -> int:
    """asyncpg's command tag ("DELETE 3") -> 3."""
    return int(status.rsplit(" ", 1)[-1])


# ---------------------------------------------------------------------------------------------- store


# What the server being away looks like to asyncpg: no connection (refused, reset, timed out), the server
# shutting down or starting up, or out of connections, memory or disk. Misuse (asyncpg.InterfaceError) is not.
_PG_OUTAGE_ERRORS = (OSError, TimeoutError, asyncpg.PostgresConnectionError,
                     asyncpg.exceptions.OperatorInterventionError, asyncpg.exceptions.InsufficientResourcesError)


@translate_outages(lambda error: isinstance(error, _PG_OUTAGE_ERRORS))
class PostgresStore(SqlQuotaStore, SqlLedgerReport, SqlPauseStore, SqlStrikeStore, SqlReviewStore,
                    SqlMemberSettings, SqlTakedownStore, SqlMigrations, SqlLeases):
    """Open with `await PostgresStore.open(url)` (or `async with await PostgresStore.open(url) as store`)."""

    def __init__(
        self,
        pool: asyncpg.Pool[asyncpg.Record],  # (annotations are strings at run time)
        *,
        where: str,
        schema: str | None,
        clock: Callable[[], datetime],
        migrations_dir: Path,
    ) -> None:
        self._pool = pool
        self._where = where
        self.schema = schema
        self._clock = clock
        # Kept in step with the server's clock (see lease) unless a test gave its own clock.
        self._db_clock = clock if isinstance(clock, DatabaseClock) else None
        self._clock_offset_told: timedelta | None = None
        self._migrations_dir = migrations_dir
        self._closed = False

    def __repr__(self) -> str:
        return f"PostgresStore({self._where!r})"

    async def sync_clock(self) -> None:
        """Measure the server's clock against this host's now, if it is time to (at most once a minute)."""
        if self._db_clock is None or not self._db_clock.stale():
            return

        async def server_now() -> datetime:
            at = await self._pool.fetchval("SELECT clock_timestamp()")
            assert isinstance(at, datetime)
            return at

        offset = await self._db_clock.measure(server_now)
        told = self._clock_offset_told
        # Once, and again only if it changes by seconds (a clock stepped): not every minute of a skewed host.
        if abs(offset) > CLOCK_WARN_OFFSET and (told is None or abs(offset - told) > CLOCK_WARN_OFFSET):
            self._clock_offset_told = offset
            log.warning("this host's clock is %.1f s %s PostgreSQL's; leases and schedules follow PostgreSQL's",
                        abs(offset.total_seconds()), "behind" if offset > timedelta(0) else "ahead of")

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Callable[[], datetime] | None = None,
        host_clock: Callable[[], datetime] = utcnow,
        migrate: bool = True,
        migrations_dir: Path = MIGRATIONS_DIR,
        max_size: int = POOL_MAX_SIZE,
    ) -> PostgresStore:
        """`clock`: what the store calls "now"; by default the server's clock, read through this host's
        (`host_clock`) and an offset measured at connect and every minute after (bot/db/clock.py)."""
        dsn, schema = pg_dsn_from_url(url)
        where = _describe(dsn, schema)
        # A schema that does not exist yet is skipped by search_path until migrate() creates it.
        settings = {"search_path": schema} if schema else None
        pool = await asyncpg.create_pool(
            dsn,
            # No floor to keep: with one, asyncpg logs a traceback every retry while the server is down. So
            # the pool connects on first use, and the first use is here: a server that is not there is told now.
            min_size=0,
            max_size=max_size,
            timeout=CONNECT_TIMEOUT_SECONDS,
            server_settings=settings,
        )
        try:
            await pool.fetchval("SELECT 1")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            await pool.close()
            raise StoreError(f"PostgreSQL {where}: cannot connect ({type(exc).__name__}: {exc})") from None
        store = cls(pool, where=where, schema=schema, clock=clock or DatabaseClock(host_clock),
                    migrations_dir=migrations_dir)
        try:
            await store.sync_clock()
        except BaseException:
            await store.close()
            raise
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
        try:
            # Lets in-flight transactions finish rather than cut them.
            await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("%r: connections still busy after %.0f s; closing them", self, CLOSE_TIMEOUT_SECONDS)
            self._pool.terminate()

    # -- the dialect's pieces (dialect.py) ---------------------------------------------------------

    NUMBERED_PARAMS = True
    FOR_UPDATE = " FOR UPDATE"
    NUL_IN_TEXT = False

    async def _fetch_rows(self, sql: str, values: Sequence[object]) -> Sequence[Any]:
        if self._closed:
            raise StoreError(f"{self!r} is closed")
        return await self._pool.fetch(sql, *values)

    async def _conn_rows(self, conn: Connection, sql: str, values: Sequence[object]) -> Sequence[Any]:
        return await conn.fetch(sql, *values)

    async def _conn_execute(self, conn: Connection, sql: str, values: Sequence[object]) -> None:
        await conn.execute(sql, *values)

    async def _conn_count(self, conn: Connection, sql: str, values: Sequence[object]) -> int:
        return _rowcount(await conn.execute(sql, *values))

    async def _conn_executemany(self, conn: Connection, sql: str, rows: Sequence[Sequence[object]]) -> None:
        await conn.executemany(sql, rows)

    def _time(self, value: datetime, what: str) -> object:
        return to_whole_ms(value, what)  # the same precision as SQLite keeps

    def _time_from_db(self, value: Any) -> datetime | None:
        return _time_from_db(value)

    def _ms_from_db(self, value: Any) -> int:
        return to_ms(_time_from_db(value) or EPOCH, "stored time")

    def _flag(self, value: bool) -> object:
        return value

    async def _lock_in(self, conn: Connection, name: str) -> None:
        # A transaction-level advisory lock: released by the server when the transaction ends, whichever way.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", name)

    async def _before_lease(self) -> None:
        await self.sync_clock()  # every tick leases: the natural moment to keep the clock in step

    def _lease_sql(self, arg: Params, states: Sequence[str], *, owner: str, now: object, until: object,
                   limit: int, due_only: bool) -> str:
        # SKIP LOCKED: rows another process is leasing right now are passed over instead of waited for, so
        # several processes leasing at once each get their own jobs. NULLS FIRST: as SQLite orders them.
        def free() -> str:  # the row's conditions, in each statement that picks (values added at each use)
            due = f" AND (jobs.next_poll_at IS NULL OR jobs.next_poll_at <= {arg(now)})" if due_only else ""
            return (f"jobs.state {arg.one_of(states)} AND jobs.{LOOP_JOBS} "
                    f"AND (jobs.lease_until IS NULL OR jobs.lease_until <= {arg(now)}) AND {NOT_HELD}{due}")

        if due_only:
            # Servers take turns (FAIR_POLLS). A window function cannot sit beside FOR UPDATE, so the turns are
            # counted first and the rows locked after, their conditions checked again on the locked row.
            picked = (f"WITH turns AS (SELECT seq, {FAIR_POLLS} AS turn FROM jobs WHERE {free()}), "  # noqa: S608
                      f"picked AS (SELECT jobs.seq FROM jobs JOIN turns ON jobs.seq = turns.seq WHERE {free()} "
                      f"ORDER BY turns.turn, jobs.next_poll_at NULLS FIRST, jobs.seq LIMIT {arg(limit)} "
                      "FOR UPDATE OF jobs SKIP LOCKED) ")
        else:
            picked = (f"WITH picked AS (SELECT seq FROM jobs WHERE {free()} ORDER BY seq "  # noqa: S608
                      f"LIMIT {arg(limit)} FOR UPDATE SKIP LOCKED) ")
        return (
            f"{picked}UPDATE jobs SET lease_owner = {arg(owner)}, lease_until = {arg(until)}, "  # noqa: S608
            "attempt = jobs.attempt + 1 "
            f"FROM picked WHERE jobs.seq = picked.seq RETURNING jobs.seq, {', '.join(f'jobs.{c}' for c in JOB_COLUMNS)}"
        )

    # -- transactions ----------------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[Connection]:
        """One transaction on one pooled connection. Every mutation goes through here, so a later
        quota-ledger write can join the same transaction as the job transition it belongs to."""
        if self._closed:
            raise StoreError(f"{self!r} is closed")
        # On any exception (cancellation included) the transaction rolls back, and the pool resets the
        # connection before anyone else gets it.
        async with self._pool.acquire() as conn, conn.transaction():
            yield conn

    # -- migrations (sql_migrate.py) ------------------------------------------------------------

    def _lock_key(self) -> int:
        """The advisory lock guarding this schema's migrations (a signed 64-bit key)."""
        digest = hashlib.sha256(f"vidu-bot migrate {self.schema or ''}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    async def migrate(self) -> list[int]:
        migrations = await asyncio.to_thread(load_migrations, self._migrations_dir, _whole_file)
        return await self._apply_migrations(migrations, driver_error=asyncpg.PostgresError, log=log)

    @asynccontextmanager
    async def _migrating(self) -> AsyncIterator[Begin]:
        if self._closed:
            raise StoreError(f"{self!r} is closed")
        async with self._pool.acquire() as conn:
            # Session-level lock: held across the per-migration transactions, released below (and by the
            # server if this process dies, as the session ends).
            await conn.execute("SELECT pg_advisory_lock($1)", self._lock_key())
            try:
                if self.schema:
                    await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)"
                )

                @asynccontextmanager
                async def begin() -> AsyncIterator[Connection]:
                    async with conn.transaction():
                        yield conn

                yield begin
            finally:
                if not conn.is_closed():
                    await asyncio.shield(conn.execute("SELECT pg_advisory_unlock($1)", self._lock_key()))
