"""Where the bot may not answer: a channel closed to it, a thread deleted or locked while a video is being
made. The fake Discord computes the bot's permissions from roles and channel overwrites and refuses what
Discord would refuse."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e.conftest import eventually, png
from tests.e2e.test_animate import _is_video
from tests.e2e.test_moderators import animate, answer_of, run
from tests.fakes.discord import FakeDiscord, Upload, permissions
from tests.fakes.discord.models import PRIVATE_THREAD
from tests.fakes.provider import FakeProvider


async def until_answer(fake: FakeDiscord, who: Any, command: str, wanted: str, *, timeout: float = 30,
                       **options: Any) -> str:
    """Ask again every half second until the answer says `wanted` (a job moving on in the background)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while wanted not in (answer := await run(fake, who, command, **options)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"/{command} never said {wanted!r}; it said: {answer}")
        await asyncio.sleep(0.5)
    return answer


async def test_a_channel_closed_to_the_bot_is_refused_at_once_naming_the_missing_permissions(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot()
    bot = fake_discord.bot_member(world.guild)
    await fake_discord.set_overwrite(world.general, bot,
                                     deny=permissions.CREATE_PUBLIC_THREADS | permissions.ATTACH_FILES)
    refused = await animate(fake_discord, world.alice, "a calm lake")
    assert "I'm missing Attach Files and Create Public Threads here" in refused
    assert "nothing was used" in refused
    assert "缺少“附加文件”和“创建公开子区”权限" in await animate(fake_discord, world.bob, "湖面")  # bob reads zh-CN
    assert fake_discord.threads(world.general) == [] and provider.requests_to("submit") == []

    # A private thread needs its own permission; the public one is not asked for.
    await fake_discord.set_overwrite(world.general, bot, deny=permissions.CREATE_PRIVATE_THREADS)
    refused = await animate(fake_discord, world.alice, "a calm lake", private=True)
    assert "I'm missing Create Private Threads here" in refused

    await fake_discord.remove_overwrite(world.general, bot)  # a moderator fixes it: the same request works
    assert "on its way" in await animate(fake_discord, world.alice, "a calm lake")


async def test_a_thread_deleted_while_the_video_is_made_gets_it_in_the_channel_asked_in(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot()
    provider.plan_next_task(queue_seconds=3600)
    assert "on its way" in await animate(fake_discord, world.alice, "slow sunrise")
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await eventually(lambda: provider.tasks, timeout=15, what="the task")
    await fake_discord.delete_channel(thread)  # a moderator tidies up
    provider.advance(3600)

    video = await fake_discord.wait_for_message(world.general, _is_video, timeout=30)
    assert video.mentions == [world.alice.id]
    assert f"I can no longer post in its thread <#{thread.id}>" in video.text()
    assert len([m for m in fake_discord.messages(world.general) if _is_video(m)]) == 1
    listing = await until_answer(fake_discord, world.alice, "jobs", "✅ Done")
    assert f"<#{world.general.id}>" in listing  # the job's link leads to its video, not the deleted thread


async def test_a_job_failing_after_its_thread_was_deleted_is_reported_in_the_channel_asked_in(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot()
    provider.plan_next_task(queue_seconds=3600, fail_reason="GPU node crashed")
    assert "on its way" in await animate(fake_discord, world.alice, "doomed sunrise")
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await eventually(lambda: provider.tasks, timeout=15, what="the task")
    await fake_discord.delete_channel(thread)
    provider.advance(3600)

    told = await fake_discord.wait_for_message(world.general, lambda m: "GPU node crashed" in m.text(), timeout=30)
    assert told.mentions == [world.alice.id] and f"its thread <#{thread.id}>" in told.text()
    assert any(c.startswith("vidu:reroll:") for c in told.custom_ids())  # Try again works from here too


async def test_a_private_job_whose_thread_is_gone_ends_plainly_and_keeps_the_charge(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot()
    await run(fake_discord, world.mod, "quota set", scope="default", period="day", videos=1)
    provider.plan_next_task(queue_seconds=3600)
    assert "on its way" in await animate(fake_discord, world.alice, "secret sunrise", private=True)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await eventually(lambda: provider.tasks, timeout=15, what="the task")
    await fake_discord.delete_channel(thread)
    provider.advance(3600)

    listing = await until_answer(fake_discord, world.alice, "jobs", "📭 Made, but not delivered")
    (job_id,) = [j for j in listing.split("`")[1::2] if len(j) == 8]
    detail = await run(fake_discord, world.alice, "jobs", job=job_id)
    assert "its thread was deleted or closed to me" in detail
    assert not any(_is_video(m) for m in fake_discord.messages(world.general))  # never made public
    assert "counts against your quota" in detail  # the provider made and billed it: no refund
    assert "0 of 1 video left" in await run(fake_discord, world.alice, "quota me")


async def test_a_private_request_in_a_public_thread_gets_a_private_thread_beside_it(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot()
    assert "on its way" in await animate(fake_discord, world.alice, "for everyone")
    public = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(public, _is_video, timeout=30)
    def everyones(channel: Any) -> list[int]:  # the messages everyone in the channel sees (no private answer)
        return [m.id for m in fake_discord.messages(channel) if not m.ephemeral]

    seen_in_public = everyones(public)

    ix = await fake_discord.slash(world.alice, "animate", channel=public, options={
        "image": Upload("s.png", png()), "prompt": "my secret garden", "private": True})
    assert "on its way" in await answer_of(fake_discord, ix)  # (a private answer, in the public thread)
    private = await fake_discord.wait_for_thread(world.general, lambda c: c.type == PRIVATE_THREAD, timeout=15)
    await fake_discord.wait_for_message(private, _is_video, timeout=30)
    assert world.alice.id in private.thread_member_ids
    assert any("my secret garden" in m.text() for m in fake_discord.messages(private))
    assert everyones(public) == seen_in_public  # nothing of it in the thread everyone reads
    assert not any("my secret garden" in fake_discord.message(i).text() for i in everyones(world.general))
    assert answer_visible_only_to_alice(fake_discord, ix, world.alice.id)


def answer_visible_only_to_alice(fake: FakeDiscord, ix: Any, alice: int) -> bool:
    answers = [fake.message(i) for i in [ix.original_message_id, *ix.followup_ids] if i]
    return bool(answers) and all(m.ephemeral and m.visible_to == alice for m in answers)


async def test_try_again_on_a_private_job_pressed_in_a_public_thread_stays_private(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """/jobs shows Try again under a failed private job wherever it is run; pressed in a public thread, the new
    job still gets a private thread of its own, and nothing of it reaches the thread everyone reads."""
    world = fake_discord.world
    await start_bot()
    provider.plan_next_task(fail_reason="GPU node crashed")
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general, options={
        "image": Upload("s.png", png()), "prompt": "my secret garden", "private": True})
    assert "on its way" in await answer_of(fake_discord, ix)
    secret = await fake_discord.wait_for_thread(world.general, lambda c: c.type == PRIVATE_THREAD, timeout=15)
    failed = await fake_discord.wait_for_message(secret, lambda m: "Failed" in m.text(), timeout=30)
    (retry_id,) = [c for c in failed.custom_ids() if c.startswith("vidu:reroll:")]
    job_id = retry_id.removeprefix("vidu:reroll:")

    assert "on its way" in await animate(fake_discord, world.alice, "for everyone")
    public = await fake_discord.wait_for_thread(world.general, lambda c: c.type != PRIVATE_THREAD, timeout=15)
    await fake_discord.wait_for_message(public, _is_video, timeout=30)
    seen_in_public = [m.id for m in fake_discord.messages(public) if not m.ephemeral]

    jobs = await fake_discord.slash(world.alice, "jobs", channel=public, options={"job": job_id})
    await fake_discord.wait_for(lambda: jobs.original_message_id or None, timeout=10, what="the /jobs answer",
                                seen=lambda: str(jobs.responses))
    detail = fake_discord.message(jobs.original_message_id)
    assert detail.ephemeral and retry_id in detail.custom_ids()
    pressed = await fake_discord.press_button(world.alice, detail, retry_id)
    assert "Re-rolling" in await answer_of(fake_discord, pressed)
    await eventually(lambda: len(provider.tasks) == 3, timeout=30, what="the retried task")
    retried = await fake_discord.wait_for_thread(
        world.general, lambda c: c.type == PRIVATE_THREAD and c.id != secret.id, timeout=15)
    await fake_discord.wait_for_message(retried, _is_video, timeout=30)
    assert any("my secret garden" in m.text() for m in fake_discord.messages(retried))
    assert [m.id for m in fake_discord.messages(public) if not m.ephemeral] == seen_in_public
    assert not any("my secret garden" in m.text() for m in fake_discord.messages(world.general))


async def test_a_private_request_in_a_forum_post_is_refused_before_its_picture_is_read(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """A forum holds no private threads: the request is refused, saying so, and nothing is fetched or stored."""
    world = fake_discord.world
    await start_bot()
    post = await fake_discord.member_opens_forum_post(world.alice, world.forum, "my garden")
    ix = await fake_discord.slash(world.alice, "animate", channel=post, options={
        "image": Upload("s.png", png()), "prompt": "my secret garden", "private": True})
    refused = await answer_of(fake_discord, ix)
    assert "can't be answered in a forum post" in refused, refused
    assert fake_discord.cdn.downloads == [] and provider.requests_to("submit") == []
    assert [m.id for m in fake_discord.messages(post) if not m.ephemeral] == [post.id]  # only the first post
    public = await fake_discord.slash(world.alice, "animate", channel=post, options={
        "image": Upload("p.png", png()), "prompt": "for the forum"})
    assert "on its way" in await answer_of(fake_discord, public)  # the same post takes a public request
    await fake_discord.wait_for_message(post, _is_video, timeout=30)
