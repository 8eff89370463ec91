"""Play the session and write the page; what `python -m bot demo` runs."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
from pathlib import Path

DEFAULT_OUT = Path("vidu-demo.html")


def missing_requirement() -> str | None:
    """One line saying what to install, or None. The fakes' schema check and the picture screen come with the
    dev extra (the screen is in [safety], which [dev] includes)."""
    for module in ("jsonschema", "nudenet", "onnxruntime"):
        if importlib.util.find_spec(module) is None:
            return (f"the demo needs the dev extra ({module} is missing): "
                    "pip install -e '.[dev]' in the repository's folder")
    return None


async def _play(out: Path) -> Path:
    from demo.page import write_page
    from demo.session import play, started

    async with started() as session:
        await play(session)
        return await asyncio.to_thread(write_page, session.fake, out)


def main(out: Path | None = None) -> int:
    problem = missing_requirement()
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 3
    from demo.session import DemoError

    target = (out or DEFAULT_OUT).resolve()
    began = time.monotonic()
    print("demo: starting the fake Discord, the fake provider and the bot; playing the session (about 30 s)",
          flush=True)
    try:
        written = asyncio.run(_play(target))
    except DemoError as exc:
        print(f"error: the demo stopped: {exc}", file=sys.stderr)
        return 1
    print(f"demo: done in {time.monotonic() - began:.0f} s; the page: {written}")
    print(f"      open file://{written} in a browser")
    return 0
