"""zh-CN names and descriptions for every slash command, option and choice (synced as localizations).

Keyed by the English text the code declares, so a command keeps one source of truth for its English.
Chinese command and option names follow Discord's rule: lower case, 1-32 characters, no spaces.
"""

from __future__ import annotations

from discord import Locale, app_commands
from discord.app_commands import TranslationContextLocation as Where
from discord.app_commands import TranslationContextTypes, locale_str

from bot.i18n.commands_zh import CHOICES, DESCRIPTIONS, NAMES

_NAME_PLACES = (Where.command_name, Where.group_name, Where.parameter_name)
_DESCRIPTION_PLACES = (Where.command_description, Where.group_description, Where.parameter_description)


class ViduTranslator(app_commands.Translator):
    async def translate(self, string: locale_str, locale: Locale,
                        context: TranslationContextTypes) -> str | None:
        if locale is not Locale.chinese:  # Locale.chinese is zh-CN
            return None
        return translation(string.message, context.location)


def translation(english: str, where: Where) -> str | None:
    """The zh-CN text for one English name, description or choice; None leaves Discord's default (English)."""
    if where in _NAME_PLACES:
        return NAMES.get(english)
    if where in _DESCRIPTION_PLACES:
        return DESCRIPTIONS.get(english)
    if where is Where.choice_name:
        return CHOICES.get(english)
    return None
