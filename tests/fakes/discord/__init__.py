"""A fake Discord over the wire (REST, gateway, CDN on 127.0.0.1) for end-to-end tests of the bot.

Cheat-sheet: see tests/fake_discord/README.md.
"""

from .acting import Upload
from .clock import FakeClock
from .errors import DiscordAPIError, FakeUsageError
from .fake import FakeDiscord
from .interactions import InteractionRecord, InteractionResponse
from .models import (
    EPHEMERAL,
    IS_COMPONENTS_V2,
    LOADING,
    NITRO_BASIC_UPLOAD_LIMIT,
    NITRO_UPLOAD_LIMIT,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    MessageRevision,
    SentMessage,
    StoredAttachment,
)
from .openapi import Violation
from .point import point_discord_py_at
from .snowflakes import shard_of
from .world import TestServer, build_test_server

__all__ = [
    "EPHEMERAL",
    "IS_COMPONENTS_V2",
    "LOADING",
    "NITRO_BASIC_UPLOAD_LIMIT",
    "NITRO_UPLOAD_LIMIT",
    "DiscordAPIError",
    "FakeChannel",
    "FakeClock",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUsageError",
    "FakeUser",
    "InteractionRecord",
    "InteractionResponse",
    "MessageRevision",
    "SentMessage",
    "StoredAttachment",
    "TestServer",
    "Upload",
    "Violation",
    "build_test_server",
    "point_discord_py_at",
    "shard_of",
]
