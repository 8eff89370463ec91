"""PROVIDER_MAX_IN_FLIGHT in the job loop: the provider never runs more of our tasks than the cap, the rest wait
in the bot's queue (where Cancel is free and the fair order decides), and a freed slot is used at once
(issue 28 item 4)."""

from __future__ import annotations

from pathlib import Path

from bot.jobs import Job, JobInput, JobKind, JobState
from bot.jobs.queue_place import QueuePlace, WaitingFor, queue_place
from bot.params import Img2VideoParams
from bot.quotas import Charge
from bot.ui.status import status_text
from tests.jobs.test_worker import open_harness, png

S = JobState
BIG, SMALL = 10, 99


async def _ask(store: object, guild_id: int, user_id: int, prompt: str) -> Job:
    job = Job.new(guild_id=guild_id, channel_id=20, user_id=user_id, kind=JobKind.IMG2VIDEO,
                  params=Img2VideoParams(prompt=prompt), resolution="720p", duration_seconds=5, thread_id=30)
    return await store.create_job(job, [JobInput(0, "p.png", "image/png", png())],  # type: ignore[attr-defined]
                                  charge=Charge(guild_id, user_id, 5))


async def test_the_provider_never_runs_more_than_the_cap_and_the_rest_go_in_their_fair_turn(tmp_path: Path) -> None:
    async with open_harness(tmp_path, provider_max_in_flight=2) as harness:
        store, fake = harness.store, harness.fake
        big = [await _ask(store, BIG, 100 + n, f"big {n}") for n in range(6)]  # one member each: no member limit
        await harness.worker.tick()
        assert len(fake.requests_to("submit")) == 2  # the cap, not the four other members' free slots
        late = await _ask(store, SMALL, 7, "small server")  # arrives while the big server's jobs wait

        waiting = await store.get_job(big[2].id)
        assert waiting is not None and waiting.state is S.ACCEPTED
        place = await queue_place(store, waiting, max_active=2, provider_cap=2)
        assert place == QueuePlace(2, WaitingFor.PROVIDER)  # the small server's job goes before it
        assert "Position 2 in the bot's queue" in status_text(waiting, place=place)

        for job in [*big, late]:
            await harness.until(job.id, [S.DELIVERED])
        prompts = [request.json["prompt"] for request in fake.requests_to("submit")]
        assert len(prompts) == 7  # every job was made, each once
        # The two slots the first tasks freed went to the next turn of each server (ties: oldest first), not to the
        # whole of the big server's queue before the small server's one job.
        assert set(prompts[2:4]) == {"big 2", "small server"}
        assert fake.max_running_seen == 2


async def test_without_a_cap_every_member_with_a_free_slot_goes_at_once(tmp_path: Path) -> None:
    async with open_harness(tmp_path) as harness:
        for n in range(6):
            await _ask(harness.store, BIG, 100 + n, f"big {n}")
        await harness.worker.tick()
        assert len(harness.fake.requests_to("submit")) == 6
        assert harness.fake.max_running_seen == 6
