"""Issue 25 item 7 through the fake Discord and the strict fake provider, with the real bot process: a posted
video taken down by its requester (after a restart) or a moderator (Apps menu, Manage Server or Manage Messages),
never by anyone else; members' reports reaching the mod-log once however often they are sent; a request posted
behind a spoiler. Run on PostgreSQL too with TEST_E2E_DATABASE=postgresql."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import eventually, png
from tests.e2e.test_animate import _is_video, private_answer
from tests.e2e.test_moderators import run
from tests.fakes.discord import FakeDiscord, FakeUsageError, InteractionRecord, SentMessage, Upload
from tests.fakes.discord import permissions as perms
from tests.fakes.provider import FakeProvider


async def _video(fake: FakeDiscord, who: Any = None, prompt: str = "a kite rises", **options: object) -> SentMessage:
    """`who` (alice) asks for a video in #general; the posted video, once its status card says Done."""
    world = fake.world
    before = {t.id for t in fake.threads(world.general)}
    await fake.slash(who or world.alice, "animate", channel=world.general,
                     options={"image": Upload("a.png", png(160, 90)), "prompt": prompt, **options})
    thread = await fake.wait_for_thread(world.general, lambda t: t.id not in before, timeout=15)
    video = await fake.wait_for_message(thread, _is_video, timeout=30)
    await fake.wait_for(lambda: any("Done" in m.text() for m in fake.messages(thread)) or None, timeout=15,
                        what="Done", seen=lambda: fake.describe_messages(fake.messages(thread)))
    return video


def _card(fake: FakeDiscord, thread_id: int) -> SentMessage:
    """The request card: the bot's first message in the thread (who asked, the pictures, the prompt)."""
    return next(m for m in fake.messages(thread_id) if "**Request by" in m.text() or "的请求**" in m.text())


def _status(fake: FakeDiscord, thread_id: int) -> SentMessage:
    return next(m for m in fake.messages(thread_id) if "· job `" in m.text() and not _is_video(m))


def _custom_id(message: SentMessage, prefix: str) -> str:
    (found,) = [c for c in message.custom_ids() if c.startswith(prefix)]
    return found


async def _form(fake: FakeDiscord, ix: InteractionRecord) -> InteractionRecord:
    await fake.wait_for(lambda: ix.modal or ix.responses or None, timeout=10, what="a form", seen=lambda: "")
    assert ix.modal is not None, ix.responses
    return ix


async def _refusal(fake: FakeDiscord, ix: InteractionRecord) -> str:
    """A private refusal given as the first answer (no form opened)."""
    await fake.wait_for(lambda: ix.responses or None, timeout=10, what="an answer", seen=lambda: "")
    assert ix.modal is None and ix.responses[0].type == 4, ix.responses
    assert (ix.responses[0].data or {}).get("flags", 0) & 64  # ephemeral: only the member sees it
    return str((ix.responses[0].data or {})["content"])


async def _modlog(fake: FakeDiscord, start_bot: Any) -> tuple[Any, Any]:
    """The bot started (returned) with a mod-log channel set (made before the start: in its GUILD_CREATE)."""
    world = fake.world
    channel = world.guild.add_text_channel("mod-log")
    bot = await start_bot()
    assert "Mod-log: <#" in await run(fake, world.mod, "config modlog", channel=channel)
    return bot, channel


async def _remove(fake: FakeDiscord, who: Any, opened: InteractionRecord, reason: str = "") -> str:
    sent = await fake.submit_modal(who, await _form(fake, opened), {"reason": reason} if reason else {})
    return (await private_answer(fake, sent)).text()


