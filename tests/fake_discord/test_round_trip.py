"""The whole round trip a bot of this kind makes, through discord.py, against the fake."""

from __future__ import annotations

from tests.fakes.discord import FakeDiscord, Upload

from .tiny_bot import TinyBot

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000010802000000"
    "7b40e8dd0000000f49444154789c63f8cfc0f01f0003fe01ff2e7f5a3b0000000049454e44ae426082"
)


async def test_slash_command_defer_thread_and_file(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    synced = fake_discord.commands.list(world.guild.id)
    assert sorted(c.name for c in synced) == ["Describe files", "animate", "later", "slow"]

    ix = await fake_discord.slash(
        world.alice, "animate", channel=world.general,
        options={"image": Upload("cat.png", PNG), "prompt": "a cat waves"},
    )  # fmt: skip

    thread = await fake_discord.wait_for_thread(world.general, timeout=10)
    result = await fake_discord.wait_for_message(thread, lambda m: bool(m.attachments), timeout=10)

    assert ix.response_type == 5  # deferred: the bot acknowledged within 3 s
    original = fake_discord.message(ix.original_message_id)
    assert original.content == f"Working on 'a cat waves' ({len(PNG)} bytes)"
    assert not original.loading and original.edits  # the "thinking" message was filled in
    assert thread.id == original.id and thread.name == "animate: a cat waves"
    assert result.attachments[0].content == PNG[::-1]
    assert result.mentions == [world.alice.id]
    assert tiny_bot.read_bytes == [PNG]  # read through the signed CDN URL
    # ... and the bot saw its own thread message come back over the gateway (MESSAGE_CREATE).
    seen = await tiny_bot.wait_seen(result.id)
    assert seen.channel.id == thread.id and seen.attachments[0].filename == "result.bin"
