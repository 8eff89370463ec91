"""The standard test world: one guild "Test Server" with the channels, roles and members tests expect."""

from __future__ import annotations

from dataclasses import dataclass

from . import permissions as perms
from .fake import FakeDiscord
from .models import FakeChannel, FakeGuild, FakeMember, FakeRole


@dataclass
class TestServer:
    guild: FakeGuild
    general: FakeChannel
    forum: FakeChannel
    moderators: FakeRole
    alice: FakeMember
    bob: FakeMember
    mod: FakeMember

    __test__ = False  # not a pytest test class


def build_test_server(
    fake: FakeDiscord, *, premium_tier: int = 0, shard: tuple[int, int] | None = None, name: str = "Test Server"
) -> TestServer:
    """``shard=(i, n)``: the guild's events travel on shard i of n (one world per shard for multi-process tests)."""
    guild = fake.add_guild(name, premium_tier=premium_tier, shard=shard)
    general = guild.add_text_channel("general")
    forum = guild.add_forum_channel("showcase")
    moderators = guild.add_role("Moderators", perms.MANAGE_GUILD | perms.MANAGE_MESSAGES | perms.MANAGE_THREADS)
    alice = guild.add_member("alice", locale="en-US")
    bob = guild.add_member("bob", locale="zh-CN")
    mod = guild.add_member("mod", roles=[moderators], locale="en-US")
    return TestServer(guild, general, forum, moderators, alice, bob, mod)
