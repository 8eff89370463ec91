"""`python -m benchmarks.skewed_clock [bot args]`: the bot (`python -m bot`) on a host whose clock is off.

No knob in the bot: `bot.jobs.models.utcnow` (the clock every store, the worker and the database clock's
host side read, by `from bot.jobs.models import utcnow`) is replaced by one VIDU_SOAK_CLOCK_SKEW_SECONDS
ahead (negative: behind) the moment that module has run, before any other module imports it, then the bot
runs as `python -m bot` would. The soak benchmark launches one of its processes this way.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import runpy
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import ModuleType

SKEW = timedelta(seconds=float(os.environ.get("VIDU_SOAK_CLOCK_SKEW_SECONDS", "90")))


class _SkewModels(importlib.abc.MetaPathFinder):
    """Finds bot.jobs.models as usual, and skews its utcnow as soon as the module has been executed (from
    inside bot/jobs/__init__.py's first import, so before pg_store, db_clock, the worker... bind it)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None,
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "bot.jobs.models":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        run_module = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run_module(module)
            host: Callable[[], datetime] = module.utcnow

            def skewed() -> datetime:
                return host() + SKEW

            setattr(module, "utcnow", skewed)  # noqa: B010 - a module attribute the type checker cannot see

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def main() -> None:
    sys.meta_path.insert(0, _SkewModels())
    import bot.jobs.models  # first of all: the skewed utcnow is what every later import binds

    assert abs(bot.jobs.models.utcnow() - datetime.now(UTC) - SKEW) < timedelta(seconds=5)
    print(f"benchmarks.skewed_clock: this process's clock runs {SKEW.total_seconds():+.0f} s off", flush=True)
    sys.argv = ["bot", *sys.argv[1:]]
    runpy.run_module("bot", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
