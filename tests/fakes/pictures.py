"""Benign generated pictures with detail of their own: soft blobs of grey and colour from a seed (a picture with
no detail, a flat colour, looks the same to a perceptual hash as every other flat picture)."""

from __future__ import annotations

import io
import random

from PIL import Image


def blobs(seed: int, width: int = 160, height: int = 120, fmt: str = "PNG", quality: int = 90) -> bytes:
    """A picture of soft coloured blobs, the same for the same seed and different for another."""
    rng = random.Random(seed)
    small = Image.frombytes("RGB", (6, 5), bytes(rng.randrange(256) for _ in range(6 * 5 * 3)))
    picture = small.resize((width, height), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    picture.save(out, fmt, **({"quality": quality} if fmt in ("JPEG", "WEBP") else {}))
    return out.getvalue()
