"""The server's AutoMod keyword rules over plain data (bot/safety/automod.py): what Discord would block in chat
is refused, what it lets through passes."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.safety.automod import KeywordRule, Where, refusing_rule, refusing_rule_later, rule_matches

ANYONE = Where(role_ids=frozenset({1}), channel_ids=frozenset({100}))


def rule(*keywords: str, regex: tuple[str, ...] = (), allow: tuple[str, ...] = (), **kw: object) -> KeywordRule:
    return KeywordRule(id=7, name="No cats", keywords=keywords, regex_patterns=regex, allow_list=allow, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("keyword", "prompt", "hit"), [
    ("cat", "a cat jumps", True),
    ("cat", "A CAT jumps", True),
    ("cat", "catch the ball", False),  # a whole word only
    ("cat", "the bobcat sleeps", False),
    ("cat*", "catch the ball", True),  # prefix
    ("cat*", "the bobcat sleeps", False),
    ("*cat", "the bobcat sleeps", True),  # suffix
    ("*cat", "catch the ball", False),
    ("*cat*", "good education", True),  # anywhere
    ("*cat*", "a dog", False),
    ("bad word", "a Bad   word here", True),  # a phrase, whatever spaces between its words
    ("bad word", "a badword", False),
    ("猫", "一只猫在跳", True),  # a script without spaces matches inside a run of text
    ("猫", "一只狗在跳", False),
])
def test_keyword_wildcards_follow_discords_rules(keyword: str, prompt: str, hit: bool) -> None:
    assert rule_matches(rule(keyword), prompt) is hit


@pytest.mark.parametrize("prompt", [
    "a ｃａｔ jumps",  # full-width
    "a c\u200bat jumps",  # a zero-width space inside
    "a c\u00adat jumps",  # a soft hyphen inside
])
def test_lookalike_text_does_not_slip_past(prompt: str) -> None:
    assert rule_matches(rule("cat"), prompt)


def test_regex_patterns_match_case_insensitively() -> None:
    assert rule_matches(rule(regex=(r"d[r]+agon",)), "A DRRAGON flies")
    assert not rule_matches(rule(regex=(r"d[r]+agon",)), "a wyvern flies")


def test_an_unusable_pattern_is_skipped_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    broken = rule("cat", regex=(r"(unclosed",))
    with caplog.at_level(logging.WARNING, logger="bot.safety.automod"):
        assert not rule_matches(broken, "a dog")
        assert not rule_matches(broken, "a bird")
        assert rule_matches(broken, "a cat")  # the rule's other parts still work
    assert sum("(unclosed" in r.getMessage() for r in caplog.records) == 1


def test_a_pattern_that_runs_out_of_time_refuses() -> None:
    slow = rule(regex=(r"(a|aa)+$",))
    assert rule_matches(slow, "a" * 5000 + "!")


def test_allow_list_excuses_matches_inside_allowed_words() -> None:
    anywhere = rule("*cat*", allow=("education",))
    assert not rule_matches(anywhere, "good Education")
    assert rule_matches(anywhere, "good education, bad cat")  # the other match still counts
    assert not rule_matches(rule("cat", allow=("cat",)), "a cat")
    assert not rule_matches(rule(regex=("dragon",), allow=("dragonfly*",)), "a dragonfly")


def test_exempt_roles_channels_and_moderators() -> None:
    exempt = rule("cat", exempt_roles=frozenset({5}), exempt_channels=frozenset({300}))
    assert refusing_rule(["a cat"], [exempt], ANYONE) == exempt
    assert refusing_rule(["a cat"], [exempt], Where(frozenset({1, 5}), frozenset({100}))) is None
    # The category (or a thread's parent) counts as where the request was made.
    assert refusing_rule(["a cat"], [exempt], Where(frozenset({1}), frozenset({100, 200, 300}))) is None
    assert refusing_rule(["a cat"], [exempt], Where(frozenset(), frozenset({100}), privileged=True)) is None


def test_every_prompt_of_a_request_is_checked() -> None:
    assert refusing_rule([None, "a dog", "then a cat"], [rule("cat")], ANYONE) is not None
    assert refusing_rule([None, ""], [rule("cat")], ANYONE) is None


def test_who_and_where_is_asked_only_once_a_rule_matches() -> None:
    asked: list[int] = []

    async def where() -> Where:
        asked.append(1)
        return ANYONE

    assert asyncio.run(refusing_rule_later(["a dog"], [rule("cat")], where)) is None
    assert asked == []
    assert asyncio.run(refusing_rule_later(["a cat"], [rule("cat")], where)) is not None
    assert asked == [1]


def test_a_latin_keyword_beside_chinese_text_is_a_whole_word() -> None:
    assert rule_matches(rule("wyvern"), "一条wyvern在飞")
    assert not rule_matches(rule("wyvern"), "一条wyverns在飞")
