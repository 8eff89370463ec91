"""Discord's JSON error answers, raised inside handlers and rendered by one middleware."""

from __future__ import annotations

from typing import Any


class DiscordAPIError(Exception):
    """An error answer exactly as Discord shapes it: HTTP status + ``{"code", "message", "errors"?}``."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


def invalid_form_body(path: str, message: str, error_code: str = "BASE_TYPE_INVALID") -> DiscordAPIError:
    """400 50035 with Discord's nested ``errors`` tree (``a.0.b`` -> ``{"a": {"0": {"b": ...}}}``)."""
    errors: dict[str, Any] = {"_errors": [{"code": error_code, "message": message}]}
    for part in reversed([p for p in path.split(".") if p]):
        errors = {part: errors}
    return DiscordAPIError(400, 50035, f"Invalid Form Body: {path or 'body'}: {message}", errors)


def unknown(what: str, code: int) -> DiscordAPIError:
    return DiscordAPIError(404, code, f"Unknown {what}")


def missing_access() -> DiscordAPIError:
    """What Discord answers for a channel the caller may not view (no VIEW_CHANNEL, hidden private thread)."""
    return DiscordAPIError(403, MISSING_ACCESS, "Missing Access")


def missing_permissions() -> DiscordAPIError:
    """What Discord answers when the caller sees the channel but lacks the permission for the action."""
    return DiscordAPIError(403, MISSING_PERMISSIONS, "Missing Permissions")


# Codes used across the fake, named like Discord's documentation names them.
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
UNKNOWN_USER = 10013
UNKNOWN_INTERACTION = 10062
UNKNOWN_APPLICATION_COMMAND = 10063
REQUEST_TOO_LARGE = 40005
ALREADY_ACKNOWLEDGED = 40060
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
INVALID_WEBHOOK_TOKEN = 50027
THREAD_LOCKED = 50083
THREAD_ALREADY_CREATED = 160004


class FakeUsageError(AssertionError):
    """A test drove the fake in a way Discord's client could never do (unsynced command, wrong option type).

    An AssertionError so pytest shows it as a test failure with the message, not as an error in the fake.
    """
