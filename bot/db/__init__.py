"""The SQL stores (SQLite and PostgreSQL) behind bot.jobs.JobStore, the quota ledger's SQL, migrations.

This package implements the interfaces of bot.jobs and bot.quotas; neither imports it. The shared SQL is
written once (sql_store.py, sql_leases.py, sql_pause.py, sql_migrate.py, sql_quotas.py, sql_report.py) over
the pieces each dialect provides (dialect.py, an abstract base); sqlite_store.py and pg_store.py give them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from datetime import datetime
from types import TracebackType
from typing import Any

from bot.db.pg_store import PG_SCHEMES, PostgresStore
from bot.db.sqlite_store import SQLiteStore, sqlite_path_from_url
from bot.jobs.models import utcnow
from bot.jobs.store import JobStore

__all__ = ["PG_SCHEMES", "PostgresStore", "SQLiteStore", "open_store", "sqlite_path_from_url"]


class open_store(Awaitable[JobStore]):  # lower-case: reads as a function at call sites
    """Open (and migrate) the store DATABASE_URL names: sqlite:///rel.db, sqlite:////abs.db, a bare path
    (SQLite), or postgresql://user:pass@host:port/db[?schema=name] (PostgreSQL; postgres:// works too).

    `migrate=False` opens without applying migrations (for `python -m bot migrate`, which reports them).
    Either `store = await open_store(url)` (then `await store.close()`), or
    `async with open_store(url) as store:` which closes it on the way out.
    """

    def __init__(self, database_url: str, *, clock: Callable[[], datetime] | None = None,
                 host_clock: Callable[[], datetime] = utcnow, migrate: bool = True) -> None:
        self._url = database_url
        self._clock = clock  # None: the database's own (PostgreSQL's, read through `host_clock`: db_clock.py)
        self._host_clock = host_clock
        self._migrate = migrate
        self._store: JobStore | None = None

    async def _open(self) -> JobStore:
        scheme = self._url.partition("://")[0].lower() if "://" in self._url else ""
        if scheme in PG_SCHEMES:
            return await PostgresStore.open(self._url, clock=self._clock, host_clock=self._host_clock,
                                            migrate=self._migrate)
        return await SQLiteStore.open(self._url, clock=self._clock or self._host_clock, migrate=self._migrate)

    def __await__(self) -> Generator[Any, None, JobStore]:
        return self._open().__await__()

    async def __aenter__(self) -> JobStore:
        self._store = await self._open()
        return self._store

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None
