"""A storyboard preview or an Apps → Animate form left open while the bot restarted: its state lived in
memory, so nothing handles it any more. The member is told so, instead of Discord's bare "This
interaction failed"."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.ui.stale import UNANSWERED_AFTER_SECONDS
from tests.e2e.conftest import png
from tests.e2e.test_animate import private_answer
from tests.e2e.test_crash import _crash
from tests.e2e.test_menu import open_menu
from tests.e2e.test_storyboard import START, preview_of, three_frames
from tests.fakes.discord import FakeDiscord, InteractionRecord, Upload
from tests.fakes.provider import FakeProvider


async def _restart(start_bot: Any, bot: Any) -> None:
    await _crash(bot)
    await start_bot()


async def _answer(fake: FakeDiscord, ix: InteractionRecord) -> str:
    response = (await fake.wait_for_response(ix, timeout=10)).responses[0]
    assert response.type == 4 and (response.data or {}).get("flags", 0) & 64  # a private message, in time
    return str((response.data or {}).get("content", ""))


async def test_start_on_a_preview_from_before_a_restart_says_it_is_no_longer_active(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    bot = await start_bot()
    preview, _ = await preview_of(fake_discord, {"frames": three_frames(), "prompts": "walks in\nsits down"})
    await _restart(start_bot, bot)

    pressed = await fake_discord.press_button(fake_discord.world.alice, preview, START)
    said = await _answer(fake_discord, pressed)
    assert "no longer active: the bot restarted" in said and "nothing was used" in said
    assert provider.requests_to("submit") == [] and fake_discord.threads(fake_discord.world.general) == []


async def test_a_menu_form_submitted_after_a_restart_is_answered_in_the_members_language(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    bot = await start_bot()
    opened = await open_menu(fake_discord, [Upload("cat.png", png())])
    await _restart(start_bot, bot)

    submit = await fake_discord.submit_modal(fake_discord.world.alice, opened_by=opened,
                                             values={"prompt": "the cat jumps", "duration": "4"})
    assert "no longer active" in await _answer(fake_discord, submit)
    assert provider.requests_to("submit") == []


async def test_live_buttons_are_answered_by_their_handler_only(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    preview, _ = await preview_of(fake_discord, {"frames": three_frames(), "prompts": "walks in\nsits down"})
    pressed = await fake_discord.press_button(fake_discord.world.alice, preview, START)
    await private_answer(fake_discord, pressed)
    await fake_discord.wait_for_thread(fake_discord.world.general, timeout=15)
    # Past the safety net's moment: it did not answer a second time (Discord would refuse it with 40060).
    await asyncio.sleep(UNANSWERED_AFTER_SECONDS + 0.5)
    assert len(pressed.responses) == 1, pressed.responses
    refused = [r for r in fake_discord.requests if r[1].endswith("/callback") and r[2] >= 400]
    assert refused == []
