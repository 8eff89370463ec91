"""`python -m bot ledger`: the ledger's charges and refunds checked against the strict fake provider.

The database is built through the real store API (create_job with a charge, transitions through the real
states), so the ledger rows are the ones the bot writes; the CLI runs as a subprocess, as an operator
would run it.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.jobs import Job, JobState, JobStore, utcnow
from bot.quotas.models import Charge
from bot.reconcile import parse_since
from tests.cli import test_cli
from tests.cli.test_cli import Result, cli
from tests.fakes.provider import FakeProvider, Fault
from tests.store.backends import BACKENDS, ManualClock, backend_params, pg_url, sqlite_url
from tests.store.factories import ALICE, GUILD, OTHER_GUILD, make_inputs, make_job

fake = test_cli.fake  # the CLI suite's fixture: the strict fake provider on loopback
S = JobState
MODEL = "vidu-q2-pro-fast-img2video"
MADE_EXPIRED = "made, then expired"  # a PATHS key: expired after the provider reported the video made
SECONDS, CREDITS = 9, 150  # every job's charge (make_job: 9 s at 720p; 150 credits = $0.15)
# How each ending is reached, with the task id given on entering SUBMITTED (or SUBMIT_UNKNOWN).
PATHS: dict[str, list[JobState]] = {
    S.DELIVERED: [S.SUBMITTING, S.SUBMITTED, S.SUCCEEDED, S.DELIVERED],
    S.EXPIRED: [S.SUBMITTING, S.SUBMITTED, S.EXPIRED],  # given up while the provider had it
    MADE_EXPIRED: [S.SUBMITTING, S.SUBMITTED, S.SUCCEEDED, S.EXPIRED],  # made, then undeliverable
    S.FAILED: [S.SUBMITTING, S.SUBMITTED, S.FAILED],
    S.REJECTED: [S.SUBMITTING, S.REJECTED],
    S.CANCELLED: [S.CANCELLED],
    S.SUBMIT_UNKNOWN: [S.SUBMITTING, S.SUBMIT_UNKNOWN],
    S.SUBMITTED: [S.SUBMITTING, S.SUBMITTED],
}


def task(fake: FakeProvider, *, fail: str | None = None, running: bool = False) -> str:
    """A task at the fake provider: finished at once (succeeded, or failed with `fail`) or still processing."""
    fake.plan_next_task(fail_reason=fail, queue_seconds=0, processing_seconds=3600 if running else 0)
    return fake.add_task(MODEL, {})


async def job(store: JobStore, clock: ManualClock, ending: str, task_id: str | None = None, *,
              guild_id: int = GUILD) -> Job:
    """A job charged on creation and moved through the real states to `ending`."""
    current = await store.create_job(make_job(clock, guild_id=guild_id), make_inputs(1),
                                     charge=Charge(guild_id, ALICE, SECONDS, credits=CREDITS))
    for step in PATHS[ending]:
        fields = {"task_id": task_id} if task_id and step in (S.SUBMITTED, S.SUBMIT_UNKNOWN) else {}
        moved = await store.transition(current.id, from_states={current.state}, to=step, **fields)
        assert moved is not None
        current = moved
    return current


async def open_store(backend: str, tmp_path: Path, clock: ManualClock) -> tuple[JobStore, str]:
    url = pg_url(tmp_path) if backend == "postgresql" else sqlite_url(tmp_path)
    return await BACKENDS[backend].open(tmp_path, clock), url


async def ledger(tmp_path: Path, fake: FakeProvider, url: str, *args: str, key: str = "", **env: str) -> Result:
    env.setdefault("PROVIDER_REQUESTS_PER_MINUTE", "6000")
    return await cli(tmp_path, fake, "ledger", *args, DATABASE_URL=url, **({"key": key} if key else {}), **env)


def lines_with(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


@pytest.mark.parametrize("backend", backend_params())
async def test_ledger_lists_totals_and_every_disagreement_with_its_ids(
    backend: str, tmp_path: Path, fake: FakeProvider
) -> None:
    clock = ManualClock(utcnow() - timedelta(days=10))
    store, url = await open_store(backend, tmp_path, clock)
    try:
        old = await job(store, clock, S.DELIVERED, old_task := task(fake, fail="lost at sea"))
        clock.now = utcnow() - timedelta(hours=1)
        # Server GUILD: two disagreements, one task still running, two undecided, one in flight.
        await job(store, clock, S.DELIVERED, task(fake))
        charged_failed = await job(store, clock, S.DELIVERED, cf_task := task(fake, fail="NSFW content detected"))
        await job(store, clock, S.FAILED, task(fake, fail="server error"))
        await job(store, clock, S.REJECTED)
        await job(store, clock, S.CANCELLED)
        refunded_made = await job(store, clock, S.FAILED, rm_task := task(fake))
        running = await job(store, clock, S.EXPIRED, running_task := task(fake, running=True))
        billed = await job(store, clock, S.SUBMIT_UNKNOWN, billed_task := task(fake))
        blind = await job(store, clock, S.SUBMIT_UNKNOWN)
        await job(store, clock, S.SUBMITTED, task(fake, running=True))
        # Server OTHER_GUILD: all agree (an expired job whose video the provider made is charged rightly).
        for ending, task_id in ((S.DELIVERED, task(fake)), (S.FAILED, "gone-task-0001"), (S.EXPIRED, task(fake))):
            await job(store, clock, ending, task_id, guild_id=OTHER_GUILD)
    finally:
        await store.close()

    result = await ledger(tmp_path, fake, url)
    assert result.code == 1, result.err
    out = result.out
    assert sorted(lines_with(out, "disagreement:")) == sorted([
        f"disagreement: job {charged_failed.id}, task {cf_task}, server {GUILD}: ledger charged (delivered); "
        "provider TASK_STATUS_FAILED (NSFW content detected)",
        f"disagreement: job {refunded_made.id}, task {rm_task}, server {GUILD}: ledger refunded (failed); "
        "provider TASK_STATUS_SUCCEED",
    ])
    (still,) = lines_with(out, "still running at the provider:")
    assert f"job {running.id}, task {running_task}, server {GUILD}: ledger charged (expired)" in still
    (was_billed,) = lines_with(out, "undecided and billed:")
    assert f"job {billed.id}, task {billed_task}" in was_billed
    (cannot,) = lines_with(out, "cannot be checked:")
    assert f"job {blind.id}, no task id" in cannot
    assert "the submit's outcome is unknown and the provider gave no task id" in cannot
    # Per server and settlement: jobs, videos, seconds, credits (as money).
    assert [line.split() for line in lines_with(out, str(GUILD))] == [
        [str(GUILD), "charged", "3", "3", "27", "$0.45"], [str(GUILD), "refunded", "4", "4", "36", "$0.60"],
        [str(GUILD), "undecided", "2", "2", "18", "$0.30"], [str(GUILD), "in", "flight", "1", "1", "9", "$0.15"]]
    assert [line.split() for line in lines_with(out, str(OTHER_GUILD))] == [
        [str(OTHER_GUILD), "charged", "2", "2", "18", "$0.30"], [str(OTHER_GUILD), "refunded", "1", "1", "9", "$0.15"]]
    assert lines_with(out, "all servers")[0].split() == ["all", "servers", "charged", "5", "5", "45", "$0.75"]
    assert out.splitlines()[-1].startswith("summary: 13 jobs in 2 servers since ")
    assert out.splitlines()[-1].endswith(": 2 disagreements, 7 agree, 1 still running at the provider, "
                                         "1 undecided and billed, 1 cannot be checked, 0 not checked, 1 in flight")
    assert old.id not in out
    assert "disagree on 2 jobs" in result.err
    # The in-flight job's task is not asked for; the probe and the 9 settled or undecided tasks are.
    assert len(fake.requests_to("result")) == 1 + 9

    # One server, all agreeing: exit 0; the checks go through the client's rate limiter (2 a second here).
    fake.requests.clear()
    result = await ledger(tmp_path, fake, url, "--guild", str(OTHER_GUILD), "--json",
                          PROVIDER_REQUESTS_PER_MINUTE="120")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert [s["guild_id"] for s in report["servers"]] == [str(OTHER_GUILD)]
    assert report["servers"][0]["charged"] == {"jobs": 2, "videos": 2, "seconds": 18, "credits": 300}
    assert {c["verdict"] for c in report["checks"]} == {"agree"}
    times = [r.time for r in fake.requests_to("result")]
    assert len(times) == 4 and times[-1] - times[0] >= 0.9

    # The same for a spreadsheet: one row per job, the estimate as a plain number, ids as text.
    result = await ledger(tmp_path, fake, url, "--guild", str(OTHER_GUILD), "--csv")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert sorted((r["guild_id"], r["ledger"], r["estimated_cost"], r["verdict"]) for r in rows) == [
        (str(OTHER_GUILD), "charged", "0.150", "agree"), (str(OTHER_GUILD), "charged", "0.150", "agree"),
        (str(OTHER_GUILD), "refunded", "0.150", "agree")]
    assert sum(Decimal(r["estimated_cost"]) for r in rows if r["ledger"] == "charged") == Decimal("0.300")
    (refunded,) = [r for r in rows if r["ledger"] == "refunded"]
    assert refunded["task_id"] == "gone-task-0001" and refunded["provider"] == "TASK_NOT_FOUND"
    assert all(datetime.fromisoformat(r["reserved_at"]).utcoffset() == timedelta(0) for r in rows)

    # Further back, the old job's disagreement shows too.
    result = await ledger(tmp_path, fake, url, "--since", "30d", "--guild", str(GUILD))
    assert result.code == 1
    assert f"disagreement: job {old.id}, task {old_task}" in result.out
    assert len(lines_with(result.out, "disagreement:")) == 3


# Every pairing of a job's ending and the provider's answer for its task, and the verdict the ledger command
# must give it (SPEC section 5). Written out here, apart from bot/reconcile.py's table, so that a change to
# either shows. The provider purges old tasks: TASK_NOT_FOUND refutes no charge the bot saw the video for.
ANSWERS = ("succeeded", "running", "failed", "not found")
EXPECTED = {
    #                  succeeded       running          failed            not found
    S.DELIVERED:      ("agree",        "disagree",      "disagree",       "purged"),
    MADE_EXPIRED:     ("agree",        "disagree",      "disagree",       "purged"),
    S.EXPIRED:        ("agree",        "still_running", "disagree",       "disagree"),
    S.FAILED:         ("disagree",     "disagree",      "agree",          "agree"),
    S.SUBMIT_UNKNOWN: ("billed",       "still_running", "not_billed",     "uncheckable"),
}
WITHOUT_TASK = {S.REJECTED: "agree", S.CANCELLED: "agree", S.SUBMIT_UNKNOWN: "uncheckable"}


def answering(fake: FakeProvider, answer: str, n: int) -> str:
    """A task id the fake provider answers `answer` for ("not found": one it never had, or has purged)."""
    if answer == "not found":
        return f"purged-task-{n:04d}"
    return task(fake, fail="GPU node crashed" if answer == "failed" else None, running=answer == "running")


@pytest.mark.parametrize("backend", backend_params())
async def test_every_ending_against_every_provider_answer(backend: str, tmp_path: Path, fake: FakeProvider) -> None:
    clock = ManualClock(utcnow() - timedelta(hours=1))
    store, url = await open_store(backend, tmp_path, clock)
    expected: dict[str, tuple[str, str, str]] = {}  # job id -> (ending, answer, verdict)
    try:
        for ending, verdicts in EXPECTED.items():
            for answer, verdict in zip(ANSWERS, verdicts, strict=True):
                made = await job(store, clock, ending, answering(fake, answer, len(expected)))
                expected[made.id] = (ending, answer, verdict)
        for ending, verdict in WITHOUT_TASK.items():
            made = await job(store, clock, ending)
            expected[made.id] = (ending, "no task", verdict)
        # Another server where every charge rests on a video the bot saw, and the provider purged two tasks.
        purged = [await job(store, clock, S.DELIVERED, "purged-task-9001", guild_id=OTHER_GUILD),
                  await job(store, clock, MADE_EXPIRED, "purged-task-9002", guild_id=OTHER_GUILD)]
        await job(store, clock, S.DELIVERED, task(fake), guild_id=OTHER_GUILD)
    finally:
        await store.close()

    result = await ledger(tmp_path, fake, url, "--guild", str(GUILD), "--json")
    assert result.code == 1, result.err
    verdicts = {c["job_id"]: c["verdict"] for c in json.loads(result.out)["checks"]}
    assert {j: verdicts[j] for j in expected} == {j: v for j, (_, _, v) in expected.items()}, "\n".join(
        f"{ending} / {answer}: expected {want}, got {verdicts[j]}"
        for j, (ending, answer, want) in expected.items() if verdicts[j] != want)
    disagreements = sum(v == "disagree" for _, _, v in expected.values())
    assert f"disagree on {disagreements} jobs" in result.err

    # Charges resting on the bot's own evidence, with the tasks purged: counted and shown, not a disagreement.
    result = await ledger(tmp_path, fake, url, "--guild", str(OTHER_GUILD))
    assert result.code == 0, result.err
    lines = lines_with(result.out, "purged by the provider:")
    assert len(lines) == 2
    for purged_job, state in zip(purged, ("delivered", "expired"), strict=True):
        (line,) = [line for line in lines if f"job {purged_job.id}," in line]
        assert line == (f"purged by the provider: job {purged_job.id}, task {purged_job.task_id}, "
                        f"server {OTHER_GUILD}: ledger charged ({state}); provider TASK_NOT_FOUND: "
                        "it has forgotten the task, whose video the bot saw made, so billed")
    assert result.out.splitlines()[-1].endswith(": 0 disagreements, 1 agree, 2 purged by the provider, 0 not checked")


@pytest.mark.parametrize("backend", backend_params())
@pytest.mark.parametrize("since", ["700000d", "1900-01-01", "0001-01-01T00:00+01:00"])
async def test_a_window_reaching_before_any_ledger_is_everything(
    backend: str, since: str, tmp_path: Path, fake: FakeProvider
) -> None:
    clock = ManualClock(datetime(1971, 6, 1, tzinfo=UTC))  # as old as a ledger row can be
    store, url = await open_store(backend, tmp_path, clock)
    try:
        oldest = await job(store, clock, S.DELIVERED, task(fake))
        clock.now = utcnow() - timedelta(hours=1)
        latest = await job(store, clock, S.FAILED, task(fake, fail="server error"))
    finally:
        await store.close()
    result = await ledger(tmp_path, fake, url, "--since", since)
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "ledger since 1970-01-01 00:00 UTC (everything), all servers"
    assert [line.split()[:3] for line in lines_with(result.out, str(GUILD))] == [
        [str(GUILD), "charged", "1"], [str(GUILD), "refunded", "1"]]
    assert oldest.id != latest.id
    assert result.out.splitlines()[-1].endswith(": 0 disagreements, 2 agree, 0 not checked")


@pytest.mark.parametrize(("since", "problem"), [
    ("9999999d", "'9999999d' reaches back before the year 1, further than any date: for everything, give 1970-01-01"),
    (f"1{'0' * 30}s", "reaches back before the year 1"),
    (f"{'9' * 5000}w", "reaches back before the year 1"),
    ("-3d", "'-3d' is negative"),
    ("0d", "'0d' is an empty window"),
    ("0", "'0' has no unit"),
    ("2999-01-01", "'2999-01-01' is not in the past"),
    ("9999-12-31T23:59-05:00", "is not in the past"),
    ("last week", "expected a time ago such as 7d, 24h, 30m or 2w, or a date such as 2026-11-01; got 'last week'"),
])
async def test_an_absurd_since_is_one_line_and_exit_2(
    since: str, problem: str, tmp_path: Path, fake: FakeProvider
) -> None:
    result = await ledger(tmp_path, fake, sqlite_url(tmp_path), f"--since={since}")  # cli(): never a traceback
    assert (result.code, result.out) == (2, "")
    (line,) = result.err.splitlines()
    assert line.startswith("error: --since: ") and problem in line and len(line) < 200, line
    assert not fake.requests


async def test_a_negative_since_given_apart_is_named_too(tmp_path: Path, fake: FakeProvider) -> None:
    result = await ledger(tmp_path, fake, sqlite_url(tmp_path), "--since", "-3d", "--json")
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == ["error: --since: '-3d' is negative: give how far back to look; expected a "
                                       "time ago such as 7d, 24h, 30m or 2w, or a date such as 2026-11-01"]


async def one_delivered_job(tmp_path: Path, fake: FakeProvider) -> tuple[Job, str]:
    clock = ManualClock(utcnow() - timedelta(hours=1))
    store, url = await open_store("sqlite", tmp_path, clock)
    try:
        return await job(store, clock, S.DELIVERED, task(fake)), url
    finally:
        await store.close()


async def test_a_task_the_provider_does_not_answer_for_is_not_checked(tmp_path: Path, fake: FakeProvider) -> None:
    delivered, url = await one_delivered_job(tmp_path, fake)
    fake.inject("result", Fault.slow(0))  # the probe passes
    fake.inject("result", Fault.status(503, "SERVICE_NOT_AVAILABLE"), times=2)  # both attempts (cli: 2)
    result = await ledger(tmp_path, fake, url)
    assert result.code == 4
    (line,) = lines_with(result.out, "not checked:")
    assert f"job {delivered.id}, task {delivered.task_id}" in line and "SERVICE_NOT_AVAILABLE" in line
    assert "disagreement:" not in result.out
    assert result.out.splitlines()[-1].endswith(": 0 disagreements, 1 not checked")


async def test_an_unreachable_provider_is_one_line_and_exit_4(tmp_path: Path, fake: FakeProvider) -> None:
    _, url = await one_delivered_job(tmp_path, fake)
    await fake.stop()  # its port now refuses connections
    result = await ledger(tmp_path, fake, url)
    assert (result.code, result.out) == (4, "")
    assert result.err.startswith("error: the provider is unreachable or busy: cannot connect to")
    assert len(result.err.strip().splitlines()) == 1


async def test_a_refused_key_is_one_line_and_exit_3(tmp_path: Path, fake: FakeProvider) -> None:
    _, url = await one_delivered_job(tmp_path, fake)
    result = await ledger(tmp_path, fake, url, key="sk-wrong-key-123456")
    assert (result.code, result.out) == (3, "")
    assert result.err.strip() == "error: VIDU_API_KEY was refused by the provider (INVALID_API_KEY)"


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "since"), [
    ("7d", datetime(2026, 11, 16, 12, 0, tzinfo=UTC)),
    ("24h", datetime(2026, 11, 22, 12, 0, tzinfo=UTC)),
    (" 30m ", datetime(2026, 11, 23, 11, 30, tzinfo=UTC)),
    ("2W", datetime(2026, 11, 9, 12, 0, tzinfo=UTC)),
    ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
    ("2026-11-01T08:00+08:00", datetime(2026, 11, 1, tzinfo=UTC)),
    ("90s", datetime(2026, 11, 23, 11, 58, 30, tzinfo=UTC)),
    ("20000d", datetime(1972, 2, 20, 12, 0, tzinfo=UTC)),
    ("21000d", datetime(1970, 1, 1, tzinfo=UTC)),  # reaches before 1970: everything
    (f"{(NOW - datetime(1, 1, 1, tzinfo=UTC)).days}d", datetime(1970, 1, 1, tzinfo=UTC)),  # back to the year 1
])
def test_since_takes_a_time_ago_or_an_iso_date(text: str, since: datetime) -> None:
    assert parse_since(text, NOW) == since


@pytest.mark.parametrize("text", ["", "7", "d", "-3d", "0m", "7 days", "2026-13-01", "2026-11-23T12:00Z",
                                  f"{(NOW - datetime(1, 1, 1, tzinfo=UTC)).days + 1}d", "10000000000000000000000h"])
def test_since_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected a time ago such as 7d|before the year 1|not in the past"):
        parse_since(text, NOW)
