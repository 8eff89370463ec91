"""bot/discord_app.py is the one list of what the bot asks of Discord: its bits are Discord's, the README's table
and the invite link follow it, the channel check uses it and every permission has a name in both languages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord

from bot.discord_app import (
    INTENTS,
    NEEDED,
    PERMISSIONS,
    PERMISSIONS_INTEGER,
    PRIVILEGED_INTENTS,
    SCOPES,
    invite_link,
    render_markdown_table,
)
from bot.i18n import t

ROOT = Path(__file__).resolve().parents[2]


def test_every_bit_is_discords_own() -> None:
    for name, (shown, bit) in PERMISSIONS.items():
        assert discord.Permissions(**{name: True}).value == bit, name
        assert shown.lower().replace(" ", "_") == name, shown  # the name Discord's settings show
    assert discord.Permissions(**dict.fromkeys(NEEDED, True)).value == PERMISSIONS_INTEGER == 377957223424
    assert set(NEEDED) == set(PERMISSIONS)


def test_the_intents_are_not_privileged() -> None:
    intents = discord.Intents(**dict.fromkeys(INTENTS, True))
    privileged = discord.Intents(members=True, presences=True, message_content=True)
    assert intents.value & privileged.value == 0 and PRIVILEGED_INTENTS == ()


def test_the_invite_link_asks_for_the_scopes_and_exactly_these_permissions() -> None:
    link = urlsplit(invite_link(1234567890123))
    assert (link.scheme, link.netloc, link.path) == ("https", "discord.com", "/oauth2/authorize")
    assert parse_qs(link.query) == {"client_id": ["1234567890123"], "scope": [" ".join(SCOPES)],
                                    "permissions": [str(PERMISSIONS_INTEGER)]}
    assert SCOPES == ("bot", "applications.commands")


def test_the_readme_permission_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert render_markdown_table() in readme, "regenerate the README's table from bot/discord_app.py"
    assert f"permissions={PERMISSIONS_INTEGER}" in readme


def test_every_permission_is_named_to_members_in_both_languages() -> None:
    for name in NEEDED:
        assert t(f"permission.{name}", "en-US") == PERMISSIONS[name][0]
        assert t(f"permission.{name}", "zh-CN") != PERMISSIONS[name][0], name
