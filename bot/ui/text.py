"""How a request reads wherever it is shown (its card in the thread, the storyboard preview, /jobs), its
prompts escaped and cut to a budget (bot/ui/fit.py)."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.i18n import DEFAULT_LOCALE, t
from bot.i18n.commands import choice_label
from bot.params import Img2VideoParams, JobParams, StartEndParams
from bot.ui.fit import quote


def prompt_lines(prompts: Sequence[str | None], durations: Sequence[int], *, budget: int,
                 locale: str = DEFAULT_LOCALE) -> list[str]:
    """One numbered line per segment, every prompt escaped and cut so all of them fit `budget` characters."""
    per_line = max(40, budget // max(1, len(prompts)) - 12)
    no_prompt = t("card.no_prompt", locale)
    return [f"{n}. {t('card.seconds', locale, seconds=duration)} — {quote(prompt, per_line) if prompt else no_prompt}"
            for n, (prompt, duration) in enumerate(zip(prompts, durations, strict=True), start=1)]


def request_lines(params: JobParams, seconds: int, locale: str, *, budget: int,
                  cost: str | None = None, server_mark: str | None = None) -> list[str]:
    """What was asked, as the request card in the thread and a job's detail in /jobs both show it: the prompt
    (quoted) or one numbered line per segment, within `budget` characters, then the settings on one line
    ("5 s · 720p · movement auto · audio · seed 7"), with `cost` last when given. `server_mark`: the position
    of the server's watermark (/config watermark) when it applies to this request."""
    p = params
    if isinstance(p, Img2VideoParams):
        lines = [f"> {quote(p.prompt, budget)}"]
        settings = [t("card.seconds", locale, seconds=p.duration), p.resolution,
                    t("card.movement", locale, movement=choice_label(p.movement, locale))]
        settings += [t(label, locale) for on, label in ((p.audio, "card.audio"), (p.bgm, "card.music"),
                                                        (p.off_peak, "card.off_peak")) if on]
        if p.voice_id is not None:
            settings.append(t("card.voice", locale, voice=discord.utils.escape_markdown(p.voice_id)))
        if p.seed is not None:
            settings.append(t("card.seed", locale, seed=p.seed))
    elif isinstance(p, StartEndParams):
        lines = [t("card.startend", locale),
                 f"> {quote(p.prompt, budget)}" if p.prompt else t("card.no_prompt", locale)]
        settings = [t("card.seconds", locale, seconds=p.duration), p.resolution,
                    t("card.movement", locale, movement=p.movement)]
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
