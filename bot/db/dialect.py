"""What each SQL backend provides to the shared job and ledger code: placeholders, times, transactions.

SQLite and PostgreSQL differ in placeholders (`?` against `$1`), in how a time is kept (integer milliseconds
against timestamptz), in their drivers' calls and in how concurrent writers are serialised. The job store
(sql_store.py, sql_pause.py, sql_migrate.py), the quota ledger (sql_quotas.py) and the ledger report
(sql_report.py) are written once over these pieces; sqlite_store.py and pg_store.py fill them in.
`SqlDialect` is an abstract base: a backend that leaves a piece out cannot be constructed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any


class Params:
    """Placeholders in the order values are added: `?` (SQLite) or `$1, $2, ...` (PostgreSQL)."""

    def __init__(self, *, numbered: bool) -> None:
        self.values: list[object] = []
        self._numbered = numbered

    def __call__(self, value: object) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self._numbered else "?"

    def one_of(self, values: Sequence[str]) -> str:
        """`column <this>`: membership in a list of text values."""
        if self._numbered:
            return f"= ANY({self(list(values))}::text[])"
        return f"IN ({', '.join(self(v) for v in values)})"


class SqlDialect(ABC):
    """The pieces a SQL store provides (SQLite or PostgreSQL) for the shared job and quota code."""

    NUMBERED_PARAMS = False  # PostgreSQL: True ($1, $2, ...)
    FOR_UPDATE = ""  # PostgreSQL: " FOR UPDATE" (SQLite's write transaction already excludes others)
    NUL_IN_TEXT = True  # PostgreSQL: False (its text, and jsonb's escapes, cannot hold a NUL character)
    _clock: Callable[[], datetime]
    _where: str  # where the database is, for errors (never a password)

    @abstractmethod
    def _write(self) -> AbstractAsyncContextManager[Any]:
        """One transaction on one connection; it yields the connection."""

    @abstractmethod
    async def _fetch_rows(self, sql: str, values: Sequence[object]) -> Sequence[Any]:
        """A read outside any write transaction."""

    @abstractmethod
    async def _conn_rows(self, conn: Any, sql: str, values: Sequence[object]) -> Sequence[Any]:
        """A statement inside `conn`'s transaction; the rows it returns."""

    @abstractmethod
    async def _conn_execute(self, conn: Any, sql: str, values: Sequence[object]) -> None:
        """A write inside `conn`'s transaction (with no values: a script, as migrations give it)."""

    @abstractmethod
    async def _conn_count(self, conn: Any, sql: str, values: Sequence[object]) -> int:
        """A write inside `conn`'s transaction; how many rows it changed."""

    @abstractmethod
    async def _conn_executemany(self, conn: Any, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """One write, once per row of values, inside `conn`'s transaction."""

    @abstractmethod
    def _time(self, value: datetime, what: str) -> object:
        """A time as the dialect keeps it (a naive one is a ValueError naming `what`)."""

    @abstractmethod
    def _time_from_db(self, value: Any) -> datetime | None:
        """A stored time (or NULL) back as an aware datetime."""

    @abstractmethod
    def _ms_from_db(self, value: Any) -> int:
        """A stored time back as integer milliseconds since the epoch."""

    @abstractmethod
    def _flag(self, value: bool) -> object:
        """A boolean as the dialect keeps it."""

    @abstractmethod
    async def _lock_in(self, conn: Any, name: str) -> None:
        """Until `conn`'s transaction ends, make every other transaction taking the lock `name` wait."""

    async def _lock_guild_in(self, conn: Any, guild_id: int) -> None:
        """Serialise quota reservations of one server until `conn`'s transaction ends: the next reservation
        in this server waits, then sees this one."""
        await self._lock_in(conn, f"vidu-bot quota {guild_id}")

    def _params(self) -> Params:
        return Params(numbered=self.NUMBERED_PARAMS)

    def _marks(self, count: int) -> str:
        """Placeholders for a statement run once per row of `count` values (`_conn_executemany`)."""
        arg = self._params()
        return ", ".join(arg(None) for _ in range(count))
