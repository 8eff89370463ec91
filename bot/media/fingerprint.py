"""A picture's perceptual fingerprint: a 64-bit difference hash (dHash), so the same picture is known again
after it was re-encoded or scaled (bot/strikes.py keeps the pictures the provider refused by it).

The picture is shrunk to 9×8 grey pixels; each bit says whether a pixel is brighter than its right-hand
neighbour. Re-encoding, scaling and small colour changes move a few bits at most; another picture differs
in about half of them. A picture with almost no detail (a flat colour, a plain gradient) has nearly every bit
the same, like every other such picture: `has_detail` says whether a hash can tell a picture apart.

Pure and Pillow-only: run it off the event loop (a thread or the image workers, bot.media.pool).
"""

from __future__ import annotations

import io

from PIL import Image

HASH_BITS = 64
_WIDTH, _HEIGHT = 9, 8
# Below this many bits on either side (set or clear), a hash is too plain to stand for one picture.
MIN_DETAIL_BITS = 8
# Pictures further apart than this many bits are different pictures (bot/strikes.py NEAR_BITS uses it).
NEAR_BITS = 4


def dhash(data: bytes) -> int:
    """The picture's 64-bit difference hash. Raises what Pillow raises for bytes that are no picture."""
    with Image.open(io.BytesIO(data)) as img:
        img.draft("L", (_WIDTH * 8, _HEIGHT * 8))  # JPEG: decode at a fraction of the size (a no-op elsewhere)
        grey = img.convert("L").resize((_WIDTH, _HEIGHT), Image.Resampling.BOX)
    pixels = grey.tobytes()
    bits = 0
    for row in range(_HEIGHT):
        for col in range(_WIDTH - 1):
            left, right = pixels[row * _WIDTH + col], pixels[row * _WIDTH + col + 1]
            bits = (bits << 1) | (left > right)
    return bits


def dhashes(pictures: list[bytes]) -> list[int]:
    """`dhash` of each picture, in order (one call for a job's pictures: one trip to a worker). A picture Pillow
    cannot read (none should get here: they passed the image checks) counts as plain, 0: it matches no flag."""
    hashes = []
    for data in pictures:
        try:
            hashes.append(dhash(data))
        except Exception:  # any decoder failure: no fingerprint rather than no request
            hashes.append(0)
    return hashes


def distance(a: int, b: int) -> int:
    """How many bits two hashes differ in."""
    return (a ^ b).bit_count()


def has_detail(value: int) -> bool:
    """Whether a hash can stand for one picture: enough bits both set and clear."""
    ones = value.bit_count()
    return min(ones, HASH_BITS - ones) >= MIN_DETAIL_BITS


def as_hex(value: int) -> str:
    return f"{value:016x}"


def from_hex(text: str) -> int:
    return int(text, 16)
