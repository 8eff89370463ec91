"""Who may spend what: the limits that apply to one member's request.

Per period: the member's own limit if set, else the most generous of their roles' limits, else the
server default. The server pool applies on top, to everyone together.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import datetime

from bot.quotas.models import GuildSettings, Limit, Period, QuotaCheck, Scope
from bot.quotas.windows import window


def _most_generous(limits: list[Limit]) -> Limit:
    """Per unit, the largest allowance (no limit beats any number)."""

    def loosest(values: Iterable[int | None]) -> int | None:
        values = list(values)
        return None if any(v is None for v in values) else max(v for v in values if v is not None)

    first = limits[0]
    return Limit(first.guild_id, Scope.ROLE, 0, first.period, loosest(x.videos for x in limits),
                 loosest(x.seconds for x in limits), loosest(x.credits for x in limits))


def with_bot_defaults(limits: Iterable[Limit], defaults: Iterable[Limit], guild_id: int) -> list[Limit]:
    """The server's own limits, plus the operator's default for every scope and period the server has not
    set itself (marked `bot_default`, for this server)."""
    own = list(limits)
    taken = {(x.scope, x.target_id, x.period) for x in own}
    added = [replace(x, guild_id=guild_id, bot_default=True) for x in defaults
             if (x.scope, x.target_id, x.period) not in taken]
    return own + added


def member_limits(limits: Iterable[Limit], user_id: int, role_ids: Collection[int]) -> list[Limit]:
    """The member's own effective limit for each period that has one."""
    by_period: dict[Period, list[Limit]] = {}
    for limit in limits:
        by_period.setdefault(limit.period, []).append(limit)
    effective: list[Limit] = []
    for period in Period:
        candidates = by_period.get(period, [])
        own = [x for x in candidates if x.scope is Scope.MEMBER and x.target_id == user_id]
        roles = [x for x in candidates if x.scope is Scope.ROLE and x.target_id in role_ids]
        default = [x for x in candidates if x.scope is Scope.DEFAULT]
        if own:
            effective.append(own[0])
        elif roles:
            effective.append(_most_generous(roles))
        elif default:
            effective.append(default[0])
    return effective


def checks_for(limits: Iterable[Limit], settings: GuildSettings, *, user_id: int, role_ids: Collection[int],
               now: datetime) -> list[QuotaCheck]:
    """Every limit a request by this member must fit, each with its current window."""
    limits = list(limits)
    checks = []
    for limit in member_limits(limits, user_id, role_ids):
        start, end = window(limit.period, now, settings.timezone)
        checks.append(QuotaCheck(limit, user_id, start, end))
    for limit in limits:
        if limit.scope is Scope.SERVER:
            start, end = window(limit.period, now, settings.timezone)
            checks.append(QuotaCheck(limit, None, start, end))
    return checks
