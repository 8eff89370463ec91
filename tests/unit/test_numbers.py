"""The one rule for a whole number typed as text (bot/numbers.py), and the places that must use it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.numbers import whole_number
from bot.requests import InputProblem
from cogs.menu import parse_duration

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("42", 42), ("007", 7), ("٣", 3), ("５", 5), ("४२", 42),
                                             ("1٣", 13)])
def test_decimal_digits_of_any_script_are_read_as_int_reads_them(text: str, value: int) -> None:
    assert whole_number(text) == value


@pytest.mark.parametrize("text", ["", " ", "²", "12²", "½", "五", "፩", "-1", "+1", "1.0", "1 2", " 3", "1_000",
                                  "٣" * 5000])
def test_anything_else_is_not_a_number(text: str) -> None:
    assert whole_number(text) is None  # never a ValueError from int(): the caller names the field


@pytest.mark.parametrize(("text", "locale", "expected"), [
    ("²", "en-US", 'duration: "²" is not a whole number of seconds from 1 to 10'),
    ("²", "zh-CN", "时长：“²” 不是 1 到 10 之间的整数秒"),
    ("11", "en-US", 'duration: "11" is not a whole number of seconds from 1 to 10'),
    ("11秒", "zh-CN", "时长：“11” 不是 1 到 10 之间的整数秒"),
])
def test_the_apps_menu_duration_names_its_field_in_the_members_language(text: str, locale: str,
                                                                        expected: str) -> None:
    with pytest.raises(InputProblem) as err:
        parse_duration(text, locale)
    assert err.value.text(locale) == expected


def test_the_apps_menu_reads_any_decimal_digits() -> None:
    assert parse_duration("٣", "en-US") == 3 and parse_duration("５s", "zh-CN") == 5
    assert parse_duration("５ 秒", "zh-CN") == 5  # typed with the unit, in Chinese


def test_no_code_checks_a_number_with_isdigit() -> None:
    """str.isdigit() passes `²`, which int() refuses: every check of typed digits goes through whole_number."""
    found = [f"{path.relative_to(ROOT)}:{n}" for top in ("bot", "cogs") for path in sorted((ROOT / top).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\.isdigit\(|\.isnumeric\(", line)]
    assert found == []
