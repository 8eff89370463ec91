"""Reconciliation (SPEC section 5): the ledger's charges and refunds checked against the provider's bill.

Every job the ledger charged, refunded or keeps undecided (`submit_unknown`) since a time is judged
against the provider's own result for its task (`RULES`); jobs still running in the bot are only
counted. Discord-free: `python -m bot ledger` parses its options, reads the store's `ledger_entries`,
calls `reconcile` and prints `render_text` or `to_json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.jobs.ledger import LedgerEntry, Settlement
from bot.pricing import format_credits
from bot.provider import (
    InsufficientBalance,
    OperatorError,
    ProviderError,
    RequestValidationError,
    TaskNotFound,
    TaskStatus,
    ViduClient,
)

CHECK_CONCURRENCY = 4  # task results asked at once; the client's rate limiter paces them on top
NO_TASK_ID = "no task id"
TASK_NOT_FOUND = "TASK_NOT_FOUND"


class Answer(StrEnum):
    """What the provider says of a job's task, as far as the bill goes."""

    SUCCEED = "succeeded"  # billed
    FAILED = "failed"  # not billed
    RUNNING = "running"  # queued or processing: not billed yet, may be
    NOT_FOUND = "not found"  # the provider does not know the task: never made, or made and since purged
    NO_TASK = "no task"  # the job has no task id: never submitted, so never billed


class Basis(StrEnum):
    """What the ledger's side of a job rests on: the rows of `RULES`."""

    MADE = "charged, video made"  # charged, and the provider told the bot the video was made (delivered, or
    # made and undeliverable): the bot holds its own evidence of the bill
    GAVE_UP = "charged, given up"  # charged because the bot gave up on a task the provider had accepted
    REFUNDED = "refunded"  # refused, never sent, cancelled, or the provider reported the task failed or gone
    UNDECIDED = "undecided"  # submit_unknown: maybe billed


def basis(entry: LedgerEntry) -> Basis:
    if entry.settlement is Settlement.CHARGED:
        return Basis.MADE if entry.made else Basis.GAVE_UP
    if entry.settlement is Settlement.REFUNDED:
        return Basis.REFUNDED
    if entry.settlement is Settlement.UNDECIDED:
        return Basis.UNDECIDED
    raise ValueError(f"job {entry.job_id} is in flight: nothing to judge yet")


class Verdict(StrEnum):
    AGREE = "agree"
    DISAGREE = "disagreement"
    PURGED = "purged by the provider"  # charged on the bot's own evidence of the video; the provider forgot the task
    STILL_RUNNING = "still running at the provider"  # charged or undecided, and the provider may still bill
    BILLED = "undecided and billed"  # submit_unknown: the provider billed it
    NOT_BILLED = "undecided and not billed"
    UNCHECKABLE = "cannot be checked"  # submit_unknown without a task id, or whose task the provider forgot
    NOT_CHECKED = "not checked"  # the provider did not answer for this task (a transient failure)
    IN_FLIGHT = "in flight"  # not ended in the bot yet: counted, not checked


V, A, B = Verdict, Answer, Basis
# The agreement rules, every pairing of what the ledger's side rests on (row) and what the provider says of the
# job's task (column). The provider purges old tasks: TASK_NOT_FOUND means "never made, or made and forgotten",
# so it refutes neither a refund nor a charge the bot saw the video for (MADE: PURGED, exit 0), while a charge
# resting on nothing but the bot giving up is unproven (a disagreement: check the provider's dashboard). A task
# that made a video contradicts a refund, and one still running contradicts a video the bot already saw.
# Charged jobs always have a task (SUBMITTED needs one): without one the ledger is wrong.
_ANSWER_ORDER = (A.SUCCEED, A.RUNNING, A.FAILED, A.NOT_FOUND, A.NO_TASK)  # the columns of _GRID
_GRID: dict[Basis, tuple[Verdict, ...]] = {
    #             SUCCEED     RUNNING          FAILED        NOT_FOUND      NO_TASK
    B.MADE:      (V.AGREE,    V.DISAGREE,      V.DISAGREE,   V.PURGED,      V.DISAGREE),
    B.GAVE_UP:   (V.AGREE,    V.STILL_RUNNING, V.DISAGREE,   V.DISAGREE,    V.DISAGREE),
    B.REFUNDED:  (V.DISAGREE, V.DISAGREE,      V.AGREE,      V.AGREE,       V.AGREE),
    B.UNDECIDED: (V.BILLED,   V.STILL_RUNNING, V.NOT_BILLED, V.UNCHECKABLE, V.UNCHECKABLE),
}
RULES: dict[Basis, dict[Answer, Verdict]] = {row: dict(zip(_ANSWER_ORDER, verdicts, strict=True))
                                             for row, verdicts in _GRID.items()}
