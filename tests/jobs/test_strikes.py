"""Issue 25, item 6, in the job loop against the strict fake provider, on the chosen store (TEST_E2E_DATABASE): a
content refusal ends the job with its own reason, refunded, and flags what was refused, so a queued request with
the same prompt, picture or combination is stopped just before submit without reaching the provider; three
strikes pause the member in that server and tell the mod-log; anything else stays an ordinary refusal."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image

from bot.i18n import reason_code, render_reason
from bot.jobs import Job, JobInput, JobKind, JobState, JobStore
from bot.params import Img2VideoParams, MultiframeParams
from bot.quotas import Charge
from tests.fakes.pictures import blobs
from tests.fakes.provider import Fault
from tests.jobs.test_worker import Harness, charged
from tests.jobs.test_worker import harness as harness  # the fixture (re-exported: no redefinition)

S = JobState
ALICE, BOB = 1, 2


async def add_job(store: JobStore, prompts: Sequence[str | None], pictures: Sequence[bytes], *,
                  user: int = ALICE) -> Job:
    """An img2video job (one prompt, one picture) or a multiframe one (a start picture, then one per segment)."""
    if len(pictures) == 1:
        params: Img2VideoParams | MultiframeParams = Img2VideoParams(prompt=prompts[0] or "")
        kind, seconds = JobKind.IMG2VIDEO, 5
    else:
        params = MultiframeParams(prompts=tuple(prompts), durations=(4,) * len(prompts), resolution="720p")
        kind, seconds = JobKind.MULTIFRAME, 4 * len(prompts)
    job = Job.new(guild_id=10, channel_id=20, user_id=user, kind=kind, params=params, resolution="720p",
                  duration_seconds=seconds, thread_id=30)
    inputs = [JobInput(n, f"{n}.png", "image/png", data) for n, data in enumerate(pictures)]
    return await store.create_job(job, inputs, charge=Charge(10, user, seconds))


async def state(harness: Harness, job: Job) -> Job:
    stored = await harness.store.get_job(job.id)
    assert stored is not None
    return stored


def as_jpeg(data: bytes) -> bytes:
    """The same picture, re-encoded (as a member would send it again from another app)."""
    with Image.open(io.BytesIO(data)) as img:
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=80)
        return out.getvalue()


async def test_a_refused_prompt_is_its_own_refunded_reason_and_a_queued_twin_never_reaches_the_provider(
    harness: Harness,
) -> None:
    refused = await add_job(harness.store, ["a forbidden dance"], [blobs(1)])  # the fake refuses "forbidden"
    twin = await add_job(harness.store, ["A  ＦＯＲＢＩＤＤＥＮ dance"], [blobs(2)], user=BOB)  # the same, normalised
    other = await add_job(harness.store, ["a calm lake"], [blobs(3)], user=BOB)
    await harness.worker.tick()

    ended = await state(harness, refused)
    assert ended.state is S.REJECTED and ended.reason == reason_code("refused_prompt")
    assert "refused the prompt for its content" in render_reason(ended.reason, "en-US")
    assert "拒绝了这个提示词" in render_reason(ended.reason, "zh-CN")
    stopped = await state(harness, twin)
    assert stopped.state is S.FAILED and stopped.reason == reason_code("flagged_prompt")
    assert (await state(harness, other)).state is S.SUBMITTED
    assert [r.json["prompt"] for r in harness.fake.requests_to("submit")] == ["a forbidden dance", "a calm lake"]
    assert await charged(harness.store, ALICE) == 0  # refunded
    assert await charged(harness.store, BOB) == 1  # the calm lake only: the twin was refunded
    assert harness.listener.told_moderators == []  # one strike pauses nobody


async def test_a_refused_key_picture_is_flagged_alone_and_its_near_copy_is_stopped_before_submit(
    harness: Harness,
) -> None:
    start, middle, bad = blobs(11), blobs(12), blobs(13)
    harness.fake.refuse_image_content(bad)  # the fake answers "image_settings[1].key_image: ..."
    refused = await add_job(harness.store, ["walks in", "sits"], [start, middle, bad])
    await harness.worker.tick()
    ended = await state(harness, refused)
    assert ended.state is S.REJECTED and ended.reason == reason_code("refused_picture", "3")
    assert "picture 3" in render_reason(ended.reason, "en-US")
    assert await charged(harness.store, ALICE) == 0

    copy = await add_job(harness.store, ["a new prompt"], [as_jpeg(bad)], user=BOB)
    innocent = await add_job(harness.store, ["a new prompt"], [start], user=BOB)  # the refused job's other picture
    await harness.worker.tick()
    stopped = await state(harness, copy)
    assert stopped.state is S.FAILED and stopped.reason == reason_code("flagged_picture")
    assert (await state(harness, innocent)).state is S.SUBMITTED
    assert len(harness.fake.requests_to("submit")) == 2  # the refused job and the innocent one


async def test_a_task_failed_for_its_output_flags_exactly_that_request(harness: Harness) -> None:
    harness.fake.plan_next_task(fail_reason="CreationPolicyViolation")
    refused = await add_job(harness.store, ["a cat yawns"], [blobs(21)])
    ended = await harness.until(refused.id, [S.FAILED, S.DELIVERED])
    assert ended.state is S.FAILED and ended.reason == reason_code("refused_content")
    assert "refused to make this video for its content" in render_reason(ended.reason, "en-US")
    assert await charged(harness.store, ALICE) == 0  # the provider reported FAILED: it billed nothing

    same = await add_job(harness.store, ["A cat  yawns"], [blobs(21)], user=BOB)
    same_picture = await add_job(harness.store, ["a cat sleeps"], [blobs(21)], user=BOB)
    await harness.worker.tick()
    stopped = await state(harness, same)
    assert stopped.state is S.FAILED and stopped.reason == reason_code("flagged_request")
    assert (await state(harness, same_picture)).state is S.SUBMITTED  # the picture alone is not flagged
    assert len(harness.fake.requests_to("submit")) == 2


async def test_three_strikes_pause_the_member_tell_the_mod_log_and_stop_their_queued_job(harness: Harness) -> None:
    refused = [await add_job(harness.store, [f"forbidden {n}"], [blobs(30 + n)]) for n in range(3)]
    queued = await add_job(harness.store, ["a calm lake"], [blobs(40)])
    bobs = await add_job(harness.store, ["a quiet street"], [blobs(41)], user=BOB)
    await harness.worker.tick()

    assert [(await state(harness, job)).state for job in refused] == [S.REJECTED] * 3
    stopped = await state(harness, queued)
    assert stopped.state is S.FAILED and stopped.reason == reason_code("stopped_strikes")
    assert (await state(harness, bobs)).state is S.SUBMITTED  # bob is not alice
    assert set(await harness.store.strike_pause(10, ALICE) or ()) == {job.id for job in refused}
    ((guild, line),) = harness.listener.told_moderators
    assert guild == 10 and "<@1> is paused from making videos" in line and "within 24 h" in line
    assert all(f"`{job.id}`" in line for job in refused)
    assert await charged(harness.store, ALICE) == 0  # three refusals and a stopped job: all refunded
    assert len(harness.fake.requests_to("submit")) == 4  # the calm lake never went

    await harness.store.set_blocked(10, ALICE, False, actor_id=99)  # /mod unblock lifts the pause
    again = await add_job(harness.store, ["a calm lake"], [blobs(40)])
    await harness.worker.tick()
    assert (await state(harness, again)).state is S.SUBMITTED


async def test_a_refusal_that_is_not_for_content_stays_an_ordinary_one_and_flags_nothing(harness: Harness) -> None:
    harness.fake.inject("submit", Fault.status(400, "INVALID_IMAGE_SIZE", message="images[0]: too narrow"))
    refused = await add_job(harness.store, ["a cat yawns"], [blobs(50)])
    await harness.worker.tick()
    ended = await state(harness, refused)
    assert ended.state is S.REJECTED and ended.reason == reason_code("rejected_image_size", "images[0]: too narrow")
    assert not await harness.store.has_picture_flags()
    assert await harness.store.flags_for_prompts(["a cat yawns"]) == []
    again = await add_job(harness.store, ["a cat yawns"], [blobs(50)])
    await harness.worker.tick()
    assert (await state(harness, again)).state is S.SUBMITTED
