"""The quota ledger in the store: reserve with the job, consume on delivery, refund on every end that
produced nothing, exactly once; never overdrawn, not even by 200 requests at the same instant."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.jobs import Job, JobInput, JobKind, JobState, SQLiteStore
from bot.quotas import Charge, GuildSettings, Limit, Period, QuotaExceeded, Scope, checks_for
from tests.store.backends import BACKENDS, ManualClock, backend_params
from tests.store.factories import drive_to

G, OTHER, ALICE, BOB, MOD = 10, 20, 1, 2, 99
S = JobState


@pytest.fixture(params=backend_params())
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    backend = BACKENDS[request.param]
    async with await backend.open(tmp_path, ManualClock(datetime(2026, 5, 5, 12, tzinfo=UTC))) as opened:
        yield opened


async def ask(store: SQLiteStore, user: int = ALICE, seconds: int = 5, guild: int = G, roles: list[int] | None = None
              ) -> Job:
    """A request as the intake makes it: the job, its reservation and the limit checks, atomically."""
    settings = await store.guild_settings(guild)
    checks = checks_for(await store.limits(guild), settings, user_id=user, role_ids=roles or [], now=store._clock())
    job = Job.new(guild_id=guild, channel_id=5, user_id=user, kind=JobKind.IMG2VIDEO,
                  params={"prompt": "p", "duration": seconds}, resolution="720p", duration_seconds=seconds,
                  now=store._clock())
    return await store.create_job(job, [JobInput(0, "a.png", "image/png", b"x")],
                                  charge=Charge(guild, user, seconds), checks=checks)


async def used(store: SQLiteStore, user: int | None = ALICE, guild: int = G) -> tuple[int, int]:
    u = await store.usage(guild, user, datetime(2026, 5, 5, tzinfo=UTC))
    return u.videos, u.seconds


async def test_a_request_over_the_limit_is_refused_with_which_limit_and_when_it_frees(store: SQLiteStore) -> None:
    await store.set_limit(Limit(G, Scope.DEFAULT, 0, Period.DAY, 2, None), actor_id=MOD)
    await ask(store)
    await ask(store)
    with pytest.raises(QuotaExceeded) as refused:
        await ask(store)
    message = str(refused.value)
    assert "your daily limit (2 videos per day)" in message and "2 of 2 videos used" in message
    assert f"<t:{int(datetime(2026, 5, 6, tzinfo=UTC).timestamp())}:R>" in message  # frees at midnight UTC
    assert len(await store.recent_jobs(G, ALICE)) == 2  # the refused request left no job behind
    assert await used(store) == (2, 10)


async def test_seconds_limits_and_the_server_pool(store: SQLiteStore) -> None:
    await store.set_limit(Limit(G, Scope.DEFAULT, 0, Period.DAY, None, 12), actor_id=MOD)
    await store.set_limit(Limit(G, Scope.SERVER, 0, Period.MONTH, None, 15), actor_id=MOD)
    await ask(store, ALICE, 10)
    with pytest.raises(QuotaExceeded, match="your daily limit"):
        await ask(store, ALICE, 5)  # 15 > 12
    with pytest.raises(QuotaExceeded, match=r"the server's monthly limit .* 10 of 15 s used, this request needs 6 s"):
        await ask(store, BOB, 6)  # bob's own allowance is fine; the pool is not
    await ask(store, BOB, 5)
    assert await used(store, None) == (2, 15)


@pytest.mark.parametrize("end", [S.REJECTED, S.FAILED, S.CANCELLED])
async def test_every_end_the_provider_did_not_bill_refunds_exactly(store: SQLiteStore, end: JobState) -> None:
    job = await ask(store, seconds=7)
    assert await used(store) == (1, 7)
    await drive_to(store, job, end)
    assert await used(store) == (0, 0)


async def test_an_expired_job_keeps_its_charge_the_provider_may_bill_it(store: SQLiteStore) -> None:
    # The bot gave up (a backlog past its patience, a video it could not post); the provider did not.
    await drive_to(store, await ask(store, seconds=7), S.EXPIRED)
    assert await used(store) == (1, 7)


async def test_delivery_consumes_and_an_unknown_submit_keeps_its_reservation(store: SQLiteStore) -> None:
    await drive_to(store, await ask(store, seconds=4), S.DELIVERED)
    await drive_to(store, await ask(store, seconds=6), S.SUBMIT_UNKNOWN)  # the provider may have charged
    assert await used(store) == (2, 10)


async def test_nothing_is_refunded_twice(store: SQLiteStore) -> None:
    job = await ask(store, seconds=7)
    await ask(store, seconds=3)
    await drive_to(store, job, S.FAILED)
    async with store._write() as conn:  # a retried settlement of the same job
        await store._settle_in(conn, job.id, S.FAILED, store._clock())
        await store._settle_in(conn, job.id, S.CANCELLED, store._clock())
    assert await used(store) == (1, 3)


async def test_a_grant_lets_one_member_go_further_but_not_the_pool(store: SQLiteStore) -> None:
    await store.set_limit(Limit(G, Scope.DEFAULT, 0, Period.DAY, 1, None), actor_id=MOD)
    await store.set_limit(Limit(G, Scope.SERVER, 0, Period.DAY, 2, None), actor_id=MOD)
    await ask(store)
    await store.grant(G, ALICE, videos=5, seconds=0, actor_id=MOD)
    await ask(store)
    with pytest.raises(QuotaExceeded, match="the server's daily limit"):
        await ask(store)
    assert [a["action"] for a in await store.audit(G)] == ["quota.grant", "quota.set", "quota.set"]


async def test_one_servers_limits_and_usage_are_invisible_to_another(store: SQLiteStore) -> None:
    await store.set_limit(Limit(G, Scope.DEFAULT, 0, Period.DAY, 1, None), actor_id=MOD)
    await ask(store, guild=G)
    await ask(store, guild=OTHER)
    await ask(store, guild=OTHER)
    assert await store.limits(OTHER) == []
    assert await used(store, ALICE, OTHER) == (2, 10)
    assert await store.audit(OTHER) == []


async def test_the_window_turns_over_in_the_servers_time_zone(store: SQLiteStore) -> None:
    await store.set_guild_settings(G, GuildSettings(timezone="Asia/Shanghai"), actor_id=MOD, action="config")
    await store.set_limit(Limit(G, Scope.DEFAULT, 0, Period.DAY, 1, None), actor_id=MOD)
    clock: ManualClock = store._clock  # type: ignore[assignment]
    clock.now = datetime(2026, 5, 5, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    await ask(store)
    with pytest.raises(QuotaExceeded):
        await ask(store)
    clock.now = datetime(2026, 5, 5, 16, 1, tzinfo=UTC)  # 00:01 the next day in Shanghai
    await ask(store)


@pytest.mark.parametrize("backend_name", backend_params())
async def test_200_simultaneous_requests_at_the_edge_never_overdraw(tmp_path: Path, backend_name: str) -> None:
    clock = ManualClock(datetime(2026, 5, 5, 12, tzinfo=UTC))
    handles = [await BACKENDS[backend_name].open(tmp_path, clock) for _ in range(4)]
    try:
        await handles[0].set_limit(Limit(G, Scope.DEFAULT, 0, Period.DAY, 50, None), actor_id=MOD)
        started = time.perf_counter()
        results = await asyncio.gather(*(ask(handles[n % 4]) for n in range(200)), return_exceptions=True)
        elapsed = time.perf_counter() - started
        accepted = [r for r in results if isinstance(r, Job)]
        refused = [r for r in results if isinstance(r, QuotaExceeded)]
        others = [r for r in results if not isinstance(r, Job | QuotaExceeded)]
        assert (len(accepted), len(refused)) == (50, 150), others
        assert await used(handles[0]) == (50, 250)
        print(f"{backend_name}: 200 simultaneous requests on 4 handles: 50 accepted, 150 refused in {elapsed:.2f} s")
    finally:
        for handle in handles:
            await handle.close()


OPS = st.lists(st.one_of(
    st.tuples(st.just("ask"), st.sampled_from([ALICE, BOB]), st.integers(1, 10)),
    st.tuples(st.just("end"), st.integers(0, 30), st.sampled_from([S.DELIVERED, S.FAILED, S.CANCELLED,
                                                                   S.REJECTED, S.SUBMIT_UNKNOWN])),
    st.tuples(st.just("limit"), st.integers(0, 6), st.integers(0, 40)),
    st.tuples(st.just("grant"), st.sampled_from([ALICE, BOB]), st.integers(0, 10)),
), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_random_ledger_histories_never_overdraw_and_refund_exactly(ops: list[tuple[object, ...]]) -> None:
    asyncio.run(_ledger_history(ops))


async def _ledger_history(ops: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with await SQLiteStore.open(Path(folder) / "h.db", clock=ManualClock(
                datetime(2026, 5, 5, 12, tzinfo=UTC))) as store:
            model: dict[str, tuple[int, int, bool]] = {}  # job -> (user, seconds, counts)
            granted = {ALICE: 0, BOB: 0}
            jobs: list[Job] = []
            for op in ops:
                if op[0] == "ask":
                    user, seconds = int(op[1]), int(op[2])  # type: ignore[call-overload]
                    limits = await store.limits(G)
                    try:
                        job = await ask(store, user, seconds)
                    except QuotaExceeded:
                        continue
                    jobs.append(job)
                    model[job.id] = (user, seconds, True)
                    for limit in limits:  # the reservation fitted every limit in force at that moment
                        v, s = await used(store, user)
                        assert limit.videos is None or v <= limit.videos
                        assert limit.seconds is None or s <= limit.seconds
                elif op[0] == "end" and jobs:
                    job = jobs[int(op[1]) % len(jobs)]  # type: ignore[call-overload]
                    current = await store.get_job(job.id)
                    if current is None or current.state is not S.ACCEPTED:
                        continue
                    end = op[2]
                    await drive_to(store, current, end)  # type: ignore[arg-type]
                    user, seconds, _ = model[job.id]
                    model[job.id] = (user, seconds, end in (S.DELIVERED, S.SUBMIT_UNKNOWN))
                elif op[0] == "limit":
                    await store.set_limit(Limit(G, Scope.DEFAULT, 0, Period.DAY, int(op[1]), int(op[2])),  # type: ignore[call-overload]
                                          actor_id=MOD)
                elif op[0] == "grant":
                    await store.grant(G, int(op[1]), videos=0, seconds=int(op[2]), actor_id=MOD)  # type: ignore[call-overload]
                    granted[int(op[1])] += int(op[2])  # type: ignore[call-overload]
                for user in (ALICE, BOB):  # refunds restore exactly: the store agrees with the model
                    counted = [(s) for (u, s, c) in model.values() if u == user and c]
                    assert await used(store, user) == (len(counted), sum(counted) - granted[user])
