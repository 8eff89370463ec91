"""Member-side payloads: sub-command groups, resolved users/roles/channels/attachments, selects."""

from __future__ import annotations

import aiohttp
import pytest

from tests.fakes.discord import FakeDiscord, FakeUsageError, Upload

from .raw import callback, command, post_message, sync

QUOTA = {
    "name": "quota",
    "description": "Quotas",
    "type": 1,
    "options": [
        {"type": 1, "name": "show", "description": "Show", "options": [
            {"type": 6, "name": "member", "description": "Whose", "required": False},
        ]},
        {"type": 2, "name": "set", "description": "Set", "options": [
            {"type": 1, "name": "role", "description": "For a role", "options": [
                {"type": 8, "name": "role", "description": "Which", "required": True},
                {"type": 4, "name": "videos", "description": "How many", "required": True,
                 "min_value": 0, "max_value": 1000},
                {"type": 3, "name": "period", "description": "Per", "choices": [
                    {"name": "day", "value": "day"}, {"name": "week", "value": "week"}]},
                {"type": 7, "name": "channel", "description": "Where", "channel_types": [0]},
                {"type": 11, "name": "proof", "description": "A file"},
            ]},
        ]},
    ],
}  # fmt: skip


async def test_sub_command_group_with_resolved_options(http: aiohttp.ClientSession, fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert (await sync(http, fake_discord, [QUOTA]))[0] == 200
    ix = await fake_discord.slash(
        world.mod, "quota set role", channel=world.general,
        options={"role": world.moderators, "videos": 5, "period": "week", "channel": world.general,
                 "proof": Upload("p.png", b"png")},
    )  # fmt: skip
    data = ix.payload["data"]
    (group,) = data["options"]
    (sub,) = group["options"]
    assert (group["type"], group["name"], sub["type"], sub["name"]) == (2, "set", 1, "role")
    values = {o["name"]: o["value"] for o in sub["options"]}
    assert values["role"] == str(world.moderators.id) and values["videos"] == 5 and values["period"] == "week"
    assert data["resolved"]["roles"][values["role"]]["name"] == "Moderators"
    assert data["resolved"]["channels"][values["channel"]]["type"] == 0
    attachment = data["resolved"]["attachments"][values["proof"]]
    assert attachment["filename"] == "p.png" and attachment["size"] == 3 and "hm=" in attachment["url"]
    assert data["guild_id"] == str(world.guild.id) and ix.payload["member"]["permissions"] != "0"

    shown = await fake_discord.slash(world.alice, "quota show", channel=world.general, options={"member": world.bob})
    member_option = shown.payload["data"]["options"][0]["options"][0]
    assert shown.payload["data"]["resolved"]["members"][member_option["value"]]["roles"] == []

    with pytest.raises(FakeUsageError, match="needs a sub-command"):
        await fake_discord.slash(world.mod, "quota set", channel=world.general)
    with pytest.raises(FakeUsageError, match=r"within 0\.\.1000"):
        await fake_discord.slash(
            world.mod, "quota set role", channel=world.general, options={"role": world.moderators, "videos": 1001}
        )
    with pytest.raises(FakeUsageError, match="not one of the choices"):
        await fake_discord.slash(
            world.mod, "quota set role", channel=world.general,
            options={"role": world.moderators, "videos": 1, "period": "year"},
        )  # fmt: skip


async def test_select_menu_and_followup_fills_a_deferral(
    http: aiohttp.ClientSession, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert (await sync(http, fake_discord, [command()]))[0] == 200
    menu = {
        "type": 3,
        "custom_id": "res",
        "options": [{"label": "720p", "value": "720p"}, {"label": "1080p", "value": "1080p"}],
    }
    status, body = await post_message(
        http, world.general.id, {"content": "pick", "components": [{"type": 1, "components": [menu]}]}
    )
    assert status == 200
    message = fake_discord.message(int(body["id"]))
    picked = await fake_discord.select(world.alice, message, "res", ["1080p"])
    assert picked.payload["data"] == {"custom_id": "res", "component_type": 3, "values": ["1080p"]}
    assert picked.payload["message"]["id"] == str(message.id)
    with pytest.raises(FakeUsageError, match="no option"):
        await fake_discord.select(world.alice, message, "res", ["4k"])

    ix = await fake_discord.slash(world.alice, "animate", channel=world.general)
    assert (await callback(http, ix, {"type": 5, "data": {"flags": 64}}))[0] == 204
    thinking = fake_discord.message(ix.original_message_id)
    assert thinking.loading and thinking.ephemeral
    url = f"/api/v10/webhooks/{fake_discord.application_id}/{ix.token}?wait=true"
    async with http.post(url, json={"content": "on its way"}) as resp:
        assert resp.status == 200 and (await resp.json())["id"] == str(thinking.id)
    assert thinking.content == "on its way" and not thinking.loading and thinking.ephemeral
    async with http.post(url, json={"content": "second"}) as resp:
        second = await resp.json()
    assert second["id"] != str(thinking.id) and ix.followup_ids == [int(second["id"])]
