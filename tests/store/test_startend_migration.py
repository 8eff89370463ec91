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


async def snapshot(store: Store, backend: str, ids: list[str]) -> dict[str, Any]:
    columns, indexes = SCHEMA[backend]
    return {
        "jobs": [await store.get_job(i) for i in ids],
        "inputs": [await store.get_inputs(i) for i in ids],
        "seq": await rows(store, "SELECT id, seq FROM jobs ORDER BY seq"),
        "columns": await rows(store, columns),
        "indexes": await rows(store, indexes),
    }


@pytest.mark.parametrize("backend", backend_params())
async def test_a_database_with_jobs_comes_through_v14_whole(backend: str, tmp_path: Path) -> None:
    clock = ManualClock()
    everything = MIGRATIONS_ROOT / backend
    old = await open_store(backend, tmp_path, clock, migrations_before(14, backend, tmp_path / "before"))
    try:
        ids: list[str] = []
        for n, state in enumerate([JobState.ACCEPTED, JobState.SUBMITTING, JobState.SUBMITTED, JobState.SUCCEEDED,
                                   JobState.DELIVERED, JobState.FAILED, JobState.CANCELLED]):
            clock.advance(1.5)
            job = make_job(clock, user_id=ALICE if n % 2 else BOB, upload_limit=25 * 1024 * 1024 if n % 3 else None)
            if n == 3:  # an img2video job among them, with every optional setting
                job = make_job(clock, kind=JobKind.IMG2VIDEO, duration_seconds=5,
                               params=Img2VideoParams(prompt="a cat", seed=7, audio=True, voice_id="v1"))
            charge = Charge(guild_id=job.guild_id, user_id=job.user_id, seconds=9, credits=525)
            created = await old.create_job(job, make_inputs(2 + n % 3), charge=charge)
            moved = await drive_to(old, created, state)
            await old.set_message_ids(moved.id, card_message_id=900 + n, status_message_id=950 + n)
            ids.append(moved.id)
        clock.advance(60)
        assert await old.mark_sent(ids[1], fence=(await old.get_job(ids[1]) or created).attempt) is not None
        refused = make_job(clock, kind=JobKind.STARTEND, duration_seconds=5, params=StartEndParams(prompt="walk"))
        with pytest.raises(Exception, match=r"(?i)check"):  # the schema before V14 knows no such kind
            await old.create_job(refused, make_inputs(2))
        async with old._write() as conn:  # a value in V10's columns, which V14 must keep as well
            await old._conn_execute(conn, "UPDATE jobs SET video_review = 'held', reviewed_by = 42 "
                                          "WHERE kind = 'img2video'", ())
        before = await snapshot(old, backend, ids)
        before["review"] = await rows(old, "SELECT id, video_review, reviewed_by FROM jobs ORDER BY seq")
    finally:
        await old.close()
    assert len(before["indexes"]) >= 5 and all(before["inputs"]) and ("held" in str(before["review"]))

    new = await open_store(backend, tmp_path, clock, everything)
    try:
        assert 14 in [v for v, _ in await new.schema_versions()]
        after = await snapshot(new, backend, ids)
        after["review"] = await rows(new, "SELECT id, video_review, reviewed_by FROM jobs ORDER BY seq")
        assert after == before  # every row, value, seq, picture, column (and default) and index
        last_seq = max(seq for _, seq in before["seq"])
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
