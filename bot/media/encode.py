"""Encode prepared pixels, smaller step by step until the base64 data URI fits the request budget."""

from __future__ import annotations

import base64
import io
import math
import tempfile
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image

from bot.media.pixels import has_alpha
from bot.media.problems import human_bytes


class OutputFormat(StrEnum):
    PNG = "PNG"
    JPEG = "JPEG"
    WEBP = "WEBP"

    @property
    def mime_type(self) -> str:
        return f"image/{self.value.lower()}"


@dataclass(frozen=True)
class EncodePlan:
    """The first, best-looking encoding to try; ``quality`` None means lossless.

    ``subsampling`` (JPEG only): 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0. A JPEG source keeps its own, since
    finer chroma than the source had only costs bytes.
    """

    fmt: OutputFormat
    quality: int | None
    subsampling: int = 2


@dataclass(frozen=True)
class Encoded:
    data: bytes
    fmt: OutputFormat
    width: int
    height: int
    fixes: tuple[str, ...]


# Quality steps tried before touching the size; the picture stays whole as long as possible.
_QUALITY_STEPS = (90, 80, 70, 60)
_DOWNSCALE_QUALITY = 80
_DOWNSCALE_ATTEMPTS = 8
# The short side is rounded up (see scaled_size); from 128 px on that bends the ratio by under 1 %.
_MIN_SHORT_SIDE = 128


def data_uri_length(size: int, mime_type: str) -> int:
    """Length of ``data:<mime>;base64,<payload>`` for a payload of ``size`` bytes."""
    return len(f"data:{mime_type};base64,") + 4 * math.ceil(size / 3)


def fits(size: int, fmt: OutputFormat, budget: int) -> bool:
    return data_uri_length(size, fmt.mime_type) <= budget


def encode(im: Image.Image, fmt: OutputFormat, quality: int | None, subsampling: int = 2) -> bytes:
    """One encoding, with no metadata at all (the image's ``info`` is already empty)."""
    buf = io.BytesIO()
    if fmt is OutputFormat.PNG:
        im.save(buf, "PNG", compress_level=6)
    elif fmt is OutputFormat.JPEG:
        # Pillow holds the GIL through a whole JPEG encode into memory but releases it while it writes
        # to a real file: through a file, the event loop keeps running while worker threads encode.
        with tempfile.TemporaryFile() as file:
            im.save(file, "JPEG", quality=quality or 92, subsampling=subsampling, exif=b"")
            file.seek(0)
            return file.read()
    else:
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGBA" if has_alpha(im) else "RGB")
        if quality is None:
            im.save(buf, "WEBP", lossless=True, quality=80, method=4, exif=b"", xmp=b"")
        else:
            im.save(buf, "WEBP", quality=quality, method=4, exif=b"", xmp=b"")
    return buf.getvalue()


def encode_within_budget(im: Image.Image, plan: EncodePlan, budget: int, *,
                         plan_cannot_fit: bool = False) -> Encoded | None:
    """Encode with ``plan``; if the data URI would exceed ``budget``, lower the quality, then scale down.
    ``plan_cannot_fit``: the caller knows the plan's encoding would not fit (a lossless picture of noise):
    straight to the lossy steps, the same result without the doomed encoding.

    Returns None when even the smallest allowed size does not fit.
    """
    width, height = im.size
    data, fmt = b"", plan.fmt
    if not plan_cannot_fit:
        data, fmt = _encode_plan(im, plan)
        if fits(len(data), fmt, budget):
            return Encoded(data, fmt, width, height, ())

    # Transparent pictures keep their alpha in lossy WebP; opaque ones go to JPEG.
    lossy = OutputFormat.WEBP if has_alpha(im) else OutputFormat.JPEG
    label = f"re-encoded to fit {human_bytes(budget)}"
    if lossy is not plan.fmt:
        label = f"re-encoded as {lossy.value} to fit {human_bytes(budget)}"
    for quality in _QUALITY_STEPS:
        if plan.fmt is lossy and plan.quality is not None and quality >= plan.quality:
            continue
        data = encode(im, lossy, quality)
        if fits(len(data), lossy, budget):
            return Encoded(data, lossy, width, height, (label,))

    raw_budget = _max_payload(budget, lossy)
    scale = 1.0
    for _ in range(_DOWNSCALE_ATTEMPTS):
        # Bytes grow roughly with pixel count, so scale each side by the square root of the overshoot.
        scale *= min(0.9, math.sqrt(raw_budget / len(data)) * 0.95)
        size = scaled_size(im.size, scale)
        if min(size) < _MIN_SHORT_SIDE:
            return None
        smaller = im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        data = encode(smaller, lossy, _DOWNSCALE_QUALITY)
        if fits(len(data), lossy, budget):
            fix = f"scaled down to {size[0]}×{size[1]} to fit {human_bytes(budget)}"
            return Encoded(data, lossy, size[0], size[1], (fix,))
    return None


def scaled_size(original: tuple[int, int], scale: float) -> tuple[int, int]:
    """The original size times ``scale``, derived once from the original so the ratio stays true.

    The short side is rounded *up*: the ratio can only move towards 1:1, so a 3.99:1 picture never
    becomes a 4:1 one that the provider would refuse.
    """
    width, height = original
    if width >= height:
        new_w = round(width * scale)
        new_h = math.ceil(new_w * height / width - 1e-9)
    else:
        new_h = round(height * scale)
        new_w = math.ceil(new_h * width / height - 1e-9)
    return new_w, new_h


def _encode_plan(im: Image.Image, plan: EncodePlan) -> tuple[bytes, OutputFormat]:
    try:
        return encode(im, plan.fmt, plan.quality, plan.subsampling), plan.fmt
    except (OSError, ValueError):
        if plan.fmt is not OutputFormat.WEBP:
            raise
        # WebP cannot hold more than 16383 px on a side: PNG always can.
        return encode(im, OutputFormat.PNG, None), OutputFormat.PNG


def _max_payload(budget: int, fmt: OutputFormat) -> int:
    prefix = len(f"data:{fmt.mime_type};base64,")
    return max(1, (budget - prefix) // 4 * 3)


# 3 × 256 KiB: whole base64 groups, so the pieces join into exactly one encoding.
_B64_PIECE = 3 * 256 * 1024


def data_uri(mime_type: str, data: bytes) -> str:
    """How an image travels inside a request body. Encoded in pieces: one b64encode call over megabytes
    holds the GIL long enough to stall the event loop; between pieces other threads get their turn."""
    view = memoryview(data)
    pieces = [base64.b64encode(view[i:i + _B64_PIECE]) for i in range(0, len(view), _B64_PIECE)]
    return f"data:{mime_type};base64,{b''.join(pieces).decode('ascii')}"
