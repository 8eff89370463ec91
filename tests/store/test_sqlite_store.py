"""SQLite-only behaviour: DATABASE_URL forms, durability pragmas, migration files, unreadable rows."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.db import SQLiteStore, open_store, sqlite_path_from_url
from bot.db.sqlite_store import MIGRATIONS_DIR, split_statements
from bot.jobs import StoreError
from tests.store.backends import ManualClock
from tests.store.factories import make_job


def _sql(path: Path, query: str) -> list[tuple[object, ...]]:
    """A plain, separate connection: what another tool (or an operator's sqlite3 shell) would see."""
    with closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute(query).fetchall()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/jobs.db", Path("data/jobs.db")),
        ("sqlite:////var/lib/vidu/jobs.db", Path("/var/lib/vidu/jobs.db")),
        ("data/jobs.db", Path("data/jobs.db")),
        ("/abs/jobs.db", Path("/abs/jobs.db")),
    ],
)
def test_database_url_forms(url: str, expected: Path) -> None:
    assert sqlite_path_from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://db/vidu", "not SQLite"),
        ("sqlite://host/jobs.db", "no host"),
        ("sqlite:///", "empty"),
        ("sqlite:///:memory:", "survive a restart"),
        ("", "empty"),
    ],
)
def test_bad_database_urls_are_refused_with_a_reason(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        sqlite_path_from_url(url)
    assert "DATABASE_URL" in str(caught.value)


async def test_relative_url_is_relative_to_the_working_directory_and_parents_are_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    monkeypatch.chdir(tmp_path)
    async with open_store("sqlite:///var/data/jobs.db", clock=clock) as store:
        job = await store.create_job(make_job(clock), [])
    assert (tmp_path / "var" / "data" / "jobs.db").is_file()
    # Awaiting open_store works too, and finds the same data.
    store = await open_store(str(tmp_path / "var" / "data" / "jobs.db"), clock=clock)
    try:
        assert await store.get_job(job.id) == job
    finally:
        await store.close()


async def test_absolute_url_with_four_slashes(tmp_path: Path, clock: ManualClock) -> None:
    target = tmp_path / "abs" / "jobs.db"
    async with open_store(f"sqlite:///{target}", clock=clock):  # tmp_path is absolute: four slashes
        pass
    assert target.is_file()


async def test_the_file_is_in_wal_mode_with_full_sync_and_foreign_keys(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "jobs.db"
    store = await SQLiteStore.open(path, clock=clock)
    try:
        assert await asyncio.to_thread(_sql, path, "PRAGMA journal_mode") == [("wal",)]
        # Per-connection settings: ask the store's own connections.
        for conn in (store._writer, store._reader):
            assert [tuple(r) for r in await conn.execute_fetchall("PRAGMA synchronous")] == [(2,)]  # FULL
            assert [tuple(r) for r in await conn.execute_fetchall("PRAGMA foreign_keys")] == [(1,)]
            assert next(iter(await conn.execute_fetchall("PRAGMA busy_timeout")))[0] >= 1000
    finally:
        await store.close()


def _copy_migrations(target: Path) -> Path:
    target.mkdir()
    for source in MIGRATIONS_DIR.glob("*.sql"):
        (target / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return target


async def test_a_failing_migration_is_rolled_back_whole_and_named(tmp_path: Path, clock: ManualClock) -> None:
    migrations = _copy_migrations(tmp_path / "migrations")
    shipped = sorted((int(p.name[1:].split("__")[0]), p.name[:-4].split("__")[1]) for p in migrations.glob("V*.sql"))
    new = shipped[-1][0] + 1  # the next version after the ones the bot ships
    (migrations / f"V{new}__add_notes.sql").write_text(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY);\nALTER TABLE no_such_table ADD COLUMN x TEXT;\n",
        encoding="utf-8",
    )
    path = tmp_path / "jobs.db"

    with pytest.raises(StoreError, match=rf"V{new}__add_notes\.sql.*no_such_table"):
        await SQLiteStore.open(path, clock=clock, migrations_dir=migrations)

    assert await asyncio.to_thread(_sql, path, "SELECT version, name FROM schema_version") == shipped
    assert (
        await asyncio.to_thread(_sql, path, "SELECT name FROM sqlite_master WHERE name = 'notes'") == []
    )  # no half-applied migration

    # Fixed file: the next start applies it.
    (migrations / f"V{new}__add_notes.sql").write_text(
        "-- notes a moderator leaves on a job\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n",
        encoding="utf-8",
    )
    async with await SQLiteStore.open(path, clock=clock, migrations_dir=migrations) as store:
        assert await store.schema_versions() == [*shipped, (new, "add_notes")]


async def test_a_badly_named_migration_file_is_named_in_the_error(tmp_path: Path, clock: ManualClock) -> None:
    migrations = _copy_migrations(tmp_path / "migrations")
    (migrations / "2_add_notes.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(ValueError, match=r"2_add_notes\.sql.*V<number>__<name>\.sql"):
        await SQLiteStore.open(tmp_path / "jobs.db", clock=clock, migrations_dir=migrations)


async def test_a_database_from_a_newer_bot_is_refused(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "jobs.db"
    async with await SQLiteStore.open(path, clock=clock):
        pass
    await asyncio.to_thread(_sql, path, "INSERT INTO schema_version VALUES (99, 'future', 0)")
    with pytest.raises(StoreError, match="newer than this bot knows"):
        await SQLiteStore.open(path, clock=clock)


async def test_an_unreadable_row_is_reported_by_job_and_column(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "jobs.db"
    async with await SQLiteStore.open(path, clock=clock) as store:
        job = await store.create_job(make_job(clock), [])
        await asyncio.to_thread(_sql, path, f"UPDATE jobs SET params = '{{broken' WHERE id = '{job.id}'")  # noqa: S608
        with pytest.raises(StoreError, match=rf"job {job.id}: column 'params'"):
            await store.get_job(job.id)


def test_split_statements_keeps_semicolons_inside_strings_and_triggers() -> None:
    script = """
-- a comment; with a semicolon
CREATE TABLE t (a TEXT DEFAULT 'x;y');
CREATE TRIGGER tr AFTER INSERT ON t BEGIN
    UPDATE t SET a = 'z;' WHERE rowid = new.rowid;
END;
-- trailing comment
"""
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].endswith("END;")


def test_split_statements_names_an_unterminated_statement() -> None:
    with pytest.raises(ValueError, match="missing ';'"):
        split_statements("CREATE TABLE t (a TEXT);\nCREATE TABLE u (b TEXT)\n")


async def test_one_unreadable_row_does_not_hide_the_others_from_lists(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "jobs.db"
    async with await SQLiteStore.open(path, clock=clock) as store:
        broken = await store.create_job(make_job(clock), [])
        fine = await store.create_job(make_job(clock), [])
        await asyncio.to_thread(_sql, path, f"UPDATE jobs SET params = 'nope' WHERE id = '{broken.id}'")  # noqa: S608

        with caplog.at_level(logging.ERROR, logger="bot.db.sqlite_store"):
            queued = await store.queued_for(fine.guild_id, fine.user_id)

        assert [j.id for j in queued] == [fine.id]
        assert broken.id in caplog.text
        assert "params" in caplog.text


@pytest.mark.parametrize("content", [b"this is not a database, just some text" * 100, b"\x00" * 4096])
async def test_a_file_that_is_not_a_database_is_named_in_the_error(
    tmp_path: Path, clock: ManualClock, content: bytes
) -> None:
    path = tmp_path / "jobs.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=r"jobs\.db.*(not a database|not a usable)"):
        await SQLiteStore.open(path, clock=clock)
    assert path.read_bytes() == content  # nothing overwritten


async def test_a_job_mid_submit_across_the_v8_upgrade_is_marked_sent(tmp_path: Path, clock: ManualClock) -> None:
    """V8 adds `sent_at`; a job caught mid-submit by the upgrade may have been sent, so the migration marks it
    sent, and recovery still ends it submit_unknown instead of sending it a second time."""
    from bot.jobs import JobState

    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    store = await SQLiteStore.open(url, clock=clock)
    job = await store.create_job(make_job(clock), [])
    queued = await store.create_job(make_job(clock), [])
    await store.transition(job.id, from_states=[JobState.ACCEPTED], to=JobState.SUBMITTING)
    await store.close()
    with closing(sqlite3.connect(tmp_path / "jobs.db")) as db, db:  # the database as the bot before V8 left it
        db.execute("ALTER TABLE jobs DROP COLUMN sent_at")
        db.execute("DELETE FROM schema_version WHERE version = 8")
    store = await SQLiteStore.open(url, clock=clock)
    try:
        assert 8 in [v for v, _ in await store.schema_versions()]  # applied again (later ones stay)
        upgraded, waiting = await store.get_job(job.id), await store.get_job(queued.id)
        assert upgraded is not None and upgraded.sent_at == upgraded.created_at
        assert waiting is not None and waiting.sent_at is None
    finally:
        await store.close()
