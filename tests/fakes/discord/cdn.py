"""The fake CDN: attachment bytes behind signed, expiring URLs like Discord's (``?ex=&is=&hm=``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import quote, unquote, urlsplit

from aiohttp import web

from .clock import FakeClock
from .models import StoredAttachment

URL_LIFETIME = 24 * 3600


class FakeCDN:
    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._secret = secrets.token_bytes(32)
        self._files: dict[int, StoredAttachment] = {}
        self.base_url = ""  # set once the server is listening
        self.downloads: list[int] = []  # attachment ids fetched with a valid URL, in order

    def store(self, attachment: StoredAttachment) -> None:
        self._files[attachment.id] = attachment

    def get(self, attachment_id: int) -> StoredAttachment | None:
        return self._files.get(attachment_id)

    def forget(self, attachment_id: int) -> None:
        """Its message was deleted: Discord no longer serves or refreshes it (links still valid may work a
        while on the real CDN; here they stop at once, the stricter case)."""
        self._files.pop(attachment_id, None)

    def attachment_at(self, url: str) -> StoredAttachment | None:
        """The attachment a CDN link (fresh or expired, signed or not) points to; None for anything else."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.base_url:
            return None
        segments = parts.path.split("/")
        if len(segments) != 5 or segments[1] != "attachments" or not (segments[2] + segments[3]).isdigit():
            return None
        attachment = self._files.get(int(segments[3]))
        if attachment is None or attachment.channel_id != int(segments[2]) or \
                attachment.filename != unquote(segments[4]):
            return None
        return attachment

    def _path(self, attachment: StoredAttachment) -> str:
        return f"/attachments/{attachment.channel_id}/{attachment.id}/{quote(attachment.filename)}"

    def _signature(self, path: str, ex: str, is_: str) -> str:
        return hmac.new(self._secret, f"{path}?{ex}&{is_}".encode(), hashlib.sha256).hexdigest()

    def signed_url(self, attachment: StoredAttachment) -> str:
        """A fresh URL valid for 24 h of the fake clock; Discord re-signs on every fetch too."""
        issued = int(self._clock.now())
        ex, is_ = f"{issued + URL_LIFETIME:x}", f"{issued:x}"
        path = self._path(attachment)
        return f"{self.base_url}{path}?ex={ex}&is={is_}&hm={self._signature(path, ex, is_)}&"

    async def handle(self, request: web.Request) -> web.Response:
        attachment = self._files.get(int(request.match_info["attachment_id"]))
        ex, is_, hm = (request.query.get(k, "") for k in ("ex", "is", "hm"))
        # Discord's CDN answers a bare 404 for unknown, unsigned, tampered or expired links alike.
        if attachment is None or not (ex and is_ and hm):
            raise web.HTTPNotFound(text="This content is no longer available.")
        expected = self._signature(self._path(attachment), ex, is_)
        if not hmac.compare_digest(expected, hm) or int(ex, 16) < self._clock.now():
            raise web.HTTPNotFound(text="This content is no longer available.")
        self.downloads.append(attachment.id)
        return web.Response(body=attachment.content, content_type=attachment.content_type or "application/octet-stream")
