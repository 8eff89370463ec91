"""The store keeps time by PostgreSQL's clock, whatever this host's clock says (bot/db/clock.py):
leases, poll times and job times written by processes on different hosts are comparable."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.db import PostgresStore, open_store
from bot.db.clock import DatabaseClock
from bot.jobs import JobState
from bot.jobs.models import utcnow
from tests.store.backends import ManualClock, pg_url
from tests.store.factories import make_job

CLOSE = timedelta(seconds=1)  # the test and the server share this machine's clock


async def test_a_host_clock_an_hour_off_still_stamps_and_leases_by_the_servers_time(tmp_path: Path) -> None:
    store = await PostgresStore.open(pg_url(tmp_path), host_clock=lambda: utcnow() + timedelta(hours=1))
    try:
        assert abs(store.now() - utcnow()) < CLOSE
        job = await store.create_job(make_job(store.now), [])
        assert abs(job.created_at - utcnow()) < CLOSE
        until = store.now() + timedelta(seconds=30)
        [leased] = await store.lease([JobState.ACCEPTED], owner="h:1:a", now=store.now(), until=until, limit=1)
        assert leased.lease_until is not None and abs(leased.lease_until - (utcnow() + timedelta(seconds=30))) < CLOSE
    finally:
        await store.close()


async def test_a_host_clock_stepped_while_running_is_followed_at_the_next_measure(tmp_path: Path) -> None:
    host = ManualClock(utcnow())  # a host clock that stands still, then is stepped an hour by NTP
    store = await PostgresStore.open(pg_url(tmp_path), clock=DatabaseClock(host, refresh_seconds=0))
    try:
        at_open = store.now()
        assert abs(at_open - utcnow()) < CLOSE
        host.advance(3600)
        assert store.now() - at_open == timedelta(hours=1)  # between measures, the host's clock moves it
        await store.lease([JobState.ACCEPTED], owner="h:1:a", now=store.now(), until=store.now(), limit=1)
        assert abs(store.now() - utcnow()) < CLOSE  # measured again when leasing: the server's time
    finally:
        await store.close()


async def test_the_offset_is_read_at_the_middle_of_the_round_trip() -> None:
    host = ManualClock()
    clock = DatabaseClock(host, refresh_seconds=60)
    server = host.now + timedelta(seconds=100)

    async def slow_server_now() -> datetime:
        host.advance(2)  # a 2 s round trip: the server read its clock 1 s in
        return server + timedelta(seconds=1)

    assert clock.stale()
    assert await clock.measure(slow_server_now) == timedelta(seconds=100)
    assert not clock.stale()
    assert clock() == host.now + timedelta(seconds=100)


async def test_the_bot_opens_postgresql_with_the_servers_clock(tmp_path: Path) -> None:
    """open_store is how the bot opens DATABASE_URL: no clock given means the server's (the soak benchmark
    found it passing the host's, so a host running ahead took over other processes' submits)."""
    async with open_store(pg_url(tmp_path), host_clock=lambda: utcnow() + timedelta(minutes=5)) as store:
        assert abs(store.now() - utcnow()) < CLOSE


async def test_a_skewed_host_is_told_once_and_again_only_when_its_clock_is_stepped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    host = ManualClock(utcnow() + timedelta(hours=1))
    store = await PostgresStore.open(pg_url(tmp_path), clock=DatabaseClock(host, refresh_seconds=0))
    try:
        for _ in range(3):  # each lease measures again (refresh_seconds=0)
            await store.lease([JobState.ACCEPTED], owner="h:1:a", now=store.now(), until=store.now(), limit=1)
        host.advance(-7200)  # stepped: now an hour behind
        await store.lease([JobState.ACCEPTED], owner="h:1:a", now=store.now(), until=store.now(), limit=1)
    finally:
        await store.close()
    told = [r.getMessage() for r in caplog.records if "PostgreSQL's" in r.getMessage()]
    assert len(told) == 2, told
    assert told[0].startswith("this host's clock is 3600.") and "ahead of" in told[0]
    assert "behind" in told[1]
