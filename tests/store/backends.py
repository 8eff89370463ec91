"""The store backends the suite runs against. A new backend adds one entry here.

A backend opens a *handle* on one test database: calling it twice on the same directory gives two
independent handles (connections) to the same data, which the race and durability tests need.

PostgreSQL runs when TEST_DATABASE_URL_PG names a server (.ci/run starts one: .ci/postgres.sh); each
test directory gets its own schema there (DATABASE_URL `?schema=`), created by the store on open and
dropped after the test (`drop_pg_schemas`, called by the fixtures).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

from bot.db import PostgresStore, SQLiteStore
from bot.db.pg_store import pg_dsn_from_url
from bot.jobs import JobStore

PG_URL_ENV = "TEST_DATABASE_URL_PG"
# Which backend the end-to-end and worker suites use (the store suite always runs every available one).
E2E_DATABASE_ENV = "TEST_E2E_DATABASE"


class ManualClock:
    """The store's notion of "now", moved by the test (whole milliseconds: what the store keeps)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass(frozen=True)
class Backend:
    name: str
    open: Callable[[Path, ManualClock], Awaitable[JobStore]]
    # Why this backend cannot run here (then its tests are skipped with this reason), or None.
    unavailable: Callable[[], str | None] = lambda: None


# ---------------------------------------------------------------------------------------------- SQLite


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'jobs.db'}"


async def _open_sqlite(directory: Path, clock: ManualClock) -> JobStore:
    return await SQLiteStore.open(sqlite_url(directory), clock=clock)


# ------------------------------------------------------------------------------------------ PostgreSQL

# Schemas this test session handed out; a random part keeps two sessions on one server apart.
_SESSION = secrets.token_hex(3)
_created_schemas: set[str] = set()
_created_lock = threading.Lock()


def pg_server_url() -> str | None:
    return os.environ.get(PG_URL_ENV) or None


def _pg_unavailable() -> str | None:
    if pg_server_url() is None:
        return f"PostgreSQL tests need {PG_URL_ENV}=postgresql://user:pass@host:port/db (.ci/run sets it)"
    return None


def pg_schema_for(directory: Path) -> str:
    """The schema of this test directory: the same for every handle opened on it, fresh per test."""
    digest = hashlib.sha256(str(directory).encode()).hexdigest()[:12]
    return f"t_{_SESSION}_{digest}"


def pg_url(directory: Path) -> str:
    """DATABASE_URL of this test directory's schema on the test server (registered for dropping)."""
    server = pg_server_url()
    if server is None:
        pytest.skip(_pg_unavailable() or "")
    schema = pg_schema_for(directory)
    with _created_lock:
        _created_schemas.add(schema)
    parts = urlsplit(server)
    query = [*parse_qsl(parts.query), ("schema", schema)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


async def _open_pg(directory: Path, clock: ManualClock) -> JobStore:
    return await PostgresStore.open(pg_url(directory), clock=clock, max_size=4)


async def drop_pg_schemas(schemas: set[str] | None = None) -> None:
    """Drop the given test schemas (default: every one this session created so far)."""
    server = pg_server_url()
    with _created_lock:
        todo = set(_created_schemas) if schemas is None else schemas & _created_schemas
        _created_schemas.difference_update(todo)
    if not todo or server is None:
        return
    conn = await asyncpg.connect(server, timeout=10)
    try:
        for schema in sorted(todo):
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def drop_pg_schemas_now() -> None:
    """drop_pg_schemas from synchronous code (a fixture teardown outside any event loop): in a thread of its
    own so the test's event loop (if any) is left alone."""
    with _created_lock:
        if not _created_schemas:
            return
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(asyncio.wait_for(drop_pg_schemas(), 30))
        except BaseException as exc:  # reported in the calling thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="drop-pg-test-schemas")
    thread.start()
    thread.join(60)
    if errors:
        raise errors[0]


# ----------------------------------------------------------------------------------------------- table

BACKENDS: dict[str, Backend] = {
    "sqlite": Backend("sqlite", _open_sqlite),
    "postgresql": Backend("postgresql", _open_pg, _pg_unavailable),
}


def backend_params() -> list[object]:
    """pytest parameters for every backend, the unavailable ones skipped with their reason."""
    params: list[object] = []
    for name in sorted(BACKENDS):
        reason = BACKENDS[name].unavailable()
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def chosen_backend() -> Backend:
    """The backend TEST_E2E_DATABASE names (default sqlite), for suites that run on one backend at a time.
    Asking for PostgreSQL without a server is an error, not a silent fallback to SQLite."""
    name = os.environ.get(E2E_DATABASE_ENV, "sqlite").strip().lower() or "sqlite"
    if name not in BACKENDS:
        raise ValueError(f"{E2E_DATABASE_ENV}={name!r}: expected one of {', '.join(sorted(BACKENDS))}")
    reason = BACKENDS[name].unavailable()
    if reason:
        raise RuntimeError(f"{E2E_DATABASE_ENV}={name}: {reason}")
    return BACKENDS[name]


def database_url_for(directory: Path) -> str:
    """DATABASE_URL for a bot process under test, on the chosen backend: tmp_path/bot.db on SQLite, the
    directory's own schema on PostgreSQL (the same on every call, so a restarted bot finds its data)."""
    if chosen_backend().name == "postgresql":
        return pg_url(directory)
    return f"sqlite:///{directory}/bot.db"


@pytest.fixture(autouse=True)
def drop_pg_test_schemas() -> Iterator[None]:
    """Autouse (imported by tests/conftest.py): after each test, drop the PostgreSQL schemas it made. Set
    up before, so torn down after, the fixtures that close stores and stop bot processes."""
    yield
    drop_pg_schemas_now()


def stored_counts(directory: Path, *tables: str) -> tuple[int, ...]:
    """Row counts of `tables` in the database `database_url_for(directory)` names, read over a separate
    connection (as an operator would), callable from synchronous test code."""
    if chosen_backend().name == "sqlite":
        with closing(sqlite3.connect(f"file:{directory / 'bot.db'}?mode=ro", uri=True)) as db:
            return tuple(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables)  # noqa: S608
    dsn, schema = pg_dsn_from_url(pg_url(directory))

    async def count() -> tuple[int, ...]:
        conn = await asyncpg.connect(dsn, server_settings={"search_path": schema or "public"}, timeout=10)
        try:
            return tuple([await conn.fetchval(f"SELECT count(*) FROM {table}") for table in tables])  # noqa: S608
        finally:
            await conn.close()

    result: list[tuple[int, ...]] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(asyncio.wait_for(count(), 30))))
    thread.start()
    thread.join(60)
    if not result:
        raise AssertionError(f"could not count rows in PostgreSQL schema {schema}")
    return result[0]
