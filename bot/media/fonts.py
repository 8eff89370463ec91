"""The fonts of text in our pictures (storyboards, usage charts): Chinese and every other script members write.

Members write prompts and have names in any script; Pillow's built-in font draws Chinese as empty boxes.
The fonts come from the Python package index, never from the system, so `pip install` is all the set-up
and every machine draws the same: Kurinto Sans from weblate-fonts (Weblate's font collection, SIL Open
Font License 1.1). One TrueType font cannot hold every script (65,535 glyphs at most), so Kurinto comes in
parts, and each character is drawn with the first of these that has it:

- Kurinto Sans SC: Simplified and Traditional Chinese, Latin, Greek, Cyrillic;
- Kurinto Sans: Japanese kana, Arabic, Hebrew, Thai, Devanagari, symbols, …;
- Kurinto Sans KR: Korean Hangul.

Without those files (a broken install), the built-in font, and one warning in the log saying what to install.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from PIL import ImageDraw, ImageFont

log = logging.getLogger("bot.media.fonts")

FONT_PACKAGE = "weblate_fonts"
FONT_FILES = ("KurintoSansSC-Rg.ttf", "KurintoSans-Rg.ttf", "KurintoSansKR-Rg.ttf")  # in order of preference
_NO_SUCH_CHARACTER = "\U0010fffd"  # a private-use code point no font maps: its mask is the font's "missing" box

Face = ImageFont.FreeTypeFont | ImageFont.ImageFont
Colour = tuple[int, int, int]


@functools.cache
def font_paths() -> tuple[Path, ...]:
    """The font files, in order of preference (empty when the package is missing)."""
    try:
        folder = Path(str(resources.files(FONT_PACKAGE))) / "static" / "weblate_fonts" / "kurinto" / "ttf"
    except ModuleNotFoundError:
        folder = None
    paths = tuple(folder / name for name in FONT_FILES) if folder else ()
    found = tuple(path for path in paths if path.is_file())
    if len(found) < len(FONT_FILES):
        log.warning("fonts missing from the %s package (%s): text in pictures may show as boxes; "
                    "reinstall the bot (pip install .)", FONT_PACKAGE.replace("_", "-"),
                    ", ".join(name for name in FONT_FILES if folder is None or not (folder / name).is_file()))
    return found


@dataclass(frozen=True, eq=False)
class TextFont:
    """Text at one size in pixels; each character is drawn with the first face that has a glyph for it."""

    faces: Sequence[Face]
    size: int
    _choice: dict[str, int] = field(default_factory=dict, repr=False)

    def face_for(self, char: str) -> Face:
        return self.faces[self._face_index(char)]

    def runs(self, text: str) -> list[tuple[Face, str]]:
        """`text` cut into pieces that one face draws, in order."""
        out: list[tuple[int, str]] = []
        for char in text:
            index = self._face_index(char)
            if out and out[-1][0] == index:
                out[-1] = (index, out[-1][1] + char)
            else:
                out.append((index, char))
        return [(self.faces[index], piece) for index, piece in out]

    def getlength(self, text: str) -> float:
        return sum(face.getlength(piece) for face, piece in self.runs(text))

    def draw(self, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fill: Colour, *,
             centred: bool = False) -> None:
        """Draw `text` with its top-left at `xy` (its middle, when `centred`), as `ImageDraw.text` would, the
        pieces on one baseline. Every word in our pictures is drawn here (see `recording_text`)."""
        if (drawn := _drawn.get()) is not None:
            drawn.append(text)
        x, y = xy
        primary = self.faces[0]
        if not isinstance(primary, ImageFont.FreeTypeFont):  # the built-in bitmap font: one face only
            draw.text((x, y), text, font=primary, fill=fill, anchor="mm" if centred else None)
            return
        ascent, descent = primary.getmetrics()
        if centred:
            x, y = x - self.getlength(text) / 2, y - (ascent + descent) / 2
        baseline = y + ascent
        for face, piece in self.runs(text):
            draw.text((x, baseline), piece, font=face, fill=fill, anchor="ls")
            x += face.getlength(piece)

    def _face_index(self, char: str) -> int:
        index = self._choice.get(char)
        if index is None:
            index = next((n for n, face in enumerate(self.faces) if _has_glyph(face, char)), 0)
            self._choice[char] = index
        return index


def _has_glyph(face: Face, char: str) -> bool:
    if char.isspace() or not isinstance(face, ImageFont.FreeTypeFont):
        return True
    missing, drawn = face.getmask(_NO_SUCH_CHARACTER), face.getmask(char)
    return not (drawn.size == missing.size and bytes(drawn) == bytes(missing))




# The texts drawn in this context, when a caller records them (`recording_text`); None: nobody is listening.
_drawn: ContextVar[list[str] | None] = ContextVar("drawn_text", default=None)


@contextlib.contextmanager
def recording_text() -> Iterator[list[str]]:
    """Every text our pictures draw inside this block (in this thread or task, and the threads it starts with
    asyncio.to_thread), in order: what a picture says, read without OCR (tests/i18n checks its language)."""
    drawn: list[str] = []
    token = _drawn.set(drawn)
    try:
        yield drawn
    finally:
        _drawn.reset(token)


@functools.cache
def text_font(size: int) -> TextFont:
    """Our fonts at `size` pixels (cached: each size is loaded once per process)."""
    faces: list[Face] = []
    for path in font_paths():
        try:
            faces.append(ImageFont.truetype(str(path), size))
        except OSError as exc:
            log.warning("cannot load the font %s (%s)", path, exc)
    return TextFont(tuple(faces) or (ImageFont.load_default(size=size),), size)
