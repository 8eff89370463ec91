"""Permission bits the fake computes with (a subset of Discord's; values are Discord's), channel
overwrites, and the one computation of a member's permissions in a channel (Discord's "Permissions" topic)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
SEND_TTS_MESSAGES = 1 << 12
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38

ALL = (1 << 51) - 1

# Bits that belong to the guild, not to a channel: a channel without VIEW_CHANNEL keeps only these.
# The same set as discord.py's ``Permissions.all() & ~Permissions.all_channel()`` (kick, ban,
# administrator, manage guild, audit log, insights, nicknames, expressions, events, moderate members,
# monetization analytics, set voice channel status), so both sides compute the same number.
GUILD_ONLY = sum(1 << bit for bit in (1, 2, 3, 5, 7, 19, 26, 27, 30, 33, 40, 41, 43, 44, 48))
# What losing SEND_MESSAGES (SEND_MESSAGES_IN_THREADS in a thread) takes with it.
NEEDS_SEND = SEND_TTS_MESSAGES | MENTION_EVERYONE | EMBED_LINKS | ATTACH_FILES

ROLE = 0
MEMBER = 1

# What @everyone gets in a new server, close to Discord's default.
EVERYONE_DEFAULT = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
)

BOT_DEFAULT = EVERYONE_DEFAULT | MANAGE_MESSAGES | MANAGE_THREADS


def effective(bits: int) -> int:
    """Administrator implies every permission, as Discord reports it in interactions."""
    return ALL if bits & ADMINISTRATOR else bits


@dataclass(frozen=True)
class Overwrite:
    """A channel's permission overwrite for one role (``type`` ROLE, the @everyone role's id is the guild's)
    or one member (``type`` MEMBER)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_json(self) -> dict[str, Any]:
        # As Discord serialises it (API v8+): bit sets as strings.
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


def in_channel(
    base: int,
    overwrites: Iterable[Overwrite],
    *,
    everyone_id: int,
    role_ids: Iterable[int],
    member_id: int,
    in_thread: bool,
) -> int:
    """A member's permissions in a channel from their guild-level ``base`` (@everyone | their roles; ALL
    for the owner) and the channel's overwrites (a thread's are its parent's): @everyone's overwrite, then
    every overwrite of the member's roles (denies, then allows, OR-ed across roles), then the member's own.
    Administrator skips overwrites. Then the implicit rules: no VIEW_CHANNEL leaves only guild-level bits;
    no SEND_MESSAGES (SEND_MESSAGES_IN_THREADS in a thread) also takes TTS, @everyone, embeds and files."""
    if base & ADMINISTRATOR:
        return ALL
    overwrites = list(overwrites)
    roles = set(role_ids)
    bits = base
    for ow in overwrites:
        if ow.type == ROLE and ow.id == everyone_id:
            bits = (bits & ~ow.deny) | ow.allow
    allow = deny = 0
    for ow in overwrites:
        if ow.type == ROLE and ow.id != everyone_id and ow.id in roles:
            allow |= ow.allow
            deny |= ow.deny
    bits = (bits & ~deny) | allow
    for ow in overwrites:
        if ow.type == MEMBER and ow.id == member_id:
            bits = (bits & ~ow.deny) | ow.allow
    if not bits & (SEND_MESSAGES_IN_THREADS if in_thread else SEND_MESSAGES):
        bits &= ~NEEDS_SEND
    if not bits & VIEW_CHANNEL:
        bits &= GUILD_ONLY
    return bits
