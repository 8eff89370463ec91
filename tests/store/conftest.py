from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.jobs import JobStore
from tests.store.backends import BACKENDS, Backend, ManualClock, backend_params

OpenHandle = Callable[[], Awaitable[JobStore]]


@pytest.fixture(params=backend_params())
def backend(request: pytest.FixtureRequest) -> Backend:
    return BACKENDS[request.param]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def open_handle(backend: Backend, tmp_path: Path, clock: ManualClock) -> AsyncIterator[OpenHandle]:
    """Opens another handle on this test's database; every handle is closed at the end."""
    handles: list[JobStore] = []

    async def open_one() -> JobStore:
        handle = await backend.open(tmp_path, clock)
        handles.append(handle)
        return handle

    yield open_one
    for handle in handles:
        await handle.close()  # closing twice is allowed, so tests may close early
    # A PostgreSQL test's schema is dropped by the autouse fixture in tests/conftest.py.


@pytest.fixture
async def store(open_handle: OpenHandle) -> JobStore:
    return await open_handle()
