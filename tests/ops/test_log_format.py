"""LOG_FORMAT=json|text as an operator reads it: one event per line, ids as fields, secrets redacted."""

from __future__ import annotations

import io
import json
import logging

from bot.logs import JsonFormatter, RedactingFormatter, job_ids

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.very-secret-token-value"
KEY = "sk_live_super_secret_provider_key"
INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpsb25nLXNlY3JldC10b2tlbg"


class _Job:
    id, guild_id, user_id = "AB12CD34", 111, 222


def _logger(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test.ops.{type(formatter).__name__}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, out


def test_json_events_carry_ids_and_redact_every_field() -> None:
    logger, out = _logger(JsonFormatter([TOKEN, KEY]))
    logger.info("job %s: accepted; prompt %s", "AB12CD34", TOKEN, extra=job_ids(_Job()))
    logger.debug("frame {'t': 'INTERACTION_CREATE', 'd': {'token': '%s'}}", INTERACTION_TOKEN)
    logger.warning('headers {"Authorization": "Bearer %s", "x": 1}', KEY)
    try:
        raise RuntimeError(f"boom with {KEY}\nsecond line")
    except RuntimeError:
        logger.exception("failed", extra={"job_id": f"weird {TOKEN}"})
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    events = [json.loads(line) for line in lines]
    first = events[0]
    assert {k: first[k] for k in ("level", "logger", "job_id", "guild_id", "user_id")} == {
        "level": "info", "logger": "test.ops.JsonFormatter", "job_id": "AB12CD34", "guild_id": 111, "user_id": 222}
    assert first["message"] == "job AB12CD34: accepted; prompt [redacted]"
    assert first["ts"].endswith("+00:00")
    assert "'token': '[redacted]'" in events[1]["message"]
    assert events[2]["message"] == 'headers {"Authorization": "Bearer [redacted]", "x": 1}'  # quotes kept
    assert events[3]["exc"].startswith("Traceback") and "boom with [redacted]" in events[3]["exc"]
    assert events[3]["job_id"] == "weird [redacted]"
    for secret in (TOKEN, KEY, INTERACTION_TOKEN):
        assert secret not in out.getvalue()


def test_text_lines_show_the_ids_and_the_traceback_indented_below() -> None:
    logger, out = _logger(RedactingFormatter("%(levelname)s %(name)s: %(message)s", [TOKEN]))
    try:
        raise ValueError(TOKEN)
    except ValueError:
        logger.exception("job %s: poll failed", "AB12CD34", extra=job_ids(_Job()))
    line, *traceback = out.getvalue().splitlines()
    assert line == ("ERROR test.ops.RedactingFormatter: job AB12CD34: poll failed "
                    "[job_id=AB12CD34 guild_id=111 user_id=222]")
    assert traceback[-1] == "    ValueError: [redacted]"
    assert TOKEN not in out.getvalue()
