"""The ledger follows the provider's bill (SPEC section 5), on every path Hypothesis can think of.

Each generated history runs the real job loop against the strict fake provider and a real store: a few
jobs whose tasks succeed, fail, run late or past the bot's patience; faults injected into submits, polls
and video downloads (errors, dropped connections, dead links); Discord failing posts or gone; the
provider's balance empty for a while; the bot restarted between ticks. Time runs until every job has
ended and every task is final at the provider. Then:

- every job the provider billed (its task finished with a video) is charged in the ledger, and every job
  it did not bill is refunded; a job the bot cannot settle (its submit's answer lost, or a task it stopped
  waiting for after JOB_GIVE_UP_HOURS) keeps its reservation, as SPEC section 5 says;
- no member was told "nothing was counted" about a job that is charged, nor "counts" about a refunded one.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.i18n import reason_code
from bot.jobs import Job, JobInput, JobKind, JobState
from bot.jobs.states import CHARGED_ENDINGS, REFUNDED_ENDINGS, TERMINAL_STATES
from bot.jobs.worker import JobWorker, Undeliverable, WorkerSettings
from bot.params import Img2VideoParams
from bot.provider import RateLimiter, RetryPolicy, ViduClient
from bot.quotas import Charge
from bot.ui.status import status_text
from tests.fakes.provider import FakeProvider, Fault
from tests.jobs.test_worker import png
from tests.store.backends import ManualClock, chosen_backend, drop_pg_schemas_now

S = JobState
API_KEY = "sk-money-model-0123456789"
GUILD = 10
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# How many histories CI tries; MONEY_MODEL_EXAMPLES=500 for a long local run.
EXAMPLES = int(os.environ.get("MONEY_MODEL_EXAMPLES", "25"))
NOT_COUNTED = "Nothing was counted"
GAVE_UP = reason_code("gave_up", "")
COUNTED = "counts against your quota"

HOUR = 3600.0
# How long a task takes at the provider: quick, late (past JOB_TIMEOUT: delivered with a word on the delay),
# or past the bot's patience (it gives up at 72 h with the charge kept; the provider still finishes).
DURATIONS = st.sampled_from([5.0, 60.0, 3 * HOUR, 80 * HOUR])
FAULTS = st.sampled_from([
    ("submit", Fault.status(400, "ILLEGAL_PROMPT", message="refused")),
    ("submit", Fault.status(503, "SERVICE_NOT_AVAILABLE")),
    ("submit", Fault.drop_before()),
    ("submit", Fault.drop_after()),
    ("result", Fault.status(500, "GET_RESULT_FAILED")),
    ("result", Fault.drop_before()),
    ("video", Fault.status(403, "AccessDenied", message="Request has expired")),
    ("video", Fault.status(500, "InternalError")),
    ("video", Fault.drop_before()),
])


@dataclass
class JobPlan:
    seconds: float
    fails: bool


@dataclass
class History:
    jobs: list[JobPlan]
    faults: list[tuple[tuple[str, Fault], int]]  # (endpoint, fault), how many times in a row
    # One stray "task not found" for a task the provider still has (and goes on to finish and bill). Twice
    # in a row for one task is the provider's word that it is gone: the bot refunds, the bill follows.
    stray_not_found: bool
    post_failures: int  # Discord failing the next posts
    nowhere_to_post: bool  # the jobs' thread deleted: every video is undeliverable
    empty_balance_ticks: int  # the provider's account empty for the first ticks
    restarts: frozenset[int]  # ticks after which the bot restarts (a new loop on the same database)
    step_seconds: float


HISTORIES = st.builds(
    History,
    jobs=st.lists(st.builds(JobPlan, seconds=DURATIONS, fails=st.booleans()), min_size=1, max_size=4),
    faults=st.lists(st.tuples(FAULTS, st.sampled_from([1, 2, 50])), max_size=4),
    stray_not_found=st.booleans(),
    post_failures=st.sampled_from([0, 1, 3, 1000]),
    nowhere_to_post=st.booleans(),
    empty_balance_ticks=st.sampled_from([0, 0, 3, 40]),
    restarts=st.frozensets(st.integers(0, 30), max_size=3),
    step_seconds=st.sampled_from([1.0, 30.0, 600.0]),
)


@dataclass
class TellingListener:
    """Stands in for Discord: every text the member would read about each job (cards and pings)."""

    history: History
    told: dict[str, list[str]] = field(default_factory=dict)
    posted: dict[str, int] = field(default_factory=dict)

    async def job_changed(self, job: Job) -> None:
        self.told.setdefault(job.id, []).append(status_text(job))

    async def job_late(self, job: Job) -> None:
        self.told.setdefault(job.id, []).append(status_text(job))

    async def tell_moderators(self, guild_id: int, text: str) -> None:
        return None

    async def fresh_attachment_url(self, url: str) -> str | None:
        return url  # (no job here has a server watermark)

    async def deliver(self, job: Job, video: Path) -> int:
        if self.history.nowhere_to_post:
            raise Undeliverable("thread 30: 404 10003; no other place for it")
        if self.history.post_failures:
            self.history.post_failures -= 1
            raise RuntimeError("Discord is down")
        self.posted[job.id] = self.posted.get(job.id, 0) + 1
        return 1000 + len(self.posted)


def _worker(store: object, client: ViduClient, listener: TellingListener, clock: ManualClock,
            workdir: Path) -> JobWorker:
    return JobWorker(store, client, listener,  # type: ignore[arg-type]
                     WorkerSettings(poll_first_seconds=2, poll_max_seconds=30, delivery_max_attempts=5,
                                    sole_worker=True),
                     workdir=workdir, clock=clock)


async def _run(history: History, directory: Path) -> None:
    clock = ManualClock()
    fake = FakeProvider(api_key=API_KEY, time_scale=0.0)
    await fake.start()
    store = await chosen_backend().open(directory, clock)
    listener = TellingListener(history)
    try:
        for plan in history.jobs:
            fake.plan_next_task(queue_seconds=plan.seconds / 2, processing_seconds=plan.seconds / 2,
                                fail_reason="content moderation" if plan.fails else None)
        for (endpoint, fault), times in history.faults:
            fake.inject(endpoint, fault, times=times)
        if history.stray_not_found:
            fake.inject("result", Fault.status(404, "TASK_NOT_FOUND"))
        ids = []
        for n, _ in enumerate(history.jobs):
            job = Job.new(guild_id=GUILD, channel_id=20, user_id=n + 1, kind=JobKind.IMG2VIDEO,
                          params=Img2VideoParams(prompt=f"job {n}"), resolution="720p", duration_seconds=5,
                          thread_id=30)
            stored = await store.create_job(job, [JobInput(0, "cat.png", "image/png", png())],
                                            charge=Charge(GUILD, n + 1, 5))
            ids.append(stored.id)
        async with aiohttp.ClientSession() as session:
            client = ViduClient(session, base_url=fake.base_url, api_key=API_KEY, limiter=RateLimiter(60_000),
                                timeout=5.0, retry=RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0))
            worker = _worker(store, client, listener, clock, directory)
            for tick in range(600):
                fake.balance_empty = tick < history.empty_balance_ticks
                if tick in history.restarts:
                    worker = _worker(store, client, listener, clock, directory)  # a restarted bot: nothing in memory
                    await worker.take_over_leftover_leases()
                await worker.tick()
                jobs = [await store.get_job(i) for i in ids]
                settled = all(j is not None and j.state in TERMINAL_STATES for j in jobs)
                if settled and all(t.status in ("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED")
                                   for t in fake.tasks.values() if t.task_id not in fake.forgotten):
                    break
                # The history's own pace first, then long strides (a late task runs for days); the provider's
                # time moves too.
                step = history.step_seconds if tick < 40 and not settled else 1800.0
                clock.advance(step)
                fake.advance(step)
            else:
                raise AssertionError(f"not settled: {[(j.id, j.state) for j in jobs if j]}")

        tasks_by_job = _tasks_by_job(fake, jobs)
        for job in jobs:
            assert job is not None
            reserved = (await store.usage(GUILD, job.user_id, EPOCH)).videos
            task = tasks_by_job.get(job.id)
            billed = task is not None and task.status == "TASK_STATUS_SUCCEED" and task.task_id not in fake.forgotten
            texts = listener.told.get(job.id, [])
            if job.state is S.SUBMIT_UNKNOWN or (job.reason or "").startswith(GAVE_UP):
                # The bot cannot know (the submit's answer was lost; it stopped waiting for a task the provider
                # still had): the reservation is kept, and said so; `python -m bot ledger` tells the operator.
                assert reserved == 1
                assert not any(NOT_COUNTED in t for t in texts), texts
                continue
            assert reserved == int(billed), (job.id, job.state, job.reason, task and task.status)
            assert job.state in (CHARGED_ENDINGS if billed else REFUNDED_ENDINGS), (job.state, job.reason)
            if billed:
                assert not any(NOT_COUNTED in t for t in texts), texts
                assert listener.posted.get(job.id, 0) <= 1
            else:
                assert not any(COUNTED in t for t in texts), texts
                assert job.id not in listener.posted
    finally:
        await store.close()
        await fake.stop()


def _tasks_by_job(fake: FakeProvider, jobs: list[Job | None]) -> dict[str, object]:
    """Each job's task at the fake provider: by the task id the job recorded, else (a submit whose answer was
    lost) by the prompt it carried."""
    by_prompt = {t.body.get("prompt"): t for t in fake.tasks.values()}
    found: dict[str, object] = {}
    for job in jobs:
        assert job is not None
        task = fake.tasks.get(job.task_id or "") or by_prompt.get(job.params.prompts[0])
        if task is not None:
            found[job.id] = task
    return found


@pytest.mark.timeout(max(120, EXAMPLES))  # about 0.3 s a history; a long local run needs longer
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HISTORIES)
def test_the_ledger_charges_exactly_what_the_provider_billed(history: History) -> None:
    directory = Path(tempfile.mkdtemp(prefix="money-model-"))
    try:
        asyncio.run(_run(history, directory))
    finally:
        drop_pg_schemas_now()
