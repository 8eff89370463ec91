"""The job loop with PostgreSQL stopped under it (a server of the test's own, tests/store/pg_server.py): a
task the provider created while the database went away is recorded when it comes back, not lost as
submit_unknown; and what an outage looks like to each store is told apart from a bug."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.db import PostgresStore, SQLiteStore
from bot.jobs import JobState
from bot.jobs.outage import DatabaseUnavailable, is_database_outage
from bot.jobs.worker import JobWorker, WorkerSettings
from bot.provider import RateLimiter, RetryPolicy, ViduClient
from tests.fakes.provider import FakeProvider, Fault
from tests.jobs.test_worker import API_KEY, RecordingListener, add_img2video
from tests.store.backends import chosen_backend
from tests.store.pg_server import PrivateServer


@contextlib.contextmanager
def told(words: str) -> Iterator[asyncio.Event]:
    """An event set once the bot logs a line containing `words` (what the worker says is the event)."""
    seen = asyncio.Event()
    loop = asyncio.get_running_loop()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if words in record.getMessage():
                loop.call_soon_threadsafe(seen.set)

    watch = Watch()
    logging.getLogger("bot").addHandler(watch)
    try:
        yield seen
    finally:
        logging.getLogger("bot").removeHandler(watch)


@pytest.mark.skipif(chosen_backend().name != "postgresql",
                    reason="the PostgreSQL pass runs it (TEST_E2E_DATABASE=postgresql)")
async def test_a_task_created_while_the_database_is_away_is_recorded_when_it_is_back(tmp_path: Path) -> None:
    server = await asyncio.to_thread(PrivateServer.create)
    fake = FakeProvider(api_key=API_KEY, time_scale=0.0)
    await fake.start()
    store = await PostgresStore.open(server.url)
    try:
        async with aiohttp.ClientSession() as session:
            client = ViduClient(session, base_url=fake.base_url, api_key=API_KEY, limiter=RateLimiter(60_000),
                                timeout=10.0, retry=RetryPolicy(max_attempts=1))
            listener = RecordingListener()
            worker = JobWorker(store, client, listener, WorkerSettings(lease_seconds=30), workdir=tmp_path)
            job = await add_img2video(store)
            fake.inject("submit", Fault.slow(2.0))
            with told("was created; recording it: the database (") as waiting:
                submitting = asyncio.create_task(worker.tick())
                while not fake.requests_to("submit"):  # noqa: ASYNC110 - the fake records it on arrival
                    await asyncio.sleep(0.02)
                await asyncio.to_thread(server.stop)  # the provider creates the task while the database is away
                await asyncio.wait_for(waiting.wait(), 30)  # the worker could not record it: it waits, id in hand
            assert not submitting.done()
            # /healthz says why meanwhile: the round is held up in the submit, not failed.
            assert "is unavailable" in (worker.database_outage() or "")
            await asyncio.to_thread(server.start)
            await asyncio.wait_for(submitting, 60)
            assert worker.database_outage() is None

        recorded = await store.get_job(job.id)
        assert recorded is not None and recorded.state is JobState.SUBMITTED
        assert recorded.task_id == next(iter(fake.tasks))
        assert listener.changes == [(job.id, JobState.SUBMITTED)]
    finally:
        await store.close()
        await fake.stop()
        await asyncio.to_thread(server.destroy)


def test_what_counts_as_the_sqlite_file_being_away(tmp_path: Path) -> None:
    from bot.db.sqlite_store import _sqlite_outage

    path = tmp_path / "held.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")  # an operator's backup or a stuck writer holds the file
    other = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as locked:
        other.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError) as unopenable:
        sqlite3.connect(tmp_path / "no such folder" / "x.db").execute("SELECT 1")
    with pytest.raises(sqlite3.OperationalError) as bug:
        other.execute("SELEKT 1")
    assert _sqlite_outage(locked.value) and _sqlite_outage(unopenable.value)
    assert not _sqlite_outage(bug.value)  # a mistake in a query is a bug, told with its traceback
    holder.close()
    other.close()


async def test_a_store_call_that_finds_the_database_away_raises_database_unavailable(tmp_path: Path) -> None:
    store = await SQLiteStore.open(f"sqlite:///{tmp_path / 'bot.db'}")
    job = await add_img2video(store)
    holder = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    await store._writer.execute("PRAGMA busy_timeout = 0")  # (not the store's 10 s: no need to wait it out)
    try:
        with pytest.raises(DatabaseUnavailable) as away:
            await store.transition(job.id, from_states=[JobState.ACCEPTED], to=JobState.CANCELLED)
        assert is_database_outage(away.value) and "database is locked" not in str(away.value)
        assert str(tmp_path) in str(away.value) and "OperationalError" in str(away.value)
    finally:
        holder.close()
    assert (await store.get_job(job.id)).state is JobState.ACCEPTED  # type: ignore[union-attr]
    await store.close()
