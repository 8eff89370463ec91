"""The prompt blocklist: words (whole words, any case) and regular expressions a moderator adds.

Prompts are compared in a normalised form (issue 25), so look-alike text does not slip past a term: Unicode
compatibility forms folded (full-width `ｄｒａｇｏｎ` is `dragon`), case folded, invisible characters (zero-width
spaces and joiners, soft hyphens, bidirectional controls) dropped, and accents dropped too when the term has
none (`drágon` hits "dragon"; a term written with accents keeps them). A word of a script written without
spaces (Chinese, Japanese, Thai...) matches inside a run of text, as AutoMod's keyword filters do: with `猫`
blocked, `一只猫在跳` is refused. Regular expressions are tried on the prompt with and without accents.

Patterns run with the `regex` module's time limit, so a pattern with catastrophic backtracking cannot
hang the bot: a check that runs out of time refuses the prompt (fail closed) and logs the pattern.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

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


# Scripts written without spaces between words: a term's edge in one of them needs no word boundary.
UNSPACED_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
UNSPACED = regex.compile(f"[{UNSPACED_SCRIPTS}]")
# Invisible characters: format characters (zero-width space and joiners, soft hyphen, word joiner, BOM,
# bidirectional controls), variation selectors and the combining grapheme joiner.
_INVISIBLE = regex.compile(r"[\p{Cf}\p{Variation_Selector}\u034f]")


def normalise(text: str, *, keep_accents: bool = True) -> str:
    """`text` as the blocklist compares it: compatibility forms and case folded, invisible characters dropped,
    and accents too unless `keep_accents`."""
    folded = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)).casefold()
    if keep_accents:
        return folded
    bare = "".join(ch for ch in unicodedata.normalize("NFD", folded) if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare)


def _has_accents(text: str) -> bool:
    return any(unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", text))


def compile_term(term: BlockedTerm) -> regex.Pattern[str]:
    if term.is_regex:
        return regex.compile(term.pattern, regex.IGNORECASE | regex.V1)
    word = normalise(term.pattern)
    # Whole words, except at an edge in a script without spaces, where a word runs on into the next.
    before = "" if UNSPACED.match(word[:1]) else r"(?<!\w)"
    after = "" if UNSPACED.match(word[-1:]) else r"(?!\w)"
    return regex.compile(before + regex.escape(word) + after, regex.IGNORECASE)


def _forms(prompt: str, term: BlockedTerm) -> tuple[str, ...]:
    """The normalised forms of `prompt` a term is tried on."""
    if term.is_regex:
        return normalise(prompt), normalise(prompt, keep_accents=False)
    return (normalise(prompt, keep_accents=_has_accents(normalise(term.pattern))),)


@dataclass(frozen=True)
class TermProblem:
    """Why a new term cannot be used: a catalog key ("mod.term_*") and its values, worded in the moderator's
    language where it is shown."""

    key: str
    params: dict[str, str | int] = field(hash=False)


def check_new_term(term: BlockedTerm) -> TermProblem | None:
    """Why a moderator's new term cannot be used, or None when it is fine."""
    if not term.pattern.strip() or len(term.pattern) > MAX_PATTERN:
        return TermProblem("mod.term_length", {"most": MAX_PATTERN})
    try:
        compiled = compile_term(term)
    except regex.error as exc:  # the regex library's own words (English) follow ours, as a detail
        return TermProblem("mod.term_invalid", {"term": term.shown(), "detail": str(exc)})
    try:
        compiled.search(PROBE, timeout=MATCH_SECONDS)
    except TimeoutError:
        return TermProblem("mod.term_slow", {"term": term.shown()})
    return None


def blocked_by(prompt: str, terms: Iterable[BlockedTerm]) -> BlockedTerm | None:
    """The first term the prompt hits; a term that runs out of time counts as a hit (fail closed)."""
    for term in terms:
        try:
            pattern = compile_term(term)
            if any(pattern.search(form, timeout=MATCH_SECONDS) for form in _forms(prompt, term)):
                return term
        except TimeoutError:
            log.warning("blocklist pattern %s timed out on a prompt; refusing the prompt", term.shown())
            return term
        except regex.error:
            log.warning("blocklist pattern %s no longer compiles; skipped", term.shown())
    return None
