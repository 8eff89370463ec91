"""A refused picture in the member's language: our sentence per problem code, the check's detail as it is."""

from __future__ import annotations

from bot.i18n.catalog import catalog, t
from bot.media.problems import ImageProblem, display_name


def image_problem_text(problem: ImageProblem, locale: str) -> str:
    key = f"image.{problem.code.value}"
    if key not in catalog("en-US"):  # a code added later: still a clear line
        key = "image.problem"
    return t(key, locale, filename=display_name(problem.filename), detail=problem.detail)
