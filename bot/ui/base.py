"""The one base of our views and forms: whatever their callbacks raise is answered by answer_error (a
refusal privately to the member, anything else with an error id), as the command tree answers commands."""

from __future__ import annotations

import secrets
from typing import Any

import discord

from bot.ui.replies import answer_error


class ViduView(discord.ui.View):
    """`what` names the view in the log. The answer is in the language of the member who pressed."""

    what = "a button"

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception,
                       item: discord.ui.Item[Any], /) -> None:
        await answer_error(interaction, error, self.what)


class ViduModal(discord.ui.Modal):
    """`what` names the form in the log. The answer is in the language of the member who sent it.

    `custom_id` names the kind of form ("vidu:storyboard"); each form gets its own id from it. discord.py keeps
    the open forms by custom_id alone, so one fixed id would hand a member's submission to the form another
    member opened last (their pictures, their settings). The "vidu:" prefix marks it ours (bot/ui/stale.py)."""

    what = "a form"

    def __init__(self, *, title: str, custom_id: str, timeout: float) -> None:
        super().__init__(title=title, custom_id=f"{custom_id}:{secrets.token_hex(8)}", timeout=timeout)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        try:
            await answer_error(interaction, error, self.what)
        finally:
            self.stop()  # answered: the member's form is closed, as after a submission that went through
