"""Streaming a finished video to disk, and telling a video from anything else a host may send."""

from __future__ import annotations

import asyncio
import pathlib
from typing import IO

import aiohttp

from bot.provider.errors import VideoTooLarge

DOWNLOAD_CHUNK = 64 * 1024
WRITE_BATCH = 1024 * 1024  # one thread hop per MiB, not per network chunk


def head_of(path: pathlib.Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(12)


def is_video(head: bytes) -> bool:
    """What the provider's tasks hand out: MP4 (an ISO media file: `ftyp` box first) or GIF."""
    return head[4:8] == b"ftyp" or head[:6] in (b"GIF87a", b"GIF89a")


async def stream_to_file(resp: aiohttp.ClientResponse, partial: pathlib.Path, max_bytes: int) -> int:
    handle: IO[bytes] = await asyncio.to_thread(partial.open, "wb")
    written = 0
    pending: list[bytes] = []
    pending_size = 0
    try:
        async for chunk in resp.content.iter_chunked(DOWNLOAD_CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise VideoTooLarge(f"the video is more than the {max_bytes} bytes allowed")
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= WRITE_BATCH:
                await asyncio.to_thread(handle.write, b"".join(pending))
                pending, pending_size = [], 0
        if pending:
            await asyncio.to_thread(handle.write, b"".join(pending))
    finally:
        await asyncio.to_thread(handle.close)
    return written
