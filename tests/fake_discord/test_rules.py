"""Each rule Discord enforces, failing the way Discord fails (status, JSON code)."""

from __future__ import annotations

import io

import discord
import pytest

from tests.fakes.discord import IS_COMPONENTS_V2, FakeDiscord, Upload
from tests.fakes.discord.openapi import find_openapi_document

from .raw import API, answer, callback, command, post_message, sync
from .tiny_bot import TinyBot

MIB = 1024 * 1024


@pytest.fixture
async def synced(http, fake_discord: FakeDiscord) -> None:
    status, _ = await sync(
        http, fake_discord,
        [command(options=[{"type": 3, "name": "prompt", "description": "What happens", "required": True}])],
    )  # fmt: skip
    assert status == 200


async def test_unanswered_for_3_real_seconds_is_unknown_interaction(
    fake_discord: FakeDiscord, tiny_bot: TinyBot
) -> None:
    tiny_bot.slow_seconds = 3.2
    ix = await fake_discord.slash(fake_discord.world.alice, "slow", channel=fake_discord.world.general)
    error = await tiny_bot.wait_error(timeout=10)
    assert isinstance(error, discord.NotFound) and error.code == 10062
    assert not ix.acknowledged and fake_discord.messages(fake_discord.world.general) == []


async def test_deadline_follows_the_test_clock(http, fake_discord: FakeDiscord, synced: None) -> None:
    world = fake_discord.world
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general, options={"prompt": "x"})
    fake_discord.clock.advance(3.5)
    assert await callback(http, ix, {"type": 5}) == (404, {"code": 10062, "message": "Unknown interaction"})


async def test_second_acknowledgement_is_40060(http, fake_discord: FakeDiscord, synced: None) -> None:
    world = fake_discord.world
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general, options={"prompt": "x"})
    assert (await callback(http, ix, {"type": 4, "data": {"content": "one"}}))[0] == 204
    status, body = await callback(http, ix, {"type": 4, "data": {"content": "two"}})
    assert (status, body["code"]) == (400, 40060)
    assert [m.content for m in fake_discord.messages(world.general)] == ["one"]


async def test_modal_only_as_the_first_response(http, fake_discord: FakeDiscord, synced: None) -> None:
    world = fake_discord.world
    modal = {
        "type": 9,
        "data": {"custom_id": "m", "title": "Prompt", "components": [
            {"type": 18, "label": "Prompt", "component": {"type": 4, "custom_id": "p", "style": 1}},
        ]},
    }  # fmt: skip
    deferred = await fake_discord.slash(world.alice, "animate", channel=world.general, options={"prompt": "x"})
    assert (await callback(http, deferred, {"type": 5}))[0] == 204
    status, body = await callback(http, deferred, modal)
    assert (status, body["code"]) == (400, 40060)

    first = await fake_discord.slash(world.alice, "animate", channel=world.general, options={"prompt": "x"})
    assert (await callback(http, first, modal))[0] == 204
    submitted = await fake_discord.submit_modal(world.alice, first, {"p": "a cat"})
    assert submitted.payload["data"]["components"][0]["component"]["value"] == "a cat"
    status, body = await callback(http, submitted, modal)  # a modal cannot answer a modal
    assert (status, body["code"]) == (400, 50035)


