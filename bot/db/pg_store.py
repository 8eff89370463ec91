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
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from bot.db.clock import DatabaseClock
from bot.db.migration_files import MIGRATIONS_ROOT, load_migrations
from bot.db.rows import EPOCH, JOB_COLUMNS, check_field, check_job, decode_job, to_ms, to_whole_ms
from bot.db.sql_quotas import SqlQuotaStore
from bot.db.sql_report import SqlLedgerReport
from bot.db.sql_store import RETURNING, SqlJobStore
from bot.jobs.models import Job, JobInput, new_job_id, utcnow
from bot.jobs.outage import translate_outages
from bot.jobs.states import ACTIVE_STATES, JobState
from bot.jobs.store import StoreError
from bot.quotas.models import Charge, MemberPace, QuotaCheck

log = logging.getLogger(__name__)

MIGRATIONS_DIR = MIGRATIONS_ROOT / "postgresql"
PG_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
CONNECT_TIMEOUT_SECONDS = 10.0
CLOSE_TIMEOUT_SECONDS = 10.0
POOL_MAX_SIZE = 10
# Worth a line in the log: a host this far off is not synchronised (its own logs' times are off too).
CLOCK_WARN_OFFSET = timedelta(seconds=5)
_ID_ATTEMPTS = 8  # fresh ids to draw when one is taken; 40-bit ids make a second clash near impossible
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_SELECT_JOB = f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs"  # noqa: S608 - fixed column list

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


# ------------------------------------------------------------------------------------------- encoding


def _pg_value(job_id: str, column: str, value: object) -> object:
    """A checked value (rows.check_field / check_job) in its PostgreSQL form."""
    if isinstance(value, datetime):
        return to_whole_ms(value, f"job {job_id}, field {column!r}")  # the same precision as SQLite keeps
    if isinstance(value, str) and ("\x00" in value or (column == "params" and "\\u0000" in value)):
        # PostgreSQL text cannot hold NUL: refuse it here, naming the field, rather than fail in the driver.
        raise ValueError(f"job {job_id}, field {column!r}: contains a NUL character")
    return value


def _encode_field(job_id: str, column: str, value: object) -> object:
    return _pg_value(job_id, column, check_field(job_id, column, value))


def _encode_job(job: Job) -> dict[str, object]:
    return {column: _pg_value(job.id, column, value) for column, value in check_job(job).items()}


def _time_from_db(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"expected a timestamp, got {type(value).__name__}")
    return value.astimezone(UTC)


