"""The prompt blocklist holds against look-alike text (issue 25, item 5): the cases a hostile member tried."""

from __future__ import annotations

import pytest

from bot.moderation import BlockedTerm, blocked_by, normalise

DRAGON = BlockedTerm("dragon", is_regex=False)
CAT = BlockedTerm("猫", is_regex=False)


@pytest.mark.parametrize("prompt", [
    "a dragon flies",
    "ｄｒａｇｏｎ",  # full-width
    "dra\u200bgon",  # zero-width space
    "dra\u00adgon",  # soft hyphen
    "dr\u200dag\ufe0fon",  # zero-width joiner, variation selector
    "\u202edragon",  # a bidirectional override before it
    "DRAGON!",
    "drágon",  # accents the term does not have
    "𝐝𝐫𝐚𝐠𝐨𝐧",  # mathematical bold letters (compatibility forms)
])
def test_look_alikes_of_a_blocked_word_are_refused(prompt: str) -> None:
    assert blocked_by(prompt, [DRAGON]) == DRAGON


@pytest.mark.parametrize("prompt", ["a dragonfly", "snapdragon", "dragons"])
def test_a_blocked_word_is_still_a_whole_word_in_spaced_scripts(prompt: str) -> None:
    assert blocked_by(prompt, [DRAGON]) is None


@pytest.mark.parametrize("prompt", ["一只猫在跳", "猫", "小猫咪", "ねこ猫ねこ", "a 猫 b"])
def test_a_chinese_term_matches_inside_a_chinese_prompt(prompt: str) -> None:
    assert blocked_by(prompt, [CAT]) == CAT


def test_a_term_of_mixed_scripts_needs_a_boundary_only_on_its_spaced_side() -> None:
    term = BlockedTerm("ai猫", is_regex=False)
    assert blocked_by("画一只ai猫咪", [term]) is None  # "画一只ai": a Latin edge runs on into Chinese letters (\w)
    assert blocked_by("画一只 ai猫咪", [term]) == term
    assert blocked_by("chai猫", [term]) is None


def test_a_term_written_with_accents_keeps_them() -> None:
    cafe = BlockedTerm("café", is_regex=False)
    assert blocked_by("un café noir", [cafe]) == cafe
    assert blocked_by("ｃａｆé", [cafe]) == cafe  # full-width letters, the accent as written
    assert blocked_by("a cafe", [cafe]) is None


def test_regular_expressions_see_the_normalised_prompt_with_and_without_accents() -> None:
    term = BlockedTerm("dra+gon", is_regex=True)
    assert blocked_by("ＤＲＡＡＧＯＮ", [term]) == term
    assert blocked_by("dra\u200bagón", [term]) == term
    assert blocked_by("dog", [term]) is None


def test_normalise_folds_compatibility_forms_case_and_invisible_characters() -> None:
    assert normalise("Ｃａ\u200bＦÉ") == "café"
    assert normalise("Ｃａ\u200bＦÉ", keep_accents=False) == "cafe"
    assert normalise("ﬁre") == "fire"
