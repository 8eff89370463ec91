"""Pictures the provider refused before, refused again before anything is spent or re-posted (issue 25, item 6).

The one hook of the intake path (bot/ui/intake.py `start_job`, every entry point): once a request's pictures are
prepared, and before its thread, card or job exists, its prompts and pictures are compared with what the provider
has refused for content, in any server (bot/strikes.py). The rule is Discord-free; this only hashes the pictures
in the image workers and words the refusal in the member's language.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from bot.i18n import t
from bot.media.fingerprint import dhashes
from bot.media.pool import WorkerLost, image_pool
from bot.media.problems import display_name
from bot.strikes import Kind, StrikeStore, flagged_match
from bot.ui.fit import quote
from bot.ui.replies import Refused

log = logging.getLogger("bot.intake")
FILENAME = 100  # a file name in the refusal


class Picture(Protocol):
    @property
    def filename(self) -> str: ...

    @property
    def data(self) -> bytes: ...


async def picture_hashes(pictures: Sequence[bytes]) -> list[int]:
    """The pictures' difference hashes, in an image worker (in a thread if the worker died)."""
    try:
        return await image_pool().run(dhashes, list(pictures))
    except WorkerLost:
        return await asyncio.to_thread(dhashes, list(pictures))


async def refuse_flagged(store: StrikeStore, prompts: Sequence[str | None], images: Sequence[Picture],
                         locale: str) -> None:
    """Raise Refused when this prompt, one of these pictures, or this prompt with these pictures was refused by the
    provider for its content before."""
    found = await flagged_match(store, prompts, lambda: picture_hashes([i.data for i in images]))
    if found is None:
        return
    log.info("a request met a flagged %s; refused before anything was sent", found.kind.value)
    if found.kind is Kind.PICTURE and found.picture is not None:
        name = quote(display_name(images[found.picture].filename), FILENAME)
        raise Refused(t("refuse.flagged_picture", locale, filename=name))
    raise Refused(t(f"refuse.flagged_{found.kind.value}", locale))
