"""Member-written prompts fitted into a 2000-character message."""

from __future__ import annotations

from bot.ui.text import prompt_lines, shorten


def test_short_text_is_kept_and_long_text_is_cut_at_a_word() -> None:
    assert shorten("a  cat\nwaves", 50) == "a cat waves"
    cut = shorten("the quick brown fox jumps over the lazy dog", 20)
    assert cut == "the quick brown fox…" and len(cut) <= 20


def test_nine_long_prompts_fit_the_budget_together() -> None:
    lines = prompt_lines(["x " * 1000] * 9, [5] * 9, budget=1500)
    assert len("\n".join(lines)) <= 1500
    assert lines[0].startswith("1. 5 s — x x") and lines[8].startswith("9. 5 s")
