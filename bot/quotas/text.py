"""Quota sentences in the member's language: a limit ("3 videos per day"), what is left, what went over.

Here, not in bot.i18n, so that the quota package depends on the catalog and never the reverse."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.i18n.catalog import t
from bot.i18n.formats import join, money

if TYPE_CHECKING:
    from bot.quotas.models import Charge, Limit, QuotaCheck, Usage


def describe_limit(limit: Limit, locale: str) -> str:
    parts = []
    if limit.videos is not None:
        parts.append(t("limit.videos", locale, count=limit.videos))
    if limit.seconds is not None:
        parts.append(t("limit.seconds", locale, count=limit.seconds))
    if limit.credits is not None:
        parts.append(t("limit.credits", locale, amount=money(limit.credits, locale)))
    text = join(parts, locale) if parts else t("limit.none", locale)
    return t("limit.per", locale, parts=text, period=t(f"period.{limit.period.value}", locale))


def check_label(check: QuotaCheck, locale: str) -> str:
    adjective = t(f"adjective.{check.limit.period.value}", locale)
    return t("quota.label_server" if check.user_id is None else "quota.label_member", locale, adjective=adjective)


def exceeded_text(check: QuotaCheck, used: Usage, charge: Charge, locale: str) -> str:
    limit = check.limit
    when = f"<t:{int(check.resets_at.timestamp())}:R>"
    if check.is_budget:
        assert limit.credits is not None  # a budget is only ever in credits
        return t("quota.exceeded_budget", locale, adjective=t(f"adjective.{limit.period.value}", locale),
                 left=money(max(0, limit.credits - used.credits), locale), limit=money(limit.credits, locale),
                 needed=money(charge.credits, locale), when=when)
    if limit.videos is not None and used.videos + charge.videos > limit.videos:
        what = t("quota.exceeded_videos", locale, used=used.videos, limit=limit.videos)
    elif limit.credits is not None and used.credits + charge.credits > limit.credits:
        what = t("quota.exceeded_credits", locale, used=money(used.credits, locale),
                 limit=money(limit.credits, locale), needed=money(charge.credits, locale))
    else:
        what = t("quota.exceeded_seconds", locale, used=used.seconds, limit=limit.seconds, needed=charge.seconds)
    return t("quota.exceeded", locale, label=check_label(check, locale), limit=describe_limit(limit, locale),
             what=what, when=when)
