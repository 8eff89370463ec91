"""The quota ledger in the store: reserve with the job, consume on delivery, refund on every end that
produced nothing, exactly once; never overdrawn, not even by 200 requests at the same instant. Limits in
videos, seconds and credits (estimated cost), and the operator's budget across every server."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.db import PostgresStore, SQLiteStore
from bot.db.migration_files import MIGRATIONS_ROOT
from bot.jobs import Job, JobInput, JobKind, JobState
from bot.jobs.ledger import Settlement
from bot.jobs.states import CHARGED_ENDINGS, REFUNDED_ENDINGS
from bot.params import Img2VideoParams, MultiframeParams
from bot.pricing import BUILT_IN
from bot.quotas import (
    GuildSettings,
    Limit,
    OperatorLimits,
    Period,
    QuotaExceeded,
    Scope,
    Usage,
    charge_for,
    first_refusal,
    parse_limits,
    request_checks,
)
from tests.store.backends import BACKENDS, ManualClock, backend_params, pg_url, sqlite_url
from tests.store.factories import drive_to

G, OTHER, ALICE, BOB, MOD = 10, 20, 1, 2, 99
S = JobState


NO_OPERATOR_LIMITS = OperatorLimits()  # no bot defaults, no budget: only what a test sets


@pytest.fixture(params=backend_params())
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    backend = BACKENDS[request.param]
    async with await backend.open(tmp_path, ManualClock(datetime(2026, 5, 5, 12, tzinfo=UTC))) as opened:
        yield opened


async def ask(store: SQLiteStore, user: int = ALICE, seconds: int = 5, guild: int = G, roles: list[int] | None = None,
              *, resolution: str = "720p", kind: JobKind = JobKind.IMG2VIDEO,
              operator: OperatorLimits = NO_OPERATOR_LIMITS) -> Job:
    """A request as the intake makes it (bot.quotas' charge and checks): the job, its reservation and the
    limit checks, atomically. img2video 720p costs 40 + 10 credits a second: 5 s = 90 credits ($0.09)."""
    settings = await store.guild_settings(guild)
    checks = await request_checks(store, operator, settings, guild_id=guild, user_id=user, role_ids=roles or [],
                                  now=store._clock())
    params = (Img2VideoParams(prompt="p", duration=seconds) if kind is JobKind.IMG2VIDEO
              else MultiframeParams(prompts=("p",), durations=(seconds,)))
    job = Job.new(guild_id=guild, channel_id=5, user_id=user, kind=kind, params=params, resolution=resolution,
                  duration_seconds=seconds, now=store._clock())
    charge = charge_for(guild, user, kind=kind.value, resolution=resolution, seconds=seconds, settings=settings,
                        prices=BUILT_IN)
    return await store.create_job(job, [JobInput(0, "a.png", "image/png", b"x")], charge=charge, checks=checks)


async def used(store: SQLiteStore, user: int | None = ALICE, guild: int = G) -> tuple[int, int]:
    u = await store.usage(guild, user, DAY)
    return u.videos, u.seconds


DAY = datetime(2026, 5, 5, tzinfo=UTC)  # the store's clock stands at noon that day
MIDNIGHT = int(datetime(2026, 5, 6, tzinfo=UTC).timestamp())


async def spent(store: SQLiteStore, user: int | None = ALICE, guild: int = G) -> int:
    return (await store.usage(guild, user, DAY)).credits


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


# Who pays for each way a job ends (README, "Money: what is charged when"), written out rather than read from
# REFUNDED_ENDINGS and CHARGED_ENDINGS: what `python -m bot ledger` reports and what the member's quota keeps.
ENDINGS = {S.DELIVERED: Settlement.CHARGED, S.EXPIRED: Settlement.CHARGED, S.REJECTED: Settlement.REFUNDED,
           S.FAILED: Settlement.REFUNDED, S.CANCELLED: Settlement.REFUNDED, S.SUBMIT_UNKNOWN: Settlement.UNDECIDED}


@pytest.mark.parametrize(("end", "settlement"), ENDINGS.items(), ids=[s.value for s in ENDINGS])
async def test_each_ending_is_charged_refunded_or_left_undecided(store: SQLiteStore, end: JobState,
                                                                 settlement: Settlement) -> None:
    job = await ask(store, seconds=7)
    await drive_to(store, job, end)
    (entry,) = await store.ledger_entries(DAY)
    assert (entry.job_id, entry.state, entry.settlement) == (job.id, end, settlement)
    assert await used(store) == ((0, 0) if settlement is Settlement.REFUNDED else (1, 7))
    assert {e for e, s in ENDINGS.items() if s is Settlement.REFUNDED} == REFUNDED_ENDINGS
    assert {e for e, s in ENDINGS.items() if s is Settlement.CHARGED} == CHARGED_ENDINGS


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


async def test_a_credits_limit_refuses_exactly_at_its_edge(store: SQLiteStore) -> None:
    await store.set_limit(Limit(G, Scope.DEFAULT, 0, Period.DAY, None, None, 270), actor_id=MOD)  # $0.27
    first = await ask(store)  # 5 s at 720p: 90 credits
    await ask(store)
    await ask(store)
    with pytest.raises(QuotaExceeded) as refused:
        await ask(store, seconds=1)  # the cheapest request there is: 50
    assert ("your daily limit ($0.27 of credits per day): $0.27 of $0.27 used, this request costs about $0.05. "
            f"It frees <t:{MIDNIGHT}:R>.") in str(refused.value)
    assert "已用 US$0.27/US$0.27，此请求预估费用约 US$0.05" in refused.value.message("zh-CN")
    assert await spent(store) == 270
    await drive_to(store, first, S.FAILED)  # refunded: 90 free again
    with pytest.raises(QuotaExceeded, match=r"costs about \$0.18"):
        await ask(store, resolution="1080p")  # 1080p costs twice as much
    await ask(store)  # 90 fits exactly
    await store.grant(G, ALICE, videos=0, seconds=0, credits=50, actor_id=MOD)
    await ask(store, seconds=1)  # the grant's 50, exactly
    assert await spent(store) == 270 and await spent(store, None) == 320  # the pool ignores grants
    assert [(m, u.credits) for m, u in await store.usage_by_member(G, DAY)] == [(ALICE, 320)]
    assert [x.credits for x in await store.limits(G)] == [270]


async def test_a_nine_keyframe_1080p_job_counts_its_cost_not_one_video(store: SQLiteStore) -> None:
    await store.set_limit(Limit(G, Scope.SERVER, 0, Period.MONTH, 100, None, 6450), actor_id=MOD)  # $6.45
    await ask(store, seconds=63, resolution="1080p", kind=JobKind.MULTIFRAME)
    with pytest.raises(QuotaExceeded, match=r"the server's monthly limit .*\$6.45 of \$6.45 used"):
        await ask(store, BOB, seconds=1)  # 99 videos left, no money
    assert await store.usage(G, ALICE, DAY) == Usage(1, 126, 6450)  # seconds weighted x2 at 1080p


async def test_the_operators_budget_spans_every_server_and_says_what_is_left_and_when(store: SQLiteStore) -> None:
    operator = OperatorLimits(budget_per_day=200, budget_per_month=100_000)  # $0.20 a day
    first = await ask(store, ALICE, guild=G, operator=operator)  # 90
    await ask(store, BOB, guild=OTHER, operator=operator)  # 90 in another server: 180 of 200
    with pytest.raises(QuotaExceeded) as refused:
        await ask(store, ALICE, guild=OTHER, operator=operator)
    assert str(refused.value) == (
        "This would go over the bot's overall daily budget, shared by every server it works in: $0.02 of $0.20 "
        f"is left and this request costs about $0.09. It frees <t:{MIDNIGHT}:R>.")
    assert "机器人在所有服务器共用的每日总预算即将用完：总额 US$0.20，剩余 US$0.02" in refused.value.message("zh-CN")
    await store.grant(OTHER, ALICE, videos=9, seconds=99, credits=9000, actor_id=MOD)
    with pytest.raises(QuotaExceeded, match="overall daily budget"):
        await ask(store, ALICE, guild=OTHER, operator=operator)  # a server's grant never lifts the bot's budget
    assert await store.budget_usage(DAY) == Usage(2, 10, 180)
    await drive_to(store, first, S.CANCELLED)  # refunded: back under the budget
    await ask(store, ALICE, guild=OTHER, operator=operator)
    monthly = OperatorLimits(budget_per_month=269)  # 180 used this month: 90 more would be 270
    with pytest.raises(QuotaExceeded) as refused:
        await ask(store, BOB, guild=G, operator=monthly)
    assert "overall monthly budget" in str(refused.value)
    assert f"It frees <t:{int(datetime(2026, 6, 1, tzinfo=UTC).timestamp())}:R>" in str(refused.value)


async def test_the_early_read_before_anything_is_downloaded_refuses_what_the_store_would(store: SQLiteStore) -> None:
    # admit() reads the limits before it opens a thread (first_refusal); create_job decides atomically later.
    operator = OperatorLimits(budget_per_day=250)  # $0.25 a day across every server
    await store.set_limit(Limit(G, Scope.DEFAULT, 0, Period.DAY, 1, None), actor_id=MOD)
    await ask(store, BOB, guild=OTHER, operator=operator)  # 90 credits spent in another server
    checks = await request_checks(store, operator, await store.guild_settings(G), guild_id=G, user_id=ALICE,
                                  role_ids=[], now=store._clock())
    five_seconds = charge_for(G, ALICE, kind="img2video", resolution="720p", seconds=5, settings=GuildSettings(),
                              prices=BUILT_IN)  # 90 credits: 180 of 250
    assert await first_refusal(store, checks, five_seconds) is None
    twice_as_dear = charge_for(G, ALICE, kind="img2video", resolution="1080p", seconds=5,
                               settings=GuildSettings(), prices=BUILT_IN)  # 180 credits: 270 of 250
    refused = await first_refusal(store, checks, twice_as_dear)
    assert refused is not None and refused.check.is_budget
    assert refused.message("en-US").startswith("This would go over the bot's overall daily budget")
    await ask(store, ALICE, operator=operator)  # the member's one video a day
    refused = await first_refusal(store, checks, five_seconds)
    assert refused is not None and refused.message("en-US").startswith("This would go over your daily limit")


async def test_servers_start_with_the_bot_defaults_until_they_set_their_own(store: SQLiteStore) -> None:
    operator = OperatorLimits(defaults=(*parse_limits("videos=1/day,videos=2/week", Scope.DEFAULT),
                                        *parse_limits("credits=0.20/month", Scope.SERVER)))
    await ask(store, operator=operator)
    with pytest.raises(QuotaExceeded, match=r"your daily limit \(1 video per day\)"):
        await ask(store, operator=operator)
    await store.set_limit(Limit(G, Scope.DEFAULT, 0, Period.DAY, 5, None), actor_id=MOD)  # the server's own day
    await ask(store, operator=operator)
    with pytest.raises(QuotaExceeded, match=r"your weekly limit \(2 videos per week\)"):
        await ask(store, operator=operator)  # the bot's weekly default still holds: the server set no week
    with pytest.raises(QuotaExceeded, match=r"the server's monthly limit \(\$0.20 of credits per month\)"):
        await ask(store, BOB, operator=operator)
    await ask(store, guild=OTHER, operator=operator)  # another server starts with its own defaults
    assert await store.limits(OTHER) == []  # defaults live in the environment, not in any server's rows


@pytest.mark.parametrize("backend_name", backend_params())
async def test_200_simultaneous_requests_from_many_servers_at_the_budgets_edge(tmp_path: Path,
                                                                               backend_name: str) -> None:
    clock = ManualClock(datetime(2026, 5, 5, 12, tzinfo=UTC))
    handles = [await BACKENDS[backend_name].open(tmp_path, clock) for _ in range(4)]
    try:
        # 37 requests of 90 credits, from any server; with the members' default limits in force too, as in
        # production (a request checks both: the budget's lock must not depend on it checking only the budget).
        operator = OperatorLimits(defaults=parse_limits("videos=10/day", Scope.DEFAULT), budget_per_day=37 * 90)
        started = time.perf_counter()
        results = await asyncio.gather(*(ask(handles[n % 4], user=n, guild=100 + n % 8, operator=operator)
                                         for n in range(200)), return_exceptions=True)
        elapsed = time.perf_counter() - started
        accepted = [r for r in results if isinstance(r, Job)]
        refused = [r for r in results if isinstance(r, QuotaExceeded)]
        others = [r for r in results if not isinstance(r, Job | QuotaExceeded)]
        assert (len(accepted), len(refused)) == (37, 163), others
        assert all(r.check.is_budget for r in refused)
        assert len({job.guild_id for job in accepted}) > 1
        assert await handles[0].budget_usage(DAY) == Usage(37, 185, 3330)
        print(f"{backend_name}: 200 requests from 8 servers at a budget's edge: 37 accepted in {elapsed:.2f} s")
    finally:
        for handle in handles:
            await handle.close()


# Rows as the schema before V5 held them (placeholders only).
OLD_JOB = ("INSERT INTO jobs (id, guild_id, channel_id, user_id, locale, kind, params, resolution, duration_seconds, "
           "private, state, created_at) VALUES ({})")
OLD_LEDGER_ROW = "INSERT INTO quota_ledger (entry, kind, guild_id, user_id, videos, seconds, at) VALUES ({})"


@pytest.mark.parametrize("backend_name", backend_params())
async def test_reservations_from_before_credits_count_what_their_card_showed(tmp_path: Path,
                                                                             backend_name: str) -> None:
    """V5 gives the ledger's older rows the cost the request card showed then (the built-in table)."""
    clock = ManualClock(datetime(2026, 5, 5, 12, tzinfo=UTC))
    every = MIGRATIONS_ROOT / backend_name
    earlier = tmp_path / "before-v5"
    earlier.mkdir()
    for path in every.glob("V*.sql"):
        if int(path.name[1:].partition("__")[0]) < 5:
            shutil.copy(path, earlier / path.name)

    async def open_with(migrations: Path) -> SQLiteStore | PostgresStore:
        if backend_name == "sqlite":
            return await SQLiteStore.open(sqlite_url(tmp_path), clock=clock, migrations_dir=migrations)
        return await PostgresStore.open(pg_url(tmp_path), clock=clock, migrations_dir=migrations, max_size=2)

    async with await open_with(earlier) as old:
        rows = [("J1", "img2video", "720p", 5, "reserve"), ("J2", "multiframe", "1080p", 63, "reserve"),
                ("J2", "multiframe", "1080p", 63, "consume"), ("J3", "img2video", "1080p", 4, "reserve"),
                ("J3", "img2video", "1080p", 4, "refund"), ("grant:1", None, None, 0, "grant")]
        async with old._write() as conn:
            for entry, kind, resolution, seconds, what in rows:
                at = old._time(clock(), "now")
                if what == "reserve":
                    arg = old._params()
                    marks = ", ".join(arg(v) for v in (entry, G, 5, ALICE, "en-US", kind, "{}", resolution, seconds,
                                                       old._flag(False), "accepted", at))
                    await old._conn_execute(conn, OLD_JOB.format(marks), arg.values)
                arg = old._params()
                marks = ", ".join(arg(v) for v in (entry, what, G, ALICE, 1, seconds, at))
                await old._conn_execute(conn, OLD_LEDGER_ROW.format(marks), arg.values)
    async with await open_with(every) as new:
        assert (await new.usage(G, ALICE, DAY)).credits == 90 + 6450  # J3 was refunded; the grant is 0
        assert (await new.budget_usage(DAY)).credits == 90 + 6450


OPS = st.lists(st.one_of(
    st.tuples(st.just("ask"), st.sampled_from([ALICE, BOB]), st.integers(1, 10),
              st.sampled_from(["540p", "720p", "1080p"]), st.sampled_from([G, OTHER])),
    st.tuples(st.just("end"), st.integers(0, 30), st.sampled_from([S.DELIVERED, S.FAILED, S.CANCELLED, S.REJECTED,
                                                                   S.SUBMIT_UNKNOWN, S.EXPIRED])),
    st.tuples(st.just("limit"), st.none() | st.integers(0, 6), st.none() | st.integers(0, 40),
              st.none() | st.integers(0, 1500)),
    st.tuples(st.just("grant"), st.sampled_from([ALICE, BOB]), st.integers(0, 10), st.integers(0, 300)),
    st.tuples(st.just("budget"), st.none() | st.integers(0, 3000)),
), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_random_ledger_histories_never_overdraw_and_refund_exactly(ops: list[tuple[object, ...]]) -> None:
    asyncio.run(_ledger_history(ops))


Units = tuple[int, int, int]  # videos, weighted seconds, credits


def _within(limit: tuple[int | None, ...], used: Units) -> bool:
    return all(cap is None or amount <= cap for cap, amount in zip(limit, used, strict=True))


def _plus(a: Units, b: Units) -> Units:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


async def _ledger_history(ops: list[tuple[object, ...]]) -> None:
    """A model of the ledger beside the store: each request is accepted exactly when the model says it fits
    the limit in force in server G (a default for every member) and the operator's daily budget across
    both servers; after every step the store's usage equals the model's, per member and for the budget."""
    with tempfile.TemporaryDirectory() as folder:
        async with await SQLiteStore.open(Path(folder) / "h.db", clock=ManualClock(
                datetime(2026, 5, 5, 12, tzinfo=UTC))) as store:
            model: dict[str, tuple[int, int, Units, bool]] = {}  # job -> (guild, user, units, counts)
            granted: dict[int, Units] = {ALICE: (0, 0, 0), BOB: (0, 0, 0)}  # in server G
            limit: tuple[int | None, int | None, int | None] = (None, None, None)
            budget: int | None = None
            jobs: list[Job] = []

            def counted(guild: int | None, user: int | None = None) -> Units:
                total = (0, 0, 0)
                for g, u, units, counts in model.values():
                    if counts and guild in (None, g) and user in (None, u):
                        total = _plus(total, units)
                return total

            for op in ops:
                if op[0] == "ask":
                    user, seconds, resolution, guild = op[1], op[2], str(op[3]), op[4]
                    assert isinstance(user, int) and isinstance(seconds, int) and isinstance(guild, int)
                    cost = (1, seconds * (2 if resolution == "1080p" else 1),
                            BUILT_IN.credits("img2video", resolution, seconds))
                    mine = counted(guild, user)
                    if guild == G:
                        mine = _plus(mine, tuple(-x for x in granted[user]))  # type: ignore[arg-type]
                    fits = ((guild != G or _within(limit, _plus(mine, cost)))
                            and (budget is None or counted(None)[2] + cost[2] <= budget))
                    try:
                        job = await ask(store, user, seconds, guild, resolution=resolution,
                                        operator=OperatorLimits(budget_per_day=budget))
                    except QuotaExceeded:
                        assert not fits, op
                        continue
                    assert fits, op
                    jobs.append(job)
                    model[job.id] = (guild, user, cost, True)
                    if guild == G:  # never over a limit in force when reserved
                        now_used = await store.usage(G, user, DAY)
                        assert _within(limit, (now_used.videos, now_used.seconds, now_used.credits))
                    if budget is not None:
                        assert (await store.budget_usage(DAY)).credits <= budget
                elif op[0] == "end" and jobs:
                    job = jobs[int(op[1]) % len(jobs)]  # type: ignore[call-overload]
                    current = await store.get_job(job.id)
                    if current is None or current.state is not S.ACCEPTED:
                        continue
                    end = op[2]
                    assert isinstance(end, JobState)
                    await drive_to(store, current, end)
                    guild, user, units, _ = model[job.id]
                    model[job.id] = (guild, user, units, end not in REFUNDED_ENDINGS)
                elif op[0] == "limit":
                    videos, seconds, credits = op[1], op[2], op[3]
                    limit = (videos, seconds, credits)  # type: ignore[assignment]
                    await store.set_limit(Limit(G, Scope.DEFAULT, 0, Period.DAY, *limit), actor_id=MOD)
                elif op[0] == "grant":
                    user, seconds, credits = op[1], op[2], op[3]
                    assert isinstance(user, int) and isinstance(seconds, int) and isinstance(credits, int)
                    await store.grant(G, user, videos=0, seconds=seconds, credits=credits, actor_id=MOD)
                    granted[user] = _plus(granted[user], (0, seconds, credits))
                elif op[0] == "budget":
                    budget = op[1]  # type: ignore[assignment]
                for guild in (G, OTHER):  # refunds restore exactly: the store agrees with the model
                    for user in (ALICE, BOB):
                        expected = counted(guild, user)
                        if guild == G:
                            expected = _plus(expected, tuple(-x for x in granted[user]))  # type: ignore[arg-type]
                        assert await store.usage(guild, user, DAY) == Usage(*expected)
                assert await store.budget_usage(DAY) == Usage(*counted(None))
