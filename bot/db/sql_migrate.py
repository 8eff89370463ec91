"""Applying the migration files (migration_files.py) to either SQL store, each exactly once.

A base of SQLiteStore and PostgresStore. Each migration runs whole in its own transaction, re-checked
inside it, and is recorded in schema_version; a database from a newer bot is refused. What differs is how
several processes starting at once are kept apart (`_migrating`): SQLite's BEGIN IMMEDIATE serialises every
transaction on the file, PostgreSQL holds an advisory lock across the migrations.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from bot.db.dialect import SqlDialect
from bot.db.migration_files import Migration
from bot.jobs.store import StoreError

# How to open one migration's transaction; it yields the connection.
Begin = Callable[[], AbstractAsyncContextManager[Any]]


class SqlMigrations(SqlDialect):
    """`migrate` and `schema_versions`, over the backend's `_migrating`."""

    @abstractmethod
    def _migrating(self) -> AbstractAsyncContextManager[Begin]:
        """While it is open: schema_version exists, no other process migrates this database, and what it
        yields opens one migration's transaction."""

    async def _apply_migrations(
        self, migrations: Sequence[Migration], *, driver_error: type[Exception], log: logging.Logger
    ) -> list[int]:
        """Apply those of `migrations` not applied yet, in order; a statement failing with `driver_error` is a
        StoreError naming its file (its migration rolled back whole). `log` tells each one applied."""
        known = max((m.version for m in migrations), default=0)
        applied: list[int] = []
        async with self._migrating() as begin:
            async with begin() as conn:
                done = {int(r[0]) for r in await self._conn_rows(conn, "SELECT version FROM schema_version", ())}
            current = max(done, default=0)
            if current > known:
                raise StoreError(
                    f"{self._where}: database schema version {current} is newer than this bot knows ({known}); "
                    "run a newer bot or restore a backup"
                )
            for migration in migrations:
                if migration.version in done:
                    continue  # applied for good: nothing undoes a migration
                async with begin() as conn:
                    # Re-checked inside its transaction: another process opening the database at the same
                    # moment may have applied it since (SQLite; PostgreSQL's lock already keeps them apart).
                    arg = self._params()
                    again = f"SELECT 1 FROM schema_version WHERE version = {arg(migration.version)}"
                    if await self._conn_rows(conn, again, arg.values):
                        continue
                    for statement in migration.statements:
                        try:
                            await self._conn_execute(conn, statement, ())
                        except driver_error as exc:
                            raise StoreError(f"migration {migration.filename} failed: {exc}") from exc
                    arg = self._params()
                    await self._conn_execute(
                        conn,
                        "INSERT INTO schema_version (version, name, applied_at) VALUES "
                        f"({arg(migration.version)}, {arg(migration.name)}, {arg(self._time(self._clock(), 'clock'))})",
                        arg.values,
                    )
                applied.append(migration.version)
                log.info("applied migration %s to %s", migration.filename, self._where)
        return applied

    async def schema_versions(self) -> list[tuple[int, str]]:
        rows = await self._fetch_rows("SELECT version, name FROM schema_version ORDER BY version", ())
        return [(int(r[0]), str(r[1])) for r in rows]
