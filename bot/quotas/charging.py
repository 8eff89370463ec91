"""What a request costs and every limit it must fit: one place for every entry point.

- `charge_for`: one video, its resolution-weighted seconds and its estimated cost in credits (the one price
  table, `bot.pricing`).
- `OperatorLimits`: what the operator sets in the environment: default limits for servers that have not set
  their own (DEFAULT_MEMBER_LIMITS, DEFAULT_SERVER_LIMITS) and a budget across every server
  (BUDGET_PER_DAY, BUDGET_PER_MONTH, in UTC windows).
- `request_checks`, `first_refusal`: the limits of one request and the first it would go over, read before
  anything is downloaded; the store checks the same list again when it reserves, atomically.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.pricing import PriceTable, parse_credits
from bot.quotas.models import Charge, GuildSettings, Limit, Period, QuotaCheck, QuotaExceeded, Scope, Usage
from bot.quotas.policy import checks_for, with_bot_defaults
from bot.quotas.store import QuotaStore
from bot.quotas.windows import window

UNITS = ("videos", "seconds", "credits")
# The largest allowance a moderator may set with /quota set (credits: in currency units).
MOST = {"videos": 100_000, "seconds": 10_000_000, "credits": 1_000_000}


def charge_for(guild_id: int, user_id: int, *, kind: str, resolution: str, seconds: int,
               settings: GuildSettings, prices: PriceTable) -> Charge:
    """What one request counts against quotas and the budget."""
    return Charge(guild_id, user_id, settings.weighted_seconds(seconds, resolution),
                  credits=prices.credits(kind, resolution, seconds))


@dataclass(frozen=True)
class OperatorLimits:
    defaults: tuple[Limit, ...] = ()  # Scope.DEFAULT and Scope.SERVER templates (guild_id 0)
    budget_per_day: int | None = None  # credits across every server; None: no budget
    budget_per_month: int | None = None

    def limits(self, stored: Iterable[Limit], guild_id: int) -> list[Limit]:
        """A server's limits in force: its own, and the bot's default where it has set none."""
        return with_bot_defaults(stored, self.defaults, guild_id)

    def budget_checks(self, now: datetime) -> list[QuotaCheck]:
        checks = []
        for period, amount in ((Period.DAY, self.budget_per_day), (Period.MONTH, self.budget_per_month)):
            if amount is not None:
                start, end = window(period, now, "UTC")
                checks.append(QuotaCheck(Limit(0, Scope.BUDGET, 0, period, None, None, amount), None, start, end))
        return checks


async def request_checks(store: QuotaStore, operator: OperatorLimits, settings: GuildSettings, *, guild_id: int,
                         user_id: int, role_ids: Collection[int], now: datetime) -> list[QuotaCheck]:
    """Every limit a request by this member must fit now: theirs, the server pool's, the operator's budget."""
    limits = operator.limits(await store.limits(guild_id), guild_id)
    return [*checks_for(limits, settings, user_id=user_id, role_ids=role_ids, now=now),
            *operator.budget_checks(now)]


async def used_against(store: QuotaStore, check: QuotaCheck) -> Usage:
    """What is already counted against this check's limit in its current window."""
    if check.is_budget:
        return await store.budget_usage(check.since)
    return await store.usage(check.limit.guild_id, check.user_id, check.since)


async def first_refusal(store: QuotaStore, checks: Sequence[QuotaCheck], charge: Charge) -> QuotaExceeded | None:
    """The first limit this charge would go over now, or None (a read: `create_job` decides atomically)."""
    for check in checks:
        used = await used_against(store, check)
        if not QuotaExceeded.fits(check.limit, used, charge):
            return QuotaExceeded(check, used, charge)
    return None


# ----------------------------------------------------------------------------- the operator's settings


def parse_limits(text: str, scope: Scope) -> tuple[Limit, ...]:
    """DEFAULT_MEMBER_LIMITS / DEFAULT_SERVER_LIMITS: `unit=amount/period` entries separated by commas
    (units videos, seconds, credits; periods day, week, month), e.g. "videos=10/day, credits=2.00/day";
    `none`: no default. ValueError names the entry at fault."""
    if text.strip().lower() == "none":
        return ()
    by_period: dict[Period, dict[str, int]] = {}
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            raise ValueError("an entry is empty (two commas in a row, or one at the end?)")
        unit, equals, rest = (part.strip() for part in entry.partition("="))
        amount, slash, period_name = (part.strip() for part in rest.partition("/"))
        if not equals or not slash:
            raise ValueError(f"{entry!r} is not unit=amount/period (e.g. videos=10/day or credits=2.00/day)")
        if unit not in UNITS:
            raise ValueError(f"{entry!r}: {unit!r} is not a unit ({', '.join(UNITS)})")
        try:
            period = Period(period_name)
        except ValueError:
            raise ValueError(f"{entry!r}: {period_name!r} is not a period (day, week, month)") from None
        if unit == "credits":
            value = parse_credits(amount, repr(entry))
            too_much = value > MOST[unit] * 1000
        else:
            if not re.fullmatch(r"[0-9]+", amount):
                raise ValueError(f"{entry!r}: {amount!r} is not a whole number")
            value = int(amount)
            too_much = value > MOST[unit]
        if too_much:
            raise ValueError(f"{entry!r}: more than {MOST[unit]:,} {unit} per {period.value}")
        units = by_period.setdefault(period, {})
        if unit in units:
            raise ValueError(f"{unit} per {period.value} is given twice")
        units[unit] = value
    return tuple(Limit(0, scope, 0, period, units.get("videos"), units.get("seconds"), units.get("credits"),
                       bot_default=True) for period, units in sorted(by_period.items(), key=lambda x: _ORDER[x[0]]))


_ORDER = {period: n for n, period in enumerate(Period)}

