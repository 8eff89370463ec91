"""Member-written text fitted into Discord's limits after escaping (bot/ui/fit.py, bot/ui/text.py)."""

from __future__ import annotations

import regex

from bot.ui.fit import clip, code, cut, fit_lines, quote
from bot.ui.text import prompt_lines

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, seven code points
ACCENTED = "e\u0301\u0302"  # one grapheme, three code points


def test_short_text_is_kept_and_long_text_is_cut_at_a_word() -> None:
    assert quote("a  cat\nwaves", 50) == "a cat waves"
    shown = quote("the quick brown fox jumps over the lazy dog", 20)
    assert shown == "the quick brown fox…" and len(shown) <= 20


def test_escaping_comes_before_the_cut_and_an_escape_stays_with_its_character() -> None:
    for limit in range(2, 40):
        shown = quote("*_" * 100, limit)
        assert len(shown) <= limit and shown.endswith("…")
        assert regex.fullmatch(r"(\\[*_])*…", shown), shown  # never a lone backslash or a bare * or _


def test_a_cut_never_splits_a_grapheme() -> None:
    for text in (FAMILY * 20, ACCENTED * 50, "猫" * 300):
        whole = set(regex.findall(r"\X", text))
        for limit in range(1, 60):
            shown = cut(text, limit)
            assert len(shown) <= limit
            assert set(regex.findall(r"\X", shown.removesuffix("…"))) <= whole, (limit, shown)


def test_a_whole_message_is_cut_after_a_line_when_that_keeps_most() -> None:
    text = "\n".join(["x" * 90] * 30)
    shown = clip(text, 2000)
    assert len(shown) <= 2000 and shown.endswith("\n…") and all(len(line) == 90 for line in shown.splitlines()[:-1])
    assert clip("short", 2000) == "short"


def test_a_list_keeps_whole_lines_and_says_how_many_are_left_out() -> None:
    shown = fit_lines(["**Jobs**"], ["y" * 100] * 30, "en-US")
    assert len(shown) <= 2000 and shown.splitlines()[0] == "**Jobs**"
    kept = shown.splitlines()[1:-1]
    assert all(line == "y" * 100 for line in kept) and shown.endswith(f"…and {30 - len(kept)} more")
    assert fit_lines(["h"], ["a", "b"], "zh-CN") == "h\na\nb"


def test_text_in_a_code_span_loses_its_backticks() -> None:
    assert code("a`b", 10) == "aˋb" and len(code("`" * 6000, 40)) == 40


def test_nine_long_prompts_fit_the_budget_together_after_escaping() -> None:
    for prompt in ("x " * 1000, "*_" * 1000, FAMILY * 300):
        lines = prompt_lines([prompt] * 9, [5] * 9, budget=1500)
        assert len("\n".join(lines)) <= 1500
        assert lines[0].startswith("1. 5 s — ") and lines[8].startswith("9. 5 s")
