"""Generated videos screened before they are posted (issue 25 item 3), through the real bot process, the fake
Discord and the strict fake provider, on the store TEST_E2E_DATABASE names.

The provider's videos carry the test marker in every frame when a test says so (FakeProvider.mark_videos), which
the bot's SAFETY_SCREENS=marker screen flags as a real screen would an explicit video; the others are benign.
By default a flagged video is held: the mod-log gets it behind a spoiler with Approve / Remove, the member is
told it waits for review, and only an approval posts it (once)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from tests.e2e.test_animate import _is_video, private_answer
from tests.e2e.test_branding import started_with_a_mod_log
from tests.e2e.test_moderators import animate, run
from tests.fakes.discord import FakeChannel, FakeDiscord, SentMessage
from tests.fakes.discord import permissions as perms
from tests.fakes.provider import FakeProvider

HELD_EN = "Waiting for a moderator's review"
HELD_ZH = "等待管理员审核"
NOT_APPROVED_EN = "Not approved by the moderators"
NOT_APPROVED_ZH = "未通过管理员审核"
SPOILER_NOTE = "Behind a spoiler: a content check flagged this video"
MODS_ONLY = "This is for moderators (Manage Server)."


def is_review(message: SentMessage) -> bool:
    return message.text().startswith("⏸️ Held for review: job")


def videos_in(fake: FakeDiscord, thread: FakeChannel) -> list[SentMessage]:
    return [m for m in fake.messages(thread) if _is_video(m)]


async def held(fake: FakeDiscord, modlog: FakeChannel, who: Any,
               prompt: str = "a cat") -> tuple[FakeChannel, SentMessage]:
    """`who` asks for a video the screen flags; its thread and the held video's mod-log message, once the member
    has been told (in the thread) that it waits for review."""
    await animate(fake, who, prompt)
    thread = await fake.wait_for_thread(fake.world.general, timeout=15)
    review = await fake.wait_for_message(modlog, is_review, timeout=45)
    told = HELD_ZH if who.locale == "zh-CN" else HELD_EN
    await fake.wait_for_message(thread, lambda m: told in m.text() and f"<@{who.id}>" in m.text(), timeout=15)
    return thread, review


def button(message: SentMessage, decision: str) -> str:
    (custom_id,) = [c for c in message.custom_ids() if c.startswith(f"vidu:review:{decision}:")]
    return custom_id


async def test_a_flagged_video_is_held_and_only_a_moderators_approve_posts_it_once(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = await started_with_a_mod_log(fake_discord, start_bot)
    provider.mark_videos = True
    thread, review = await held(fake_discord, modlog, world.alice)

    # The mod-log has the video behind a spoiler, the job and its requester; the thread has no video.
    job_id = review.text().split("`")[1]
    assert f"<@{world.alice.id}>" in review.text() and f"<#{thread.id}>" in review.text()
    assert [a.filename for a in review.attachments] == [f"SPOILER_{job_id}.mp4"]
    assert videos_in(fake_discord, thread) == []
    card = await fake_discord.wait_for_message(  # the status card follows the job: held
        thread, lambda m: bool(m.edits) and f"job `{job_id}`" in m.text() and HELD_EN in m.text(), timeout=15)
    assert "not counted" not in card.text().lower()  # the provider billed it: nothing says otherwise

    # A member who is not a moderator cannot decide.
    ix = await fake_discord.press_button(world.alice, review, button(review, "approve"))
    assert MODS_ONLY in (await private_answer(fake_discord, ix)).text()
    assert videos_in(fake_discord, thread) == []

    # Two moderators press Approve at once: one decides, the other is told who did.
    carol = world.guild.add_member("carol", permissions=perms.MANAGE_GUILD, locale="en-US")
    first, second = await asyncio.gather(
        fake_discord.press_button(world.mod, review, button(review, "approve")),
        fake_discord.press_button(carol, review, button(review, "approve")))
    await fake_discord.wait_for_response(first, timeout=15)
    await fake_discord.wait_for_response(second, timeout=15)
    answers = [m.text() for ix in (first, second) for m in [fake_discord.message(i) for i in
                                                             [ix.original_message_id] if i]]
    decided = fake_discord.message(review.id)
    assert "Approved by" in decided.text() and decided.custom_ids() == []
    assert len([a for a in answers if "This video was already approved by <@" in a]) == 1, answers

    video = await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    assert f"<@{world.alice.id}> your video is ready" in video.text()
    assert not video.attachments[0].filename.startswith("SPOILER_")  # a normal delivery
    await fake_discord.wait_for(lambda: any("Done" in m.text() for m in fake_discord.messages(thread)) or None,
                                timeout=15, what="Done", seen=lambda: fake_discord.describe_messages(
                                    fake_discord.messages(thread)))
    assert len(videos_in(fake_discord, thread)) == 1
    audit = await run(fake_discord, world.mod, "mod audit")
    assert audit.count("video.approve") == 1 and job_id in audit


async def test_remove_posts_nothing_and_tells_the_member_in_their_language(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = await started_with_a_mod_log(fake_discord, start_bot)
    provider.mark_videos = True
    thread, review = await held(fake_discord, modlog, world.bob)  # bob reads Chinese
    job_id = review.text().split("`")[1]
    ix = await fake_discord.press_button(world.mod, review, button(review, "remove"))
    await fake_discord.wait_for_response(ix, timeout=15)
    told = await fake_discord.wait_for_message(
        thread, lambda m: NOT_APPROVED_ZH in m.text() and f"<@{world.bob.id}>" in m.text(), timeout=15)
    assert "内容检查标记了该视频，管理员决定不发布它" in told.text()
    assert "http" not in told.text()  # never the provider's link to the flagged video
    decided = fake_discord.message(review.id)
    assert "Removed by" in decided.text() and decided.attachments == [] and decided.custom_ids() == []
    assert videos_in(fake_discord, thread) == []
    audit = await run(fake_discord, world.mod, "mod audit")
    assert "video.remove" in audit and job_id in audit
    assert NOT_APPROVED_EN not in told.text()


async def test_spoiler_mode_posts_the_flagged_video_behind_a_spoiler_with_a_note(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = await started_with_a_mod_log(fake_discord, start_bot)
    said = await run(fake_discord, world.mod, "config safety", flagged_videos="spoiler")
    assert "a flagged video is posted behind a spoiler with a content note" in said
    provider.mark_videos = True
    await animate(fake_discord, world.alice)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    video = await fake_discord.wait_for_message(thread, _is_video, timeout=45)
    assert video.attachments[0].filename.startswith("SPOILER_")
    galleries = [c for c in _walk(video.components) if c.get("type") == 12]
    assert galleries and all(item.get("spoiler") is True for g in galleries for item in g["items"])
    assert SPOILER_NOTE in video.text()
    assert not [m for m in fake_discord.messages(modlog) if is_review(m)]


async def test_an_age_restricted_channel_gets_its_video_plainly_and_benign_videos_pass(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    after_dark: FakeChannel = world.guild.add_text_channel("after-dark", nsfw=True)
    modlog = await started_with_a_mod_log(fake_discord, start_bot)
    shown = await run(fake_discord, world.mod, "config show")
    assert "Video screening before posting: in every channel that is not age-restricted" in shown
    assert "a flagged video is held for a moderator" in shown
    provider.mark_videos = True
    await animate(fake_discord, world.alice, "night")  # in #general: not age-restricted
    ix = await fake_discord.slash(world.alice, "animate", channel=after_dark,
                                  options={"image": _png_upload(), "prompt": "waves"})
    await fake_discord.wait_for_response(ix, timeout=15)
    restricted_thread = await fake_discord.wait_for_thread(after_dark, timeout=15)
    video = await fake_discord.wait_for_message(restricted_thread, _is_video, timeout=45)
    assert not video.attachments[0].filename.startswith("SPOILER_") and SPOILER_NOTE not in video.text()
    # The one asked in #general (not age-restricted) was held instead.
    await fake_discord.wait_for_message(modlog, is_review, timeout=45)
    assert len([m for m in fake_discord.messages(modlog) if is_review(m)]) == 1

    provider.mark_videos = False  # a benign video passes the screen and is posted plainly
    ix = await fake_discord.slash(world.bob, "animate", channel=world.general,
                                  options={"image": _png_upload(), "prompt": "benign"})
    await fake_discord.wait_for(lambda: len(fake_discord.threads(world.general)) == 2 or None, timeout=15,
                                what="bob's thread", seen=lambda: "")
    bobs = next(t for t in fake_discord.threads(world.general) if t.id != _held_thread(fake_discord, modlog))
    benign = await fake_discord.wait_for_message(bobs, _is_video, timeout=45)
    assert not benign.attachments[0].filename.startswith("SPOILER_")


async def test_approve_after_a_crash_mid_hold_and_a_restart_posts_it_once(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = world.guild.add_text_channel("mod-log")
    bot = await start_bot()
    await run(fake_discord, world.mod, "config modlog", channel=modlog)
    provider.mark_videos = True
    await animate(fake_discord, world.alice)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    # Killed the moment the mod-log has the video: before or after the job recorded it held.
    await fake_discord.wait_for_message(modlog, is_review, timeout=45)
    assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL
    await start_bot()
    await fake_discord.wait_for_message(thread, lambda m: HELD_EN in m.text() and f"<@{world.alice.id}>" in m.text(),
                                        timeout=30)
    (review,) = [m for m in fake_discord.messages(modlog) if is_review(m)]  # held once, not twice
    ix = await fake_discord.press_button(world.mod, review, button(review, "approve"))
    await fake_discord.wait_for_response(ix, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    await fake_discord.wait_for(lambda: any("Done" in m.text() for m in fake_discord.messages(thread)) or None,
                                timeout=15, what="Done", seen=lambda: "")
    assert len(videos_in(fake_discord, thread)) == 1
    assert len([m for m in fake_discord.messages(modlog) if is_review(m)]) == 1
    told = [m for m in fake_discord.messages(thread) if HELD_EN in m.text() and f"<@{world.alice.id}>" in m.text()]
    assert len(told) == 1, fake_discord.describe_messages(told)  # the member was told once


def _walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for c in components:
        found.append(c)
        found += _walk(c.get("components", []) or [])
    return found


def _png_upload() -> Any:
    from tests.e2e.conftest import png
    from tests.fakes.discord import Upload

    return Upload("a.png", png())


def _held_thread(fake: FakeDiscord, modlog: FakeChannel) -> int:
    (review,) = [m for m in fake.messages(modlog) if is_review(m)]
    return int(review.text().split("<#")[1].split(">")[0])
