"""Paid submits from the command line (`animate`, `keyframes`), in the ledger like the bot's own.

Each is a job of server 0 (JobSource.OPERATOR) created with its estimated cost reserved against BUDGET_PER_DAY and
BUDGET_PER_MONTH in one transaction, then claimed, marked sent just before the one paid call and moved through the
same states as the job loop's (bot/jobs/states.py), so `python -m bot ledger` reconciles everything the key spends
and the budget counts it. The job loop never takes these jobs: the command line submits and follows its own.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp

from bot.cli.common import EXIT_BAD_INPUT, EXIT_OPERATOR, CliError, provider_client, provider_failure
from bot.cli.follow import follow, resumable
from bot.config import Settings
from bot.jobs import Job, JobKind, JobSource, JobState, JobStore
from bot.params import JobParams, MultiframeParams
from bot.pricing import format_credits
from bot.provider import (
    OperatorError,
    OutcomeUnknown,
    ProviderError,
    RequestRejected,
    TaskResult,
    TaskStatus,
    TransientProviderError,
    ViduClient,
)
from bot.quotas import Charge
from bot.quotas.charging import charge_for, first_refusal
from bot.quotas.models import GuildSettings, Period, QuotaExceeded
from bot.requests import provider_request

NO_SERVER = 0  # the command line's jobs: no server, no member
OWNER = f"cli:{os.getpid()}"  # the claim's lease holder (the job loop never leases these jobs)
CLAIM_HOURS = 24
S = JobState


@dataclass(frozen=True)
class PaidRequest:
    params: JobParams
    images: list[str]  # request values: data URIs or URLs, start image first

    @property
    def kind(self) -> JobKind:
        return JobKind(self.params.KIND)

    @property
    def seconds(self) -> int:
        if isinstance(self.params, MultiframeParams):
            return sum(self.params.durations)
        return self.params.duration

    def charge(self, settings: Settings) -> Charge:
        return charge_for(NO_SERVER, NO_SERVER, kind=self.kind.value, resolution=self.params.resolution,
                          seconds=self.seconds, settings=GuildSettings(), prices=settings.price_table)


# ------------------------------------------------------------------------------------ the ledger's job
@asynccontextmanager
async def ledger_store(settings: Settings) -> AsyncIterator[JobStore]:
    """The bot's store (DATABASE_URL); a store that cannot be opened is one line (exit 3), an error inside the
    block is the block's own."""
    from bot.db import open_store  # the store is only needed by the commands that use it

    async with AsyncExitStack() as stack:
        try:
            store = await stack.enter_async_context(open_store(settings.database_url.get()))
        except Exception as exc:  # bad URL, unreachable server, failing migration: say which and stop
            raise CliError(f"DATABASE_URL: the ledger is not usable ({type(exc).__name__}: {exc})",
                           EXIT_OPERATOR) from None
        yield store


def _budget_line(exc: QuotaExceeded) -> str:
    limit = exc.check.limit
    name, window = ("BUDGET_PER_DAY", "today") if limit.period is Period.DAY else ("BUDGET_PER_MONTH", "this month")
    return (f"not submitted: {name} is spent: {format_credits(exc.used.credits)} of "
            f"{format_credits(limit.credits or 0)} used {window} (UTC) and this video costs about "
            f"{format_credits(exc.charge.credits)}")


class OperatorLedger:
    """One command-line job in the store, moved as the provider answers."""

    def __init__(self, store: JobStore, job: Job) -> None:
        self.store, self.job = store, job

    @classmethod
    async def of_task(cls, store: JobStore, task_id: str) -> OperatorLedger | None:
        job = await store.operator_job(task_id)
        return None if job is None else cls(store, job)

    async def _move(self, from_states: set[JobState], to: JobState, reason: str | None = None) -> None:
        moved = await (self.store.transition(self.job.id, from_states=from_states, to=to) if reason is None else
                       self.store.transition(self.job.id, from_states=from_states, to=to, reason=reason))
        if moved is not None:
            self.job = moved

    async def seen(self, result: TaskResult) -> None:
        """The provider's final answer: a failed task is refunded, a made video is noted (charged once saved)."""
        if result.status is TaskStatus.FAILED:
            await self._move({S.SUBMITTED}, S.FAILED, reason=result.reason or "failed")
        elif result.status is TaskStatus.SUCCEED:
            await self._move({S.SUBMITTED}, S.SUCCEEDED)

    async def saved(self) -> None:
        await self._move({S.SUCCEEDED}, S.DELIVERED)


async def reserve(store: JobStore, paid: PaidRequest, settings: Settings) -> Job:
    """The job and its reservation, refused in one line when the budget is spent (checked again atomically)."""
    charge = paid.charge(settings)
    checks = settings.operator_limits().budget_checks(store.now())
    job = Job.new(guild_id=NO_SERVER, channel_id=NO_SERVER, user_id=NO_SERVER, kind=paid.kind, params=paid.params,
                  resolution=paid.params.resolution, duration_seconds=paid.seconds, source=JobSource.OPERATOR)
    try:
        return await store.create_job(job, [], charge=charge, checks=checks)
    except QuotaExceeded as exc:
        raise CliError(_budget_line(exc), EXIT_OPERATOR) from None


