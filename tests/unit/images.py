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


def heic_photo(im: Image.Image, orientation: int | None = None, gps: bool = False) -> bytes:
    """A HEIC as a phone writes it: HEVC pixels, EXIF with the orientation (stored by libheif as the
    file's own rotation) and optionally a GPS position."""
    return encode(im, "HEIF", quality=90, exif=exif_bytes(orientation, gps=gps, make="TestPhone"))


def heic_high_bit(size: tuple[int, int], bits: int, *, grey: bool = False) -> bytes:
    """A 10- or 12-bit HEIC (an HDR phone photo): orange, or mid-grey (40000 of 65535) when `grey`."""
    import pillow_heif

    width, height = size
    saved = pillow_heif.options.SAVE_HDR_TO_12_BIT
    pillow_heif.options.SAVE_HDR_TO_12_BIT = bits == 12  # 16-bit pixels are stored at 10 bits, or 12
    try:
        if grey:
            heif = pillow_heif.from_pillow(Image.new("I;16", size, 40000))
        else:
            pixels = struct.pack("<3H", 50000, 30000, 10000) * (width * height)
            heif = pillow_heif.from_bytes(mode="RGB;16", size=size, data=pixels)
        buffer = io.BytesIO()
        heif.save(buffer, quality=90)
    finally:
        pillow_heif.options.SAVE_HDR_TO_12_BIT = saved
    return buffer.getvalue()


def icon_as_cursor(im: Image.Image) -> bytes:
    """A Windows cursor (.cur): an icon file whose header says type 2 (Pillow writes icons, not cursors)."""
    data = bytearray(encode(im, "ICO", sizes=[im.size], bitmap_format="bmp"))  # cursors hold bitmaps
    data[2] = 2
    return bytes(data)


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


def rgb_icc_profile(description: str, swap_red_and_blue: bool = False) -> bytes:
    """A minimal ICC v2 matrix/TRC RGB display profile, built byte by byte.

    With ``swap_red_and_blue`` the profile says the file's red channel drives the *blue* primary: a
    pixel stored as (255, 0, 0) is really blue, so a converter that honours the profile must output blue.
    """
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    if swap_red_and_blue:
        red, blue = blue, red
    white = (0.9642, 1.0, 0.8249)

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(values: tuple[float, float, float]) -> bytes:
        return b"XYZ \x00\x00\x00\x00" + b"".join(s15(v) for v in values)

    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\x00\x00"
    ascii_text = description.encode("ascii") + b"\x00"
    desc = (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + struct.pack(">II", 0, 0)
        + struct.pack(">HB", 0, 0)
        + b"\x00" * 67
    )
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(white)),
        (b"rXYZ", xyz(red)),
        (b"gXYZ", xyz(green)),
        (b"bXYZ", xyz(blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, payload in tags:
        padded = payload + b"\x00" * (-len(payload) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(payload))
        body += padded
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\x00" * 24
        + struct.pack(">I", 0)  # perceptual intent
        + s15(white[0]) + s15(white[1]) + s15(white[2])
        + b"\x00" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, whole chunk bytes) for every chunk after the PNG signature."""
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        end = pos + 12 + length
        chunks.append((data[pos + 4 : pos + 8], data[pos:end]))
        pos = end
    return chunks


def png_with_chunk_moved_after_pixels(data: bytes, kind: bytes) -> bytes:
    """Move one chunk (e.g. eXIf) to just before IEND, as some editors write it."""
    chunks = png_chunks(data)
    moved = [c for k, c in chunks if k == kind]
    rest = [(k, c) for k, c in chunks if k != kind]
    body = [c for k, c in rest if k != b"IEND"] + moved + [c for k, c in rest if k == b"IEND"]
    return data[:8] + b"".join(body)
