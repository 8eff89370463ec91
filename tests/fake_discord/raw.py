"""Plain-HTTP helpers for rule tests: things discord.py would refuse locally before Discord could."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import aiohttp

from tests.fakes.discord import FakeDiscord, InteractionRecord

API = "/api/v10"


async def answer(resp: aiohttp.ClientResponse) -> tuple[int, Any]:
    """Status and JSON body; asserts Discord's exact JSON content type when there is a body."""
    if resp.status == 204:
        return 204, None
    assert resp.headers["Content-Type"] == "application/json", resp.headers["Content-Type"]
    return resp.status, await resp.json()


async def sync(http: aiohttp.ClientSession, fake: FakeDiscord, commands: list[dict[str, Any]]) -> tuple[int, Any]:
    url = f"{API}/applications/{fake.application_id}/guilds/{fake.world.guild.id}/commands"
    async with http.put(url, json=commands) as resp:
        return await answer(resp)


def command(name: str = "animate", options: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"name": name, "description": "Turn a picture into a video", "type": 1, "options": options or []}


async def callback(http: aiohttp.ClientSession, ix: InteractionRecord, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post(f"{API}/interactions/{ix.id}/{ix.token}/callback", json=body) as resp:
        return await answer(resp)


async def post_message(
    http: aiohttp.ClientSession, channel_id: int, payload: dict[str, Any], files: Sequence[tuple[str, bytes]] = ()
) -> tuple[int, Any]:
    url = f"{API}/channels/{channel_id}/messages"
    if not files:
        async with http.post(url, json=payload) as resp:
            return await answer(resp)
    async with http.post(url, data=_form(payload, list(files))) as resp:
        return await answer(resp)


def _form(payload: dict[str, Any], files: list[tuple[str, bytes]]) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps(payload), content_type="application/json")
    for i, (name, content) in enumerate(files):
        form.add_field(f"files[{i}]", content, filename=name, content_type="application/octet-stream")
    return form


async def edit_message(
    http: aiohttp.ClientSession,
    channel_id: int,
    message_id: int,
    payload: dict[str, Any],
    files: Sequence[tuple[str, bytes]] = (),
) -> tuple[int, Any]:
    url = f"{API}/channels/{channel_id}/messages/{message_id}"
    async with http.patch(url, data=_form(payload, list(files))) as resp:
        return await answer(resp)
