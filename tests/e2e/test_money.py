"""What members are told about money when something goes wrong after their job exists (SPEC section 5):
the real bot process, the fake Discord failing on demand, the strict fake provider."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import eventually, png
from tests.e2e.test_animate import private_answer
from tests.fakes.discord import FakeDiscord, SentMessage, Upload
from tests.fakes.provider import FakeProvider, Fault

NOTHING_CHARGED = "Nothing was charged"


async def _animate(fake: FakeDiscord, prompt: str) -> object:
    world = fake.world
    return await fake.slash(world.alice, "animate", channel=world.general,
                            options={"image": Upload("cat.png", png()), "prompt": prompt, "duration": 4})


def _said_nothing_charged(fake: FakeDiscord) -> list[str]:
    return [m.text() for m in fake.all_messages() if NOTHING_CHARGED in m.text()]


def _pings(fake: FakeDiscord, thread: object, who: int) -> list[SentMessage]:
    return [m for m in fake.messages(thread) if m.mentions == [who] and not m.attachments]  # type: ignore[arg-type]


async def test_a_status_card_discord_fails_to_post_is_no_failure_and_the_end_still_pings(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot()
    provider.plan_next_task(fail_reason="render node lost")  # (not for its content: no strike, no flags)
    # Stop the bot right after its thread exists, then let Discord fail the status card (the second post).
    opening = fake_discord.hold_next("POST */channels/*/messages/*/threads", when="after")
    ix = await _animate(fake_discord, "a quiet lake")
    await asyncio.wait_for(opening.reached.wait(), 15)
    (thread,) = fake_discord.threads(world.general)
    card = fake_discord.hold_next(f"POST */channels/{thread.id}/messages", when="after")
    opening.release()
    await asyncio.wait_for(card.reached.wait(), 15)
    fake_discord.fail_next(f"POST */channels/{thread.id}/messages", status=503)
    card.release()

    answer = await private_answer(fake_discord, ix)  # type: ignore[arg-type]
    assert "on its way" in answer.text()  # true: the job exists and goes ahead
    ping = await fake_discord.wait_for(lambda: next(iter(_pings(fake_discord, thread, world.alice.id)), None),
                                       timeout=30, what="the requester pinged with the failure",
                                       seen=lambda: [m.text() for m in fake_discord.messages(thread)])
    assert "render node lost" in ping.text() and "Nothing was counted against your quota" in ping.text()
    assert len(provider.tasks) == 1
    assert _said_nothing_charged(fake_discord) == []


async def test_a_hiccup_after_the_job_exists_names_the_job_and_says_it_goes_ahead(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await start_bot()
    fake_discord.drop_next("POST */webhooks/*")  # the network breaks under the "on its way" answer, once
    ix = await _animate(fake_discord, "a windy field")
    answer = await private_answer(fake_discord, ix)  # type: ignore[arg-type]
    assert "was created" in answer.text() and "no need to ask again" in answer.text()
    assert NOTHING_CHARGED not in answer.text()
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    job_id = answer.text().split("job `")[1][:8]
    assert f"job `{job_id}`" in fake_discord.messages(thread)[0].text() or any(
        job_id in m.text() for m in fake_discord.messages(thread))
    await fake_discord.wait_for_message(thread, lambda m: any(a.filename.endswith(".mp4") for a in m.attachments),
                                        timeout=30)
    assert len(provider.tasks) == 1  # asking again was never needed


async def test_a_video_host_that_keeps_failing_ends_the_delivery_charged_and_tells_everyone(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = world.guild.add_text_channel("mod-log")  # before the bot starts: in its cache from GUILD_CREATE
    await start_bot(DELIVERY_MAX_ATTEMPTS="2")  # two tries, 5 s apart, instead of hours of them
    await fake_discord.slash(world.mod, "config modlog", channel=world.general, options={"channel": modlog})
    await fake_discord.wait_for_message(modlog, lambda m: "modlog" in m.text().lower(), timeout=10)
    provider.inject("video", Fault.status(500, "InternalError"), times=100)
    await _animate(fake_discord, "a red kite")
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    ping = await fake_discord.wait_for(lambda: next(iter(_pings(fake_discord, thread, world.alice.id)), None),
                                       timeout=40, what="the requester told the delivery ended",
                                       seen=lambda: [m.text() for m in fake_discord.messages(thread)])
    assert "Made, but not delivered" in ping.text()
    assert "counts against your quota" in ping.text()  # the provider made and billed it
    assert "[download](" in ping.text()  # the provider's own link, while it lives
    assert any("Try again (new charge)" in str(c) for c in ping.components)
    told = await fake_discord.wait_for_message(modlog, lambda m: "could not be delivered" in m.text(), timeout=10)
    assert told.mentions == []  # the mod-log names the member without pinging them
    await eventually(lambda: len(provider.requests_to("video")) >= 2, timeout=5, what="both tries")
    assert len(provider.requests_to("video")) <= 4  # two tries, each the link and at most one fresh link
