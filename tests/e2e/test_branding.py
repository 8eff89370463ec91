"""A server's own watermark (issue 17, "Server branding"): moderators set a picture and a position with
/config watermark; every multiframe job of the server reaches the provider with `watermark`, a freshly
refreshed `wm_url` (Discord's CDN links expire) and `wm_position`."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import png
from tests.e2e.test_animate import _is_video
from tests.e2e.test_moderators import run
from tests.fakes.discord import FakeChannel, FakeDiscord, SentMessage, Upload, permissions
from tests.fakes.provider import FakeProvider

DAY = 24 * 3600


async def keyframes(fake: FakeDiscord) -> tuple[Any, list[SentMessage]]:
    """alice's /keyframes job, through to its video; its thread's messages."""
    world = fake.world
    options = {"start": Upload("s.png", png(color=(200, 30, 30))), "frame1": Upload("a.png", png(color=(30, 200, 30))),
               "frame2": Upload("b.png", png(color=(30, 30, 200))), "prompts": "walks in | sits down"}
    await fake.slash(world.alice, "keyframes", channel=world.general, options=options)
    thread = await fake.wait_for_thread(world.general, timeout=15)
    await fake.wait_for_message(thread, _is_video, timeout=30)
    return thread, fake.messages(thread)


async def started_with_a_mod_log(fake: FakeDiscord, start_bot: Any) -> FakeChannel:
    modlog = fake.world.guild.add_text_channel("mod-log")  # before the bot starts: in its cache from GUILD_CREATE
    await start_bot()
    assert "Mod-log: <#" in await run(fake, fake.world.mod, "config modlog", channel=modlog)
    return modlog


async def set_watermark(fake: FakeDiscord, **options: Any) -> str:
    return await run(fake, fake.world.mod, "config watermark", **options)


async def test_a_moderators_watermark_reaches_the_provider_with_a_refreshed_link_and_is_audited(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = await started_with_a_mod_log(fake_discord, start_bot)
    said = await set_watermark(fake_discord, image=Upload("logo.png", png(color=(250, 250, 250))),
                               position="top_right")
    assert "Watermark on keyframes videos: the picture in the mod-log, top right" in said
    kept = await fake_discord.wait_for_message(modlog, lambda m: bool(m.attachments), timeout=10)
    assert "watermark" in kept.text()
    record = await fake_discord.wait_for_message(modlog, lambda m: "config watermark" in m.text(), timeout=10)
    assert "none → a picture, top_right" in record.text()
    assert "config.watermark" in await run(fake_discord, world.mod, "mod audit")

    fake_discord.clock.advance(2 * DAY)  # the link the bot stored has expired by the time a member asks
    _, messages = await keyframes(fake_discord)

    (task,) = provider.tasks.values()
    assert task.body["watermark"] is True and task.body["wm_position"] == "top_right"
    # A link Discord refreshed for this submit (the strict fake provider fetched it: the stored one is dead).
    assert task.body["wm_url"] in fake_discord.refreshed_urls
    assert f"/{kept.attachments[0].id}/" in task.body["wm_url"]  # the picture the bot kept in the mod-log
    assert "server watermark (top right)" in messages[0].text()  # the request card


async def test_a_picture_that_fails_the_checks_is_refused_by_name_and_nothing_is_stored(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = await started_with_a_mod_log(fake_discord, start_bot)
    refused = await set_watermark(fake_discord, image=Upload("logo.txt", b"our logo", "text/plain"))
    assert "logo.txt: Discord says this is a document, not a picture" in refused
    assert "Watermark on keyframes videos: none" in await run(fake_discord, world.mod, "config show")
    assert not [m for m in fake_discord.messages(modlog) if m.attachments]
    assert "config.watermark" not in await run(fake_discord, world.mod, "mod audit")


async def test_without_a_mod_log_channel_the_watermark_is_refused(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    refused = await run(fake_discord, world.mod, "config watermark", image=Upload("logo.png", png()))
    assert "set one first with /config modlog" in refused
    assert "Watermark on keyframes videos: none" in await run(fake_discord, world.mod, "config show")


async def test_a_mod_log_the_bot_cannot_post_the_picture_in_is_named_and_nothing_is_stored(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = await started_with_a_mod_log(fake_discord, start_bot)
    await fake_discord.set_overwrite(modlog, fake_discord.bot_role(world.guild), deny=permissions.ATTACH_FILES)
    refused = await set_watermark(fake_discord, image=Upload("logo.png", png()))
    assert f"could not post the picture in the mod-log channel <#{modlog.id}>" in refused
    assert "Watermark on keyframes videos: none" in await run(fake_discord, world.mod, "config show")
    assert "config.watermark" not in await run(fake_discord, world.mod, "mod audit")


async def test_a_cleared_watermark_is_no_longer_sent(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    modlog = await started_with_a_mod_log(fake_discord, start_bot)
    await set_watermark(fake_discord, image=Upload("logo.png", png()))
    cleared = await run(fake_discord, world.mod, "config watermark")
    assert "Watermark on keyframes videos: none" in cleared
    await fake_discord.wait_for_message(modlog, lambda m: "a picture, bottom_left → none" in m.text(), timeout=10)

    _, messages = await keyframes(fake_discord)
    (task,) = provider.tasks.values()
    assert task.body["watermark"] is False and "wm_url" not in task.body and "wm_position" not in task.body
    assert "server watermark" not in messages[0].text()


async def test_a_watermark_discord_will_not_refresh_is_left_off_and_the_card_and_mod_log_say_so(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """Its message in the mod-log was deleted: Discord refuses to refresh the link. The video is made without
    the watermark (no waiting, no failure charged to the member for a failure of ours)."""
    modlog = await started_with_a_mod_log(fake_discord, start_bot)
    await set_watermark(fake_discord, image=Upload("logo.png", png()))
    kept = await fake_discord.wait_for_message(modlog, lambda m: bool(m.attachments), timeout=10)
    await fake_discord.delete_message(kept)

    thread, _ = await keyframes(fake_discord)
    (task,) = provider.tasks.values()
    assert task.body["watermark"] is False and "wm_url" not in task.body
    assert not fake_discord.refreshed_urls
    await fake_discord.wait_for_message(modlog, lambda m: "was sent without it" in m.text(), timeout=10)
    status_card = next(m for m in fake_discord.messages(thread) if "job `" in m.text())
    assert "could not be fetched from Discord, so this video was sent without it" in status_card.text()
