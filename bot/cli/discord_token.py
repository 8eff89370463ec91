"""`python -m bot check`'s Discord part: is DISCORD_TOKEN accepted, and the invite link of its application.

One REST call (the application behind the token), with aiohttp: the command line does not import discord.py.
"""

from __future__ import annotations

import aiohttp

from bot.cli.common import EXIT_OPERATOR, EXIT_UNCERTAIN, CliError
from bot.config import Settings
from bot.discord_app import PERMISSIONS_INTEGER, invite_link
from bot.numbers import whole_number

DISCORD_API = "https://discord.com/api/v10"
TIMEOUT_SECONDS = 15


async def check_discord(settings: Settings) -> list[str]:
    """The lines `check` prints; CliError when Discord refuses the token (3) or cannot be asked (4)."""
    if not settings.discord_token:
        return ["skipped: DISCORD_TOKEN is not set (the bot needs it; with it, check prints the invite link)"]
    base = settings.discord_api_base or DISCORD_API
    url = f"{base}/oauth2/applications/@me"
    headers = {"Authorization": f"Bot {settings.discord_token.get()}"}
    try:
        async with aiohttp.ClientSession() as session, session.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        ) as resp:
            status = resp.status
            body = await resp.json(content_type=None) if status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise CliError(f"cannot reach Discord at {base} ({type(exc).__name__}): check the network or "
                       "DISCORD_API_BASE", EXIT_UNCERTAIN) from None
    if status == 401:
        raise CliError("DISCORD_TOKEN was refused by Discord (401): copy the bot's token again from the developer "
                       "portal (Bot, Reset Token)", EXIT_OPERATOR)
    application_id = whole_number(str(body.get("id", ""))) if isinstance(body, dict) else None
    if status != 200 or application_id is None:
        raise CliError(f"Discord answered HTTP {status} to {url}: try again later", EXIT_UNCERTAIN)
    name = str(body.get("name") or "?") if isinstance(body, dict) else "?"
    return [f"ok: DISCORD_TOKEN accepted (application {name!r}, id {application_id})",
            f"invite (scopes bot and applications.commands, permissions {PERMISSIONS_INTEGER}): "
            f"{invite_link(application_id)}"]