async def test_interaction_token_dies_after_15_minutes(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    world = fake_discord.world
    await fake_discord.slash(world.alice, "later", channel=world.general)
    interaction: discord.Interaction = await tiny_bot.wait_pending(timeout=10)
    early = await interaction.followup.send("still in time", wait=True)
    assert early.content == "still in time"

    fake_discord.clock.advance(15 * 60 + 1)
    with pytest.raises(discord.HTTPException) as followup:
        await interaction.followup.send("too late")
    with pytest.raises(discord.HTTPException) as edit:
        await interaction.edit_original_response(content="too late")
    for caught in (followup.value, edit.value):
        assert (caught.status, caught.code) == (401, 50027)


async def test_upload_limit_follows_boost_tier(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    channel = tiny_bot.get_channel(fake_discord.world.general.id)
    assert isinstance(channel, discord.TextChannel)
    at_limit = await channel.send(file=discord.File(_bytes(10 * MIB), "ok.bin"))
    assert at_limit.attachments[0].size == 10 * MIB
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(file=discord.File(_bytes(10 * MIB + 1), "big.bin"))
    assert (caught.value.status, caught.value.code) == (413, 40005)

    await fake_discord.update_guild(fake_discord.world.guild, premium_tier=2)
    bigger = await channel.send(file=discord.File(_bytes(10 * MIB + 1), "big.bin"))
    assert bigger.attachments[0].size == 10 * MIB + 1
    if channel.guild.premium_tier != 2:  # the cache updates before listeners run, so no event can slip by
        await tiny_bot.wait_for("guild_update", timeout=5)
    assert channel.guild.filesize_limit == 50 * MIB  # GUILD_UPDATE reached discord.py


async def test_more_than_10_files_is_refused(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    channel = tiny_bot.get_channel(fake_discord.world.general.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(files=[discord.File(_bytes(5), f"{i}.bin") for i in range(11)])
    assert (caught.value.status, caught.value.code) == (400, 50035)
    ten = await channel.send(files=[discord.File(_bytes(5), f"{i}.bin") for i in range(10)])
    assert len(ten.attachments) == 10


async def test_content_over_2000_characters_is_refused(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    channel = tiny_bot.get_channel(fake_discord.world.general.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("x" * 2001)
    assert (caught.value.status, caught.value.code) == (400, 50035)
    assert len((await channel.send("字" * 2000)).content) == 2000


async def test_components_v2_rules(http, fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    general = fake_discord.world.general
    text = {"type": 10, "content": "hello"}
    status, body = await post_message(
        http, general.id, {"flags": IS_COMPONENTS_V2, "content": "hi", "components": [text]}
    )
    assert (status, body["code"]) == (400, 50035)
    status, body = await post_message(
        http, general.id, {"flags": IS_COMPONENTS_V2, "components": [{"type": 17, "components": [text] * 40}]}
    )
    assert (status, body["code"]) == (400, 50035) and "41" in body["message"]
    status, _ = await post_message(http, general.id, {"components": [text]})  # v2 component without the flag
    assert status == 400

    class Card(discord.ui.LayoutView):
        box: discord.ui.Container[Card] = discord.ui.Container(discord.ui.TextDisplay("queued"))

    channel = tiny_bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)
    card = await channel.send(view=Card())
    stored = fake_discord.message(card.id)
    assert stored.flags & IS_COMPONENTS_V2 and stored.text() == "queued"


async def test_more_than_25_options_fails_the_sync(http, fake_discord: FakeDiscord) -> None:
    options = [{"type": 3, "name": f"o{i}", "description": "d"} for i in range(26)]
    status, body = await sync(http, fake_discord, [command(options=options)])
    assert (status, body["code"]) == (400, 50035)
    assert body["errors"]["0"]["options"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert fake_discord.commands.list(fake_discord.world.guild.id) == []
    for bad in (
        command(name="Animate"),
        {**command(), "description": "d" * 101},
        command(options=[{"type": 3, "name": "p", "description": "d", "choices": [{"name": "a", "value": 1}]}]),
        {**command(), "name_localizations": {"xx-XX": "animer"}},
        command(
            options=[
                {"type": 3, "name": "a", "description": "d"},
                {"type": 3, "name": "b", "description": "d", "required": True},
            ]
        ),
    ):
        status, body = await sync(http, fake_discord, [bad])
        assert (status, body["code"]) == (400, 50035), bad
    # A wrongly typed choice is a bug in the request itself, so it is also recorded as a schema violation
    # (when Discord's OpenAPI document is beside the checkout to check against).
    if fake_discord.openapi.enabled:
        assert [v.error for v in fake_discord.violations] == [
            "0.options.0.choices.0.value: 1 is not of type 'string'"]
    fake_discord.violations.clear()


async def test_429_then_success_after_retry_after(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    fake_discord.rate_limit_next("POST /channels/{channel_id}/messages", retry_after=0.3)
    channel = tiny_bot.get_channel(fake_discord.world.general.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("after a wait")
    assert [(h.route, h.retry_after) for h in fake_discord.rate_limited] == [("/channels/{channel_id}/messages", 0.3)]
    assert [m.id for m in fake_discord.messages(fake_discord.world.general)] == [sent.id]  # sent exactly once


async def test_429_answer_carries_discords_headers(http, fake_discord: FakeDiscord) -> None:
    fake_discord.rate_limit_next("GET /users/@me", retry_after=1.5, is_global=True)
    async with http.get(f"{API}/users/@me") as resp:
        status, body = await answer(resp)
        assert resp.headers["X-RateLimit-Global"] == "true" and resp.headers["Retry-After"] == "2"
    assert status == 429 and body["retry_after"] == 1.5 and body["global"] is True
    async with http.get(f"{API}/users/@me") as resp:
        assert resp.status == 200 and int(resp.headers["X-RateLimit-Remaining"]) > 0


@pytest.mark.skipif(find_openapi_document() is None, reason="../shared/discord-openapi.json is not beside the checkout")
async def test_openapi_violation_is_answered_and_recorded(http, fake_discord: FakeDiscord) -> None:
    general = fake_discord.world.general
    status, body = await post_message(http, general.id, {"content": "hi", "embeds": [{"title": 5}]})
    assert (status, body["code"]) == (400, 50035) and "embeds.0.title" in body["message"]
    assert [str(v) for v in fake_discord.violations] == [
        "POST /channels/{channel_id}/messages: embeds.0.title: 5 is not of type 'string', 'null'"
    ]
    status, _ = await post_message(http, general.id, {"content": "x"}, files=[("a.png", b"1")])
    assert status == 200  # multipart payload_json with integer-less attachments is fine
    fake_discord.violations.clear()  # seen; the fixture would otherwise fail this test at teardown


async def test_enforced_nonce_returns_the_first_message(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    channel = tiny_bot.get_channel(fake_discord.world.general.id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("once", nonce="job-42")
    again = await channel.send("once more", nonce="job-42")
    assert again.id == first.id
    assert [m.content for m in fake_discord.messages(fake_discord.world.general)] == ["once"]


async def test_ephemeral_reply_is_seen_only_by_its_member(http, fake_discord: FakeDiscord, synced: None) -> None:
    world = fake_discord.world
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general, options={"prompt": "x"})
    assert (await callback(http, ix, {"type": 4, "data": {"content": "only you", "flags": 64}}))[0] == 204
    assert [m.content for m in fake_discord.messages(world.general, as_member=world.alice)] == ["only you"]
    assert fake_discord.messages(world.general, as_member=world.bob) == []
    sent_events = [f["t"] for s in fake_discord.gateway.sessions.values() for f in s.sent]
    assert "MESSAGE_CREATE" not in sent_events


def _bytes(n: int) -> io.BytesIO:
    return io.BytesIO(b"\0" * n)


async def test_wait_for_message_timeout_lists_what_was_seen(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    await fake_discord.member_says(world.bob, world.general, "hello there", files=[Upload("a.txt", b"a")])
    with pytest.raises(TimeoutError, match=r"(?s)bob: 'hello there'.*files=\['a.txt'\]"):
        await fake_discord.wait_for_message(world.general, lambda m: "video" in m.content, timeout=0.2)


async def test_smaller_rules(http, fake_discord: FakeDiscord, synced: None) -> None:
    world = fake_discord.world
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general, options={"prompt": "x"})
    webhook = f"{API}/webhooks/{fake_discord.application_id}/{ix.token}"
    async with http.post(webhook, json={"content": "too early"}) as resp:
        assert (await answer(resp))[1]["code"] == 10015  # no followup before the acknowledgement
    assert (await callback(http, ix, {"type": 7, "data": {"content": "x"}}))[1]["code"] == 50035  # not a component
    assert (await callback(http, ix, {"type": 4, "data": {"content": "card"}}))[0] == 204
    original = fake_discord.message(ix.original_message_id)

    status, body = await post_message(http, world.general.id, {"content": "   "})
    assert (status, body["code"]) == (400, 50006)
    thread_url = f"{API}/channels/{world.general.id}/messages/{original.id}/threads"
    async with http.post(thread_url, json={"name": "job"}) as resp:
        assert resp.status == 201
    async with http.post(thread_url, json={"name": "again"}) as resp:
        assert (await answer(resp))[1]["code"] == 160004

    # After the token is gone the bot can still edit its response through the channel route.
    fake_discord.clock.advance(16 * 60)
    edit_url = f"{API}/channels/{world.general.id}/messages/{original.id}"
    async with http.patch(edit_url, json={"content": "card (done)"}) as resp:
        assert resp.status == 200 and original.content == "card (done)"
    async with http.delete(f"{webhook}/messages/@original") as resp:
        assert (await answer(resp))[1]["code"] == 50027
    said = await fake_discord.member_says(world.bob, world.general, "mine")
    async with http.patch(f"{API}/channels/{world.general.id}/messages/{said.id}", json={"content": "x"}) as resp:
        assert (await answer(resp))[1]["code"] == 50005