async def test_the_requester_removes_her_video_after_a_restart_and_nobody_else_can(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    first, modlog = await _modlog(fake_discord, start_bot)
    video = await _video(fake_discord)
    thread = video.channel_id
    card, status = _card(fake_discord, thread), _status(fake_discord, thread)
    assert card.attachments and video.attachments
    files = [a.id for a in card.attachments + video.attachments]
    assert await first.stop() == 0, first.output[-3000:]
    await start_bot()  # the button is persistent: the job id is in its custom_id
    remove = _custom_id(video, "vidu:takedown:")
    job_id = remove.rsplit(":", 1)[1]
    # bob (zh-CN) is neither the requester nor a moderator: refused privately in his language, no form.
    refused = await _refusal(fake_discord, await fake_discord.press_button(world.bob, video, remove))
    assert "只有发起这个视频的成员或管理员" in refused
    assert not video.deleted and not card.deleted
    said = await _remove(fake_discord, world.alice, await fake_discord.press_button(world.alice, video, remove),
                         "wrong picture")
    assert f"the video and the request card of job `{job_id}` are deleted" in said
    assert video.deleted and card.deleted
    for attachment in files:  # their pictures are gone from Discord's CDN with them
        assert fake_discord.cdn.get(attachment) is None
    status = fake_discord.message(status.id)
    assert "Removed" in status.text() and "The member who asked for it removed this video" in status.text()
    assert status.custom_ids() == []
    logged = await fake_discord.wait_for_message(modlog, lambda m: "removed job" in m.text(), timeout=10)
    assert f"(its requester) removed job `{job_id}` of <@{world.alice.id}>" in logged.text()
    assert "wrong picture" in logged.text()
    audit = await run(fake_discord, world.mod, "mod audit")
    assert "post.takedown" in audit and job_id in audit and '"as": "requester"' in audit
    # A second removal (an old Apps-menu entry on the status card) finds it removed.
    again = await fake_discord.message_command(world.mod, "Remove post", message=status)
    assert f"Job `{job_id}` has already been removed" in await _refusal(fake_discord, again)


async def test_moderators_remove_through_the_apps_menu_and_a_removed_job_cannot_be_tried_again(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    _, modlog = await _modlog(fake_discord, start_bot)
    # A moderator with Manage Server removes a delivered video from its request card.
    video = await _video(fake_discord)
    card = _card(fake_discord, video.channel_id)
    # Its requester had the Remix form open meanwhile: sending it after the removal posts nothing again.
    remix = await _form(fake_discord, await fake_discord.press_button(world.alice, video,
                                                                      _custom_id(video, "vidu:remix:")))
    said = await _remove(fake_discord, world.mod,
                         await fake_discord.message_command(world.mod, "Remove post", message=card), "rule 3")
    assert "are deleted" in said and video.deleted and card.deleted
    submits = len(provider.requests_to("submit"))
    sent = await fake_discord.submit_modal(world.alice, remix, {"prompts": "a kite falls"})
    assert "can no longer be re-rolled, extended or remixed" in (await private_answer(fake_discord, sent)).text()
    assert len(provider.requests_to("submit")) == submits
    logged = await fake_discord.wait_for_message(modlog, lambda m: "(a moderator) removed" in m.text(), timeout=10)
    assert "rule 3" in logged.text() and f"<@{world.mod.id}>" in logged.text()
    # A member whose role may only Manage Messages removes a failed job's card; its Try again then refuses.
    carol = world.guild.add_member("carol", permissions=perms.MANAGE_MESSAGES, locale="en-US")
    provider.plan_next_task(fail_reason="internal error")
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("b.png", png(160, 90)), "prompt": "a boat"})
    thread = await fake_discord.wait_for_thread(world.general, lambda t: t.id != video.channel_id, timeout=15)
    ended = await fake_discord.wait_for_message(
        thread, lambda m: "vidu:reroll:" in " ".join(m.custom_ids()) and f"<@{world.alice.id}>" in m.text(), timeout=30)
    card = _card(fake_discord, thread.id)
    said = await _remove(fake_discord, carol, await fake_discord.message_command(carol, "Remove post", message=card))
    assert "are deleted" in said and card.deleted
    submits = len(provider.requests_to("submit"))
    again = await fake_discord.press_button(world.alice, ended, _custom_id(ended, "vidu:reroll:"))
    assert "can no longer be re-rolled, extended or remixed" in (await private_answer(fake_discord, again)).text()
    assert len(provider.requests_to("submit")) == submits  # nothing sent, nothing posted again
    assert not [m for m in fake_discord.messages(thread) if m.attachments and not m.deleted]
    # The Apps-menu entry on a member's own message: not a post of the bot's.
    said_by_alice = await fake_discord.member_says(world.alice, world.general, "look")
    refused = await _refusal(fake_discord, await fake_discord.message_command(world.mod, "Remove post",
                                                                              message=said_by_alice))
    assert "not one of the bot's video posts" in refused


