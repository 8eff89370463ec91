"""A start and an end picture made to fit the start-end endpoint: their pixel counts within its ratio.

The endpoint refuses a pair whose start pixels / end pixels is outside 0.8-1.25 (provider-api.md, "Start and
end frame"). Pure function over bytes, run in an image worker (bot.media.pool) or a thread (the CLI).

Choice (documented for review): the picture with fewer pixels is enlarged to the other's pixel count, its own
shape kept. The other one was already sized for the video (bot.media.sizing), so the enlarged one is no larger
than the video can use, and the detailed picture keeps its detail: the provider scales both to its frame
anyway, so shrinking the big one would only throw pixels away. Nothing is cropped: the endpoint asks for close
pixel counts, not equal shapes. When the enlarged picture cannot be encoded within the data-URI budget, the
larger one is scaled down instead (which always fits: fewer pixels than it had).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, replace

from PIL import Image

from bot.media.encode import EncodePlan, OutputFormat, encode_within_budget
from bot.media.keyframes import PreparedImage

# The endpoint's range (bot.provider.models.STARTEND_PIXEL_RATIO; media is a leaf and does not import it).
LOW_RATIO, HIGH_RATIO = 0.8, 1.25
_PLANS = {"image/png": EncodePlan(OutputFormat.PNG, None), "image/jpeg": EncodePlan(OutputFormat.JPEG, 92),
          "image/webp": EncodePlan(OutputFormat.WEBP, 90)}


@dataclass(frozen=True)
class Fitted:
    """Which picture was rescaled (0 start, 1 end), from what size to what size."""

    which: int
    before: tuple[int, int]
    after: tuple[int, int]


def pixel_ratio(start: tuple[int, int], end: tuple[int, int]) -> float:
    return (start[0] * start[1]) / (end[0] * end[1])


def within_ratio(start: tuple[int, int], end: tuple[int, int]) -> bool:
    return LOW_RATIO <= pixel_ratio(start, end) <= HIGH_RATIO


def size_with_pixels(size: tuple[int, int], pixels: float) -> tuple[int, int]:
    """`size`'s shape with about `pixels` pixels (each side rounded to the nearest whole pixel, at least 1)."""
    scale = math.sqrt(pixels / (size[0] * size[1]))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def fit_pair(start: PreparedImage, end: PreparedImage, budget: int) -> tuple[PreparedImage, PreparedImage,
                                                                               Fitted | None]:
    """The two pictures with pixel counts within the endpoint's ratio, and what was changed (None: nothing).
    `budget`: the data-URI length a picture may take (as the pipeline sized it). CPU-bound."""
    pair = [start, end]
    sizes = [(p.width, p.height) for p in pair]
    if within_ratio(sizes[0], sizes[1]):
        return start, end, None
    small = 0 if sizes[0][0] * sizes[0][1] < sizes[1][0] * sizes[1][1] else 1
    large = 1 - small
    enlarged = _rescaled(pair[small], size_with_pixels(sizes[small], sizes[large][0] * sizes[large][1]), budget)
    if enlarged is not None and within_ratio(*_ordered(small, (enlarged.width, enlarged.height), sizes[large])):
        pair[small] = enlarged
        fitted = Fitted(small, sizes[small], (enlarged.width, enlarged.height))
    else:
        reduced = _rescaled(pair[large], size_with_pixels(sizes[large], sizes[small][0] * sizes[small][1]), budget)
        if reduced is None:  # pragma: no cover - fewer pixels than a picture that fitted always fit
            raise ValueError("the pictures could not be fitted to each other")
        pair[large] = reduced
        fitted = Fitted(large, sizes[large], (reduced.width, reduced.height))
    return pair[0], pair[1], fitted


def _ordered(first: int, size: tuple[int, int], other: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    return (size, other) if first == 0 else (other, size)


def _rescaled(picture: PreparedImage, size: tuple[int, int], budget: int) -> PreparedImage | None:
    with Image.open(io.BytesIO(picture.data)) as im:
        im.load()
        resized = im.resize(size, Image.Resampling.LANCZOS)
    plan = _PLANS.get(picture.mime_type, EncodePlan(OutputFormat.PNG, None))
    encoded = encode_within_budget(resized, plan, budget)
    if encoded is None:
        return None
    fix = f"scaled from {picture.width}×{picture.height} to {encoded.width}×{encoded.height} to match the other picture"
    return replace(picture, data=encoded.data, mime_type=encoded.fmt.mime_type, width=encoded.width,
                   height=encoded.height, fixes=(*picture.fixes, fix, *encoded.fixes))
