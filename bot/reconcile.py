"""Reconciliation (SPEC section 5): the ledger's charges and refunds checked against the provider's bill.

Every job the ledger charged, refunded or keeps undecided (`submit_unknown`) since a time is judged
against the provider's own result for its task (`RULES`); jobs still running in the bot are only
counted. Discord-free: `python -m bot ledger` parses its options, reads the store's `ledger_entries`,
calls `reconcile` and prints `render_text` or `to_json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    NOT_FOUND = "not found"  # the provider does not know the task: not billed
    NO_TASK = "no task"  # the job has no task id: never submitted, so never billed


class Verdict(StrEnum):
    AGREE = "agree"
    DISAGREE = "disagreement"
    STILL_RUNNING = "still running at the provider"  # charged or undecided, and the provider may still bill
    BILLED = "undecided and billed"  # submit_unknown: the provider billed it
    NOT_BILLED = "undecided and not billed"
    UNCHECKABLE = "cannot be checked"  # submit_unknown without a task id
    NOT_CHECKED = "not checked"  # the provider did not answer for this task (a transient failure)
    IN_FLIGHT = "in flight"  # not ended in the bot yet: counted, not checked


V = Verdict
# The agreement rules: what the ledger did with a job against what the provider says of its task.
RULES: dict[Settlement, dict[Answer, Verdict]] = {
    Settlement.CHARGED: {Answer.SUCCEED: V.AGREE, Answer.RUNNING: V.STILL_RUNNING, Answer.FAILED: V.DISAGREE,
                         Answer.NOT_FOUND: V.DISAGREE, Answer.NO_TASK: V.DISAGREE},
    Settlement.REFUNDED: {Answer.FAILED: V.AGREE, Answer.NOT_FOUND: V.AGREE, Answer.NO_TASK: V.AGREE,
                          Answer.SUCCEED: V.DISAGREE, Answer.RUNNING: V.DISAGREE},
    Settlement.UNDECIDED: {Answer.SUCCEED: V.BILLED, Answer.RUNNING: V.STILL_RUNNING, Answer.FAILED: V.NOT_BILLED,
                           Answer.NOT_FOUND: V.NOT_BILLED, Answer.NO_TASK: V.UNCHECKABLE},
}
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

_AGO = re.compile(r"(\d+)\s*([wdhm])", re.IGNORECASE)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `24h`, `30m`, `2w` before `now`, or an ISO date or time (UTC unless it names its zone)."""
    text = text.strip()
    ago = _AGO.fullmatch(text)
    if ago:
        return now - timedelta(**{_UNITS[ago[2].lower()]: int(ago[1])})
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected a time ago such as 7d, 24h or 30m, or a date such as 2026-11-01; got {text!r}"
                         ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


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
            checks.append(Check(entry, RULES[entry.settlement][Answer.NO_TASK], NO_TASK_ID))
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
    rules = RULES[entry.settlement]
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

_NOTES = (Verdict.STILL_RUNNING, Verdict.BILLED, Verdict.NOT_BILLED, Verdict.UNCHECKABLE, Verdict.NOT_CHECKED)
# Summary order; disagreements and unchecked tasks are always counted, the rest when there are any.
_SUMMARY = (Verdict.DISAGREE, Verdict.AGREE, *_NOTES, Verdict.IN_FLIGHT)
_ALWAYS = (Verdict.DISAGREE, Verdict.NOT_CHECKED)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_COLUMNS = f"{'server':<20}  {'ledger':<9}  {'jobs':>6}  {'videos':>6}  {'seconds':>8}  {'credits':>10}"


def _rows(name: str, server: ServerTotals) -> list[str]:
    """One line per settlement with jobs in it; credits shown as money (bot.pricing)."""
    return [f"{name:<20}  {s.value:<9}  {t.jobs:>6}  {t.videos:>6}  {t.seconds:>8}  {format_credits(t.credits):>10}"
            for s, t in server.by.items() if t.jobs]


def _check_line(check: Check) -> str:
    entry = check.entry
    task = f"task {entry.task_id}" if entry.task_id else NO_TASK_ID
    head = (f"{check.verdict.value}: job {entry.job_id}, {task}, server {entry.guild_id}: "
            f"ledger {entry.settlement.value} ({entry.state.value})")
    if check.verdict is Verdict.UNCHECKABLE:
        return f"{head}; the submit's outcome is unknown and the provider gave no task id"
    if check.verdict is Verdict.NOT_CHECKED:
        return f"{head}; no usable answer from the provider: {check.detail}"
    if entry.task_id is None:
        return f"{head}; the job has no task id, so the provider cannot have billed it"
    provider = f"provider {check.provider}" + (f" ({check.detail})" if check.detail else "")
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
            lines += _rows(str(server.guild_id), server)
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
