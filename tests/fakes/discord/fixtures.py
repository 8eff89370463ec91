"""pytest fixtures for the fake Discord (imported by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .fake import FakeDiscord
from .world import build_test_server


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started fake Discord holding "Test Server" (see ``fake.world``); fails the test on any request
    body that broke Discord's OpenAPI schema, even if the code under test swallowed the 400."""
    fake = FakeDiscord()
    fake.world = build_test_server(fake)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    if fake.violations:
        pytest.fail(
            "requests that break Discord's OpenAPI schema:\n" + "\n".join(f"  {v}" for v in fake.violations),
            pytrace=False,
        )