async def test_reports_reach_the_mod_log_once_however_often_they_are_sent(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    _, modlog = await _modlog(fake_discord, start_bot)
    video = await _video(fake_discord)
    report = _custom_id(video, "vidu:report:")
    job_id = report.rsplit(":", 1)[1]
    opened = await _form(fake_discord, await fake_discord.press_button(world.bob, video, report))
    with pytest.raises(FakeUsageError):  # the form's own limit (400 characters), as Discord enforces it
        await fake_discord.submit_modal(world.bob, opened, {"reason": "x" * 401})
    sent = await fake_discord.submit_modal(world.bob, opened, {"reason": "**血腥** @everyone"})
    assert f"管理员已收到你对任务 `{job_id}` 的举报" in (await private_answer(fake_discord, sent)).text()
    logged = await fake_discord.wait_for_message(modlog, lambda m: "🚩" in m.text(), timeout=10)
    text = logged.text()
    assert f"Job `{job_id}` of <@{world.alice.id}> reported by 1 member" in text
    assert f"https://discord.com/channels/{world.guild.id}/{video.channel_id}/{video.id}" in text
    assert f"<@{world.bob.id}>" in text and "\\*\\*血腥\\*\\*" in text  # the reason escaped (bot/ui/fit.py)
    assert logged.allowed_mentions == {"parse": []}  # @everyone in a reason pings nobody
    # bob again, twice: told he already reported it; the mod-log neither grows nor changes.
    for _ in range(2):
        again = await fake_discord.submit_modal(
            world.bob, await _form(fake_discord, await fake_discord.press_button(world.bob, video, report)),
            {"reason": "still bad"})
        assert "你已经举报过" in (await private_answer(fake_discord, again)).text()
    assert logged.edits == [] and len([m for m in fake_discord.messages(modlog) if "🚩" in m.text()]) == 1
    # Another member reports it from the Apps menu: the same mod-log message counts two.
    carol = world.guild.add_member("carol", locale="en-US")
    sent = await fake_discord.submit_modal(
        carol, await _form(fake_discord, await fake_discord.message_command(carol, "Report video", message=video)),
        {"reason": "not for this channel"})
    assert "the moderators have your report" in (await private_answer(fake_discord, sent)).text()
    await fake_discord.wait_for(lambda: "reported by 2 members" in fake_discord.message(logged.id).text() or None,
                                timeout=10, what="the edited report", seen=lambda: logged.text())
    assert len([m for m in fake_discord.messages(modlog) if "🚩" in m.text()]) == 1
    assert "not for this channel" in fake_discord.message(logged.id).text()
    # Manage Messages counts where the video is, not in the mod-log: there only a moderator removes it.
    dave = world.guild.add_member("dave", permissions=perms.MANAGE_MESSAGES, locale="en-US")
    refused = await _refusal(fake_discord, await fake_discord.press_button(
        dave, fake_discord.message(logged.id), f"vidu:takedown:{job_id}"))
    assert "Only the member who asked for this video, or a moderator" in refused and not video.deleted
    # The moderator removes it from the report itself.
    said = await _remove(fake_discord, world.mod, await fake_discord.press_button(
        world.mod, fake_discord.message(logged.id), f"vidu:takedown:{job_id}"))
    assert "are deleted" in said and video.deleted
    # A removed video can no longer be reported.
    late = await fake_discord.message_command(carol, "Report video", message=_status(fake_discord, video.channel_id))
    assert "has already been removed" in await _refusal(fake_discord, late)


async def test_a_spoiler_request_posts_its_card_and_video_behind_spoilers_after_a_restart_and_a_reroll(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    provider.processing_seconds = 6.0  # long enough to restart the bot while the provider makes it
    first = await start_bot()
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("a.png", png(160, 90)), "prompt": "a kite", "spoiler": True})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    card = await fake_discord.wait_for_message(thread, lambda m: bool(m.attachments), timeout=15)
    assert [a.spoiler for a in card.attachments] == [True] and card.gallery_spoilers() == [True]
    assert await first.stop() == 0, first.output[-3000:]
    await start_bot()
    provider.processing_seconds = 1.0
    video = await fake_discord.wait_for_message(thread, _is_video, timeout=40)
    assert [a.spoiler for a in video.attachments] == [True] and video.gallery_spoilers() == [True]
    assert video.hidden_attachments() == []  # the gallery shows the spoilered file (attachment://SPOILER_…)
    reroll = await fake_discord.press_button(world.alice, video, _custom_id(video, "vidu:reroll:"))
    assert "Re-rolling" in (await private_answer(fake_discord, reroll)).text()
    second = await fake_discord.wait_for_message(thread, lambda m: _is_video(m) and m.id != video.id, timeout=40)
    assert second.gallery_spoilers() == [True] and second.attachments[0].spoiler
    # A Remix keeps it too.
    opened = await _form(fake_discord, await fake_discord.press_button(world.alice, video,
                                                                       _custom_id(video, "vidu:remix:")))
    remixing = await fake_discord.submit_modal(world.alice, opened, {"prompts": "a kite falls"})
    assert "Remixing" in (await private_answer(fake_discord, remixing)).text()
    third = await fake_discord.wait_for_message(
        thread, lambda m: _is_video(m) and m.id not in (video.id, second.id), timeout=40)
    assert third.gallery_spoilers() == [True] and third.attachments[0].spoiler
    # Without the option nothing is hidden.
    plain = await _video(fake_discord, prompt="plain")
    assert plain.gallery_spoilers() == [False] and not plain.attachments[0].spoiler
    assert _card(fake_discord, plain.channel_id).gallery_spoilers() == [False]


