"""Ten noisy pictures of about 5 MB each (five JPEGs, five PNGs), made once and kept in the cache.

Noise does not compress, so the files stay near 5 MB and the bot has to decode and re-encode all of it
(a worst case for the image pipeline, which is what a load test wants).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

from benchmarks.harness import CACHE

COUNT = 10
# Sizes that land near 5 MB: noise costs ~1.2 bytes/pixel as JPEG q95 and 3 bytes/pixel as PNG.
JPEG_SIZE = (2400, 1750)
PNG_SIZE = (1580, 1050)


def _make(index: int) -> tuple[str, bytes]:
    jpeg = index % 2 == 0
    width, height = JPEG_SIZE if jpeg else PNG_SIZE
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    if jpeg:
        image.save(out, "JPEG", quality=95)
        return f"noise{index}.jpg", out.getvalue()
    image.save(out, "PNG", compress_level=1)
    return f"noise{index}.png", out.getvalue()


def noisy_images(folder: Path = CACHE / "images") -> list[tuple[str, bytes]]:
    """(filename, bytes) for the ten pictures; made on the first call, read back afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    found = sorted(folder.glob("noise*.*"))
    if len(found) != COUNT:
        for old in found:
            old.unlink()
        for index in range(COUNT):
            name, data = _make(index)
            (folder / name).write_bytes(data)
        found = sorted(folder.glob("noise*.*"))
    return [(path.name, path.read_bytes()) for path in found]
