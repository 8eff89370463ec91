"""Channel permission overwrites: the fake computes the bot's permissions as Discord (and discord.py, from
the fake's own payloads) does, tells the bot when they change, and refuses on REST what the bot may not do."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

import aiohttp
import discord
import pytest

from tests.fakes.discord import FakeChannel, FakeDiscord, FakeMember, FakeUsageError, point_discord_py_at
from tests.fakes.discord import permissions as perms

from .raw import API, answer
from .tiny_bot import TinyBot, start_tiny_bot, stop_tiny_bot


async def until(probe: Callable[[], object], what: str, timeout: float = 5.0) -> None:
    """Until the bot's cache shows ``probe()`` true (gateway events are applied asynchronously)."""
    for _ in range(int(timeout / 0.01)):
        if probe():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the bot never saw {what} within {timeout}s")


async def invoke(fake: FakeDiscord, bot: TinyBot, member: FakeMember, channel: FakeChannel) -> discord.Interaction:
    """``member`` runs /later in ``channel``; the interaction as the bot's discord.py received it."""
    before = len(bot.pending)
    await fake.slash(member, "later", channel=channel)
    async with bot._seen:
        await asyncio.wait_for(bot._seen.wait_for(lambda: len(bot.pending) > before), 10)
    return bot.pending[-1]


