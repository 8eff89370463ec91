"""Why a job failed, stored as a stable code so each card renders it in the job's own language.

Stored form: "reason:<key>" or "reason:<key>:<detail>", where the detail is text from elsewhere (the
provider's own words) shown as it is inside the translated sentence. Reasons stored before this format
(plain English) are shown unchanged.
"""

from __future__ import annotations

from bot.i18n.catalog import catalog, t

PREFIX = "reason:"


def reason_code(key: str, detail: str | None = None) -> str:
    if f"reason.{key}" not in catalog("en-US"):
        raise KeyError(f"no reason {key!r} in the catalog")
    return f"{PREFIX}{key}" if detail is None else f"{PREFIX}{key}:{detail}"


def render_reason(stored: str, locale: str) -> str:
    if not stored.startswith(PREFIX):
        return stored
    key, _, detail = stored[len(PREFIX):].partition(":")
    if f"reason.{key}" not in catalog("en-US"):
        return stored
    return t(f"reason.{key}", locale, detail=detail)