async def budget_refusal(store: JobStore, paid: PaidRequest, settings: Settings) -> None:
    """Before asking anyone to confirm: a spent budget refuses at once."""
    charge = paid.charge(settings)
    refusal = await first_refusal(store, settings.operator_limits().budget_checks(store.now()), charge)
    if refusal is not None:
        raise CliError(_budget_line(refusal), EXIT_OPERATOR)


async def submit_once(store: JobStore, client: ViduClient, job: Job, paid: PaidRequest,
                      settings: Settings) -> str:
    """Claim, mark sent, send once; every answer recorded as the job loop records it. The task id."""
    claimed = await store.claim_submit(job.id, max_active=1 << 30, owner=OWNER,
                                       until=store.now() + timedelta(hours=CLAIM_HOURS))
    if claimed is None:  # pragma: no cover - nobody else takes an operator job
        raise CliError(f"job {job.id} was taken by another process; nothing was sent", EXIT_OPERATOR)
    request = await asyncio.to_thread(provider_request, paid.params, paid.images, job_id=job.id)
    if await store.mark_sent(claimed.id, fence=claimed.attempt) is None:  # pragma: no cover - as above
        raise CliError(f"job {job.id} was taken by another process; nothing was sent", EXIT_OPERATOR)

    async def end(to: JobState, reason: str) -> None:
        await store.transition(job.id, from_states={S.SUBMITTING}, to=to, fence=claimed.attempt, reason=reason)

    try:
        result = await client.submit(request)
    except RequestRejected as exc:
        await end(S.REJECTED, f"rejected: {exc.message or exc.reason}")
        raise provider_failure(exc, settings) from None
    except (OperatorError, TransientProviderError) as exc:  # provably no task: nothing billed
        await end(S.FAILED, f"not created: {exc.reason or type(exc).__name__}")
        raise provider_failure(exc, settings) from None
    except (OutcomeUnknown, ProviderError) as exc:  # maybe billed: the reservation is kept, ledger checks it
        await end(S.SUBMIT_UNKNOWN, "submit_unknown")
        raise provider_failure(exc, settings) from None
    except asyncio.CancelledError:
        await end(S.SUBMIT_UNKNOWN, "interrupted while submitting")
        print(f"interrupted while submitting: it may have been billed; job {job.id} is kept undecided in the "
              "ledger (`python -m bot ledger` checks it with the provider)", file=sys.stderr)
        raise
    await store.transition(job.id, from_states={S.SUBMITTING}, to=S.SUBMITTED, fence=claimed.attempt,
                           task_id=result.task_id)
    return result.task_id


# ------------------------------------------------------------------------------------ confirmation
async def _ask(question: str) -> str:
    """A line typed on the terminal, without blocking the event loop (Ctrl-C still stops the command)."""
    print(question, end="", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    try:
        fd = sys.stdin.fileno()
        answer: asyncio.Future[str] = loop.create_future()

        def typed() -> None:
            if not answer.done():
                answer.set_result(sys.stdin.readline())

        loop.add_reader(fd, typed)
    except NotImplementedError:  # (Windows' event loop watches no terminal)
        return await asyncio.to_thread(sys.stdin.readline)
    try:
        return await answer
    finally:
        loop.remove_reader(fd)


async def confirm(what: str, credits: int, *, yes: bool) -> None:
    print(f"estimated cost: {format_credits(credits)} ({what}; PRICE_TABLE)", file=sys.stderr)
    if yes:
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise CliError("not submitted: no terminal to confirm the estimated cost on; add --yes to submit "
                       "without asking", EXIT_BAD_INPUT)
    if (await _ask("submit and pay for it? [y/N] ")).strip().lower() not in ("y", "yes"):
        raise CliError("not submitted: nothing was spent", EXIT_BAD_INPUT)


def describe(paid: PaidRequest) -> str:
    return f"{paid.kind.value}, {paid.seconds} s at {paid.params.resolution}"


# ------------------------------------------------------------------------------------ the whole command
async def spend(paid: PaidRequest, settings: Settings, *, yes: bool, wait: bool, out: Path | None) -> None:
    """Estimate, check the budget, confirm, record, submit once, then follow (--wait) or say how to."""
    charge = paid.charge(settings)
    async with ledger_store(settings) as store:
        await budget_refusal(store, paid, settings)
        await confirm(describe(paid), charge.credits, yes=yes)
        job = await reserve(store, paid, settings)
        async with aiohttp.ClientSession() as session:
            client = provider_client(session, settings)
            task_id = await submit_once(store, client, job, paid, settings)
            print(task_id, flush=True)
            if not wait:
                print(f"{task_id}: submitted (about {format_credits(charge.credits)}, job {job.id} in the ledger); "
                      f"follow it: python -m bot task {task_id} --wait", file=sys.stderr)
                return
            with resumable(task_id, out):  # (from here on, an interruption leaves a task that goes on)
                ledger = await OperatorLedger.of_task(store, task_id)
                try:
                    await follow(client, task_id, settings, out, ledger)
                except ProviderError as exc:
                    raise provider_failure(exc, settings) from None
