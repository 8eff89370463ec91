"""A checked request held in a private message until its member decides (the storyboard preview's Start,
the cost confirmation's Go): its pictures live only in the view, in memory, for its lifetime, so a member
keeps a few open at most (one more closes their oldest, which they most likely left behind), and whatever
ends it (started, cancelled, replaced, timed out) frees them at once. A restart drops open ones: nobody has
paid for them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import discord

from bot.i18n import DEFAULT_LOCALE
from bot.ui.base import ViduView
from bot.ui.intake import CheckedImage

log = logging.getLogger("bot.ui.pending")


class PendingRequest(ViduView):
    """Subclasses say what ends it in words (`expired_text`, `replaced_text`) and post it (then `keep_open`)."""

    max_open_per_member: ClassVar[int] = 2
    _open: ClassVar[dict[int, list[PendingRequest]]]  # by member, oldest first; one registry per subclass

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._open = {}

    def __init__(self, owner_id: int, images: Sequence[CheckedImage], *, timeout: float,
                 locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.images: list[CheckedImage] = list(images)
        self.locale = locale
        self.expires_at = time.time() + timeout
        self.message: discord.WebhookMessage | None = None  # set once it is posted
        self._busy = asyncio.Lock()  # a double press must not start two jobs

    def expired_text(self) -> str:
        raise NotImplementedError

    def replaced_text(self) -> str:
        raise NotImplementedError

    async def keep_open(self) -> None:
        """Count this one among its member's open ones; close their oldest beyond `max_open_per_member`."""
        mine = self._open.setdefault(self.owner_id, [])
        mine.append(self)
        while len(mine) > self.max_open_per_member:
            oldest = next((p for p in mine if not p._busy.locked()), None)
            if oldest is None:  # every other one is starting a job right now: they leave by themselves
                break
            oldest.finish()
            await oldest.close_with(oldest.replaced_text())

    async def on_timeout(self) -> None:
        self._forget()
        await self.close_with(self.expired_text())

    async def close_with(self, text: str) -> None:
        """Say why it ended, in place of its picture and buttons."""
        if self.message is None:
            return
        try:
            await self.message.edit(content=text, attachments=[], view=None)
        except discord.HTTPException:
            log.warning("could not close %s for user %s", self.what, self.owner_id)

    def finish(self) -> None:
        self._forget()
        self.stop()

    def _forget(self) -> None:
        self.images = []  # free the pictures now rather than at the timeout
        mine = self._open.get(self.owner_id, [])
        if self in mine:
            mine.remove(self)
        if not mine:
            self._open.pop(self.owner_id, None)

    @classmethod
    def open_for(cls, owner_id: int) -> int:
        """How many a member has open in this process."""
        return len(cls._open.get(owner_id, ()))
