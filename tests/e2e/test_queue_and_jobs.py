"""The bot's own queue (position, Cancel) and /jobs, through the real bot process."""

from __future__ import annotations

from bot.jobs.states import JobState
from bot.ui.cards import ACCENTS
from tests.e2e.conftest import eventually, png
from tests.e2e.test_animate import _is_video, private_answer
from tests.fakes.discord import IS_COMPONENTS_V2, FakeDiscord, Upload
from tests.fakes.provider import FakeProvider


async def test_a_member_over_the_running_limit_waits_with_a_position_and_can_cancel(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot(MAX_ACTIVE_JOBS_PER_MEMBER="1")
    world = fake_discord.world
    provider.plan_next_task(queue_seconds=3600)  # the first job stays busy at the provider
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("a.png", png()), "prompt": "first"})
    await eventually(lambda: len(provider.tasks) == 1, timeout=15, what="first submit")
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("b.png", png()), "prompt": "second"})
    await private_answer(fake_discord, ix)
    second = next(t for t in fake_discord.threads(world.general) if t.name == "second")
    card = await fake_discord.wait_for_message(second, lambda m: "Position 1" in m.text(), timeout=10)
    (cancel,) = [c for c in card.custom_ids() if c.startswith("vidu:cancel:")]
    assert card.components[0]["accent_color"] == ACCENTS[JobState.ACCEPTED]  # a grey Components V2 container

    refused = await fake_discord.press_button(world.bob, card, cancel)
    answer = await fake_discord.wait_for(lambda: refused.responses or None, timeout=10, what="bob's answer",
                                         seen=lambda: "")
    assert "只有发起这个视频的成员或管理员" in (answer[0].data or {}).get("content", "")  # bob reads zh-CN

    await fake_discord.press_button(world.alice, card, cancel)
    await fake_discord.wait_for(lambda: "Cancelled" in fake_discord.message(card.id).text() or None,
                                timeout=10, what="the card to say Cancelled",
                                seen=lambda: fake_discord.message(card.id).text())
    assert fake_discord.message(card.id).custom_ids() == []  # the button is gone
    assert card.flags & IS_COMPONENTS_V2 and card.components[0]["accent_color"] == ACCENTS[JobState.CANCELLED]
    await eventually(lambda: provider.requests_to("submit"), timeout=15, what="the first job's submit")
    assert len(provider.requests_to("submit")) == 1  # the cancelled job was never sent


async def test_with_a_provider_cap_a_member_waits_in_the_bots_queue_and_cancels_for_free(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """PROVIDER_MAX_IN_FLIGHT=1: another member's job holds the provider's only slot, so carol's waits in the
    bot's queue (her own slots are free), her card says so, and Cancel sends and charges nothing."""
    await start_bot(PROVIDER_MAX_IN_FLIGHT="1")
    world = fake_discord.world
    provider.plan_next_task(queue_seconds=3600)
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("a.png", png()), "prompt": "first"})
    await eventually(lambda: len(provider.tasks) == 1, timeout=15, what="alice's submit")
    carol = world.guild.add_member("carol")
    ix = await fake_discord.slash(carol, "animate", channel=world.general,
                                  options={"image": Upload("c.png", png()), "prompt": "waits"})
    await private_answer(fake_discord, ix)
    thread = next(t for t in fake_discord.threads(world.general) if t.name == "waits")
    card = await fake_discord.wait_for_message(thread, lambda m: "in the bot's queue" in m.text(), timeout=10)
    assert "Position 1 in the bot's queue" in card.text() and "Cancel is free" in card.text()
    (cancel,) = [c for c in card.custom_ids() if c.startswith("vidu:cancel:")]
    await fake_discord.press_button(carol, card, cancel)
    await fake_discord.wait_for(lambda: "Cancelled" in fake_discord.message(card.id).text() or None,
                                timeout=10, what="the card to say Cancelled",
                                seen=lambda: fake_discord.message(card.id).text())
    assert "Nothing was counted against your quota" in fake_discord.message(card.id).text()
    assert [r.json["prompt"] for r in provider.requests_to("submit")] == ["first"]  # carol's never left


