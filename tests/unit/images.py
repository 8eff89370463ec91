"""Test images built in code with Pillow (no binary fixtures in the repo)."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def solid(size: tuple[int, int], colour: object = RED, mode: str = "RGB") -> Image.Image:
    return Image.new(mode, size, colour)  # type: ignore[arg-type]


def marked(size: tuple[int, int] = (300, 200)) -> Image.Image:
    """Blue picture with a red block in the top-left corner, so rotations can be told apart."""
    im = Image.new("RGB", size, BLUE)
    im.paste(RED, (0, 0, size[0] // 4, size[1] // 4))
    return im


def noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """Incompressible RGB noise: the worst case for every encoder."""
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def exif_bytes(orientation: int | None = None, gps: bool = False, make: str | None = None) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if make is not None:
        exif[0x010F] = make
    if gps:
        # GPSInfo IFD: latitude ref + latitude (48° 51' 29"), the kind of data that must never leak.
        exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    return exif.tobytes()


def jpeg_with_exif(im: Image.Image, orientation: int | None = None, gps: bool = False) -> bytes:
    return encode(im, "JPEG", quality=95, exif=exif_bytes(orientation, gps=gps, make="TestPhone"))


def animated_gif(colours: list[tuple[int, int, int]], size: tuple[int, int] = (40, 30)) -> bytes:
    frames = [Image.new("RGB", size, c) for c in colours]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that *declares* width×height: a decompression bomb's header with a few bytes of data."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def heic_header() -> bytes:
    """The opening ftyp box of an iPhone HEIC photo (no decoder is installed for the rest)."""
    ftyp = b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    box = struct.pack(">I", 8 + len(ftyp) - 4) + ftyp
    return box + b"\x00" * 200
