"""Context menu -> modal with a FileUpload -> message with a button -> button press, through discord.py."""

from __future__ import annotations

import pytest

from tests.fakes.discord import FakeDiscord, FakeUsageError, Upload

from .tiny_bot import TinyBot


async def test_context_menu_modal_file_upload_and_button(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    target = await fake_discord.member_says(
        world.bob, world.general, "look", files=[Upload("a.png", b"A" * 10), Upload("b.jpg", b"B" * 20)]
    )
    opened = await fake_discord.message_command(world.bob, "Describe files", message=target)
    await fake_discord.wait_for_response(opened, timeout=10)
    assert opened.response_type == 9 and opened.modal is not None
    assert tiny_bot.context_targets[0].attachments[1].filename == "b.jpg"  # resolved.messages parsed

    submitted = await fake_discord.submit_modal(
        world.bob, opened, {"files": [Upload("x.png", b"x"), Upload("y.png", b"yy")], "note": "two frames"}
    )
    await fake_discord.wait_for_response(submitted, timeout=10)
    answer = fake_discord.message(submitted.original_message_id)
    assert answer.content == "2 files: x.png, y.png; note=two frames"
    assert answer.custom_ids() == ["ack"]

    pressed = await fake_discord.press_button(world.bob, answer, "ack")
    await fake_discord.wait_for_response(pressed, timeout=10)
    assert pressed.response_type == 7
    assert answer.content == "acknowledged by bob" and answer.components == []
    assert [e.content for e in answer.edits] == ["2 files: x.png, y.png; note=two frames"]


async def test_acting_refuses_what_discord_clients_cannot_send(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    image = Upload("cat.png", b"png")
    with pytest.raises(FakeUsageError, match="never synced"):
        await fake_discord.slash(world.alice, "imagine", channel=world.general)
    with pytest.raises(FakeUsageError, match="missing required option"):
        await fake_discord.slash(world.alice, "animate", channel=world.general, options={"image": image})
    with pytest.raises(FakeUsageError, match="needs a str"):
        await fake_discord.slash(world.alice, "animate", channel=world.general, options={"image": image, "prompt": 5})
    with pytest.raises(FakeUsageError, match="no option 'seed'"):
        await fake_discord.slash(
            world.alice, "animate", channel=world.general, options={"image": image, "prompt": "x", "seed": 1}
        )
    ix = await fake_discord.slash(world.alice, "later", channel=world.general)
    with pytest.raises(FakeUsageError, match=r"never answered .* with a modal"):
        await fake_discord.submit_modal(world.alice, ix, {})
    assert not [i for i in fake_discord.interactions.values() if i.name == "animate"]