async def test_the_apps_menu_form_keyframes_and_storyboard_take_the_spoiler_option(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot()
    said = await fake_discord.member_says(world.bob, world.general, "看", files=[Upload("p.png", png(160, 90))])
    opened = await _form(fake_discord, await fake_discord.message_command(world.bob, "Animate", message=said))
    assert any(c.get("component", {}).get("type") == 23 for c in opened.modal["components"])  # a checkbox
    sent = await fake_discord.submit_modal(world.bob, opened, {"prompt": "飞起来", "spoiler": True})
    assert "你的视频正在制作中" in (await private_answer(fake_discord, sent)).text()
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    card = await fake_discord.wait_for_message(thread, lambda m: bool(m.attachments), timeout=15)
    assert card.gallery_spoilers() == [True] and all(a.spoiler for a in card.attachments)
    video = await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    assert video.gallery_spoilers() == [True]
    await eventually(lambda: len(provider.tasks) == 1, timeout=5, what="one task")
    body = next(iter(provider.tasks.values())).body
    assert "spoiler" not in json.dumps(body)  # a display choice of ours: never sent to the provider
    # /keyframes: every picture of the card.
    seen = {thread.id}
    await fake_discord.slash(world.alice, "keyframes", channel=world.general, options={
        "start": Upload("s.png", png()), "frame1": Upload("a.png", png()), "frame2": Upload("b.png", png()),
        "spoiler": True})
    keyframes = await fake_discord.wait_for_thread(world.general, lambda t: t.id not in seen, timeout=15)
    card = await fake_discord.wait_for_message(keyframes, lambda m: bool(m.attachments), timeout=15)
    assert card.gallery_spoilers() == [True] * 3 and all(a.spoiler for a in card.attachments)
    seen.add(keyframes.id)
    # Two pictures through the Apps menu: the start-end form (with its movement, five fields) has the box too.
    pair = await fake_discord.member_says(world.alice, world.general, "pair",
                                          files=[Upload("s.png", png()), Upload("e.png", png())])
    opened = await _form(fake_discord, await fake_discord.message_command(world.alice, "Animate", message=pair))
    assert len(opened.modal["components"]) == 5
    await private_answer(fake_discord, await fake_discord.submit_modal(world.alice, opened, {
        "prompts": "sunrise to sunset", "spoiler": True}))
    startend = await fake_discord.wait_for_thread(world.general, lambda t: t.id not in seen, timeout=15)
    card = await fake_discord.wait_for_message(startend, lambda m: bool(m.attachments), timeout=15)
    assert card.gallery_spoilers() == [True] * 2 and all(a.spoiler for a in card.attachments)
    # /storyboard: the option on the command, carried through the form and the preview's Start.
    seen.add(startend.id)
    opened = await _form(fake_discord, await fake_discord.slash(world.alice, "storyboard", channel=world.general,
                                                                options={"spoiler": True}))
    preview = await private_answer(fake_discord, await fake_discord.submit_modal(world.alice, opened, {
        "frames": [Upload(f"{n}.png", png()) for n in range(3)], "prompts": "in\nout"}))
    await fake_discord.press_button(world.alice, preview, "vidu:preview:start")
    storyboard = await fake_discord.wait_for_thread(world.general, lambda t: t.id not in seen, timeout=15)
    card = await fake_discord.wait_for_message(storyboard, lambda m: bool(m.attachments), timeout=15)
    assert card.gallery_spoilers() == [True] * 3 and all(a.spoiler for a in card.attachments)
