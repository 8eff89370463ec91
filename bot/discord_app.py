"""What the bot asks of Discord: the invite's scopes, the permissions it needs and its intents, in one place.

Discord-free on purpose (plain names and bit values), so `python -m bot check` prints the invite link without
importing discord.py; bot/ui/permissions.py checks a channel against the same names, tests/unit/test_discord_app.py
checks each bit against discord.Permissions, and the README's "Discord application" table against this module.
"""

from __future__ import annotations

from urllib.parse import urlencode

SCOPES = ("bot", "applications.commands")

# The permissions wherever the bot answers: the thread's cards and the member's pictures on them, the video, and
# the history in which a restarted bot looks for a video it had already posted (so it never posts one twice).
IN_THREAD = ("view_channel", "send_messages_in_threads", "attach_files", "read_message_history")
# Opening the thread in a text channel: a public one hangs off a starter message (also how the mod-log is written).
OPEN_PUBLIC = ("send_messages", "create_public_threads")
OPEN_PRIVATE = ("create_private_threads",)

# discord.Permissions attribute -> (the name Discord's settings show, its bit).
PERMISSIONS: dict[str, tuple[str, int]] = {
    "view_channel": ("View Channel", 1 << 10),
    "send_messages": ("Send Messages", 1 << 11),
    "attach_files": ("Attach Files", 1 << 15),
    "read_message_history": ("Read Message History", 1 << 16),
    "create_public_threads": ("Create Public Threads", 1 << 35),
    "create_private_threads": ("Create Private Threads", 1 << 36),
    "send_messages_in_threads": ("Send Messages in Threads", 1 << 38),
}
NEEDED = (*IN_THREAD, *OPEN_PUBLIC, *OPEN_PRIVATE)
PERMISSIONS_INTEGER = sum(PERMISSIONS[name][1] for name in NEEDED)

# Gateway intents: `guilds` only, which is not privileged (no Message Content, Server Members or Presence).
# guilds: servers, channels, threads, roles; auto_moderation_configuration: AutoMod rule events keep each
# server's rules current (bot/ui/automod.py). Neither is privileged.
INTENTS = ("guilds", "auto_moderation_configuration")
PRIVILEGED_INTENTS: tuple[str, ...] = ()

AUTHORIZE_URL = "https://discord.com/oauth2/authorize"


def invite_link(application_id: int) -> str:
    """The link a server's manager opens to add the bot with its commands and exactly these permissions."""
    query = urlencode({"client_id": application_id, "scope": " ".join(SCOPES),
                       "permissions": PERMISSIONS_INTEGER})
    return f"{AUTHORIZE_URL}?{query}"


def render_markdown_table() -> str:
    """The README's permission table (tests/unit/test_discord_app.py keeps it current)."""
    rows = ["| permission | bit | why |", "|---|---|---|"]
    why = {
        "view_channel": "see the channel a member asked in",
        "send_messages": "the starter message of a public thread, and the mod-log channel",
        "attach_files": "the member's pictures on the request card, and the video",
        "read_message_history": "after a restart, find a video already posted (never post it twice)",
        "create_public_threads": "one thread per request",
        "create_private_threads": "a request with `private` set gets a private thread",
        "send_messages_in_threads": "cards, progress and the video in that thread",
    }
    for name in NEEDED:
        shown, bit = PERMISSIONS[name]
        rows.append(f"| {shown} | `1 << {bit.bit_length() - 1}` | {why[name]} |")
    rows.append(f"| **together** | `{PERMISSIONS_INTEGER}` | the invite link's `permissions=` |")
    return "\n".join(rows)
