"""Fitting member-written text into Discord's limits (2000 characters a message) without losing the shape."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.i18n import DEFAULT_LOCALE, t

MESSAGE_LIMIT = 2000


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word when possible, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    if text[len(cut)] != " ":  # the cut falls inside a word: go back to the word's start
        space = cut.rfind(" ")
        cut = cut[:space] if space > limit // 2 else cut
    return cut.rstrip() + "…"


def prompt_lines(prompts: Sequence[str | None], durations: Sequence[int], *, budget: int,
                 locale: str = DEFAULT_LOCALE) -> list[str]:
    """One numbered line per segment, every prompt shortened so all of them fit `budget` characters."""
    per_line = max(40, budget // max(1, len(prompts)) - 12)
    no_prompt = t("card.no_prompt", locale)
    return [f"{n}. {t('card.seconds', locale, seconds=duration)} — "
            f"{discord.utils.escape_markdown(shorten(prompt or no_prompt, per_line))}"
            for n, (prompt, duration) in enumerate(zip(prompts, durations, strict=True), start=1)]
