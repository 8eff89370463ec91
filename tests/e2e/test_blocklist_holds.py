"""Issue 25, item 5, through the real bot process: the blocklist holds against look-alike text and Chinese
prompts, and a term added or a member blocked while a job waits in the queue stops that job, refunded and told."""

from __future__ import annotations

from bot.jobs.states import JobState
from bot.ui.cards import ACCENTS
from tests.e2e.conftest import eventually, png
from tests.e2e.test_animate import private_answer
from tests.e2e.test_moderators import animate, run
from tests.fakes.discord import FakeDiscord, Upload
from tests.fakes.provider import FakeProvider


async def test_look_alike_and_chinese_prompts_meet_the_blocklist(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot()
    for term in ("dragon", "猫"):
        assert "refused" in await run(fake_discord, world.mod, "mod blocklist add", term=term)
    for prompt in ("a ｄｒａｇｏｎ flies", "a dra\u200bgon flies", "a DRÁGON flies"):
        assert "which this server does not allow" in await animate(fake_discord, world.alice, prompt), prompt
    assert "服务器不允许" in await animate(fake_discord, world.bob, "一只猫在跳")  # bob reads zh-CN
    assert "on its way" in await animate(fake_discord, world.alice, "a dragonfly over a pond")
    await eventually(lambda: provider.requests_to("submit"), timeout=15, what="the dragonfly's submit")
    assert [r.json["prompt"] for r in provider.requests_to("submit")] == ["a dragonfly over a pond"]


async def test_a_term_added_or_a_block_while_jobs_wait_stops_them_refunded(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot(MAX_ACTIVE_JOBS_PER_MEMBER="1")
    # Each member's first job stays busy at the provider; without an ETA, so the bot keeps looking every 2 s: an
    # ETA of an hour put the next look 10 minutes away when the first look came before `advance` (a flaky timeout).
    provider.plan_next_task(queue_seconds=3600, report_eta=False)
    provider.plan_next_task(queue_seconds=3600, report_eta=False)
    for who, first in ((world.alice, "a calm lake"), (world.bob, "a quiet street")):
        await fake_discord.slash(who, "animate", channel=world.general,
                                 options={"image": Upload("a.png", png()), "prompt": first})
    await eventually(lambda: len(provider.tasks) == 2, timeout=20, what="both first submits")
    waiting = {}
    for who, prompt in ((world.alice, "a ｓｅａ serpent"), (world.bob, "a dog runs")):
        ix = await fake_discord.slash(who, "animate", channel=world.general,
                                      options={"image": Upload("b.png", png()), "prompt": prompt})
        await private_answer(fake_discord, ix)
        thread = next(t for t in fake_discord.threads(world.general) if t.name == prompt)
        waiting[who.id] = await fake_discord.wait_for_message(  # queued: its card has Cancel
            thread, lambda m: any(c.startswith("vidu:cancel:") for c in m.custom_ids()), timeout=15)

    assert "refused" in await run(fake_discord, world.mod, "mod blocklist add", term="sea")
    await run(fake_discord, world.mod, "mod block", member=world.bob)
    provider.advance(3600)  # the first jobs finish: the members' slots free, and the waiting jobs' turns come

    for who, words in ((world.alice, "blocked a word or phrase"), (world.bob, "禁止了你在此服务器发起视频请求")):
        card = waiting[who.id]
        await fake_discord.wait_for(lambda card=card, words=words: words in fake_discord.message(card.id).text()
                                    or None, timeout=90, what=f"{who.name}'s queued card to say it was stopped",
                                    seen=lambda card=card: fake_discord.message(card.id).text())
        stopped = fake_discord.message(card.id)
        assert stopped.components[0]["accent_color"] == ACCENTS[JobState.FAILED]
        assert "sea" not in stopped.text().split("·", 1)[-1]  # the public card does not repeat the term
    assert "Nothing was counted" in fake_discord.message(waiting[world.alice.id].id).text()
    assert len(provider.requests_to("submit")) == 2  # neither waiting job reached the provider
