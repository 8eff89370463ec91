"""Tell an image's real format from its first bytes.

Members rename files freely (a "photo.png" straight from a phone is often a JPEG or a HEIC), so the
extension is never trusted: only the magic bytes decide how a file is read.
"""

from __future__ import annotations

# ISO base media "ftyp" brands: which container flavour a HEIF-family file is.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIC_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)

# "BM" alone is too weak (plain text may start with it): also require a known DIB header size.
_BMP_INFO_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})

_SIMPLE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jp2"),
    (b"\xff\x4f\xff\x51", "jp2"),  # raw JPEG 2000 codestream
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "jxl"),
    (b"\xff\x0a", "jxl"),  # raw JPEG XL codestream
    (b"8BPS", "psd"),
    (b"%PDF-", "pdf"),
    (b"qoif", "qoi"),
)


def sniff_format(data: bytes) -> str | None:
    """Return a short format name ("png", "jpeg", "webp", "gif", "bmp", "tiff", "heic", "avif",
    "svg", ...) read from the magic bytes, or None when the bytes are not a known image."""
    head = data[:64]
    for magic, name in _SIMPLE_MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_INFO_HEADER_SIZES:
        return "bmp"
    if head[:4] in _ICON_MAGIC and _looks_like_icon_directory(head):
        return _ICON_MAGIC[head[:4]]
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(data)
    if _looks_like_svg(data):
        return "svg"
    return None


# ICO and CUR start with four bytes that many other files share (an uncompressed TGA starts 00 00 02 00):
# also require a directory that makes sense.
_ICON_MAGIC = {b"\x00\x00\x01\x00": "ico", b"\x00\x00\x02\x00": "cur"}


def _looks_like_icon_directory(head: bytes) -> bool:
    """At least one picture, and the first directory entry (16 bytes after the 6-byte header) names a
    non-empty picture stored after the directory (a TGA has 0 there: its colour-map length)."""
    count = int.from_bytes(head[4:6], "little")
    if count == 0 or len(head) < 22:
        return False
    size = int.from_bytes(head[14:18], "little")
    offset = int.from_bytes(head[18:22], "little")
    return size > 0 and offset >= 6 + 16 * count


def _sniff_ftyp(data: bytes) -> str | None:
    box_size = int.from_bytes(data[0:4], "big")
    if box_size < 16:
        return None
    end = min(box_size, len(data), 512)
    major = data[8:12]
    # The compatible brands follow the major brand and a 4-byte minor version.
    brands = {major} | {data[i : i + 4] for i in range(16, end - 3, 4)}
    # AVIF files also list mif1, so AVIF wins over the generic HEIF brands.
    if major in _AVIF_BRANDS or brands & _AVIF_BRANDS:
        return "avif"
    if brands & _HEIC_BRANDS:
        return "heic"
    return None


def _looks_like_svg(data: bytes) -> bool:
    text = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not text.startswith(b"<"):
        return False
    return b"<svg" in text
