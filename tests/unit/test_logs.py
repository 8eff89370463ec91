"""No secret reaches a log line, whatever path it takes into the record."""

from __future__ import annotations

import io
import json
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


def test_each_event_starts_one_line_and_its_traceback_follows_indented() -> None:
    logger, out = _logger()
    try:
        raise ValueError("bad")
    except ValueError:
        logger.exception("a prompt\nthat forges a line")
    first, *traceback = out.getvalue().splitlines()
    assert first.endswith("a prompt\\nthat forges a line")  # a newline in the message cannot start a line
    assert traceback[0] == "    Traceback (most recent call last):" and traceback[-1] == "    ValueError: bad"
    assert all(line.startswith("    ") for line in traceback)


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


def _formatted(secrets: list[str], *lines: str) -> list[str]:
    """Each line as the text and the JSON formats write it (the JSON one decoded back to its message)."""
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "%s", None, None)
    text, jsonf = RedactingFormatter("%(message)s", secrets), JsonFormatter(secrets)
    out = []
    for line in lines:
        record.args = (line,)
        out += [text.format(record), json.loads(jsonf.format(record))["message"]]
    return out


def test_a_secret_is_hidden_only_as_a_whole_token_not_inside_longer_words() -> None:
    """A key `e` turned every `e` of every line into [redacted]; `test` every "test" (issue 26)."""
    line = "every test of the tests passed: e = test, testing-e2e"
    for shown in _formatted(["e", "test"], line):
        assert shown == "every [redacted] of the tests passed: [redacted] = [redacted], testing-e2e"


def test_a_whole_secret_is_hidden_wherever_it_stands() -> None:
    places = [
        "Authorization: Bearer {}", "headers: {{'Authorization': 'Bearer {}'}}", "Bot {}",
        "GET https://api.example.com/v3/tasks?key={}&page=2", "GET https://api.example.com/v3/{}/status",
        '{{"api_key": "{}", "next": 1}}', "key '{}' refused", "(key={})", "{}", "the key is {}.", "{},{}",
        "key:\t{}\nnext line", "a key-{}-suffix",
    ]
    for secret in (KEY, TOKEN, "-starts-and-ends-with-dashes-"):
        lines = [place.format(*[secret] * place.count("{}")) for place in places]
        for shown, line in zip(_formatted([secret], *lines), [line for line in lines for _ in (0, 1)], strict=True):
            assert secret not in shown, shown
            assert shown.count(REDACTED) == line.count(secret), shown
