"""Why a member's image was refused, worded for the member."""

from __future__ import annotations

import math
from enum import StrEnum


class ProblemCode(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    TRUNCATED = "truncated"
    TOO_MANY_PIXELS = "too_many_pixels"
    ASPECT_RATIO = "aspect_ratio"
    CANNOT_FIT = "cannot_fit"
    WORKER_LOST = "worker_lost"  # the process preparing it died (bot.media.pool); sending it again works


class ImageProblem(Exception):
    """One image that cannot be used; ``str()`` is one line naming the file. `key` and `params` name the
    detail in the message catalogs ("image_detail.<key>"), so each member reads it in their language."""

    def __init__(self, filename: str, code: ProblemCode, detail: str, *, key: str | None = None,
                 **params: str) -> None:
        super().__init__(filename, code, detail)
        self.filename = filename
        self.code = code
        self.detail = detail
        self.key = key
        self.params = params

    def __str__(self) -> str:
        return f"{display_name(self.filename)}: {self.detail}"

    def __repr__(self) -> str:
        return f"ImageProblem({self.filename!r}, {self.code.value!r}, {self.detail!r})"


def display_name(filename: str) -> str:
    """The file name as it can be shown in one chat line (no line breaks, never blank)."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in filename).strip()
    return cleaned or "(unnamed image)"


def human_bytes(size: int) -> str:
    """1536 -> "1.5 KB", 52428800 -> "50 MB" (binary units, as Discord shows them)."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{_trim(size / 1024)} KB"
    return f"{_trim(size / (1024 * 1024))} MB"


def human_megapixels(pixels: int) -> str:
    """144_000_000 -> "144 MP", 40_000_000 -> "40 MP", 20_000 -> "0.02 MP"."""
    return f"{_trim(pixels / 1_000_000, digits=1 if pixels >= 1_000_000 else 2)} MP"


def ratio_text(width: int, height: int) -> str:
    """The ratio as a member reads it: "5.2:1" when wide, "1:4.5" when tall."""
    if width >= height:
        return f"{_ratio_number(width / height, limit=None)}:1"
    return f"1:{_ratio_number(height / width, limit=None)}"


def ratio_limit_text(ratio: float) -> str:
    """A ratio bound: 4.0 -> "4:1", 0.25 -> "1:4"."""
    if ratio >= 1:
        return f"{_trim(ratio, digits=2)}:1"
    return f"1:{_trim(1 / ratio, digits=2)}"


def too_wide_or_tall(width: int, height: int, min_ratio: float, max_ratio: float) -> str | None:
    """The refusal detail when width:height is not strictly inside (min_ratio, max_ratio), else None."""
    found = ratio_problem(width, height, min_ratio, max_ratio)
    return None if found is None else RATIO_DETAILS[found[0]].format(**found[1])


# The English of each ratio detail (the catalogs hold every language: "image_detail.<key>").
RATIO_DETAILS = {
    "too_wide": "{shown}:1 is too wide, it must be narrower than {limit}; crop it to {crop} or narrower",
    "wider": "{shown}:1 is wider than {limit}; crop it to {crop} or narrower",
    "too_tall": "1:{shown} is too tall, it must be wider than {limit}; crop it to {crop} or shorter",
    "taller": "1:{shown} is taller than {limit}; crop it to {crop} or shorter",
}


def ratio_problem(width: int, height: int, min_ratio: float, max_ratio: float) -> tuple[str, dict[str, str]] | None:
    """(detail key, its values) when width:height is not strictly inside (min_ratio, max_ratio), else None."""
    ratio = width / height
    if ratio >= max_ratio:
        shown = _ratio_number(ratio, limit=max_ratio)
        key = "too_wide" if shown == _trim(max_ratio, digits=2) else "wider"
        widest = math.ceil(max_ratio * height) - 1  # the widest crop strictly inside the limit
        return key, {"shown": shown, "limit": ratio_limit_text(max_ratio), "crop": f"{widest}×{height}"}
    if ratio <= min_ratio:
        shown = _ratio_number(1 / ratio, limit=1 / min_ratio)
        key = "too_tall" if shown == _trim(1 / min_ratio, digits=2) else "taller"
        tallest = math.ceil(width / min_ratio) - 1
        return key, {"shown": shown, "limit": ratio_limit_text(min_ratio), "crop": f"{width}×{tallest}"}
    return None


def fit_within_pixels(width: int, height: int, max_pixels: int) -> tuple[int, int]:
    """The largest size of the same shape with at most `max_pixels` pixels (what to resize to)."""
    scale = math.sqrt(max_pixels / (width * height))
    fit_w, fit_h = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    while fit_w * fit_h > max_pixels and max(fit_w, fit_h) > 1:  # floating point's last pixel
        fit_w, fit_h = (fit_w - 1, fit_h) if fit_w >= fit_h else (fit_w, fit_h - 1)
    return fit_w, fit_h


def _ratio_number(value: float, limit: float | None) -> str:
    # One decimal reads best ("5.2"), but 4.02 must not print as "4" next to the limit "4":
    # add digits until the shown number differs from the limit, unless it really is the limit.
    for digits in (1, 2, 3):
        shown = _trim(value, digits=digits)
        if limit is None or value == limit or shown != _trim(limit, digits=2):
            return shown
    return _trim(value, digits=4)


def _trim(value: float, digits: int = 1) -> str:
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
