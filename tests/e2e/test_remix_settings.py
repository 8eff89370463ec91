"""Remix and /settings (issue 28 items 2 and 3), through the real bot process, the fake Discord and the strict
fake provider, on SQLite (and PostgreSQL with TEST_E2E_DATABASE=postgresql)."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import eventually, png
from tests.e2e.test_animate import _is_video, private_answer
from tests.e2e.test_moderators import animate, answer_of, run
from tests.e2e.test_video_buttons import _button, _first_video
from tests.fakes.discord import FakeDiscord, InteractionRecord, SentMessage, Upload
from tests.fakes.provider import FakeProvider


def _prefilled(opened: InteractionRecord) -> str:
    """The text the Remix form opened with (what the member sees before editing it)."""
    assert opened.modal is not None
    (label,) = opened.modal["components"]
    return str(label["component"].get("value", ""))


async def _open_remix(fake: FakeDiscord, who: Any, video: SentMessage) -> InteractionRecord:
    opened = await fake.press_button(who, video, _button(video, "vidu:remix:"))
    await fake.wait_for(lambda: opened.modal or opened.responses or None, timeout=10, what="the Remix form",
                        seen=lambda: "")
    return opened


async def test_remix_edits_one_word_and_the_new_job_has_the_new_prompt_and_the_same_pictures(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    video = await _first_video(fake_discord, provider, seed=7, resolution="1080p", movement="high")
    assert "Remix (new charge)" in video.button_labels()  # the charge is said on the button
    opened = await _open_remix(fake_discord, world.alice, video)
    assert _prefilled(opened) == "a kite rises"
    assert "charged again (about $0.18)" in str(opened.modal)  # and in the form
    sent = await fake_discord.submit_modal(world.alice, opened, {"prompts": "a balloon rises"})
    assert "Remixing" in (await private_answer(fake_discord, sent)).text()
    await eventually(lambda: len(provider.tasks) == 2, timeout=30, what="the remix's task")
    first, second = (t.body for t in provider.tasks.values())
    assert second["prompt"] == "a balloon rises"
    assert second["images"] == first["images"]  # the same picture, not uploaded again
    assert (second["seed"], second["resolution"], second["movement_amplitude"]) == (7, "1080p", "high")
    card = await fake_discord.wait_for_message(
        video.channel_id, lambda m: "Remix of" in m.text(), timeout=15)  # the new request's card, same thread
    assert "a balloon rises" in card.text() and "charged again" in card.text() and "about $0.18" in card.text()
    await fake_discord.wait_for(
        lambda: len([m for m in fake_discord.messages(video.channel_id) if _is_video(m)]) == 2 or None,
        timeout=30, what="the remixed video", seen=lambda: str(len(provider.tasks)))


async def test_a_keyframes_remix_has_one_line_per_segment_and_a_wrong_count_sends_nothing(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    options = {"start": Upload("s.png", png()), "frame1": Upload("a.png", png(color=(200, 30, 30))),
               "frame2": Upload("b.png", png(color=(30, 200, 30))), "frame3": Upload("c.png", png(color=(9, 9, 9))),
               "prompts": "walks in | | sits down", "durations": "2,3,4"}
    await fake_discord.slash(world.alice, "keyframes", channel=world.general, options=options)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    video = await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    opened = await _open_remix(fake_discord, world.alice, video)
    assert _prefilled(opened) == "walks in\n\nsits down"
    wrong = await fake_discord.submit_modal(world.alice, opened, {"prompts": "walks in\nlies down"})
    assert "2 lines for 3 segments" in (await private_answer(fake_discord, wrong)).text()
    assert len(provider.tasks) == 1
    again = await _open_remix(fake_discord, world.alice, video)
    sent = await fake_discord.submit_modal(world.alice, again, {"prompts": "walks in\n\nlies down"})
    assert "Remixing" in (await private_answer(fake_discord, sent)).text()
    await eventually(lambda: len(provider.tasks) == 2, timeout=30, what="the remix's task")
    first, second = (t.body for t in provider.tasks.values())
    assert [(s.get("prompt"), s["duration"]) for s in second["image_settings"]] == [
        ("walks in", 2), (None, 3), ("lies down", 4)]
    assert second["start_image"] == first["start_image"]
    assert [s["key_image"] for s in second["image_settings"]] == [s["key_image"] for s in first["image_settings"]]


async def test_only_the_requester_may_remix(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    await start_bot()
    world = fake_discord.world
    video = await _first_video(fake_discord, provider)
    for who, words in ((world.bob, "只有发起这个视频的成员可以重混它"), (world.mod, "Only the member who asked")):
        ix = await fake_discord.press_button(who, video, _button(video, "vidu:remix:"))
        said = await answer_of(fake_discord, ix)  # privately (type 4, ephemeral), in their language
        assert words in said and ix.modal is None
        assert (ix.responses[0].data or {}).get("flags", 0) & 64
    assert len(provider.tasks) == 1


async def test_remix_works_after_a_restart(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    first = await start_bot()
    video = await _first_video(fake_discord, provider)
    assert await first.stop() == 0, first.output[-3000:]
    await start_bot()
    opened = await _open_remix(fake_discord, fake_discord.world.alice, video)
    sent = await fake_discord.submit_modal(fake_discord.world.alice, opened, {"prompts": "a kite falls"})
    assert "Remixing" in (await private_answer(fake_discord, sent)).text()
    await eventually(lambda: len(provider.tasks) == 2, timeout=30, what="the remix's task")
    assert list(provider.tasks.values())[1].body["prompt"] == "a kite falls"


async def test_a_remix_over_the_quota_is_refused_and_charges_nothing(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await run(fake_discord, world.mod, "quota set", scope="default", period="day", videos=1)
    video = await _first_video(fake_discord, provider)
    opened = await _open_remix(fake_discord, world.alice, video)
    sent = await fake_discord.submit_modal(world.alice, opened, {"prompts": "a kite dives"})
    refused = (await private_answer(fake_discord, sent)).text()
    assert "your daily limit (1 video per day)" in refused
    assert len(provider.tasks) == 1
    assert "0 of 1 video left" in await run(fake_discord, world.alice, "quota me")  # only the first counted
    assert not [m for m in fake_discord.messages(video.channel_id) if "Remix of" in m.text()]


async def test_settings_1080p_is_used_when_animate_leaves_the_resolution_out_and_the_card_says_so(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    saved = await run(fake_discord, world.alice, "settings set", resolution="1080p", duration=8)
    assert "Saved" in saved and "• resolution: 1080p" in saved and "• duration: 8 s" in saved
    shown = await run(fake_discord, world.alice, "settings show")
    assert "• resolution: 1080p" in shown and "• movement: not set (the bot's default: movement auto)" in shown
    assert "on its way" in await animate(fake_discord, world.alice, "a cat yawns")
    await eventually(lambda: len(provider.tasks) == 1, timeout=15, what="the task")
    body = next(iter(provider.tasks.values())).body
    assert (body["resolution"], body["duration"]) == ("1080p", 8)
    thread = (await fake_discord.wait_for_thread(world.general, timeout=15))
    card = fake_discord.messages(thread)[0]
    assert "From your /settings: 1080p · 8 s" in card.text()
    # An option given in the request wins over the default, and the card does not claim it.
    assert "on its way" in await animate(fake_discord, world.alice, "a dog yawns", resolution="720p")
    await eventually(lambda: len(provider.tasks) == 2, timeout=15, what="the second task")
    assert list(provider.tasks.values())[1].body["resolution"] == "720p"
    cards = [m for m in fake_discord.all_messages() if "a dog yawns" in m.text() and "Request by" in m.text()]
    assert cards and "From your /settings: 8 s" in cards[0].text() and "1080p" not in cards[0].text()


async def test_a_default_a_keyframes_request_cannot_take_is_explained_on_its_card(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await run(fake_discord, world.bob, "settings set", duration=9, resolution="540p")
    shown = await run(fake_discord, world.bob, "settings show")  # bob reads zh-CN
    assert "540p （不适用于单图视频：可用 720p 或 1080p）" in shown
    options = {"start": Upload("s.png", png()), "frame1": Upload("a.png", png(color=(200, 30, 30))),
               "frame2": Upload("b.png", png(color=(30, 200, 30)))}
    await fake_discord.slash(world.bob, "keyframes", channel=world.general, options=options)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await eventually(lambda: len(provider.tasks) == 1, timeout=15, what="the task")
    body = next(iter(provider.tasks.values())).body
    assert body["resolution"] == "540p" and [s["duration"] for s in body["image_settings"]] == [5, 5]
    card = fake_discord.messages(thread)[0].text()
    assert "来自你的 /个人设置：540p" in card
    assert "你的默认时长（9 秒）未被使用：关键帧视频的每一段可用 2–7 秒。改用 5 秒。" in card


async def test_settings_reset_and_show(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    await start_bot()
    world = fake_discord.world
    assert "Nothing to change" in await run(fake_discord, world.alice, "settings set")
    await run(fake_discord, world.alice, "settings set", private=True, movement="high")
    assert "没有自己的默认值" in await run(fake_discord, world.bob, "settings reset")  # bob set none
    assert "forgotten" in await run(fake_discord, world.alice, "settings reset")
    shown = await run(fake_discord, world.alice, "settings show")
    assert "no defaults of your own" in shown and "• private: not set (the bot's default: public thread)" in shown
    assert "on its way" in await animate(fake_discord, world.alice, "a fox")
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    assert thread.type == 11  # public: the reset private default no longer applies
    assert "From your /settings" not in fake_discord.messages(thread)[0].text()
    await eventually(lambda: len(provider.tasks) == 1, timeout=15, what="the task")
    assert next(iter(provider.tasks.values())).body["movement_amplitude"] == "auto"


async def test_confirm_first_asks_with_the_cost_cancel_reserves_nothing_and_go_starts(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await run(fake_discord, world.mod, "quota set", scope="default", period="day", videos=1)
    await run(fake_discord, world.alice, "settings set", confirm=True)
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("a.png", png()), "prompt": "a cat"})
    question = await private_answer(fake_discord, ix)
    assert "This request costs about $0.09 (5 s · 720p)" in question.text() and question.ephemeral
    cancel = await fake_discord.press_button(world.alice, question, "vidu:confirm:cancel")
    await fake_discord.wait_for(lambda: "Cancelled" in fake_discord.message(question.id).text() or None,
                                timeout=10, what="the cancelled question", seen=lambda: str(cancel.responses))
    assert fake_discord.threads(world.general) == [] and provider.requests_to("submit") == []
    assert "1 of 1 video left" in await run(fake_discord, world.alice, "quota me")  # nothing reserved
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("a.png", png()), "prompt": "a cat again"})
    question = await private_answer(fake_discord, ix)
    await fake_discord.press_button(world.alice, question, "vidu:confirm:go")
    await fake_discord.wait_for(lambda: "on its way" in fake_discord.message(question.id).text() or None,
                                timeout=15, what="the started answer",
                                seen=lambda: fake_discord.message(question.id).text())
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    assert next(iter(provider.tasks.values())).body["prompt"] == "a cat again"
    assert "0 of 1 video left" in await run(fake_discord, world.alice, "quota me")


async def test_the_apps_menu_form_opens_on_the_members_defaults_and_uses_what_it_does_not_ask(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await run(fake_discord, world.alice, "settings set", resolution="1080p", movement="high", private=True, duration=3)
    message = await fake_discord.member_says(world.bob, world.general, "look", files=[Upload("cat.png", png())])
    opened = await fake_discord.message_command(world.alice, "Animate", message=message)
    await fake_discord.wait_for(lambda: opened.modal or None, timeout=10, what="the form", seen=lambda: "")
    fields = {c["component"]["custom_id"]: c["component"] for c in opened.modal["components"]}
    assert fields["duration"]["placeholder"] == "3 (1-10 seconds)"  # her default, when left empty
    select = fields["resolution"]
    assert [o["value"] for o in select["options"] if o.get("default")] == ["1080p"]  # opened on her default
    sent = await fake_discord.submit_modal(world.alice, opened, {"prompt": "the cat stretches"})  # left as it opened
    assert "on its way" in (await private_answer(fake_discord, sent)).text()
    await eventually(lambda: len(provider.tasks) == 1, timeout=15, what="the task")
    body = next(iter(provider.tasks.values())).body
    assert (body["resolution"], body["duration"], body["movement_amplitude"]) == ("1080p", 3, "high")
    (thread,) = fake_discord.threads(world.general)
    assert thread.type == 12  # her default: a private thread (the form has no such field)
    card = fake_discord.messages(thread)[0].text()
    assert "From your /settings: 1080p · 3 s · movement high · private thread" in card
