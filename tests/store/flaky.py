"""A real store whose database goes away for chosen calls, to put an outage at an exact step of the job loop.

Stopping PostgreSQL or locking an SQLite file (tests/ops/test_database_outage.py, tests/jobs/
test_database_outage.py) shows an outage as it happens, but cannot pick "the read of this job's inputs, after its
claim" or "the write that returns it to the queue, after a 429". This wrapper can: every call reaches the real
store, except a planned one, which raises what the store raises when its database is away (`DatabaseUnavailable`
around a connection error) either before it reaches the database, or after it committed (the answer lost on its
way back, as when the connection drops while COMMIT is in flight: the one outage that leaves a write done).
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.jobs.outage import DatabaseUnavailable


@dataclass
class Blip:
    after_commit: bool
    skip: int  # calls of the method that still go through first


class FlakyDatabase:
    def __init__(self, store: Any) -> None:
        self.store = store
        self._blips: dict[str, list[Blip]] = defaultdict(list)
        self.failed: list[str] = []  # "method" or "method (after commit)", in order

    def fail(self, method: str, *, skip: int = 0, after_commit: bool = False) -> None:
        """Make the database go away for the call of `method` that comes after `skip` more of them."""
        if not inspect.iscoroutinefunction(getattr(self.store, method, None)):
            raise ValueError(f"the store has no coroutine method {method!r}")
        self._blips[method].append(Blip(after_commit, skip))

    def pending(self) -> int:
        return sum(len(blips) for blips in self._blips.values())

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.store, name)
        if name not in self._blips:
            return attribute
        return self._flaky(name, attribute)

    def _flaky(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            blips = self._blips[name]
            blip = blips[0] if blips else None
            if blip is not None and blip.skip > 0:
                blip.skip -= 1
                blip = None
            if blip is None:
                return await method(*args, **kwargs)
            blips.pop(0)
            if not blips:
                del self._blips[name]
            if blip.after_commit:
                await method(*args, **kwargs)
            self.failed.append(f"{name} (after commit)" if blip.after_commit else name)
            raise DatabaseUnavailable("the test's database", ConnectionResetError(f"connection lost during {name}"))

        return call
