"""Refusals are answered in one place (bot/ui/replies.py answer_error), whichever way a request came in: a
slash command, a form, a persistent button. The member reads one private answer, in their language: never
Discord's "This interaction failed" (no answer in time), never an error id, never a second answer."""

from __future__ import annotations

import asyncio

from bot.ui.stale import UNANSWERED_AFTER_SECONDS
from tests.e2e.conftest import png
from tests.e2e.test_moderators import run
from tests.e2e.test_storyboard import GREEN, RED, close_to, color_of
from tests.e2e.test_video_buttons import _button, _first_video
from tests.fakes.discord import FakeDiscord, InteractionRecord, SentMessage, Upload
from tests.fakes.discord.models import FakeMember
from tests.fakes.provider import FakeProvider


async def only_answer(fake: FakeDiscord, ix: InteractionRecord, member: FakeMember) -> SentMessage:
    """The one private message `member` was given for `ix`, once the moment the stale-interaction safety net
    would speak has passed: exactly one acknowledgement, one message with text, none refused by Discord."""
    await fake.wait_for_response(ix, timeout=15)

    def told() -> list[SentMessage]:
        ids = [i for i in [ix.original_message_id, *ix.followup_ids] if i]
        return [fake.message(i) for i in ids if fake.message(i).text() and not fake.message(i).loading]

    await fake.wait_for(lambda: told() or None, timeout=15, what="an answer", seen=lambda: str(ix.responses))
    await asyncio.sleep(UNANSWERED_AFTER_SECONDS + 0.5)
    assert len(ix.responses) == 1, ix.responses
    (answer,) = told()
    assert answer.ephemeral and answer.visible_to == member.id
    assert not any(word in answer.text() for word in ("error id", "错误编号", "no longer active", "已失效"))
    assert [r for r in fake.requests if r[1].endswith("/callback") and r[2] >= 400] == []
    return answer


async def test_a_refused_re_roll_is_answered_privately_once(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """A persistent button (DynamicItem): discord.py itself would only log what it raises."""
    await start_bot()
    world = fake_discord.world
    video = await _first_video(fake_discord, provider)
    assert "blocked → " not in await run(fake_discord, world.mod, "mod block", member=world.alice)
    pressed = await fake_discord.press_button(world.alice, video, _button(video, "vidu:reroll:"))
    answer = await only_answer(fake_discord, pressed, world.alice)
    assert "paused your video requests" in answer.text(), answer.text()
    assert pressed.responses[0].type == 5  # acknowledged first, then refused: the followup fills it in
    assert len(provider.tasks) == 1


async def test_a_refused_form_is_answered_privately_once_in_the_members_language(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    assert "blocked → " not in await run(fake_discord, world.mod, "mod block", member=world.bob)
    message = await fake_discord.member_says(world.alice, world.general, "my cat", files=[Upload("cat.png", png())])
    opened = await fake_discord.message_command(world.bob, "Animate", message=message)
    await fake_discord.wait_for(lambda: opened.modal, timeout=10, what="the Animate form", seen=lambda: "")
    submit = await fake_discord.submit_modal(world.bob, opened_by=opened, values={"prompt": "the cat jumps"})
    answer = await only_answer(fake_discord, submit, world.bob)
    assert "管理员已禁止你在此服务器中发起视频请求" in answer.text()  # bob reads zh-CN
    assert fake_discord.cdn.downloads == [] and provider.requests_to("submit") == []


async def test_slash_command_refusals_before_and_after_the_command_is_acknowledged(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """Refused before the deferral is the first answer itself; after it, the followup that fills it in."""
    await start_bot()
    world = fake_discord.world
    frames = {"start": Upload("s.png", png()), "frame1": Upload("1.png", png()), "frame2": Upload("2.png", png())}
    early = await fake_discord.slash(world.alice, "keyframes", channel=world.general,
                                     options={**frames, "durations": "4,5,6"})
    answer = await only_answer(fake_discord, early, world.alice)
    assert early.responses[0].type == 4 and "3 durations given for 2 segments" in answer.text(), answer.text()
    await run(fake_discord, world.mod, "quota set", scope="default", period="day", videos=0)
    late = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                    options={"image": Upload("a.png", png()), "prompt": "a cat"})
    answer = await only_answer(fake_discord, late, world.alice)
    assert late.responses[0].type == 5 and "your daily limit" in answer.text(), answer.text()
    assert provider.requests_to("submit") == [] and fake_discord.threads(world.general) == []


async def test_forms_open_at_once_each_keep_their_own_member_and_pictures(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """discord.py keeps open forms by custom_id alone: with one fixed id per kind of form, Alice's submission
    went to the form Bob opened last, and her video was made from his picture."""
    await start_bot()
    world = fake_discord.world
    red = await fake_discord.member_says(world.alice, world.general, "red", files=[Upload("red.png", png(color=RED))])
    green = await fake_discord.member_says(world.bob, world.general, "green",
                                           files=[Upload("green.png", png(color=GREEN))])
    hers = await fake_discord.message_command(world.alice, "Animate", message=red)
    await fake_discord.wait_for(lambda: hers.modal, timeout=10, what="Alice's form", seen=lambda: "")
    his = await fake_discord.message_command(world.bob, "Animate", message=green)
    await fake_discord.wait_for(lambda: his.modal, timeout=10, what="Bob's form", seen=lambda: "")
    for member, opened, prompt in ((world.alice, hers, "red rises"), (world.bob, his, "green falls")):
        submit = await fake_discord.submit_modal(member, opened_by=opened, values={"prompt": prompt})
        await fake_discord.wait_for(lambda s=submit: s.original_message_id and not fake_discord.message(
            s.original_message_id).loading, timeout=15, what="the answer", seen=lambda s=submit: str(s.responses))
    await fake_discord.wait_for(lambda: len(provider.tasks) == 2 or None, timeout=20, what="two tasks",
                                seen=lambda: str(len(provider.tasks)))
    made = {task.body["prompt"]: color_of(task.body["images"][0]) for task in provider.tasks.values()}
    assert close_to(made["red rises"], RED) and close_to(made["green falls"], GREEN), made
