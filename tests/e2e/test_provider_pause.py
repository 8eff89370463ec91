"""Issue 12, the balance pause, through the real bot process: the provider's account out of credit leaves a
queued job waiting with a card that says why, the mod-log told; a top-up delivers it by itself."""

from __future__ import annotations

from tests.e2e.conftest import png
from tests.fakes.discord import FakeDiscord, Upload
from tests.fakes.provider import FakeProvider


async def test_a_queued_job_says_why_it_waits_while_the_credit_is_out_and_goes_ahead_after_a_top_up(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = world.guild.add_text_channel("mod-log")  # before the bot starts: in its cache from GUILD_CREATE
    await start_bot(PROVIDER_PAUSE_PROBE_SECONDS="1")
    await fake_discord.slash(world.mod, "config modlog", channel=world.general, options={"channel": modlog})
    await fake_discord.wait_for_message(modlog, lambda m: "modlog" in m.text().lower(), timeout=10)
    provider.balance_empty = True

    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("cat.png", png()), "prompt": "a cat naps", "duration": 4})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    card = await fake_discord.wait_for_message(thread, lambda m: "out of credit" in m.text(), timeout=15)
    assert "Waiting in the queue" in card.text() and "The moderators have been told." in card.text()
    assert "starts by itself once the account is topped up" in card.text()
    told = await fake_discord.wait_for_message(modlog, lambda m: "paused sending jobs" in m.text(), timeout=10)
    assert "every 1 s" in told.text()
    assert [m for m in fake_discord.messages(thread) if world.alice.id in m.mentions] == []  # no failure ping

    provider.balance_empty = False  # topped up: the next probe goes through
    await fake_discord.wait_for_message(thread, lambda m: any(a.filename.endswith(".mp4") for a in m.attachments),
                                        timeout=30)
    await fake_discord.wait_for_message(modlog, lambda m: "resumed sending jobs" in m.text(), timeout=10)
    assert len(provider.tasks) == 1
    assert len([m for m in fake_discord.messages(modlog) if "paused sending jobs" in m.text()]) == 1
