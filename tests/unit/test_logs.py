"""No secret reaches a log line, whatever path it takes into the record."""

from __future__ import annotations

import io
import linecache
import logging

from bot.logs import REDACTED, JsonFormatter, RedactingFormatter

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.very-secret-token-value"
KEY = "sk_live_super_secret_provider_key"
INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpsb25nLXNlY3JldC10b2tlbg"


def _logger() -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s", [TOKEN, KEY]))
    logger = logging.getLogger("test.redaction")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, out


def test_secrets_in_messages_arguments_and_tracebacks_are_redacted() -> None:
    logger, out = _logger()
    logger.info("token is %s", TOKEN)
    logger.debug("POST https://discord.com/api/v10/webhooks/123456/%s/messages/@original", INTERACTION_TOKEN)
    logger.debug("POST /api/v10/interactions/987/%s/callback", INTERACTION_TOKEN)
    logger.warning("headers: {'Authorization': 'Bearer %s'}", KEY)
    try:
        raise RuntimeError(f"boom with {KEY}")
    except RuntimeError:
        logger.exception("failed")
    text = out.getvalue()
    for secret in (TOKEN, KEY, INTERACTION_TOKEN):
        assert secret not in text
    assert text.count(REDACTED) >= 5
    assert "webhooks/123456/[redacted]/messages" in text


def test_each_event_is_one_line() -> None:
    logger, out = _logger()
    try:
        raise ValueError("bad")
    except ValueError:
        logger.exception("with traceback")
    assert out.getvalue().count("\n") == 1


def test_a_logged_traceback_shows_its_source_lines_and_keeps_no_source_file_in_memory() -> None:
    # linecache would otherwise keep, whole and for good, every file a logged traceback went through (soak).
    logger, out = _logger()
    for formatter in (RedactingFormatter("%(message)s", []), JsonFormatter([])):
        logger.handlers[0].setFormatter(formatter)
        linecache.clearcache()
        try:
            raise ValueError("bad")
        except ValueError:
            logger.exception("with traceback")
        assert 'raise ValueError(\\"bad\\")' in out.getvalue() or 'raise ValueError("bad")' in out.getvalue()
        assert __file__ not in linecache.cache
