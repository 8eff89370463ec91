"""Discord's 503: "no gateway was available to process your request; wait a bit and retry" (its docs).
discord.py retries 500, 502, 504 and 524 itself, not 503, so one bad moment at Discord's edge failed a
member's whole request (the chaos soak saw 36 in 30 minutes). The request never reached Discord's backend,
so sending it again posts nothing twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import discord

log = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 3
FIRST_WAIT_SECONDS = 0.5  # then 1 s: well inside the 15 minutes an interaction's answer may take


async def retrying_unavailable(what: str, call: Callable[[], Awaitable[T]]) -> T:
    """`call()`, again after a short wait when Discord answers 503 (at most ATTEMPTS tries in all)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await call()
        except discord.DiscordServerError as error:
            if error.status != 503 or attempt == ATTEMPTS:
                raise
            wait = FIRST_WAIT_SECONDS * 2 ** (attempt - 1)
            log.warning("%s: Discord answered 503 (try %d of %d); again in %.1f s", what, attempt, ATTEMPTS, wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises
