"""Typed provider errors, so callers decide by class, never by parsing text.

The class says whose fault it is: the member's (RequestRejected), the operator's (OperatorError),
or nobody's yet (TransientProviderError, OutcomeUnknown). Messages hold only what the provider said
and what we saw; they never hold a secret (the client scrubs the API key before building them).
"""

from __future__ import annotations

import json
from typing import Any

from bot.provider.text import clean_text

# The provider's message is shown to members; keep it to a readable size. Its reason is a code.
_MAX_MESSAGE_CHARS = 500
_MAX_REASON_CHARS = 100


class RequestValidationError(ValueError):
    """A request object that would be refused, caught before anything is sent or paid."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ProviderError(Exception):
    """Anything the provider or the way to it answered that is not a success."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        self.status = status
        self.reason = reason
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        parts = [f"HTTP {self.status}" if self.status is not None else "", self.reason]
        detail = ", ".join(p for p in parts if p)
        return f"{self.message} ({detail})" if detail else self.message

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(status={self.status!r}, reason={self.reason!r}, message={self.message!r})"


class RequestRejected(ProviderError):
    """The provider refused the request itself (400 family): the member's fault, charge nothing."""


class OperatorError(ProviderError):
    """The operator must act (key, balance, endpoint); members only learn the service is unavailable."""


class ProviderAuthError(OperatorError):
    """The API key is missing, wrong or not allowed."""


class InsufficientBalance(OperatorError):
    """The provider account has no credit left (the provider also says this when throttling)."""


class ModelNotFound(OperatorError):
    """The endpoint or model no longer exists (wrong base URL or a retired model)."""


def is_wrong_path(error: ProviderError) -> bool:
    """A bare 404 (no error of the task API's own): the base URL's path is wrong, not the key."""
    return isinstance(error, ModelNotFound) and error.status == 404 and not error.reason


class TaskNotFound(ProviderError):
    """The provider does not know the task (any more): treat the task as failed."""


class TransientProviderError(ProviderError):
    """Busy, broken or unreachable for now; safe to try again later (`retry_after` seconds if known)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, reason=reason)
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, reason={self.reason!r}, "
            f"message={self.message!r}, retry_after={self.retry_after!r})"
        )


class RateLimited(TransientProviderError):
    """HTTP 429: too many requests per minute."""


class OutcomeUnknown(ProviderError):
    """A paid submit broke after the body was sent: a task may or may not exist. Never resubmit blindly."""


class UnusableTaskId(OutcomeUnknown):
    """The provider accepted a submit (and has probably created, and will bill, a task) but its answer names no
    task the bot can follow: the id is missing, too long, or not printable. Never resubmitted; told as such."""

    def __init__(self, message: str, *, shown_id: str) -> None:
        super().__init__(message, status=200)
        self.shown_id = shown_id  # the answer's id made safe to show (cleaned, cut), or "" when there was none


class VideoUnavailable(ProviderError):
    """The video URL answered 403/404/410: the presigned URL expired or the file is gone."""


class VideoTooLarge(ProviderError):
    """The video is bigger than the caller allowed; nothing is kept on disk."""


def parse_error_body(text: str) -> tuple[str, str]:
    """Return (reason, message) from the documented body `{"code","reason","message","metadata"}`.

    Anything else (HTML from a proxy, empty, malformed) gives empty strings: the status still decides.
    """
    try:
        body: Any = json.loads(text)
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    # Cleaned: the message is stored as a refused job's reason and shown to its member (a NUL in it made every
    # write of the refusal fail on PostgreSQL, so the job wedged mid-submit and ended charged).
    return clean_text(body.get("reason"), _MAX_REASON_CHARS), clean_text(body.get("message"), _MAX_MESSAGE_CHARS)


def error_for_status(
    status: int,
    reason: str,
    message: str,
    *,
    operation: str,
    retry_after: float | None = None,
) -> ProviderError:
    """Map an HTTP error answer to its typed error. `operation` ("submit" or "result") is for messages."""
    text = message or f"provider answered HTTP {status} to {operation}"
    if status == 429:
        reason = reason or "RATE_LIMIT_EXCEEDED"
        return RateLimited(text, status=status, reason=reason, retry_after=retry_after)
    if status >= 500:
        return TransientProviderError(text, status=status, reason=reason, retry_after=retry_after)
    if status == 401:
        return ProviderAuthError(text, status=status, reason=reason)
    if status == 403:
        if reason == "NOT_ENOUGH_BALANCE":
            return InsufficientBalance(text, status=status, reason=reason)
        return ProviderAuthError(text, status=status, reason=reason)
    if status == 404:
        # Only the provider's own TASK_NOT_FOUND condemns a task; a bare 404 (wrong base URL, a proxy)
        # is the operator's to fix, and must not fail every job being polled.
        if reason == "TASK_NOT_FOUND":
            return TaskNotFound(text, status=status, reason=reason)
        return ModelNotFound(text, status=status, reason=reason)
    if 400 <= status < 500:
        return RequestRejected(text, status=status, reason=reason)
    return ProviderError(text, status=status, reason=reason)
