"""The prompt blocklist: words (whole words, any case) and regular expressions a moderator adds.

Patterns run with the `regex` module's time limit, so a pattern with catastrophic backtracking cannot
hang the bot: a check that runs out of time refuses the prompt (fail closed) and logs the pattern.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import regex

log = logging.getLogger("bot.moderation")
MATCH_SECONDS = 0.05
MAX_PATTERN = 200
# Text a pattern is tried on when it is added: a pattern that is slow here would be slow on prompts.
PROBE = ("a" * 60 + "!") + " the quick brown fox jumps over the lazy dog " * 40 + "x" * 500


@dataclass(frozen=True)
class BlockedTerm:
    pattern: str
    is_regex: bool

    def shown(self) -> str:
        return f"/{self.pattern}/" if self.is_regex else f"“{self.pattern}”"


def compile_term(term: BlockedTerm) -> regex.Pattern[str]:
    if term.is_regex:
        return regex.compile(term.pattern, regex.IGNORECASE | regex.V1)
    return regex.compile(rf"(?<!\w){regex.escape(term.pattern)}(?!\w)", regex.IGNORECASE)


def check_new_term(term: BlockedTerm) -> str | None:
    """Why a moderator's new term cannot be used, or None when it is fine."""
    if not term.pattern.strip() or len(term.pattern) > MAX_PATTERN:
        return f"a term must have 1 to {MAX_PATTERN} characters"
    try:
        compiled = compile_term(term)
    except regex.error as exc:
        return f"{term.shown()} is not a valid regular expression ({exc})"
    try:
        compiled.search(PROBE, timeout=MATCH_SECONDS)
    except TimeoutError:
        return f"{term.shown()} is too slow to check (it backtracks without end); simplify it"
    return None


def blocked_by(prompt: str, terms: Iterable[BlockedTerm]) -> BlockedTerm | None:
    """The first term the prompt hits; a term that runs out of time counts as a hit (fail closed)."""
    for term in terms:
        try:
            if compile_term(term).search(prompt, timeout=MATCH_SECONDS):
                return term
        except TimeoutError:
            log.warning("blocklist pattern %s timed out on a prompt; refusing the prompt", term.shown())
            return term
        except regex.error:
            log.warning("blocklist pattern %s no longer compiles; skipped", term.shown())
    return None
