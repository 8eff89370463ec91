"""The SQL dialect is an abstract base (bot/db/dialect.py): each backend gives every piece, checked without a
database (so a PostgreSQL store missing one fails here even where no server runs the store suite), and a
backend missing one fails when it is constructed, not at the first call that needs it."""

from __future__ import annotations

import inspect
from abc import abstractmethod
from pathlib import Path

import pytest

from bot.db import PostgresStore, SQLiteStore
from bot.db.dialect import SqlDialect
from tests.store.backends import ManualClock


@pytest.mark.parametrize("store", [SQLiteStore, PostgresStore])
def test_each_backend_gives_every_piece_of_the_dialect(store: type[SqlDialect]) -> None:
    assert not inspect.isabstract(store), sorted(store.__abstractmethods__)


@pytest.mark.parametrize("piece", ["_lock_in", "_conn_count", "_lease_sql", "_migrating"])
def test_a_backend_missing_a_piece_cannot_be_constructed(piece: str) -> None:
    missing = type("Missing", (SQLiteStore,), {piece: abstractmethod(getattr(SQLiteStore, piece))})
    with pytest.raises(TypeError, match=rf"abstract .*{piece}"):
        missing(Path("jobs.db"), None, None, clock=ManualClock(), migrations_dir=Path("migrations"))
