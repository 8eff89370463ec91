"""Money, numbers, dates and lists in the member's language, from CLDR's locale data (Babel), never by hand.

Money is US dollars (the price table's currency, bot/pricing.py), written as the language writes dollars:
English "$0.675", Chinese "US$0.675" (CLDR's Chinese symbol for the US dollar, so it is never read as yuan).
Cents always show and a third decimal only when it is not 0, as `format_credits` writes it for operators.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import NumberPattern, format_decimal, parse_pattern

from bot.i18n.catalog import babel_locale, t
from bot.pricing import CREDITS_PER_UNIT

CURRENCY = "USD"


@functools.cache
def _money_pattern(locale: str) -> NumberPattern:
    pattern = parse_pattern(babel_locale(locale).currency_formats["standard"].pattern)
    pattern.frac_prec = (2, 3)  # credits are thousandths of a dollar: "$0.675", "$2.00"
    return pattern


def money(credits: int, locale: str) -> str:
    """An amount of credits (thousandths of a dollar) as the member's language writes dollars."""
    amount = Decimal(credits) / CREDITS_PER_UNIT
    return str(_money_pattern(locale).apply(amount, babel_locale(locale), currency=CURRENCY, currency_digits=False))


def estimate(credits: int, locale: str) -> str:
    """A job's estimated cost as a card shows it ("about $0.675", "预估费用 约 US$0.675")."""
    return t("cost.estimate", locale, amount=money(credits, locale))


def number(value: float | Decimal, locale: str, *, grouped: bool = True) -> str:
    return format_decimal(value, locale=babel_locale(locale), group_separator=grouped)


def day(moment: date, locale: str) -> str:
    """A calendar day: "Dec 1, 2026", "2026年12月1日"."""
    return format_date(moment, "medium", locale=babel_locale(locale))


def join(items: Sequence[str], locale: str) -> str:
    """Items as one list in the language: "a, b, and c", "a、b和c"."""
    return format_list(list(items), locale=babel_locale(locale))
