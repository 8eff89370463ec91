"""The Screen interface and the screens the bot knows, by name (SAFETY_SCREENS picks among them).

A screen takes a picture's bytes and returns a Verdict. It runs in the image workers (bot/media/pool.py),
never on the event loop: ``screen_picture`` is the module-level function the pool pickles by name. Each
worker builds a screen once (a model loads in tens of milliseconds, then stays) and keeps it.

Whether a screen is installed is asked without importing it (its packages' specs only), so the bot
process never loads a model; a screen that is not installed is a fact the policy reads, not an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Verdict:
    screen: str  # the screen's name
    flagged: bool
    label: str  # what it saw most (a class of the model, or "marker"); "" when nothing
    score: float  # that label's confidence, 0..1


class Screen(Protocol):
    name: str

    def check(self, data: bytes) -> Verdict: ...


@dataclass(frozen=True)
class ScreenInfo:
    """What the bot process knows of a screen without loading it."""

    name: str
    sees: str  # one line for /config show, the README and `python -m bot check`
    installed: Callable[[], str | None]  # None when usable, else why not (e.g. "pip install '.[safety]'")
    build: Callable[[], Screen]  # in a worker only


def _nudenet_installed() -> str | None:
    from bot.safety import nudenet

    return nudenet.missing()


def _build_nudenet() -> Screen:
    from bot.safety import nudenet

    return nudenet.NudeNetScreen()


def _build_marker() -> Screen:
    from bot.safety import marker

    return marker.MarkerScreen()


SCREENS: dict[str, ScreenInfo] = {
    "nudenet": ScreenInfo("nudenet", "exposed nudity in a picture (NudeNet 320n, offline)",
                          _nudenet_installed, _build_nudenet),
    # The test seam: flags a picture carrying the marker a test draws into a benign picture. An operator never
    # needs it; end-to-end tests of the real bot process select it with SAFETY_SCREENS=marker.
    "marker": ScreenInfo("marker", "the test marker only (a magenta corner): for tests, never for a server",
                         lambda: None, _build_marker),
}


def installed_screens(names: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The configured screens that can run here, and each one that cannot with the reason."""
    usable: list[str] = []
    missing: dict[str, str] = {}
    for name in names:
        info = SCREENS.get(name)
        why = "unknown screen" if info is None else info.installed()
        if why is None:
            usable.append(name)
        else:
            missing[name] = why
    return tuple(usable), missing


_built: dict[str, Screen] = {}  # per worker process


def screen_picture(names: tuple[str, ...], data: bytes) -> Verdict | None:
    """Every named screen on one picture (in a worker): the first verdict that flags it, else None."""
    for name in names:
        screen = _built.get(name)
        if screen is None:
            screen = _built[name] = SCREENS[name].build()
        verdict = screen.check(data)
        if verdict.flagged:
            return verdict
    return None