_ANSWERS = {TaskStatus.SUCCEED: Answer.SUCCEED, TaskStatus.FAILED: Answer.FAILED,
            TaskStatus.QUEUED: Answer.RUNNING, TaskStatus.PROCESSING: Answer.RUNNING}


@dataclass(frozen=True)
class Check:
    entry: LedgerEntry
    verdict: Verdict
    provider: str  # what the provider says: a task status, TASK_NOT_FOUND, "no task id", or "" (not asked)
    detail: str = ""  # the provider's failure reason, or why the task could not be checked


@dataclass
class Totals:
    jobs: int = 0
    videos: int = 0
    seconds: int = 0
    credits: int = 0

    def add(self, entry: LedgerEntry) -> None:
        self.jobs += 1
        self.videos += entry.videos
        self.seconds += entry.seconds
        self.credits += entry.credits


@dataclass
class ServerTotals:
    guild_id: int | None  # None: every server together
    by: dict[Settlement, Totals] = field(default_factory=lambda: {s: Totals() for s in Settlement})


@dataclass(frozen=True)
class Report:
    since: datetime
    guild_id: int | None
    checks: list[Check]  # one per ledger entry: by server, oldest first

    def servers(self) -> list[ServerTotals]:
        servers: dict[int, ServerTotals] = {}
        for check in self.checks:
            entry = check.entry
            servers.setdefault(entry.guild_id, ServerTotals(entry.guild_id)).by[entry.settlement].add(entry)
        return [servers[g] for g in sorted(servers)]

    def total(self) -> ServerTotals:
        total = ServerTotals(None)
        for check in self.checks:
            total.by[check.entry.settlement].add(check.entry)
        return total

    def counts(self) -> dict[Verdict, int]:
        counts = dict.fromkeys(Verdict, 0)
        for check in self.checks:
            counts[check.verdict] += 1
        return counts


# ---------------------------------------------------------------------------------------------- since

