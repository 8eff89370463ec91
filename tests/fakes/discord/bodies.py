"""Reading request bodies the way Discord does: JSON, or multipart/form-data with payload_json + files[n]."""

from __future__ import annotations

import asyncio
import io
import json
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .errors import DiscordAPIError, invalid_form_body


@dataclass
class UploadedFile:
    field: str  # "files[3]"
    index: int
    filename: str
    content: bytes
    content_type: str | None


@dataclass
class RequestBody:
    json: Any
    files: list[UploadedFile] = field(default_factory=list)
    multipart: bool = False


async def read_body(request: web.Request) -> RequestBody:
    if not request.can_read_body:
        return RequestBody(json=None)
    content_type = request.content_type
    if content_type == "application/json":
        try:
            return RequestBody(json=json.loads(await request.read()))
        except ValueError:
            raise DiscordAPIError(400, 50109, "The request body contains invalid JSON.") from None
    if content_type == "multipart/form-data":
        return await _read_multipart(request)
    raise DiscordAPIError(400, 50035, f"Invalid Form Body: unsupported Content-Type {content_type!r}")


async def _read_multipart(request: web.Request) -> RequestBody:
    reader = await request.multipart()
    payload: Any = None
    files: list[UploadedFile] = []
    while True:
        part = await reader.next()
        if part is None:
            break
        name = part.name or ""  # type: ignore[union-attr]
        data = await part.read()  # type: ignore[union-attr]
        if name == "payload_json":
            try:
                payload = json.loads(bytes(data))
            except ValueError:
                raise invalid_form_body("payload_json", "Not valid JSON.") from None
        elif name.startswith("files[") and name.endswith("]"):
            try:
                index = int(name[6:-1])
            except ValueError:
                raise invalid_form_body(name, "File field names look like files[n].") from None
            filename = part.filename or f"file{index}"  # type: ignore[union-attr]
            # Discord derives the type from the name; discord.py labels every part application/octet-stream.
            guessed = mimetypes.guess_type(filename)[0]
            files.append(UploadedFile(name, index, filename, bytes(data), guessed))
        elif name == "file":  # legacy single-file field
            filename = part.filename or "file"  # type: ignore[union-attr]
            files.append(UploadedFile(name, 0, filename, bytes(data), mimetypes.guess_type(filename)[0]))
        else:
            raise invalid_form_body(name, "Unknown form field.")
    return RequestBody(json=payload if payload is not None else {}, files=files, multipart=True)


def _image_size(content: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(content)) as image:
            return image.size
    except Exception:  # not an image Pillow knows: Discord then omits width/height too
        return None


async def image_size(content: bytes, content_type: str | None) -> tuple[int, int] | None:
    if not (content_type or "").startswith("image/"):
        return None
    return await asyncio.to_thread(_image_size, content)