async def test_jobs_lists_my_jobs_and_shows_one_in_detail_but_not_to_others(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("a.png", png()), "prompt": "a fox runs", "seed": 42})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    await fake_discord.wait_for(  # the status card is edited once the delivery is recorded
        lambda: any("Done" in m.text() for m in fake_discord.messages(thread)) or None, timeout=10,
        what="Done", seen=lambda: fake_discord.describe_messages(fake_discord.messages(thread)))

    listing = await fake_discord.slash(world.alice, "jobs", channel=world.general)
    await fake_discord.wait_for(lambda: listing.responses or None, timeout=10, what="/jobs", seen=lambda: "")
    text = (listing.responses[0].data or {})["content"]
    assert "Done" in text and f"<#{thread.id}>" in text
    job_id = text.split("`")[1]

    detail = await fake_discord.slash(world.alice, "jobs", channel=world.general, options={"job": job_id.lower()})
    await fake_discord.wait_for(lambda: detail.responses or None, timeout=10, what="/jobs id", seen=lambda: "")
    shown = (detail.responses[0].data or {})["content"]
    assert "a fox runs" in shown and "seed 42" in shown and "Video: https://discord.com/channels/" in shown

    nosy = await fake_discord.slash(world.bob, "jobs", channel=world.general, options={"job": job_id})
    await fake_discord.wait_for(lambda: nosy.responses or None, timeout=10, what="bob's /jobs", seen=lambda: "")
    assert (nosy.responses[0].data or {})["content"] == f"你在此服务器中没有任务 `{job_id}`。"  # bob reads zh-CN

    mod = await fake_discord.slash(world.mod, "jobs", channel=world.general, options={"job": job_id})
    await fake_discord.wait_for(lambda: mod.responses or None, timeout=10, what="mod's /jobs", seen=lambda: "")
    assert "a fox runs" in (mod.responses[0].data or {})["content"]


async def test_jobs_when_there_are_none(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    await start_bot()
    ix = await fake_discord.slash(fake_discord.world.bob, "jobs", channel=fake_discord.world.general)
    await fake_discord.wait_for(lambda: ix.responses or None, timeout=10, what="/jobs", seen=lambda: "")
    assert "还没有任务" in (ix.responses[0].data or {})["content"]  # bob reads zh-CN


async def test_a_jobs_detail_shows_what_was_asked_as_the_request_card_does(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """One rendering of a request (bot/ui/text.py request_lines): the card in the thread and the private detail
    in /jobs show the same prompt and settings lines; only the card adds who asked and the estimated cost."""
    await start_bot()
    world = fake_discord.world
    frames = {"start": Upload("s.png", png()), "frame1": Upload("1.png", png()), "frame2": Upload("2.png", png())}
    for command, options in (
        ("animate", {"image": Upload("a.png", png()), "prompt": "a *fox* runs", "seed": 7, "audio": True,
                     "movement": "small"}),
        ("keyframes", {**frames, "prompts": "walks in | sits down", "durations": "3,4"}),
    ):
        ix = await fake_discord.slash(world.alice, command, channel=world.general, options=options)
        answer = (await private_answer(fake_discord, ix)).text()
        thread_id = int(answer.split("<#")[1].split(">")[0])
        card = await fake_discord.wait_for_message(thread_id, lambda m: "Request by" in m.text(), timeout=15)
        job_id = answer.split("`")[1]
        detail = await fake_discord.slash(world.alice, "jobs", channel=world.general, options={"job": job_id})
        await fake_discord.wait_for(lambda d=detail: d.responses or None, timeout=10, what="/jobs id",
                                    seen=lambda: "")
        shown = str((detail.responses[0].data or {})["content"]).splitlines()
        *asked, settings = card.text().splitlines()[1:]
        settings, cost = settings.rsplit(" · ", 1)
        assert cost.startswith("about $"), card.text()
        start = shown.index(asked[0])
        assert shown[start:start + len(asked) + 1] == [*asked, settings], (card.text(), shown)
