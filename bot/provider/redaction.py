"""Secrets hidden in text as whole tokens: the one rule for the provider's error text (client.py) and for every
log line (bot/logs.py). It lives here because the provider package is a leaf and imports nothing else of ours.

A secret is found only where no letter, digit or underscore goes on right before or after it: with the key
`test`, "testing" and "tests" stay as they are. It is still found after `Bearer `, in a URL's path or query,
inside JSON strings and quotes, and next to punctuation. Matching inside longer words made a short key (`e`)
turn every `e` of every line into [redacted]; the settings now refuse keys that short (bot/config.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

REDACTED = "[redacted]"


def _whole(secret: str) -> str:
    # The guard applies only on a side where the secret ends in a word character: a secret that starts with
    # `-` is found right after a letter too (there is no word to be part of).
    head = r"(?<!\w)" if re.match(r"\w", secret[0]) else ""
    tail = r"(?!\w)" if re.match(r"\w", secret[-1]) else ""
    return head + re.escape(secret) + tail


@functools.lru_cache(maxsize=16)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    # Longest first: a secret that contains another is hidden whole, not cut around the shorter one.
    parts = [_whole(secret) for secret in sorted(set(secrets), key=len, reverse=True)]
    return re.compile("|".join(parts)) if parts else None


def hide_secrets(text: str, secrets: Iterable[str]) -> str:
    """`text` with each of `secrets` (empty ones ignored) replaced by [redacted] wherever it stands whole."""
    pattern = _pattern(tuple(secret for secret in secrets if secret))
    return pattern.sub(REDACTED, text) if pattern is not None else text
