"""PostgreSQL-only behaviour: DATABASE_URL forms, migrations under concurrency, connection errors,
unreadable rows. (Everything both stores share runs on both from the rest of tests/store.)"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.db import PostgresStore, open_store
from bot.db.pg_store import MIGRATIONS_DIR, pg_dsn_from_url
from bot.jobs import JobState, StoreError
from bot.params import MultiframeParams
from tests.store.backends import ManualClock, pg_server_url, pg_url
from tests.store.factories import make_inputs, make_job

needs_pg = pytest.mark.skipif(pg_server_url() is None, reason="needs TEST_DATABASE_URL_PG (.ci/run sets it)")


async def _sql(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    """A plain, separate connection into the test's schema: what an operator's psql would see."""
    dsn, schema = pg_dsn_from_url(url)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema or "public"}, timeout=10)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return pg_url(tmp_path)  # skips without a server; the schema is dropped after the test


# ---------------------------------------------------------------------------------------------- URLs


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+asyncpg"])
def test_database_url_forms(scheme: str) -> None:
    dsn, schema = pg_dsn_from_url(f"{scheme}://bot:pw@db.internal:6543/vidu?schema=bot_one&sslmode=require")
    assert schema == "bot_one"
    parts = urlsplit(dsn)
    assert (parts.scheme, parts.hostname, parts.port, parts.path) == ("postgresql", "db.internal", 6543, "/vidu")
    assert parts.query == "sslmode=require"  # everything but `schema` goes to the driver
    assert pg_dsn_from_url("postgresql://bot@db/vidu")[1] is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://bot:s3cret-pw@db/vidu?schema=Bad-Name", "schema 'Bad-Name'"),
        ("postgresql://bot:s3cret-pw@db/vidu?schema=1st", "schema '1st'"),
        ("postgresql:///vidu", "needs a host"),
        ("mysql://bot:s3cret-pw@db/vidu", "not PostgreSQL"),
    ],
)
def test_bad_database_urls_are_refused_with_a_reason_and_without_the_password(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        pg_dsn_from_url(url)
    assert str(caught.value).startswith("DATABASE_URL:")
    assert "s3cret-pw" not in str(caught.value)


async def test_a_server_that_is_not_there_is_named_without_the_password(clock: ManualClock) -> None:
    # A port nobody listens on (bound, never listening): refused at once.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(StoreError, match=rf"127\.0\.0\.1:{port}/vidu.*cannot connect") as caught:
            await open_store(f"postgresql://bot:s3cret-pw@127.0.0.1:{port}/vidu", clock=clock)
    assert "s3cret-pw" not in str(caught.value)


# ------------------------------------------------------------------------------------ a real server


@needs_pg
async def test_open_store_opens_postgresql_for_both_schemes(url: str, clock: ManualClock) -> None:
    async with open_store(url, clock=clock) as store:
        assert isinstance(store, PostgresStore)
        job = await store.create_job(make_job(clock), make_inputs(1))
    async with open_store(url.replace("postgresql://", "postgres://", 1), clock=clock) as store:
        assert await store.get_job(job.id) == job


@needs_pg
async def test_a_wrong_password_is_a_clear_error_without_the_password(url: str, clock: ManualClock) -> None:
    parts = urlsplit(url)
    wrong = parts._replace(netloc=f"{parts.username}:not-the-pw-77@{parts.hostname}:{parts.port}")
    with pytest.raises(StoreError, match=r"cannot connect.*password authentication failed") as caught:
        await PostgresStore.open(urlunsplit(wrong), clock=clock)
    assert "not-the-pw-77" not in str(caught.value)
    assert "not-the-pw-77" not in repr(caught.value)


@needs_pg
async def test_the_repr_names_the_database_but_not_the_password(url: str, clock: ManualClock) -> None:
    password = urlsplit(url).password
    assert password
    async with await PostgresStore.open(url, clock=clock) as store:
        assert password not in repr(store)
        assert urlsplit(url).hostname in repr(store)


@needs_pg
async def test_tables_live_in_the_schema_the_url_names(url: str, clock: ManualClock) -> None:
    async with await PostgresStore.open(url, clock=clock) as store:
        await store.create_job(make_job(clock), [])
        assert store.schema is not None
        rows = await _sql(
            url, "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", store.schema
        )
    assert {"jobs", "job_inputs", "schema_version"} <= {r["table_name"] for r in rows}


@needs_pg
async def test_several_processes_starting_at_once_apply_each_migration_exactly_once(
    url: str, clock: ManualClock
) -> None:
    # Six stores with their own connection pools (as six bot processes would have) on an empty schema.
    stores = await asyncio.wait_for(
        asyncio.gather(*(PostgresStore.open(url, clock=clock, migrate=False) for _ in range(6))), 60
    )
    try:
        applied = await asyncio.wait_for(asyncio.gather(*(s.migrate() for s in stores)), 60)
        shipped = sorted(int(p.name[1:].split("__")[0]) for p in MIGRATIONS_DIR.glob("V*.sql"))
        assert sorted(v for versions in applied for v in versions) == shipped  # each once, by one of them
        rows = await _sql(url, "SELECT version FROM schema_version ORDER BY version")
        assert [r["version"] for r in rows] == shipped
    finally:
        for store in stores:
            await store.close()


def _copy_migrations(target: Path) -> Path:
    target.mkdir()
    for source in MIGRATIONS_DIR.glob("*.sql"):
        (target / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return target


@needs_pg
async def test_a_failing_migration_is_rolled_back_whole_and_named(
    url: str, tmp_path: Path, clock: ManualClock
) -> None:
    migrations = _copy_migrations(tmp_path / "migrations")
    shipped = sorted(int(p.name[1:].split("__")[0]) for p in migrations.glob("V*.sql"))
    new = shipped[-1] + 1
    (migrations / f"V{new}__add_notes.sql").write_text(
        "CREATE TABLE notes (id integer PRIMARY KEY);\nALTER TABLE no_such_table ADD COLUMN x text;\n",
        encoding="utf-8",
    )

    with pytest.raises(StoreError, match=rf"V{new}__add_notes\.sql failed.*no_such_table"):
        await PostgresStore.open(url, clock=clock, migrations_dir=migrations)

    assert [r["version"] for r in await _sql(url, "SELECT version FROM schema_version ORDER BY 1")] == shipped
    assert [tuple(r) for r in await _sql(url, "SELECT to_regclass('notes')")] == [(None,)]  # no half-applied file

    # Fixed file (a dollar-quoted function body with semicolons, too): the next start applies it.
    (migrations / f"V{new}__add_notes.sql").write_text(
        "-- notes a moderator leaves on a job\nCREATE TABLE notes (id integer PRIMARY KEY, body text);\n"
        "CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM notes; $$;\n",
        encoding="utf-8",
    )
    async with await PostgresStore.open(url, clock=clock, migrations_dir=migrations) as store:
        assert (await store.schema_versions())[-1] == (new, "add_notes")
    assert [tuple(r) for r in await _sql(url, "SELECT note_count()")] == [(0,)]


@needs_pg
async def test_a_database_from_a_newer_bot_is_refused(url: str, clock: ManualClock) -> None:
    async with await PostgresStore.open(url, clock=clock):
        pass
    await _sql(url, "INSERT INTO schema_version VALUES (99, 'future', now())")
    with pytest.raises(StoreError, match="schema version 99 is newer than this bot knows"):
        await PostgresStore.open(url, clock=clock)


@needs_pg
async def test_an_unreadable_row_is_named_and_skipped_in_lists(
    url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with await PostgresStore.open(url, clock=clock) as store:
        broken = await store.create_job(make_job(clock), [])
        fine = await store.create_job(make_job(clock), [])
        await _sql(url, "UPDATE jobs SET params = '[1, 2]'::jsonb WHERE id = $1", broken.id)

        with pytest.raises(StoreError, match=rf"job {broken.id}: column 'params'"):
            await store.get_job(broken.id)
        with caplog.at_level(logging.ERROR, logger="bot.db.pg_store"):
            queued = await store.queued_for(fine.guild_id, fine.user_id)

    assert [j.id for j in queued] == [fine.id]
    assert broken.id in caplog.text


@needs_pg
async def test_text_with_a_nul_character_is_refused_naming_the_field(url: str, clock: ManualClock) -> None:
    # PostgreSQL text cannot hold NUL; the store says which field instead of a driver error.
    async with await PostgresStore.open(url, clock=clock) as store:
        job = await store.create_job(make_job(clock), [])
        with pytest.raises(ValueError, match=rf"job {job.id}, field 'reason'.*NUL"):
            await store.transition(job.id, from_states={JobState.ACCEPTED}, to=JobState.CANCELLED, reason="a\x00b")
        with pytest.raises(ValueError, match=r"field 'params'.*NUL"):
            await store.create_job(make_job(clock, params=MultiframeParams(("cat\x00", None), (4, 5))), [])
        assert await store.get_job(job.id) == job
