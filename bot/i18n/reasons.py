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


# The provider's refusal codes that name what was wrong (provider-api.md, "Errors"): each has our own sentence
# in every language, with the provider's words after it. Other codes read "the video service refused: <words>".
_PROVIDER_REFUSALS = {
    "INVALID_IMAGE_FORMAT": "rejected_image_format",
    "INVALID_IMAGE_SIZE": "rejected_image_size",
    "IMAGE_FILE_EXCEEDS_MAX_SIZE": "rejected_image_file",
    "INVALID_REQUEST_BODY": "rejected_request",
}


def provider_refusal(code: str, message: str) -> str:
    """The stored reason of a request the provider refused with `code` (and its own `message`)."""
    return reason_code(_PROVIDER_REFUSALS.get(code, "rejected"), message or code)


def render_reason(stored: str, locale: str) -> str:
    if not stored.startswith(PREFIX):
        return stored
    key, _, detail = stored[len(PREFIX):].partition(":")
    if f"reason.{key}" not in catalog("en-US"):
        return stored
    return t(f"reason.{key}", locale, detail=detail)
