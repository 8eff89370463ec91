"""What each SQL backend provides to the shared job and ledger code: placeholders, times, transactions.

SQLite and PostgreSQL differ in placeholders (`?` against `$1`), in how a time is kept (integer milliseconds
against timestamptz), in their drivers' calls and in how a server's reservations are serialised. The job
store (sql_store.py), the quota ledger (sql_quotas.py) and the ledger report (sql_report.py) are written
once over these pieces; sqlite_store.py and pg_store.py fill them in.
"""

from __future__ import annotations

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


class SqlDialect:
    """The pieces a SQL store provides (SQLite or PostgreSQL) for the shared job and quota code."""

    NUMBERED_PARAMS = False  # PostgreSQL: True ($1, $2, ...)
    FOR_UPDATE = ""  # PostgreSQL: " FOR UPDATE" (SQLite's write transaction already excludes others)
    _clock: Callable[[], datetime]

    def _write(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError  # one transaction on one connection

    async def _fetch_rows(self, sql: str, values: Sequence[object]) -> Sequence[Any]:
        raise NotImplementedError  # a read outside any write transaction

    async def _conn_rows(self, conn: Any, sql: str, values: Sequence[object]) -> Sequence[Any]:
        raise NotImplementedError  # a read inside `conn`'s transaction

    async def _conn_execute(self, conn: Any, sql: str, values: Sequence[object]) -> None:
        raise NotImplementedError  # a write inside `conn`'s transaction

    def _time(self, value: datetime, what: str) -> object:
        raise NotImplementedError  # a time as the dialect keeps it

    def _ms_from_db(self, value: Any) -> int:
        raise NotImplementedError  # a stored time back as integer milliseconds since the epoch

    def _flag(self, value: bool) -> object:
        raise NotImplementedError  # a boolean as the dialect keeps it

    async def _lock_guild_in(self, conn: Any, guild_id: int) -> None:
        """Serialise quota reservations of one server until `conn`'s transaction ends."""
        raise NotImplementedError

    def _params(self) -> Params:
        return Params(numbered=self.NUMBERED_PARAMS)
