"""Building jobs and driving them through the table, for the store tests."""

from __future__ import annotations

from collections import deque
from dataclasses import replace

from bot.jobs import ALLOWED_TRANSITIONS, Job, JobInput, JobKind, JobState, JobStore
from bot.params import MultiframeParams
from tests.store.backends import ManualClock

GUILD = 111_111_111_111_111_111
OTHER_GUILD = 222_222_222_222_222_222
ALICE = 333_333_333_333_333_333
BOB = 444_444_444_444_444_444


def make_job(clock: ManualClock, *, guild_id: int = GUILD, user_id: int = ALICE, **overrides: object) -> Job:
    job = Job.new(
        guild_id=guild_id,
        channel_id=555,
        user_id=user_id,
        kind=JobKind.MULTIFRAME,
        params=MultiframeParams(prompts=("一只猫在跳舞", "zoom out"), durations=(4, 5)),
        resolution="720p",
        duration_seconds=9,
        locale="zh-CN",
        now=clock(),
    )
    return replace(job, **overrides) if overrides else job


def make_inputs(count: int = 3) -> list[JobInput]:
    return [
        JobInput(position=i, filename=f"frame{i + 1}.png", mime_type="image/png", data=bytes([i]) * (100 + i))
        for i in range(count)
    ]


def path_to(state: JobState) -> list[JobState]:
    """The shortest chain of states from ACCEPTED to `state` (excluding ACCEPTED)."""
    parents: dict[JobState, JobState | None] = {JobState.ACCEPTED: None}
    queue = deque([JobState.ACCEPTED])
    while queue:
        current = queue.popleft()
        for nxt in sorted(ALLOWED_TRANSITIONS[current]):
            if nxt not in parents:
                parents[nxt] = current
                queue.append(nxt)
    chain: list[JobState] = []
    node: JobState | None = state
    while node is not None and node is not JobState.ACCEPTED:
        chain.append(node)
        node = parents[node]
    return list(reversed(chain))


async def drive_to(store: JobStore, job: Job, state: JobState) -> Job:
    current = job
    for step in path_to(state):
        moved = await store.transition(current.id, from_states={current.state}, to=step)
        assert moved is not None, f"could not move {current.id} {current.state} -> {step}"
        current = moved
    return current
