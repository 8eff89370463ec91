"""Fitting member-written text into Discord's limits (2000 characters a message) without losing the shape,
and how a request reads wherever it is shown (its card in the thread, the storyboard preview, /jobs)."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.i18n import DEFAULT_LOCALE, t
from bot.params import Img2VideoParams, JobParams

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


def request_lines(params: JobParams, seconds: int, locale: str, *, budget: int,
                  cost: str | None = None, server_mark: str | None = None) -> list[str]:
    """What was asked, as the request card in the thread and a job's detail in /jobs both show it: the prompt
    (quoted) or one numbered line per segment, within `budget` characters, then the settings on one line
    ("5 s · 720p · movement auto · audio · seed 7"), with `cost` last when given. `server_mark`: the position
    of the server's watermark (/config watermark) when it applies to this request."""
    p = params
    if isinstance(p, Img2VideoParams):
        lines = [f"> {discord.utils.escape_markdown(shorten(p.prompt, budget))}"]
        settings = [t("card.seconds", locale, seconds=p.duration), p.resolution,
                    t("card.movement", locale, movement=p.movement)]
        settings += [t(label, locale) for on, label in ((p.audio, "card.audio"), (p.bgm, "card.music"),
                                                        (p.off_peak, "card.off_peak")) if on]
        if p.voice_id is not None:
            settings.append(t("card.voice", locale, voice=discord.utils.escape_markdown(p.voice_id)))
        if p.seed is not None:
            settings.append(t("card.seed", locale, seed=p.seed))
    else:
        lines = prompt_lines(p.prompts, p.durations, budget=budget, locale=locale)
        settings = [t("card.total", locale, seconds=seconds), p.resolution]
    if server_mark is not None:
        settings.append(t("card.server_watermark", locale, position=t(f"corner.{server_mark}", locale)))
    elif p.watermark:
        settings.append(t("card.watermark", locale))
    if cost is not None:
        settings.append(cost)
    return [*lines, " · ".join(settings)]