def _decode_job(row: asyncpg.Record) -> Job:
    return decode_job(row, _time_from_db)


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
class PostgresStore(SqlQuotaStore, SqlLedgerReport, SqlJobStore):
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

    def now(self) -> datetime:
        return self._clock()

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

    # -- the dialect's pieces for SqlJobStore -------------------------------------------------------

    NUMBERED_PARAMS = True

    async def _fetch_row(self, conn: Connection, sql: str, values: list[object]) -> Job | None:
        row = await conn.fetchrow(sql, *values)
        return None if row is None else _decode_job(row)

    def _encode_field(self, job_id: str, column: str, value: object) -> object:
        return _encode_field(job_id, column, value)

    FOR_UPDATE = " FOR UPDATE"

    async def _conn_rows(self, conn: Connection, sql: str, values: Sequence[object]) -> Sequence[Any]:
        return await conn.fetch(sql, *values)

    async def _conn_execute(self, conn: Connection, sql: str, values: Sequence[object]) -> None:
        await conn.execute(sql, *values)

    def _ms_from_db(self, value: Any) -> int:
        return to_ms(_time_from_db(value) or EPOCH, "stored time")

    def _flag(self, value: bool) -> object:
        return value

    async def _lock_guild_in(self, conn: Connection, guild_id: int) -> None:
        # Held until this transaction ends: the next reservation in this server waits, then sees this one.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"vidu-bot quota {guild_id}")

    async def _lock_budget_in(self, conn: Connection) -> None:
        # The operator's budget spans every server (and process): one lock for all, taken before any server's.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "vidu-bot budget")

    async def _fetch_rows(self, sql: str, values: Sequence[object]) -> Sequence[Any]:
        if self._closed:
            raise StoreError(f"{self!r} is closed")
        return await self._pool.fetch(sql, *values)

    def _decode_row(self, row: Any) -> Job:
        return _decode_job(row)

    def _time(self, value: datetime, what: str) -> object:
        return to_whole_ms(value, what)

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

    # -- migrations ------------------------------------------------------------------------------

    def _lock_key(self) -> int:
        """The advisory lock guarding this schema's migrations (a signed 64-bit key)."""
        digest = hashlib.sha256(f"vidu-bot migrate {self.schema or ''}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    async def migrate(self) -> list[int]:
        migrations = await asyncio.to_thread(load_migrations, self._migrations_dir, _whole_file)
        known = max((m.version for m in migrations), default=0)
        if self._closed:
            raise StoreError(f"{self!r} is closed")
        applied: list[int] = []
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
                done = {int(r["version"]) for r in await conn.fetch("SELECT version FROM schema_version")}
                current = max(done, default=0)
                if current > known:
                    raise StoreError(
                        f"{self!r}: database schema version {current} is newer than this bot knows ({known}); "
                        "run a newer bot or restore a backup"
                    )
                for migration in migrations:
                    if migration.version in done:
                        continue
                    async with conn.transaction():
                        for statement in migration.statements:
                            try:
                                await conn.execute(statement)
                            except asyncpg.PostgresError as exc:
                                raise StoreError(f"migration {migration.filename} failed: {exc}") from exc
                        await conn.execute(
                            "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
                            migration.version,
                            migration.name,
                            to_whole_ms(self._clock(), "clock"),
                        )
                    applied.append(migration.version)
                    log.info("applied migration %s to %r", migration.filename, self)
            finally:
                if not conn.is_closed():
                    await asyncio.shield(conn.execute("SELECT pg_advisory_unlock($1)", self._lock_key()))
        return applied

    async def schema_versions(self) -> list[tuple[int, str]]:
        rows = await self._pool.fetch("SELECT version, name FROM schema_version ORDER BY version")
        return [(int(r["version"]), str(r["name"])) for r in rows]

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
            for column, text in (("filename", item.filename), ("mime_type", item.mime_type)):
                _pg_value(job.id, f"input {column}", text)
        row = _encode_job(job)
        columns = ", ".join(JOB_COLUMNS)
        marks = ", ".join(f"${n}" for n in range(1, len(JOB_COLUMNS) + 1))
        # ON CONFLICT ... DO NOTHING: a taken id returns no row instead of aborting the transaction.
        # RETURNING: hand back exactly what was stored (times cut to whole milliseconds, a fresh id).
        insert = f"INSERT INTO jobs ({columns}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING {RETURNING}"  # noqa: S608
        async with self._write() as conn:
            await self._pace_in(conn, job, pace)
            for _ in range(_ID_ATTEMPTS):
                stored = await conn.fetchrow(insert, *[row[c] for c in JOB_COLUMNS])
                if stored is not None:
                    break
                row["id"] = new_job_id()
            else:  # pragma: no cover - would need eight 40-bit collisions in a row
                raise StoreError("could not draw an unused job id")
            if inputs:
                await conn.executemany(
                    "INSERT INTO job_inputs (job_id, position, filename, mime_type, data) VALUES ($1, $2, $3, $4, $5)",
                    [(row["id"], i.position, i.filename, i.mime_type, i.data) for i in inputs],
                )
            if charge is not None:  # same transaction: no job without its reservation, nor the reverse
                await self._reserve_in(conn, str(row["id"]), charge, checks, self._clock())
        return _decode_job(stored)

    async def delete_inputs(self, job_id: str) -> int:
        async with self._write() as conn:
            return _rowcount(await conn.execute("DELETE FROM job_inputs WHERE job_id = $1", job_id))

    async def delete_inputs_finished_before(self, cutoff: datetime) -> int:
        delete = (
            "DELETE FROM job_inputs WHERE job_id IN "
            "(SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < $1)"
        )
        async with self._write() as conn:
            return _rowcount(await conn.execute(delete, to_whole_ms(cutoff, "cutoff")))

    # -- leases ----------------------------------------------------------------------------------

    async def claim_submit(self, job_id: str, *, max_active: int, owner: str, until: datetime) -> Job | None:
        active = sorted(s.value for s in ACTIVE_STATES)
        async with self._write() as conn:
            member = await conn.fetchrow("SELECT guild_id, user_id FROM jobs WHERE id = $1 AND state = 'accepted'",
                                         job_id)
            if member is None:
                return None
            # Held to the end of this transaction: two processes cannot both count the member's last free slot.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                               f"vidu-bot slots {member['guild_id']} {member['user_id']}")
            running = await conn.fetchval(
                "SELECT count(*) FROM jobs WHERE guild_id = $1 AND user_id = $2 AND state = ANY($3::text[])",
                member["guild_id"], member["user_id"], active,
            )
            if int(running) >= max_active:
                return None
            row = await conn.fetchrow(
                "UPDATE jobs SET state = 'submitting', attempt = attempt + 1, lease_owner = $2, lease_until = $3 "  # noqa: S608
                f"WHERE id = $1 AND state = 'accepted' {RETURNING}",
                job_id, owner, to_whole_ms(until, "claim_submit(until)"),
            )
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
        await self.sync_clock()  # every tick leases: the natural moment to keep the clock in step
        due = " AND (next_poll_at IS NULL OR next_poll_at <= $3)" if due_only else ""
        order = "next_poll_at NULLS FIRST, seq" if due_only else "seq"
        # SKIP LOCKED: rows another process is leasing right now are passed over instead of waited for, so
        # several processes leasing at once each get their own jobs.
        sql = (
            "WITH picked AS (SELECT seq FROM jobs WHERE state = ANY($1::text[]) "  # noqa: S608 - fixed columns
            f"AND (lease_until IS NULL OR lease_until <= $3){due} ORDER BY {order} LIMIT $2 "
            "FOR UPDATE SKIP LOCKED) "
            "UPDATE jobs SET lease_owner = $4, lease_until = $5, attempt = jobs.attempt + 1 FROM picked "
            f"WHERE jobs.seq = picked.seq RETURNING jobs.seq, {', '.join(f'jobs.{c}' for c in JOB_COLUMNS)}"
        )
        async with self._write() as conn:
            rows = await conn.fetch(sql, values, limit, to_whole_ms(now, "lease(now)"), owner,
                                    to_whole_ms(until, "lease(until)"))
        return [_decode_job(row) for row in sorted(rows, key=lambda r: int(r["seq"]))]

    # -- reads -----------------------------------------------------------------------------------

    async def get_inputs(self, job_id: str) -> list[JobInput]:
        rows = await self._pool.fetch(
            "SELECT position, filename, mime_type, data FROM job_inputs WHERE job_id = $1 ORDER BY position",
            job_id,
        )
        return [JobInput(int(r[0]), str(r[1]), str(r[2]), bytes(r[3])) for r in rows]
