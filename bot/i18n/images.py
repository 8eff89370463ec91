"""A refused picture in the member's language: the detail from the catalogs (by its key), else our sentence per
problem code around the check's own words."""

from __future__ import annotations

import re
from decimal import Decimal

from bot.i18n.catalog import catalog, t
from bot.i18n.formats import number
from bot.media.problems import ImageProblem, display_name

# Problems whose detail is always the same sentence: found by their code even when raised without a key.
_FIXED_DETAILS = {"empty", "not_an_image", "truncated", "worker_lost"}
# The units bot/media writes figures in (problems.py: "48 MP", "900 bytes"); KB and MB read the same everywhere.
_MEGAPIXELS = re.compile(r"([0-9.]+) MP")
_BYTES = re.compile(r"([0-9]+) bytes")


def _figures(value: object, locale: str) -> object:
    """A figure of a check in the units `locale` counts in: Chinese counts pixels in 万 (48 MP is 4800 万像素)."""
    if locale != "zh-CN" or not isinstance(value, str):
        return value
    value = _MEGAPIXELS.sub(lambda m: f"{number(Decimal(m[1]) * 100, locale, grouped=False)} 万像素", value)
    return _BYTES.sub(lambda m: f"{m[1]} 字节", value)


def image_problem_text(problem: ImageProblem, locale: str) -> str:
    detail_key = problem.key or (problem.code.value if problem.code.value in _FIXED_DETAILS else None)
    if detail_key is not None and f"image_detail.{detail_key}" in catalog("en-US"):
        detail = t(f"image_detail.{detail_key}", locale,
                   **{name: _figures(value, locale) for name, value in problem.params.items()})
        return t("image.line", locale, filename=display_name(problem.filename), detail=detail)
    key = f"image.{problem.code.value}"
    if key not in catalog("en-US"):  # a code added later: still a clear line
        key = "image.problem"
    return t(key, locale, filename=display_name(problem.filename), detail=problem.detail)
