"""Logging set-up: one event per line, with every secret redacted from the finished line.

Redaction works on the formatted text (message, arguments and traceback together), so a secret that
reaches a log call by any path, including a library's own debug lines, is replaced before it is written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

REDACTED = "[redacted]"

# Interaction tokens travel inside webhook and callback URLs, which discord.py logs at debug level.
_URL_TOKENS = (
    re.compile(r"(webhooks/\d+/)[A-Za-z0-9_.\-]{20,}"),
    re.compile(r"(interactions/\d+/)[A-Za-z0-9_.\-]{20,}"),
)
_BEARER = re.compile(r"(Bearer\s+)\S+", re.IGNORECASE)
_BOT_AUTH = re.compile(r"(Bot\s+)[A-Za-z0-9_.\-]{20,}")


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in (*_URL_TOKENS, _BEARER, _BOT_AUTH):
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        # One event per line: a traceback's newlines are escaped so log shippers keep it as one event.
        return redact(super().format(record), self._secrets).replace("\n", "\\n")


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Chatty libraries: every SQL statement, every gateway frame. Their warnings still come through.
    for name in ("aiosqlite", "discord.gateway", "discord.http", "asyncio"):
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
