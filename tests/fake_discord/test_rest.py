"""The REST surface a bot of this kind uses, driven through discord.py's own objects."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import discord
import pytest

from tests.fakes.discord import FakeDiscord, FakeUsageError

from .tiny_bot import TinyBot


def _channel(bot: TinyBot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def _get(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.read()


async def test_cdn_urls_are_signed_and_expire(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    channel = _channel(tiny_bot, fake_discord.world.general.id)
    sent = await channel.send(file=discord.File(io.BytesIO(b"video bytes"), "clip.mp4"))
    url = sent.attachments[0].url
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"ex", "is", "hm"} and int(query["ex"][0], 16) > int(query["is"][0], 16)
    assert await _get(url) == (200, b"video bytes")
    assert await sent.attachments[0].read() == b"video bytes"

    tampered = url.split("?")[0] + "?" + urlencode({**{k: v[0] for k, v in query.items()}, "hm": "0" * 64})
    assert (await _get(tampered))[0] == 404
    assert (await _get(url.split("?")[0]))[0] == 404

    fake_discord.clock.advance(24 * 3600 + 1)
    assert (await _get(url))[0] == 404
    refetched = await channel.fetch_message(sent.id)  # Discord signs afresh on every fetch
    assert refetched.attachments[0].url != url
    assert await _get(refetched.attachments[0].url) == (200, b"video bytes")


async def test_forum_post_with_first_message_and_file(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    forum = tiny_bot.get_channel(fake_discord.world.forum.id)
    assert isinstance(forum, discord.ForumChannel)
    post = await forum.create_thread(
        name="A cat waves", content="made by alice", file=discord.File(io.BytesIO(b"mp4"), "cat.mp4")
    )
    (thread,) = fake_discord.threads(fake_discord.world.forum)
    assert thread.id == post.thread.id == post.message.id and thread.name == "A cat waves"
    (first,) = fake_discord.messages(thread)
    assert first.content == "made by alice" and first.attachments[0].content == b"mp4"
    with pytest.raises(discord.HTTPException) as caught:
        await tiny_bot.http.send_message(forum.id, params=discord.http.handle_message_parameters(content="no"))
    assert caught.value.code == 50008


async def test_private_thread_membership_and_visibility(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    general = _channel(tiny_bot, world.general.id)
    thread = await general.create_thread(name="alice's job", type=discord.ChannelType.private_thread, invitable=False)
    await thread.add_user(discord.Object(world.alice.id))
    stored = fake_discord.channel(thread.id)
    assert stored.type == 12 and not stored.invitable
    assert stored.visible_to(world.alice.id) and stored.visible_to(world.mod.id)  # mod: Manage Threads
    assert not stored.visible_to(world.bob.id)
    with pytest.raises(FakeUsageError, match="cannot see private thread"):
        await fake_discord.slash(world.bob, "later", channel=stored)
    fetched = await tiny_bot.fetch_channel(thread.id)
    assert isinstance(fetched, discord.Thread) and fetched.parent_id == world.general.id


async def test_edit_delete_react_history(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    channel = _channel(tiny_bot, fake_discord.world.general.id)
    sent = await channel.send("queued")
    await sent.edit(content="generating 40%")
    await sent.edit(content="done")
    await sent.add_reaction("✅")
    stored = fake_discord.message(sent.id)
    assert [e.content for e in stored.edits] == ["queued", "generating 40%"]
    assert stored.edited_at is not None and stored.edits[0].at <= stored.edits[1].at <= stored.edited_at
    assert stored.reactions == {"✅": {fake_discord.bot_user.id}}
    history = [m.content async for m in channel.history(limit=10)]
    assert history == ["done"]
    await sent.delete()
    assert fake_discord.messages(fake_discord.world.general) == []
    assert [m.content async for m in channel.history(limit=10)] == []


async def test_guild_and_member_lookups(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    guild = await tiny_bot.fetch_guild(world.guild.id)
    assert guild.name == "Test Server" and guild.premium_tier == 0 and guild.filesize_limit == 10 * 1024 * 1024
    mod = await guild.fetch_member(world.mod.id)
    assert [r.name for r in mod.roles if r.name != "@everyone"] == ["Moderators"]
    assert mod.guild_permissions.manage_guild
    cached = tiny_bot.get_guild(world.guild.id)
    # Without the GUILD_MEMBERS intent, GUILD_CREATE carries only the bot's own member, as on Discord.
    assert cached is not None and cached.me is not None and cached.get_member(world.bob.id) is None
    with pytest.raises(discord.NotFound) as caught:
        await guild.fetch_member(12345)
    assert caught.value.code == 10007


async def test_members_added_later_reach_the_bot(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    carol = world.guild.add_member("carol", locale="zh-CN", permissions=1 << 5)
    assert carol.has(1 << 5) and not world.alice.has(1 << 5)
    ix = await fake_discord.slash(carol, "later", channel=world.general)
    interaction = await tiny_bot.wait_pending(timeout=10)
    assert interaction.locale == discord.Locale.chinese and interaction.user.id == carol.id
    assert interaction.permissions.manage_guild and interaction.guild_locale == discord.Locale.american_english
    assert interaction.filesize_limit == 10 * 1024 * 1024 and ix.acknowledged


async def test_attachment_links_are_refreshed_only_for_files_the_cdn_still_holds(
    fake_discord: FakeDiscord, tiny_bot: TinyBot
) -> None:
    """POST /attachments/refresh-urls: an expired link comes back re-signed; a link elsewhere, or to a deleted
    message's file, is refused (400 Invalid Form Body naming the link)."""
    channel = _channel(tiny_bot, fake_discord.world.general.id)
    sent = await channel.send(file=discord.File(io.BytesIO(b"logo bytes"), "logo.png"))
    url = sent.attachments[0].url
    refresh = discord.http.Route("POST", "/attachments/refresh-urls")

    fake_discord.clock.advance(24 * 3600 + 1)
    assert (await _get(url))[0] == 404
    answer = await tiny_bot.http.request(refresh, json={"attachment_urls": [url]})
    ((original, fresh),) = ((r["original"], r["refreshed"]) for r in answer["refreshed_urls"])
    assert original == url and fresh != url and await _get(fresh) == (200, b"logo bytes")

    for wrong in ("https://example.com/logo.png", url.replace("logo.png", "other.png")):
        with pytest.raises(discord.HTTPException) as caught:
            await tiny_bot.http.request(refresh, json={"attachment_urls": [wrong]})
        assert caught.value.status == 400 and caught.value.code == 50035
    with pytest.raises(discord.HTTPException):
        await tiny_bot.http.request(refresh, json={"attachment_urls": []})

    await fake_discord.delete_message(fake_discord.message(sent.id))
    with pytest.raises(discord.HTTPException) as caught:
        await tiny_bot.http.request(refresh, json={"attachment_urls": [url]})
    assert caught.value.status == 400
    assert (await _get(fresh))[0] == 404
