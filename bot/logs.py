"""Logging set-up: one event per line (JSON; text: a traceback follows indented), with every secret redacted.

Redaction works on the finished text (message, arguments and traceback together), so a secret that
reaches a log call by any path, including a library's own debug lines, is replaced before it is written.
"""

from __future__ import annotations

import json
import linecache
import logging
import re
import sys
import threading
import types
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.provider.redaction import REDACTED, hide_secrets

# Interaction tokens travel inside webhook and callback URLs, which discord.py logs at debug level,
# and inside gateway frames ("token": "...") which discord.gateway logs at debug level.
_URL_TOKENS = (
    re.compile(r"(webhooks/\d+/)[A-Za-z0-9_.\-]{20,}"),
    re.compile(r"(interactions/\d+/)[A-Za-z0-9_.\-]{20,}"),
)
_TOKEN_FIELD = re.compile(r"""(["']token["']\s*:\s*["'])[A-Za-z0-9_.\-]{20,}""", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)(?!\[redacted\])[^\s\"',;}\]]+", re.IGNORECASE)
_BOT_AUTH = re.compile(r"(Bot\s+)[A-Za-z0-9_.\-]{20,}")
_PATTERNS = (*_URL_TOKENS, _TOKEN_FIELD, _BEARER, _BOT_AUTH)

# `extra=` keys copied into a JSON event (and shown by the text format): the ids an operator filters on.
CONTEXT_KEYS = ("job_id", "guild_id", "user_id", "task_id")
# Loggers that write every HTTP request and gateway frame: shown only at LOG_LEVEL=trace.
CHATTY_LOGGERS = ("aiosqlite", "discord.gateway", "discord.http", "asyncio")
TRACE = "trace"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Each known secret where it stands as a whole token (bot/provider/redaction.py), then whatever looks
    like a token where one goes (URLs, `Bearer `, `Bot `, a "token" field), known or not."""
    text = hide_secrets(text, secrets)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class _Formatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        try:
            return super().formatException(ei)
        finally:
            # Formatting a traceback reads, and linecache keeps for good, every source file it goes through,
            # whole: 1.7 MB after 15 minutes of the soak's faults, more with each new path an error takes.
            # Tracebacks are rare; the next one reads its files again.
            linecache.clearcache()


class RedactingFormatter(_Formatter):
    """`LOG_FORMAT=text`: the classic line; a traceback follows on its own lines, each indented, as Python prints it."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        # The event's own line first, without the traceback (logging would append it after a newline).
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
        context = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT_KEYS if hasattr(record, k))
        if context:
            line = f"{line} [{context}]"
        # A newline inside the message (a member's prompt) is escaped: it must not forge a line of its own.
        line = line.replace("\n", "\\n")
        details = [self.formatException(record.exc_info) if record.exc_info else record.exc_text or "",
                   record.stack_info or ""]
        # The traceback stays readable: every line of it indented, so a shipper's "indented lines continue
        # the event" rule keeps it with its event.
        for text in filter(None, details):
            line += "\n" + "\n".join("    " + part for part in text.splitlines())
        return redact(line, self._secrets)


class JsonFormatter(_Formatter):
    """`LOG_FORMAT=json`: one JSON object per line: ts, level, logger, message, ids, exc."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        # Each string is redacted before encoding: a pattern run over the JSON text could eat a quote.
        event: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self._clean(record.getMessage()),
        }
        for key in CONTEXT_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                event[key] = value if isinstance(value, int) else self._clean(str(value))
        if record.exc_info:
            event["exc"] = self._clean(self.formatException(record.exc_info))
        elif record.exc_text:
            event["exc"] = self._clean(record.exc_text)
        if record.stack_info:
            event["stack"] = self._clean(record.stack_info)
        return json.dumps(event, ensure_ascii=False, default=str)

    def _clean(self, text: str) -> str:
        return redact(text, self._secrets)


def configure_logging(level: str, secrets: Iterable[str], *, fmt: str = "text") -> None:
    """Route every log line (and warnings and uncaught exceptions) through one redacting handler."""
    secrets = tuple(secrets)
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(secrets))
    else:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    trace = level.lower() == TRACE
    root.setLevel(logging.DEBUG if trace else level.upper())
    # Chatty libraries: every SQL statement, every gateway frame. Their warnings still come through.
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if trace else max(logging.INFO, root.level))
    # Anything that would otherwise print its own multi-line text goes through the same handler.
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: types.TracebackType | None) -> None:
    logging.getLogger("bot").critical("uncaught exception", exc_info=(kind, exc, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)


class _HasIds(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def guild_id(self) -> int: ...
    @property
    def user_id(self) -> int: ...


def job_ids(job: _HasIds) -> dict[str, object]:
    """`extra=` for a log line about a job: its ids become JSON fields an operator can filter on."""
    return {"job_id": job.id, "guild_id": job.guild_id, "user_id": job.user_id}
