"""`t(key, locale, **params)`: one message in the member's language, from plain-dict catalogs.

English is the reference: every key exists there, and tests/i18n checks that every other catalog has the
same keys with the same {placeholders}. A key missing at run time falls back to English rather than
failing a member's request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.i18n.en import MESSAGES as EN
from bot.i18n.zh_cn import MESSAGES as ZH_CN

log = logging.getLogger("bot.i18n")

DEFAULT_LOCALE = "en-US"
_CATALOGS: dict[str, Mapping[str, str]] = {DEFAULT_LOCALE: EN, "zh-CN": ZH_CN}
SUPPORTED_LOCALES = tuple(_CATALOGS)


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


def t(key: str, locale: str | None = DEFAULT_LOCALE, /, **params: Any) -> str:
    chosen = _CATALOGS.get(pick_locale(locale), EN)
    template = chosen.get(key)
    if template is None:
        template = EN.get(key)
        if template is None:
            raise KeyError(f"no message {key!r} in the catalog")
        log.warning("message %r has no %s text; using English", key, locale)
    return template.format(**params)
