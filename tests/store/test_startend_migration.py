# ruff: noqa: S608  (the statements name columns read from the schema itself, never input)
"""V14 widens the jobs table's kind to "startend" (issue 28 item 1): SQLite rebuilds the table, PostgreSQL swaps
its CHECK. A database as the bot left it before V14 (every earlier migration: V1-V10 today, whose columns and
indexes V14 must all keep), holding jobs in every state with their pictures, comes through V14 with every row,
every value, every `seq`, every picture, every index and every column (type, constraint, default, order) as
they were."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.db import PostgresStore, SQLiteStore
from bot.db.migration_files import MIGRATIONS_ROOT
from bot.jobs import JobKind, JobState
from bot.params import Img2VideoParams, StartEndParams
from bot.quotas import Charge
from tests.store.backends import ManualClock, backend_params, pg_url, sqlite_url
from tests.store.factories import ALICE, BOB, drive_to, make_inputs, make_job

Store = SQLiteStore | PostgresStore

# What the schema says about the jobs table, read back per backend: its columns (type, NOT NULL, default) and
# its indexes (their full definitions).
SCHEMA = {
    "sqlite": ("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('jobs') ORDER BY cid",
               "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' ORDER BY name"),
    "postgresql": ("SELECT column_name, data_type, is_nullable, column_default, is_identity "
                   "FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'jobs' "
                   "ORDER BY ordinal_position",
                   "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                   "AND tablename = 'jobs' ORDER BY indexname"),
}


def migrations_before(version: int, backend: str, into: Path) -> Path:
    into.mkdir()
    for path in (MIGRATIONS_ROOT / backend).glob("V*.sql"):
        if int(path.name[1:].partition("__")[0]) < version:
            shutil.copy(path, into / path.name)
    return into


async def open_store(backend: str, tmp_path: Path, clock: ManualClock, migrations: Path) -> Store:
    if backend == "sqlite":
        return await SQLiteStore.open(sqlite_url(tmp_path), clock=clock, migrations_dir=migrations)
    return await PostgresStore.open(pg_url(tmp_path), clock=clock, migrations_dir=migrations, max_size=2)


async def rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await store._fetch_rows(sql, ())]


async def column_names(store: Store, backend: str) -> list[str]:
    return [str(r[0]) for r in await rows(store, SCHEMA[backend][0])]


async def snapshot(store: Store, backend: str, names: list[str]) -> dict[str, Any]:
    """Every value of the columns `names` (those of the schema before V14) and every picture, as stored."""
    columns, indexes = SCHEMA[backend]
    return {
        "jobs": await rows(store, f"SELECT {', '.join(names)} FROM jobs ORDER BY seq"),
        "inputs": await rows(store, "SELECT job_id, position, filename, mime_type, data FROM job_inputs "
                                    "ORDER BY job_id, position"),
        "columns": await rows(store, columns),
        "indexes": await rows(store, indexes),
    }


async def jobs_as_the_bot_left_them(store: Store, clock: ManualClock) -> None:
    """Jobs in every state, with pictures, as the bot of today writes them (on a database with every migration)."""
    created = None
    ids: list[str] = []
    for n, state in enumerate([JobState.ACCEPTED, JobState.SUBMITTING, JobState.SUBMITTED, JobState.SUCCEEDED,
                               JobState.DELIVERED, JobState.FAILED, JobState.CANCELLED]):
        clock.advance(1.5)
        job = make_job(clock, user_id=ALICE if n % 2 else BOB, upload_limit=25 * 1024 * 1024 if n % 3 else None)
        if n == 3:  # an img2video job among them, with every optional setting
            job = make_job(clock, kind=JobKind.IMG2VIDEO, duration_seconds=5,
                           params=Img2VideoParams(prompt="a cat", seed=7, audio=True, voice_id="v1"))
        charge = Charge(guild_id=job.guild_id, user_id=job.user_id, seconds=9, credits=525)
        created = await store.create_job(job, make_inputs(2 + n % 3), charge=charge)
        moved = await drive_to(store, created, state)
        await store.set_message_ids(moved.id, card_message_id=900 + n, status_message_id=950 + n)
        ids.append(moved.id)
    clock.advance(60)
    assert await store.mark_sent(ids[1], fence=(await store.get_job(ids[1]) or created).attempt) is not None
    async with store._write() as conn:  # a value in V10's columns, which V14 must keep as well
        await store._conn_execute(conn, "UPDATE jobs SET video_review = 'held', reviewed_by = 42 "
                                        "WHERE kind = 'img2video'", ())


async def copy_rows(source: Store, target: Store, names: list[str]) -> None:
    """The jobs and pictures of `source`, in their order, into `target`'s older schema: its columns only (`seq`
    left to the target's own counter, as the bot's inserts leave it)."""
    wanted = [n for n in names if n != "seq"]
    jobs = await rows(source, f"SELECT {', '.join(wanted)} FROM jobs ORDER BY seq")
    inputs = await rows(source, "SELECT job_id, position, filename, mime_type, data FROM job_inputs")
    async with target._write() as conn:
        for table, columns, values in [*(("jobs", wanted, r) for r in jobs),
                                       *(("job_inputs", ["job_id", "position", "filename", "mime_type", "data"], r)
                                         for r in inputs)]:
            arg = target._params()
            placeholders = ", ".join(arg(v) for v in values)
            await target._conn_execute(conn, f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
                                       arg.values)


@pytest.mark.parametrize("backend", backend_params())
async def test_a_database_with_jobs_comes_through_v14_whole(backend: str, tmp_path: Path) -> None:
    clock = ManualClock()
    everything = MIGRATIONS_ROOT / backend
    # Today's bot writes the jobs (later migrations add columns the code reads and writes); they are copied into a
    # database that stopped before V14, with the columns it had.
    (tmp_path / "today").mkdir()
    today = await open_store(backend, tmp_path / "today", clock, everything)
    old = await open_store(backend, tmp_path, clock, migrations_before(14, backend, tmp_path / "before"))
    try:
        await jobs_as_the_bot_left_them(today, clock)
        names = await column_names(old, backend)
        await copy_rows(today, old, names)
        with pytest.raises(Exception, match=r"(?i)check"):  # the schema before V14 knows no such kind
            async with old._write() as conn:
                await old._conn_execute(conn, "UPDATE jobs SET kind = 'startend'", ())
        before = await snapshot(old, backend, names)
    finally:
        await today.close()
        await old.close()
    assert len(before["indexes"]) >= 5 and len(before["jobs"]) == 7 and before["inputs"]
    assert "held" in str(before["jobs"])

    new = await open_store(backend, tmp_path, clock, everything)
    try:
        assert 14 in [v for v, _ in await new.schema_versions()]
        after = await snapshot(new, backend, names)
        # Every row and value (seq included), every picture, and every column (and default) and index it had.
        assert after["jobs"] == before["jobs"] and after["inputs"] == before["inputs"]
        assert after["columns"][:len(before["columns"])] == before["columns"]
        assert set(before["indexes"]) <= set(after["indexes"])
        last_seq = max(int(job[names.index("seq")]) for job in before["jobs"])
        startend = await new.create_job(
            make_job(clock, kind=JobKind.STARTEND, duration_seconds=6,
                     params=StartEndParams(prompt="walks in", duration=6, movement="high")), make_inputs(2))
        assert await new.get_job(startend.id) == startend
        assert [i.data for i in await new.get_inputs(startend.id)] == [i.data for i in make_inputs(2)]
        (seq,) = (s for i, s in await rows(new, "SELECT id, seq FROM jobs") if i == startend.id)
        assert seq > last_seq  # the counter went on
        # The constraints stay: an unknown kind and an unknown review (V10's CHECK) are still refused.
        for update in ("UPDATE jobs SET kind = 'teleport'", "UPDATE jobs SET video_review = 'maybe'"):
            with pytest.raises(Exception, match=r"(?i)check"):
                async with new._write() as conn:
                    await new._conn_execute(conn, update, ())
    finally:
        await new.close()
