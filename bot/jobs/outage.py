"""The database being away, told apart from everything else that can go wrong.

A stopped PostgreSQL, a dropped connection or an unreadable SQLite file is not a bug: the member is told
"temporarily unavailable, nothing was charged" instead of an error id, the job loop waits quietly and
resumes by itself, and /healthz says why meanwhile. Each store names what an outage looks like for its
driver (`outage_errors`); `translate_outages` makes every public method of the store raise
`DatabaseUnavailable` for those, so the rest of the bot needs no driver's exception types.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from bot.jobs.store import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T", bound=type)

FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 30.0


class DatabaseUnavailable(StoreError):
    """The database did not answer (stopped, unreachable, out of connections or disk). Nothing the call
    would have written was written, except possibly a transaction whose COMMIT was in flight."""

    def __init__(self, where: str, cause: BaseException) -> None:
        super().__init__(f"the database ({where}) is unavailable ({type(cause).__name__})")


def is_database_outage(error: BaseException | None) -> bool:
    """Whether `error`, or what it was raised from, is the database being away."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, DatabaseUnavailable):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def translate_outages(is_outage: Callable[[BaseException], bool]) -> Callable[[T], T]:
    """Class decorator: every public coroutine method (its own and inherited) raises `DatabaseUnavailable`
    instead of an error `is_outage` recognises; `self._where` names the database."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        async def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, *args, **kwargs)
            except DatabaseUnavailable:
                raise
            except Exception as exc:
                if is_outage(exc):
                    raise DatabaseUnavailable(str(self._where), exc) from exc
                raise

        return guarded

    def decorate(cls: T) -> T:
        for name in dir(cls):
            if name.startswith("_") or name in ("open", "close"):
                continue  # open reports its own connect errors; close must not fail on a dead server
            method = inspect.getattr_static(cls, name)
            if inspect.iscoroutinefunction(method):
                setattr(cls, name, wrap(method))
        return cls

    return decorate


class DatabaseOutage:
    """One stretch of the database being away as a loop lives it: told once when it begins and once when it
    ends (not once a second), with the wait before each next try doubling from 1 s to 30 s."""

    def __init__(self, who: str, *, first_retry_seconds: float = FIRST_RETRY_SECONDS) -> None:
        self._who = who
        self._first_retry = first_retry_seconds
        self._since: float | None = None  # time.monotonic() of the first failure
        self._tries = 0
        self._error = ""

    def describe(self) -> str | None:
        """While it lasts: what failed and for how long (for /healthz); None otherwise."""
        if self._since is None:
            return None
        return f"{self._error} (for {time.monotonic() - self._since:.0f} s)"

    def failed(self, error: BaseException) -> float:
        """One more failed try; how long to wait before the next."""
        if self._since is None:
            self._since, self._tries = time.monotonic(), 0
            log.warning("%s: %s; waiting for it, nothing is lost", self._who, error)
        self._error = str(error)
        self._tries += 1
        return min(LONGEST_RETRY_SECONDS, self._first_retry * 2.0 ** (self._tries - 1))

    def ended(self) -> None:
        if self._since is not None:
            log.warning("%s: the database answers again after %.0f s; going on", self._who,
                        time.monotonic() - self._since)
        self._since = None