def text_channel(bot: TinyBot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


def me(bot: TinyBot) -> discord.Member:
    guild = bot.get_guild(bot.guild_id)
    assert guild is not None
    return guild.me


async def test_role_overwrite_denying_public_threads(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    other = world.guild.add_text_channel("other")
    general = text_channel(tiny_bot, world.general.id)
    bot_role = fake_discord.bot_role(world.guild)
    await fake_discord.set_overwrite(world.general, bot_role, deny=perms.CREATE_PUBLIC_THREADS)
    # discord.py computes the bot's permissions itself, from the CHANNEL_UPDATE the fake sent.
    await until(lambda: not general.permissions_for(me(tiny_bot)).create_public_threads, "the overwrite")
    overwrite = general.overwrites_for(discord.Object(fake_discord.bot_role(world.guild).id))
    assert overwrite.create_public_threads is False and overwrite.send_messages is None

    interaction = await invoke(fake_discord, tiny_bot, world.alice, world.general)
    assert not interaction.app_permissions.create_public_threads
    assert interaction.app_permissions.value == general.permissions_for(me(tiny_bot)).value
    assert interaction.permissions.create_public_threads  # alice has no overwrite

    message = await general.send("the video will be in a thread")
    with pytest.raises(discord.Forbidden) as caught:
        await message.create_thread(name="refused")
    assert (caught.value.status, caught.value.code) == (403, 50013)
    assert fake_discord.threads(world.general) == []
    private = await general.create_thread(name="private is still allowed", type=discord.ChannelType.private_thread)
    assert fake_discord.channel(private.id).type == 12
    elsewhere = await text_channel(tiny_bot, other.id).send("other channel")
    await elsewhere.create_thread(name="no overwrite here")  # the overwrite is the channel's alone

    await fake_discord.remove_overwrite(world.general, fake_discord.bot_role(world.guild))
    await until(lambda: general.permissions_for(me(tiny_bot)).create_public_threads, "the overwrite removed")
    await message.create_thread(name="allowed again")


async def test_member_overwrite_beats_role_overwrites(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    bot_member = fake_discord.bot_member(world.guild)
    general = text_channel(tiny_bot, world.general.id)
    world.general.set_overwrite(fake_discord.bot_role(world.guild), allow=perms.CREATE_PUBLIC_THREADS)
    await fake_discord.set_overwrite(world.general, bot_member, deny=perms.CREATE_PUBLIC_THREADS)
    await until(lambda: not general.permissions_for(me(tiny_bot)).create_public_threads, "the member overwrite")
    assert not world.general.allows(bot_member, perms.CREATE_PUBLIC_THREADS)

    message = await general.send("x")
    with pytest.raises(discord.Forbidden) as caught:
        await message.create_thread(name="refused")
    assert caught.value.code == 50013

    # The invoking member's own overwrite shows in the interaction's member permissions, not the bot's.
    await fake_discord.set_overwrite(world.general, world.alice, deny=perms.ATTACH_FILES)
    interaction = await invoke(fake_discord, tiny_bot, world.alice, world.general)
    assert not interaction.permissions.attach_files and interaction.permissions.send_messages
    assert interaction.app_permissions.attach_files and not interaction.app_permissions.create_public_threads


async def test_fake_and_discord_py_compute_the_same_permissions(fake_discord: FakeDiscord) -> None:
    """A tangle of overwrites present from GUILD_CREATE: @everyone, the bot's role, a role the bot lacks,
    the bot itself; in the channel and in a thread under it."""
    world = fake_discord.world
    guild = world.guild
    bot_member = fake_discord.bot_member(guild)
    other_role = guild.add_role("Muted")
    general = world.general
    general.set_overwrite(guild.everyone_role, deny=perms.SEND_MESSAGES | perms.ADD_REACTIONS, allow=perms.MANAGE_ROLES)
    general.set_overwrite(fake_discord.bot_role(guild), allow=perms.ADD_REACTIONS, deny=perms.EMBED_LINKS)
    general.set_overwrite(other_role, deny=perms.VIEW_CHANNEL)
    general.set_overwrite(bot_member, deny=perms.SEND_MESSAGES_IN_THREADS | perms.MANAGE_ROLES)
    expected = perms.in_channel(
        bot_member.permissions, general.permission_overwrites, everyone_id=guild.id,
        role_ids=bot_member.role_ids, member_id=bot_member.id, in_thread=False,
    )  # fmt: skip
    assert general.permissions_for(bot_member) == expected
    assert expected & perms.ADD_REACTIONS and expected & perms.VIEW_CHANNEL
    assert not expected & (perms.SEND_MESSAGES | perms.EMBED_LINKS | perms.ATTACH_FILES | perms.MANAGE_ROLES)

    restore = point_discord_py_at(fake_discord.api_base, fake_discord.gateway_url)
    bot, task = await start_tiny_bot(fake_discord.bot_token, guild.id)
    try:
        channel = text_channel(bot, general.id)
        assert channel.permissions_for(me(bot)).value == general.permissions_for(bot_member)
        thread = await channel.create_thread(name="job", type=discord.ChannelType.private_thread)
        await until(lambda: me(bot).guild.get_thread(thread.id) is not None, "the thread")
        cached = me(bot).guild.get_thread(thread.id)
        assert cached is not None
        fake_thread = fake_discord.channel(thread.id)
        assert cached.permissions_for(me(bot)).value == fake_thread.permissions_for(bot_member)
        # In the thread SEND_MESSAGES_IN_THREADS is what counts: denied, it takes files and embeds along.
        assert not fake_thread.allows(bot_member, perms.ATTACH_FILES)
        assert fake_thread.allows(bot_member, perms.ADD_REACTIONS)
    finally:
        await stop_tiny_bot(bot, task)
        restore()


async def test_parent_overwrite_refuses_posting_in_its_thread(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    general = text_channel(tiny_bot, world.general.id)
    started = await general.send("starting")
    thread = await started.create_thread(name="job 1")
    await thread.send("first update")
    await fake_discord.update_thread(fake_discord.channel(thread.id), archived=True)
    # A moderator takes "Send Messages in Threads" from everyone in #general: the thread follows its parent.
    await fake_discord.set_overwrite(world.general, world.guild.everyone_role, deny=perms.SEND_MESSAGES_IN_THREADS)
    await until(lambda: not thread.permissions_for(me(tiny_bot)).send_messages_in_threads, "the parent's overwrite")

    with pytest.raises(discord.Forbidden) as caught:
        await thread.send("the video")
    assert caught.value.code == 50013
    assert [m.content for m in fake_discord.messages(thread.id)] == ["first update"]
    assert fake_discord.channel(thread.id).archived  # a refused send does not unarchive it
    await general.send("the channel itself is still open")  # SEND_MESSAGES is untouched

    await fake_discord.remove_overwrite(world.general, world.guild.everyone_role)
    await until(lambda: thread.permissions_for(me(tiny_bot)).send_messages_in_threads, "the overwrite removed")
    await thread.send("the video")
    assert not fake_discord.channel(thread.id).archived


async def test_without_send_messages_the_bot_still_answers_interactions_and_edits(
    fake_discord: FakeDiscord, tiny_bot: TinyBot
) -> None:
    world = fake_discord.world
    general = text_channel(tiny_bot, world.general.id)
    earlier = await general.send("queued")
    await fake_discord.set_overwrite(world.general, fake_discord.bot_member(world.guild), deny=perms.SEND_MESSAGES)
    await until(lambda: not general.permissions_for(me(tiny_bot)).send_messages, "the overwrite")
    with pytest.raises(discord.Forbidden) as caught:
        await general.send("refused")
    assert caught.value.code == 50013
    await earlier.edit(content="done")  # editing its own message needs only View Channel
    interaction = await invoke(fake_discord, tiny_bot, world.alice, world.general)
    assert not interaction.app_permissions.send_messages
    await interaction.followup.send("answers go through the interaction, not the channel")
    texts = [m.content for m in fake_discord.messages(world.general)]
    assert texts == ["done", "answers go through the interaction, not the channel"]


async def test_attach_files_denied_refuses_a_file_not_text(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    general = text_channel(tiny_bot, world.general.id)
    await fake_discord.set_overwrite(world.general, fake_discord.bot_role(world.guild), deny=perms.ATTACH_FILES)
    await until(lambda: not general.permissions_for(me(tiny_bot)).attach_files, "the overwrite")
    with pytest.raises(discord.Forbidden) as caught:
        await general.send("here it is", file=discord.File(io.BytesIO(b"mp4"), "video.mp4"))
    assert caught.value.code == 50013
    await general.send("the video is too big to attach: here is a link")
    assert [m.content for m in fake_discord.messages(world.general)] == [
        "the video is too big to attach: here is a link"
    ]
    forum = tiny_bot.get_channel(world.forum.id)
    assert isinstance(forum, discord.ForumChannel)
    await forum.create_thread(name="files allowed in the forum", file=discord.File(io.BytesIO(b"mp4"), "v.mp4"))


async def test_history_without_read_message_history_is_empty(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    general = text_channel(tiny_bot, world.general.id)
    sent = await general.send("one")
    await fake_discord.member_says(world.alice, world.general, "two")
    assert len([m async for m in general.history(limit=10)]) == 2
    await fake_discord.set_overwrite(world.general, world.guild.everyone_role, deny=perms.READ_MESSAGE_HISTORY)
    assert [m async for m in general.history(limit=10)] == []  # Discord answers no messages, not an error
    with pytest.raises(discord.Forbidden) as caught:
        await general.fetch_message(sent.id)
    assert caught.value.code == 50013
    assert len(fake_discord.messages(world.general)) == 2  # nothing was lost, only hidden


async def test_no_view_channel_is_missing_access_and_hides_its_messages(
    fake_discord: FakeDiscord, tiny_bot: TinyBot, http: aiohttp.ClientSession
) -> None:
    world = fake_discord.world
    secret = world.guild.add_text_channel("mods-only")
    await fake_discord.set_overwrite(secret, world.guild.everyone_role, deny=perms.VIEW_CHANNEL)
    await fake_discord.set_overwrite(secret, world.moderators, allow=perms.VIEW_CHANNEL)
    await until(lambda: tiny_bot.get_channel(secret.id) is not None, "the channel")
    channel = text_channel(tiny_bot, secret.id)
    await until(lambda: not channel.permissions_for(me(tiny_bot)).view_channel, "the overwrite")
    assert channel.permissions_for(me(tiny_bot)).value == secret.permissions_for(fake_discord.bot_member(world.guild))

    for method, path in [("GET", ""), ("GET", "/messages"), ("POST", "/messages")]:
        body = {"content": "x"} if method == "POST" else None
        async with http.request(method, f"{API}/channels/{secret.id}{path}", json=body) as resp:
            assert await answer(resp) == (403, {"code": 50001, "message": "Missing Access"}), (method, path)

    hidden = await fake_discord.member_says(world.mod, secret, "mods talk")
    visible = await fake_discord.member_says(world.mod, world.general, "in general")
    await tiny_bot.wait_seen(visible.id)  # events are ordered: the hidden one would have come first
    assert hidden.id not in [m.id for m in tiny_bot.seen_messages]
    with pytest.raises(FakeUsageError, match="cannot see channel 'mods-only'"):
        await fake_discord.slash(world.alice, "later", channel=secret)


async def test_deleted_thread_and_channel_are_unknown(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    general = text_channel(tiny_bot, world.general.id)
    started = await general.send("job")
    thread = await started.create_thread(name="job thread")
    await thread.send("40%")
    await fake_discord.delete_channel(fake_discord.channel(thread.id))
    await until(lambda: general.guild.get_thread(thread.id) is None, "THREAD_DELETE")
    with pytest.raises(discord.NotFound) as caught:
        await thread.send("the video")
    assert (caught.value.status, caught.value.code) == (404, 10003)
    with pytest.raises(discord.NotFound):
        await tiny_bot.fetch_channel(thread.id)
    assert [m.content for m in fake_discord.messages(thread.id)] == ["40%"]  # still observable by tests
    await started.create_thread(name="a new thread from the same message")

    doomed = world.guild.add_text_channel("doomed")
    await until(lambda: tiny_bot.get_channel(doomed.id) is not None, "CHANNEL_CREATE")
    await fake_discord.delete_channel(doomed)
    await until(lambda: tiny_bot.get_channel(doomed.id) is None, "CHANNEL_DELETE")
    with pytest.raises(discord.NotFound) as caught:
        await tiny_bot.http.send_message(doomed.id, params=discord.http.handle_message_parameters(content="x"))
    assert caught.value.code == 10003


async def test_locked_thread_and_role_permissions_reach_the_bot(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    general = text_channel(tiny_bot, world.general.id)
    thread = await (await general.send("job")).create_thread(name="job thread")
    await fake_discord.update_thread(fake_discord.channel(thread.id), locked=True)
    await until(lambda: getattr(general.guild.get_thread(thread.id), "locked", False), "THREAD_UPDATE")
    with pytest.raises(discord.Forbidden) as caught:
        await thread.send("the video")
    assert caught.value.code == 50083

    theirs = await fake_discord.member_says(world.alice, world.general, "spam")
    bot_role = fake_discord.bot_role(world.guild)
    await fake_discord.update_role(bot_role, permissions=bot_role.permissions & ~perms.MANAGE_MESSAGES)
    await until(lambda: not me(tiny_bot).guild_permissions.manage_messages, "GUILD_ROLE_UPDATE")
    with pytest.raises(discord.Forbidden) as caught:
        await general.get_partial_message(theirs.id).delete()
    assert caught.value.code == 50013
    assert not fake_discord.message(theirs.id).deleted


def test_administrator_and_owner_ignore_overwrites(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    admin = world.guild.add_member("admin", permissions=perms.ADMINISTRATOR)
    owner = world.guild.members[world.guild.owner_id]
    for member in (admin, owner):
        world.general.set_overwrite(member, deny=perms.VIEW_CHANNEL | perms.SEND_MESSAGES)
        assert world.general.permissions_for(member) == perms.ALL
    world.general.set_overwrite(world.alice, deny=perms.VIEW_CHANNEL)
    # Without View Channel only guild-level bits remain (and alice has none of those).
    assert world.general.permissions_for(world.alice) == 0
    world.general.set_overwrite(world.alice)  # a neutral overwrite replaces the deny
    assert world.general.permissions_for(world.alice) == perms.EVERYONE_DEFAULT
    thread = world.guild._add_channel(11, "t", parent_id=world.general.id)
    with pytest.raises(FakeUsageError, match="set them on its parent"):
        thread.set_overwrite(world.alice, deny=perms.SEND_MESSAGES)
    with pytest.raises(FakeUsageError, match="both allows and denies"):
        world.general.set_overwrite(world.alice, allow=perms.SEND_MESSAGES, deny=perms.SEND_MESSAGES)


async def test_private_threads_and_forum_posts_need_their_own_permissions(
    fake_discord: FakeDiscord, tiny_bot: TinyBot
) -> None:
    world = fake_discord.world
    bot_role = fake_discord.bot_role(world.guild)
    general = text_channel(tiny_bot, world.general.id)
    forum = tiny_bot.get_channel(world.forum.id)
    assert isinstance(forum, discord.ForumChannel)
    await fake_discord.set_overwrite(world.general, bot_role, deny=perms.CREATE_PRIVATE_THREADS)
    await fake_discord.set_overwrite(world.forum, world.guild.everyone_role, deny=perms.SEND_MESSAGES)
    await until(lambda: not forum.permissions_for(me(tiny_bot)).send_messages, "the forum's overwrite")
    with pytest.raises(discord.Forbidden) as caught:
        await general.create_thread(name="private job", type=discord.ChannelType.private_thread)
    assert caught.value.code == 50013
    with pytest.raises(discord.Forbidden) as caught:
        await forum.create_thread(name="a post", content="made by alice")
    assert caught.value.code == 50013
    assert fake_discord.threads(world.general) == [] and fake_discord.threads(world.forum) == []
    await general.create_thread(name="public is still allowed", type=discord.ChannelType.public_thread)