_AGO = re.compile(r"(-?)(\d+)\s*([wdhms])", re.IGNORECASE)
_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
# No ledger holds anything older: a window reaching further back is "everything" and starts here.
LEDGER_START = datetime(1970, 1, 1, tzinfo=UTC)
_FIRST_MOMENT = datetime.min.replace(tzinfo=UTC)  # the first time a date can hold
_EXPECTED = "expected a time ago such as 7d, 24h, 30m or 2w, or a date such as 2026-11-01"


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `24h`, `30m`, `2w`, `90s` before `now`, or an ISO date or time (UTC unless it names its zone).

    A window reaching back before LEDGER_START is clamped to it (everything); one of no length, a negative
    one, a time to come, or one further back than any date (`9999999d`) is a ValueError naming the problem."""
    text = text.strip()
    shown = repr(text if len(text) <= 40 else f"{text[:20]}…{text[-5:]}")  # each error stays one short line
    if text.isdecimal():
        raise ValueError(f"{shown} has no unit; {_EXPECTED}")
    ago = _AGO.fullmatch(text)
    if ago:
        sign, digits, unit = ago.groups()
        if sign:
            raise ValueError(f"{shown} is negative: give how far back to look; {_EXPECTED}")
        if not digits.strip("0"):
            raise ValueError(f"{shown} is an empty window: give how far back to look; {_EXPECTED}")
        reach = int((now - _FIRST_MOMENT).total_seconds())
        # Too many digits to be a date is too far back, without turning a thousand digits into a number.
        if len(digits.lstrip("0")) > len(str(reach)) or int(digits) * _UNIT_SECONDS[unit.lower()] > reach:
            raise ValueError(f"{shown} reaches back before the year 1, further than any date: "
                             f"for everything, give {LEDGER_START.date().isoformat()}")
        return max(now - timedelta(seconds=int(digits) * _UNIT_SECONDS[unit.lower()]), LEDGER_START)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{_EXPECTED}; got {shown}") from None
    try:
        since = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except OverflowError:  # within a day of the first or the last date a datetime holds
        since = LEDGER_START if when.year < LEDGER_START.year else datetime.max.replace(tzinfo=UTC)
    if since >= now:
        raise ValueError(f"{shown} is not in the past: nothing would be checked")
    return max(since, LEDGER_START)


# ---------------------------------------------------------------------------------------------- checks


async def reconcile(
    entries: list[LedgerEntry],
    client: ViduClient,
    *,
    since: datetime,
    guild_id: int | None = None,
    probe_task_id: str,
    concurrency: int = CHECK_CONCURRENCY,
    announce: Callable[[int], None] | None = None,
) -> Report:
    """Check each settled or undecided ledger entry (`LedgerReportStore.ledger_entries(since, guild_id)`)
    with the provider's result for its task.

    Before the first task, `probe_task_id` (a task that does not exist) is asked for: a refused key or an
    unreachable provider raises its ProviderError then, once. Later, a refused key still raises; any other
    failure for one task makes that task NOT_CHECKED. `announce(n)` is told how many tasks will be asked."""
    to_ask = [e for e in entries if e.task_id and e.settlement is not Settlement.IN_FLIGHT]
    answers: dict[str, Check] = {}
    if to_ask:
        if announce is not None:
            announce(len(to_ask))
        with contextlib.suppress(TaskNotFound):  # an authenticated "no such task": the provider takes the key
            await client.get_task(probe_task_id)
        answers = await _ask_all(client, to_ask, concurrency)
    checks = []
    for entry in entries:
        if entry.settlement is Settlement.IN_FLIGHT:
            checks.append(Check(entry, Verdict.IN_FLIGHT, ""))
        elif entry.task_id is None:
            checks.append(Check(entry, RULES[basis(entry)][Answer.NO_TASK], NO_TASK_ID))
        else:
            checks.append(answers[entry.job_id])
    return Report(since, guild_id, checks)


async def _ask_all(client: ViduClient, entries: list[LedgerEntry], concurrency: int) -> dict[str, Check]:
    pending = iter(entries)  # shared: each entry is taken by one worker
    done: dict[str, Check] = {}

    async def worker() -> None:
        for entry in pending:
            done[entry.job_id] = await _check(client, entry)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, min(concurrency, len(entries)))):
                group.create_task(worker())
    except* OperatorError as refused:  # the key stopped working midway: no check below is worth anything
        raise refused.exceptions[0] from None
    return done


async def _check(client: ViduClient, entry: LedgerEntry) -> Check:
    assert entry.task_id is not None
    rules = RULES[basis(entry)]
    try:
        result = await client.get_task(entry.task_id)
    except TaskNotFound:
        return Check(entry, rules[Answer.NOT_FOUND], TASK_NOT_FOUND)
    except InsufficientBalance as exc:  # said of a read, this is throttling: the task is unknown for now
        return Check(entry, Verdict.NOT_CHECKED, "", str(exc))
    except OperatorError:
        raise
    except (ProviderError, RequestValidationError) as exc:
        return Check(entry, Verdict.NOT_CHECKED, "", str(exc))
    answer = _ANSWERS.get(result.status)
    if answer is None:
        return Check(entry, Verdict.NOT_CHECKED, result.status.value, "the provider's answer has no known status")
    reason = result.reason if answer is Answer.FAILED else ""
    return Check(entry, rules[answer], result.status.value, reason or "")


# ---------------------------------------------------------------------------------------------- output

_NOTES = (Verdict.PURGED, Verdict.STILL_RUNNING, Verdict.BILLED, Verdict.NOT_BILLED, Verdict.UNCHECKABLE,
          Verdict.NOT_CHECKED)
# Summary order; disagreements and unchecked tasks are always counted, the rest when there are any.
_SUMMARY = (Verdict.DISAGREE, Verdict.AGREE, *_NOTES, Verdict.IN_FLIGHT)
_ALWAYS = (Verdict.DISAGREE, Verdict.NOT_CHECKED)


def _when(moment: datetime) -> str:
    everything = " (everything)" if moment <= LEDGER_START else ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") + everything


_COLUMNS = f"{'server':<20}  {'ledger':<9}  {'jobs':>6}  {'videos':>6}  {'seconds':>8}  {'credits':>10}"


def _rows(name: str, server: ServerTotals) -> list[str]:
    """One line per settlement with jobs in it; credits shown as money (bot.pricing)."""
    return [f"{name:<20}  {s.value:<9}  {t.jobs:>6}  {t.videos:>6}  {t.seconds:>8}  {format_credits(t.credits):>10}"
            for s, t in server.by.items() if t.jobs]


# Server 0 holds the command line's own jobs (`animate`, `keyframes`: bot/cli/paid.py).
COMMAND_LINE = "command line"


def server_name(guild_id: int | None) -> str:
    return COMMAND_LINE if guild_id == 0 else str(guild_id)


def _check_line(check: Check) -> str:
    entry = check.entry
    task = f"task {entry.task_id}" if entry.task_id else NO_TASK_ID
    where = COMMAND_LINE if entry.guild_id == 0 else f"server {entry.guild_id}"
    head = (f"{check.verdict.value}: job {entry.job_id}, {task}, {where}: "
            f"ledger {entry.settlement.value} ({entry.state.value})")
    if check.verdict is Verdict.NOT_CHECKED:
        return f"{head}; no usable answer from the provider: {check.detail}"
    if entry.task_id is None:
        if check.verdict is Verdict.UNCHECKABLE:
            return f"{head}; the submit's outcome is unknown and the provider gave no task id"
        return f"{head}; the job has no task id, so the provider cannot have billed it"
    provider = f"provider {check.provider}" + (f" ({check.detail})" if check.detail else "")
    if check.provider == TASK_NOT_FOUND:
        provider += {
            Verdict.PURGED: ": it has forgotten the task, whose video the bot saw made, so billed",
            Verdict.DISAGREE: ": it has forgotten the task or never made it, and the bot never saw it made: "
                              "check the provider's dashboard",
            Verdict.UNCHECKABLE: ": it has forgotten the task or never made it, so whether it was billed is unknown",
        }.get(check.verdict, "")
    if check.verdict is Verdict.STILL_RUNNING:
        provider += ": it may still finish and bill"
    return f"{head}; {provider}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_line(report: Report) -> str:
    counts = report.counts()
    parts = [_plural(counts[v], "disagreement") if v is Verdict.DISAGREE else f"{counts[v]} {v.value}"
             for v in _SUMMARY if counts[v] or v in _ALWAYS]
    return (f"summary: {_plural(len(report.checks), 'job')} in {_plural(len(report.servers()), 'server')} "
            f"since {_when(report.since)}: " + ", ".join(parts))


def render_text(report: Report) -> list[str]:
    """The terminal report: per-server totals, notes, disagreements (one per line), a one-line summary."""
    scope = "all servers" if report.guild_id is None else f"server {report.guild_id}"
    lines = [f"ledger since {_when(report.since)}, {scope}"]
    servers = report.servers()
    if servers:
        lines.append(_COLUMNS)
        for server in servers:
            lines += _rows(server_name(server.guild_id), server)
        if len(servers) > 1:
            lines += _rows("all servers", report.total())
    else:
        lines.append("no jobs in the ledger for this period")
    notes = [_check_line(c) for c in report.checks if c.verdict in _NOTES]
    disagreements = [_check_line(c) for c in report.checks if c.verdict is Verdict.DISAGREE]
    for block in (notes, disagreements):
        if block:
            lines += ["", *block]
    lines += ["", summary_line(report)]
    return lines


def to_json(report: Report) -> dict[str, Any]:
    """The same report for scripts (ids as strings: they exceed a double's exact integers)."""

    def totals(server: ServerTotals) -> dict[str, Any]:
        return {s.name.lower(): vars(server.by[s]).copy() for s in Settlement}

    return {
        "since": report.since.isoformat(),
        "guild_id": None if report.guild_id is None else str(report.guild_id),
        "servers": [{"guild_id": str(s.guild_id), **totals(s)} for s in report.servers()],
        "total": totals(report.total()),
        "checks": [
            {"job_id": c.entry.job_id, "task_id": c.entry.task_id, "guild_id": str(c.entry.guild_id),
             "ledger": c.entry.settlement.value, "state": c.entry.state.value, "provider": c.provider or None,
             "detail": c.detail or None, "verdict": c.verdict.name.lower()}
            for c in report.checks
        ],
        "counts": {v.name.lower(): n for v, n in report.counts().items()},
    }


CSV_COLUMNS = ("reserved_at", "job_id", "guild_id", "user_id", "task_id", "state", "ledger", "videos", "seconds",
               "estimated_cost", "provider", "verdict", "detail")


def to_csv(report: Report) -> str:
    """One row per job, for a spreadsheet: the estimate in the price table's currency as a plain decimal (no
    symbol, no grouping: spreadsheets read it as a number), times in UTC ISO 8601, ids as text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for check in report.checks:
        entry = check.entry
        writer.writerow([
            entry.reserved_at.astimezone(UTC).isoformat(timespec="seconds"), entry.job_id, str(entry.guild_id),
            str(entry.user_id), entry.task_id or "", entry.state.value, entry.settlement.value, entry.videos,
            entry.seconds, f"{Decimal(entry.credits) / 1000:.3f}", check.provider, check.verdict.name.lower(),
            check.detail,
        ])
    return out.getvalue()
