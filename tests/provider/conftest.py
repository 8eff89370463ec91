"""Fixtures: a real fake provider on loopback, a real aiohttp session, a client with a tiny retry policy."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from PIL import Image

from bot.provider import RateLimiter, RetryPolicy, ViduClient
from tests.fakes.provider import FakeProvider

# Distinctive, so a leak is found by plain substring search.
API_KEY = "sk-live-SECRET-7f3a9c1e5b"
TINY_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


def image_bytes(width: int = 64, height: int = 48, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(buffer, format=fmt)
    return buffer.getvalue()


def data_uri(width: int = 64, height: int = 48, fmt: str = "PNG", mime: str | None = None) -> str:
    mime = mime or {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}.get(fmt, fmt.lower())
    encoded = base64.b64encode(image_bytes(width, height, fmt)).decode()
    return f"data:image/{mime};base64,{encoded}"


@pytest.fixture
async def fake() -> AsyncIterator[FakeProvider]:
    provider = FakeProvider(api_key=API_KEY)
    await provider.start()
    try:
        yield provider
    finally:
        await provider.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def limiter() -> RateLimiter:
    return RateLimiter(60_000)


@pytest.fixture
def client(fake: FakeProvider, session: aiohttp.ClientSession, limiter: RateLimiter) -> ViduClient:
    return ViduClient(session, base_url=fake.base_url, api_key=API_KEY, limiter=limiter, timeout=5.0, retry=TINY_RETRY)
