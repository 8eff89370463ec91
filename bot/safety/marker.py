"""The test seam: a screen that flags exactly the pictures a test marked.

A test draws MARKER (a magenta square, an eighth of the shorter side) into the top-left corner of a
benign picture; the screen flags a picture whose corner still reads magenta after the image pipeline
re-encoded it (JPEG moves colours a little, so it compares with a tolerance). No explicit picture is
ever needed to test the bot's answers."""

from __future__ import annotations

import io

from PIL import Image

from bot.safety.screens import Verdict

MARKER = (255, 0, 255)
SIDE = 12  # pixels, at the picture's top-left corner
_TOLERANCE = 40


def side(width: int, height: int) -> int:
    """The marker's side: an eighth of the picture's shorter side (so it survives scaling down), at least SIDE."""
    return max(SIDE, min(width, height) // 8)


def mark(picture: Image.Image) -> Image.Image:
    """The picture with the marker drawn in (a copy)."""
    marked = picture.convert("RGB")
    s = side(*marked.size)
    marked.paste(MARKER, (0, 0, min(s, marked.width), min(s, marked.height)))
    return marked


class MarkerScreen:
    name = "marker"

    def check(self, data: bytes) -> Verdict:
        with Image.open(io.BytesIO(data)) as im:
            inner = max(4, min(im.width, im.height) // 8 - 2)  # inside the marker, away from its blurred edges
            corner = im.convert("RGB").resize((1, 1), box=(2, 2, inner, inner)).getpixel((0, 0))
        assert isinstance(corner, tuple)
        hit = all(abs(int(c) - m) <= _TOLERANCE for c, m in zip(corner, MARKER, strict=True))
        return Verdict(self.name, hit, "marker" if hit else "", 1.0 if hit else 0.0)
