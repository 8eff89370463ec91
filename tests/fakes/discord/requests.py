"""Shared request helpers for the routes: bot authentication, snowflake path params, checked bodies."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .bodies import RequestBody, read_body
from .errors import DiscordAPIError, invalid_form_body
from .openapi import Violation

if TYPE_CHECKING:
    from .fake import FakeDiscord

API_PREFIX = "/api/v10"


def require_bot(fake: FakeDiscord, request: web.Request) -> None:
    header = request.headers.get("Authorization", "")
    if not secrets.compare_digest(header, f"Bot {fake.bot_token}"):
        raise DiscordAPIError(401, 0, "401: Unauthorized")


def snowflake(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit():
        raise invalid_form_body(name, f"Value {raw!r} is not snowflake.", "NUMBER_TYPE_COERCE")
    return int(raw)


def spec_route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    assert resource is not None
    return resource.canonical.removeprefix(API_PREFIX)


async def checked_body(fake: FakeDiscord, request: web.Request) -> RequestBody:
    """Read the body and hold it against Discord's OpenAPI schema for this operation.

    A violation answers 400 50035 like Discord would. Shape errors (a bug in how the request was built)
    are also recorded so the test fails at teardown; limit errors (11 files, 26 options) are not, since
    user input can trip them in a correct bot that then handles the 400.
    """
    body = await read_body(request)
    route = spec_route(request)
    error = await fake.openapi.check_async(request.method, route, body.json)
    if error is None:
        return body
    if not error.is_limit:
        fake.record_violation(Violation(request.method, route, str(error), body.json))
    code = "BASE_TYPE_MAX_LENGTH" if error.is_limit else "BASE_TYPE_INVALID"
    raise invalid_form_body(error.path, f"{error.message} (OpenAPI)", code)


def json_object(body: RequestBody) -> dict[str, Any]:
    if not isinstance(body.json, dict):
        raise invalid_form_body("", "Must be a JSON object.", "DICT_TYPE_CONVERT")
    return body.json
