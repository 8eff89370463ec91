"""A refused picture in the member's language: the detail from the catalogs (by its key), else our sentence per
problem code around the check's own words."""

from __future__ import annotations

from bot.i18n.catalog import catalog, t
from bot.media.problems import ImageProblem, display_name

# Problems whose detail is always the same sentence: found by their code even when raised without a key.
_FIXED_DETAILS = {"empty", "not_an_image", "truncated", "worker_lost"}


def image_problem_text(problem: ImageProblem, locale: str) -> str:
    detail_key = problem.key or (problem.code.value if problem.code.value in _FIXED_DETAILS else None)
    if detail_key is not None and f"image_detail.{detail_key}" in catalog("en-US"):
        detail = t(f"image_detail.{detail_key}", locale, **problem.params)
        return t("image.line", locale, filename=display_name(problem.filename), detail=detail)
    key = f"image.{problem.code.value}"
    if key not in catalog("en-US"):  # a code added later: still a clear line
        key = "image.problem"
    return t(key, locale, filename=display_name(problem.filename), detail=problem.detail)
