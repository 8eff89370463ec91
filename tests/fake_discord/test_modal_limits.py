"""Discord's length limits on a modal and on a select's options, enforced by the fake's own rules (a fake
without the OpenAPI document, so no schema check answers first): 400 50035 naming the field, no modal shown."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord import IS_COMPONENTS_V2, FakeDiscord, build_test_server

from .raw import callback, command, post_message, sync


def modal(**changes: Any) -> dict[str, Any]:
    """A modal at every limit; `changes` maps a dotted path in it to a new value."""
    body: dict[str, Any] = {"type": 9, "data": {"custom_id": "m" * 100, "title": "t" * 45, "components": [
        {"type": 18, "label": "l" * 45, "description": "d" * 100, "component": {
            "type": 4, "custom_id": "p", "style": 2, "placeholder": "p" * 100, "value": "v" * 4000}},
        {"type": 18, "label": "Resolution", "component": {
            "type": 3, "custom_id": "r", "placeholder": "s" * 150,
            "options": [{"label": "o" * 100, "value": f"{n:0>100}", "description": "x" * 100} for n in range(25)]}},
        {"type": 10, "content": "c" * 4000},
    ]}}  # fmt: skip
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = body
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
    return body


TOO_LONG = [
    ("data.title", "t" * 46),
    ("data.custom_id", "m" * 101),
    ("data.components.0.label", "l" * 46),
    ("data.components.0.description", "d" * 101),
    ("data.components.0.component.placeholder", "p" * 101),
    ("data.components.0.component.value", "v" * 4001),
    ("data.components.1.component.placeholder", "s" * 151),
    ("data.components.1.component.options.0.label", "o" * 101),
    ("data.components.1.component.options.0.description", "x" * 101),
    ("data.components.2.content", "c" * 4001),
]


@pytest.fixture
async def own_rules() -> AsyncIterator[tuple[FakeDiscord, aiohttp.ClientSession]]:
    async with FakeDiscord(openapi_path=None) as fake:
        fake.world = build_test_server(fake)
        headers = {"Authorization": f"Bot {fake.bot_token}"}
        async with aiohttp.ClientSession(base_url=fake.base_url, headers=headers) as http:
            assert (await sync(http, fake, [command()]))[0] == 200
            yield fake, http


async def test_a_modal_at_every_limit_is_shown(own_rules: tuple[FakeDiscord, aiohttp.ClientSession]) -> None:
    fake, http = own_rules
    ix = await fake.slash(fake.world.alice, "animate", channel=fake.world.general)
    assert (await callback(http, ix, modal()))[0] == 204 and ix.modal is not None


@pytest.mark.parametrize(("path", "value"), TOO_LONG, ids=[p for p, _ in TOO_LONG])
async def test_one_character_over_a_limit_is_refused(
    own_rules: tuple[FakeDiscord, aiohttp.ClientSession], path: str, value: str
) -> None:
    fake, http = own_rules
    ix = await fake.slash(fake.world.alice, "animate", channel=fake.world.general)
    status, body = await callback(http, ix, modal(**{path: value}))
    assert (status, body["code"]) == (400, 50035), body
    assert path in body["message"], body
    assert ix.modal is None and not ix.acknowledged


async def test_a_value_over_its_own_max_length_and_six_inputs_are_refused(
    own_rules: tuple[FakeDiscord, aiohttp.ClientSession],
) -> None:
    fake, http = own_rules
    capped = modal()
    capped["data"]["components"][0]["component"]["max_length"] = 10
    six = modal()
    six["data"]["components"] = [copy.deepcopy(six["data"]["components"][2]) for _ in range(6)]
    for body in (capped, six):
        ix = await fake.slash(fake.world.alice, "animate", channel=fake.world.general)
        assert (await callback(http, ix, body))[1]["code"] == 50035


async def test_a_message_select_follows_the_option_limits(own_rules: tuple[FakeDiscord, aiohttp.ClientSession]) -> None:
    fake, http = own_rules
    general = fake.world.general
    options = [{"label": "o" * 100, "value": "v" * 100}]
    select = {"type": 3, "custom_id": "s", "options": options}
    row = {"type": 1, "components": [select]}
    assert (await post_message(http, general.id, {"flags": IS_COMPONENTS_V2, "components": [row]}))[0] == 200
    options[0]["label"] = "o" * 101
    status, body = await post_message(http, general.id, {"flags": IS_COMPONENTS_V2, "components": [row]})
    assert (status, body["code"]) == (400, 50035) and "options.0.label" in body["message"]
    select["options"] = [{"label": "a", "value": str(n)} for n in range(26)]
    assert (await post_message(http, general.id, {"content": "x", "components": [row]}))[1]["code"] == 50035
