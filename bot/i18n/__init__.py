"""English and Simplified Chinese: message catalogs, the member's language, the command translator."""

from bot.i18n.catalog import DEFAULT_LOCALE, SUPPORTED_LOCALES, catalog, locale_of, pick_locale, t
from bot.i18n.reasons import provider_refusal, reason_code, render_reason

__all__ = ["DEFAULT_LOCALE", "SUPPORTED_LOCALES", "catalog", "locale_of", "pick_locale", "provider_refusal",
           "reason_code", "render_reason", "t"]
