"""The server's AutoMod keyword rules, applied to prompts the way Discord applies them to members' messages.

Discord's AutoMod never looks at what a bot sends, so a prompt it would block in chat would otherwise be echoed
by the bot (request card, thread name, status card). Discord-free: the Discord side (bot/ui/automod.py) reads
the rules and converts them to `KeywordRule`s, and says who asks where (`Where`); this module decides.

Discord's matching, as documented for keyword rules: a keyword is case-insensitive and matches a whole word
(`cat`), a word's start (`cat*`: "catch"), a word's end (`*cat`: "bobcat") or anywhere (`*cat*`:
"education"); a keyword may be a phrase of several words. `regex_patterns` are Rust regular expressions
(evaluated here with the `regex` package under a time limit: Rust's engine never backtracks, this one can).
`allow_list` entries use the same wildcards: a match that lies inside an allowed word or phrase does not count.
A rule does not apply to a member with one of its exempt roles, in one of its exempt channels (a thread's
parent and a channel's category count), nor to members with Manage Server or Administrator (AutoMod exempts
them in chat too).

Prompts are compared as the blocklist compares them (bot/moderation.py `normalise`), keeping accents:
compatibility forms folded (full-width `ｃａｔ` is `cat`), case folded, invisible characters (zero-width spaces,
joiners, soft hyphens) dropped, so look-alike text that only fools a machine does not pass. A keyword's edge in
a script written without spaces (Chinese, Japanese...) needs no word boundary, as in the blocklist: with `猫`
filtered, `一只猫在跳` is refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import regex

from bot.moderation import UNSPACED, UNSPACED_SCRIPTS, normalise

log = logging.getLogger("bot.safety.automod")
MATCH_SECONDS = 0.05
# A word character of a script written with spaces: a Latin keyword beside Chinese text (`一条wyvern在飞`) is a
# whole word, as a Han character is no part of it.
_SPACED_WORD = rf"[^\W{UNSPACED_SCRIPTS}]"
_WORD_CHAR = regex.compile(_SPACED_WORD)
_SPACES = regex.compile(r"\s+")


@dataclass(frozen=True)
class KeywordRule:
    """One enabled keyword rule for messages a member sends, as plain data."""

    id: int
    name: str
    keywords: tuple[str, ...] = ()
    regex_patterns: tuple[str, ...] = ()
    allow_list: tuple[str, ...] = ()
    exempt_roles: frozenset[int] = frozenset()
    exempt_channels: frozenset[int] = frozenset()
    custom_message: str | None = None  # its BLOCK_MESSAGE action's text for the member, when it has one


@dataclass(frozen=True)
class Where:
    """Who asks, where: the member's roles, whether they hold Manage Server or Administrator, and the channels
    the request counts as made in (the channel, a thread's parent, the category)."""

    role_ids: frozenset[int]
    channel_ids: frozenset[int]
    privileged: bool = False


def exempts(rule: KeywordRule, where: Where) -> bool:
    return where.privileged or bool(rule.exempt_roles & where.role_ids) or bool(
        rule.exempt_channels & where.channel_ids)


def _keyword_parts(keyword: str) -> tuple[str, bool, bool] | None:
    """A keyword or allow-list entry over normalised text: its words (one space between them) and whether a word
    boundary is needed before and after it (Discord's wildcards); None for an entry with nothing to match."""
    text = normalise(keyword.strip())
    word = " ".join(text.strip("*").split())
    if not word:
        return None
    before = not text.startswith("*") and not UNSPACED.match(word[:1])
    after = not text.endswith("*") and not UNSPACED.match(word[-1:])
    return word, before, after


@lru_cache(maxsize=256)
def _entries(keywords: tuple[str, ...]) -> tuple[tuple[str, bool, bool], ...]:
    return tuple(parts for parts in map(_keyword_parts, keywords) if parts is not None)


def _word_char_at(text: str, i: int) -> bool:
    return 0 <= i < len(text) and _WORD_CHAR.match(text, i) is not None


def _keyword_spans(keywords: tuple[str, ...], text: str) -> list[tuple[int, int]]:
    """Where each keyword (or allow-list entry) occurs in normalised text, boundaries checked. Plain substring
    search, then a look at the two neighbouring characters: a rule of a thousand keywords costs a thousand
    C-speed `find`s (milliseconds), where one regular expression per keyword, or one alternation of them all,
    cost hundreds of milliseconds on a 2000-character prompt."""
    spans = []
    for word, before, after in _entries(keywords):
        start = text.find(word)
        while start != -1:
            end = start + len(word)
            if not (before and _word_char_at(text, start - 1)) and not (after and _word_char_at(text, end)):
                spans.append((start, end))
            start = text.find(word, start + 1)
    return spans


_unusable: set[str] = set()  # patterns already logged as unusable: said once, not per prompt


@lru_cache(maxsize=1024)
def _compiled_regex(pattern: str) -> regex.Pattern[str] | None:
    """A rule's regular expression, case-insensitive as AutoMod's are; None (logged once) when the `regex`
    package cannot compile it (Rust's syntax differs in corners): that pattern is skipped, not a crash."""
    try:
        return regex.compile(pattern, regex.IGNORECASE | regex.V1)
    except regex.error as exc:
        if pattern not in _unusable:
            _unusable.add(pattern)
            log.warning("AutoMod pattern %r cannot be evaluated here (%s); skipped", pattern, exc)
        return None


def _spans(pattern: regex.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text, timeout=MATCH_SECONDS)]


def rule_matches(rule: KeywordRule, prompt: str) -> bool:
    """Whether the prompt trips the rule (exemptions aside). A regular expression that runs out of time counts
    as a match: the prompt is refused rather than echoed (logged)."""
    text = _SPACES.sub(" ", normalise(prompt))  # one space between words, as in a keyword's phrase
    hits: list[tuple[int, int]] = []
    try:
        hits += _keyword_spans(rule.keywords, text)
        for pattern in rule.regex_patterns:
            compiled = _compiled_regex(pattern)
            if compiled is not None:
                hits += _spans(compiled, text)
    except TimeoutError:
        log.warning("AutoMod rule %r timed out on a prompt; refusing the prompt", rule.name)
        return True
    if not hits:
        return False
    allowed = _keyword_spans(rule.allow_list, text)
    return any(not any(a <= start and end <= b for a, b in allowed) for start, end in hits if end > start)


def _joined(prompts: Iterable[str | None]) -> str:
    return "\n".join(p for p in prompts if p)


def refusing_rule(prompts: Iterable[str | None], rules: Sequence[KeywordRule], where: Where) -> KeywordRule | None:
    """The first rule that refuses these prompts here, or None."""
    prompt = _joined(prompts)
    if not prompt:
        return None
    return next((r for r in rules if not exempts(r, where) and rule_matches(r, prompt)), None)


async def refusing_rule_later(prompts: Iterable[str | None], rules: Sequence[KeywordRule],
                              where: Callable[[], Awaitable[Where | None]]) -> KeywordRule | None:
    """As `refusing_rule`, asking who and where (`where`, which may cost a call to Discord) only once some
    rule matches; None also when `where` cannot say."""
    prompt = _joined(prompts)
    if not prompt or not rules:
        return None
    matched = await asyncio.to_thread(lambda: [r for r in rules if rule_matches(r, prompt)])  # off the loop
    if not matched:
        return None
    here = await where()
    return None if here is None else next((r for r in matched if not exempts(r, here)), None)


def channel_chain(*channel_ids: int | None) -> frozenset[int]:
    return frozenset(c for c in channel_ids if c)
