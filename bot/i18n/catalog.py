"""`t(key, locale, **params)`: one message in the member's language, from plain-dict catalogs.

English is the reference: every key exists there, and tests/i18n checks that every other catalog has the
same keys with the same {placeholders}. A key missing at run time falls back to English rather than
failing a member's request.

Two additions to str.format, both optional, so a plain "{count} s" template works as it always did:

- Plurals: `{count:one=# video|other=# videos}` picks the text for the CLDR plural category of `count` in the
  message's language (Babel: English has one/other, Chinese only other) and writes the number, in the
  language's digits and grouping, where the text has `#`. A language that needs no plural writes `{count} 个视频`.
- Commands: `/jobs job:` in a template is shown with the names of the language's command list (zh-CN:
  bot/i18n/commands_zh.py, `/任务 任务编号:`), so a sentence names the commands as the member's client shows them
  and a renamed command changes everywhere (bot/i18n/commands.py).
"""

from __future__ import annotations

import functools
import logging
import re
import string
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale
from babel.numbers import format_decimal

from bot.i18n.commands import localise_commands
from bot.i18n.en import MESSAGES as EN
from bot.i18n.zh_cn import MESSAGES as ZH_CN

log = logging.getLogger("bot.i18n")

DEFAULT_LOCALE = "en-US"
_CATALOGS: dict[str, Mapping[str, str]] = {DEFAULT_LOCALE: EN, "zh-CN": ZH_CN}
SUPPORTED_LOCALES = tuple(_CATALOGS)
# `one=# video|other=# videos`: CLDR plural categories, each with its text (no `|` inside a text).
PLURAL_SPEC = re.compile(r"(?:zero|one|two|few|many|other)=[^|]*(?:\|(?:zero|one|two|few|many|other)=[^|]*)*")


def catalog(locale: str) -> Mapping[str, str]:
    return _CATALOGS[locale]


def _supported(locale: object) -> str | None:
    """Our catalog for a Discord locale ("en-GB" reads English; only zh-CN is Simplified Chinese)."""
    text = str(locale or "")
    if text in _CATALOGS:
        return text
    if text.startswith("en"):
        return DEFAULT_LOCALE
    return None


def pick_locale(member_locale: object, guild_locale: object = None) -> str:
    """The member's language if we speak it, else the server's, else English."""
    return _supported(member_locale) or _supported(guild_locale) or DEFAULT_LOCALE


def locale_of(interaction: Any) -> str:
    """The language to answer an interaction in (works for any discord.Interaction)."""
    return pick_locale(getattr(interaction, "locale", None), getattr(interaction, "guild_locale", None))


@functools.cache
def babel_locale(locale: str) -> Locale:
    """The CLDR locale of one of our catalogs ("zh-CN" is Simplified Chinese, zh_Hans_CN)."""
    return Locale.parse(pick_locale(locale), sep="-")


def plural_category(count: object, locale: str) -> str:
    """CLDR's plural category of `count` in `locale`: "one" or "other" in English, always "other" in Chinese."""
    return str(babel_locale(locale).plural_form(_number(count)))


def _number(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"a plural needs a number, got {value!r}") from None


class _Formatter(string.Formatter):
    def __init__(self, locale: str) -> None:
        super().__init__()
        self.locale = locale

    def format_field(self, value: Any, format_spec: str) -> str:
        if not PLURAL_SPEC.fullmatch(format_spec):
            return str(super().format_field(value, format_spec))
        forms = dict(part.split("=", 1) for part in format_spec.split("|"))
        category = plural_category(value, self.locale)
        text = forms.get(category, forms.get("other"))
        if text is None:
            raise ValueError(f"plural {format_spec!r} has no text for {category!r} nor 'other'")
        return text.replace("#", str(format_decimal(_number(value), locale=babel_locale(self.locale))))


@functools.cache
def _template(locale: str, template: str) -> str:
    return localise_commands(template, locale)


def t(key: str, locale: str | None = DEFAULT_LOCALE, /, **params: Any) -> str:
    chosen_locale = pick_locale(locale)
    chosen = _CATALOGS.get(chosen_locale, EN)
    template = chosen.get(key)
    if template is None:
        template = EN.get(key)
        if template is None:
            raise KeyError(f"no message {key!r} in the catalog")
        log.warning("message %r has no %s text; using English", key, locale)
        chosen_locale = DEFAULT_LOCALE
    return _Formatter(chosen_locale).vformat(_template(chosen_locale, template), (), params)
