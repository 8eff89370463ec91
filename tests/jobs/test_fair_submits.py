"""The job loop's submit round takes jobs in their fair turn, and a job that arrives during a long round takes
its turn then, not after every job read before it (issue 16)."""

from __future__ import annotations

from bot.jobs import Job, JobInput, JobKind, JobState
from bot.jobs.submit import SUBMIT_BATCH, SUBMITS_PER_ROUND
from bot.params import Img2VideoParams
from bot.quotas import Charge
from tests.jobs.test_worker import Harness, harness, png

__all__ = ["harness"]  # the fixture, shared with the worker's tests

BIG_GUILD, SMALL_GUILD = 10, 99


def _job(guild_id: int, user_id: int, prompt: str) -> Job:
    return Job.new(guild_id=guild_id, channel_id=20, user_id=user_id, kind=JobKind.IMG2VIDEO,
                   params=Img2VideoParams(prompt=prompt), resolution="720p", duration_seconds=5, thread_id=30)


async def test_a_job_arriving_during_a_long_submit_round_takes_its_turn_then(harness: Harness) -> None:
    arrived: list[str] = []

    async def a_small_server_asks(job: Job) -> None:  # when the round's first task is created
        if job.state is JobState.SUBMITTED and not arrived:
            small = await harness.store.create_job(_job(SMALL_GUILD, 7, "small server"),
                                                   [JobInput(0, "s.png", "image/png", png())],
                                                   charge=Charge(SMALL_GUILD, 7, 5))
            arrived.append(small.id)

    harness.listener.on_change = a_small_server_asks
    big = 15
    for n in range(big):  # one member each, so no member's in-flight limit holds any of them back
        await harness.store.create_job(_job(BIG_GUILD, 100 + n, f"big {n}"),
                                       [JobInput(0, "b.png", "image/png", png())], charge=Charge(BIG_GUILD, 100 + n, 5))

    assert big + 1 <= SUBMITS_PER_ROUND
    await harness.worker.tick()

    prompts = [request.json["prompt"] for request in harness.fake.requests_to("submit")]
    assert len(prompts) == big + 1  # every job went out in this one round
    # The fair order is read again every SUBMIT_BATCH submits: it went out then. Read once per round, it was last.
    assert big // 2 > SUBMIT_BATCH
    assert prompts.index("small server") <= SUBMIT_BATCH, prompts


async def test_polls_due_go_before_new_submits_and_a_round_submits_a_bounded_number(harness: Harness) -> None:
    first = await harness.store.create_job(_job(BIG_GUILD, 1, "already at the provider"),
                                           [JobInput(0, "a.png", "image/png", png())], charge=Charge(BIG_GUILD, 1, 5))
    await harness.worker.tick()
    harness.clock.advance(3)  # its first poll is due now
    harness.fake.advance(3)
    for n in range(SUBMITS_PER_ROUND + 5):
        await harness.store.create_job(_job(BIG_GUILD, 100 + n, f"queued {n}"),
                                       [JobInput(0, "b.png", "image/png", png())], charge=Charge(BIG_GUILD, 100 + n, 5))
    before = len(harness.fake.requests)

    await harness.worker.tick()

    calls = [r.endpoint for r in harness.fake.requests[before:] if r.endpoint in ("submit", "result")]
    assert calls[0] == "result"  # the task already at the provider was asked about before anything new went
    assert calls.count("submit") == SUBMITS_PER_ROUND  # the rest wait for the next round, after the polls due then
    assert (await harness.store.count_by_state([JobState.ACCEPTED]))[JobState.ACCEPTED] == 5
    polled = await harness.store.get_job(first.id)
    assert polled is not None and polled.poll_count == 1
