"""The one price table: the estimated provider cost of a job by kind, resolution and seconds.

Quota credits, the operator's budget and the estimate on request cards all come from here. The built-in
table holds resellers' published prices in US dollars (provider-api.md, "Cost" [L]); the operator may
replace any entry with PRICE_TABLE. Amounts are kept exactly, as integers: a *credit* is a thousandth of
the currency unit (1000 credits = $1.00), and a job's cost is rounded up to a whole credit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

CREDITS_PER_UNIT = 1000  # credits are thousandths of the price table's currency unit
KINDS = ("img2video", "multiframe", "startend")
RESOLUTIONS = ("540p", "720p", "1080p")
# Bounds that keep every job's cost, and every sum of them, well inside the ledger's integer columns.
MAX_PRICE = Decimal(100)
MAX_FACTOR = Decimal(100)
MAX_DECIMALS = 6

# (base, per second) at factor 1 (540p and 720p); 1080p costs about twice as much. Start-end has no published
# price (provider-api.md): estimated above the fast img2video one (two pictures, a turbo model) and below
# multiframe's; an operator who knows their bill sets it with PRICE_TABLE.
DEFAULT_PRICE_TABLE = ("img2video=0.04+0.01/s,multiframe=0.075+0.05/s,startend=0.05+0.02/s,"
                       "540p=x1,720p=x1,1080p=x2")

_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_RATE = re.compile(rf"^({_NUMBER})\s*\+\s*({_NUMBER})\s*/\s*s$")
_FACTOR = re.compile(rf"^[x×]\s*({_NUMBER})$")


@dataclass(frozen=True)
class PriceTable:
    rates: dict[str, tuple[Decimal, Decimal]] = field(hash=False)  # kind -> (base, per second)
    factors: dict[str, Decimal] = field(hash=False)  # resolution -> multiplier of the kind's price

    def credits(self, kind: str, resolution: str, seconds: int) -> int:
        """The estimated cost of one job, in credits (thousandths of the currency unit, rounded up)."""
        base, per_second = self.rates[kind]
        cost = (base + per_second * seconds) * self.factors[resolution] * CREDITS_PER_UNIT
        return int(cost.to_integral_value(rounding=ROUND_CEILING))


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _amount(text: str, what: str, *, high: Decimal) -> Decimal:
    value = Decimal(text)
    if value > high:
        raise ValueError(f"{what}: {text} is over the most this bot accepts ({_plain(high)})")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        raise ValueError(f"{what}: {text} has more than {MAX_DECIMALS} decimals")
    return value


def parse_price_table(text: str, base: PriceTable | None = None) -> PriceTable:
    """`kind=BASE+PER_SECOND/s` and `resolution=xFACTOR` entries, separated by commas, e.g.
    "img2video=0.04+0.01/s, 1080p=x2". Entries not given keep their value in `base` (the built-in
    table). ValueError names the entry at fault."""
    rates = dict(base.rates) if base else {}
    factors = dict(base.factors) if base else {}
    seen: set[str] = set()
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            raise ValueError("an entry is empty (two commas in a row, or one at the end?)")
        name, equals, value = (part.strip() for part in entry.partition("="))
        if not equals:
            raise ValueError(f"{entry!r} is not name=value (e.g. img2video=0.04+0.01/s or 1080p=x2)")
        if name in seen:
            raise ValueError(f"{name} is given twice")
        seen.add(name)
        if name in KINDS:
            match = _RATE.match(value)
            if match is None:
                raise ValueError(f"{name}: {value!r} is not BASE+PER_SECOND/s (e.g. 0.04+0.01/s)")
            rates[name] = (_amount(match[1], name, high=MAX_PRICE), _amount(match[2], name, high=MAX_PRICE))
        elif name in RESOLUTIONS:
            match = _FACTOR.match(value)
            if match is None:
                raise ValueError(f"{name}: {value!r} is not a multiplier like x2")
            factor = _amount(match[1], name, high=MAX_FACTOR)
            if factor <= 0:
                raise ValueError(f"{name}: the multiplier must be above 0")
            factors[name] = factor
        else:
            raise ValueError(f"{name!r} is not a kind ({', '.join(KINDS)}) or a resolution ({', '.join(RESOLUTIONS)})")
    missing = [name for name in (*KINDS, *RESOLUTIONS) if name not in rates and name not in factors]
    if missing:
        raise ValueError(f"no price for {', '.join(missing)}")
    return PriceTable({k: rates[k] for k in KINDS}, {r: factors[r] for r in RESOLUTIONS})


BUILT_IN = parse_price_table(DEFAULT_PRICE_TABLE)
_active = BUILT_IN


def use_price_table(table: PriceTable) -> None:
    """Make `table` the one every estimate follows (the bot installs PRICE_TABLE's at start-up)."""
    global _active  # one table per process, set once from the settings
    _active = table


def price_table() -> PriceTable:
    return _active


def parse_credits(text: str, what: str = "") -> int:
    """An amount of the currency ("2", "2.50", "0.125") as whole credits; ValueError names the problem
    (after `what`, when given)."""
    text = text.strip()
    head = f"{what}: " if what else ""
    if not re.fullmatch(_NUMBER, text):
        raise ValueError(f"{head}{text!r} is not an amount like 2.50")
    value = Decimal(text) * CREDITS_PER_UNIT
    if value != value.to_integral_value():
        raise ValueError(f"{head}{text} has more than 3 decimals")
    return int(value)


def credits_from_number(value: float) -> int:
    """A number a moderator typed (Discord sends it as a float) to the nearest whole credit."""
    return int((Decimal(str(value)) * CREDITS_PER_UNIT).to_integral_value())


def format_credits(credits: int) -> str:
    """Credits as money: "$2.00", "$0.675" (the third decimal only when it is not 0)."""
    whole, part = divmod(abs(credits), CREDITS_PER_UNIT)
    text = f"{whole}.{part:03d}"
    return f"{'-' if credits < 0 else ''}${text[:-1] if text.endswith('0') else text}"


def estimate_usd(kind: str, resolution: str, seconds: int, table: PriceTable | None = None) -> float:
    """The estimate shown on request cards, from the same table as quota credits."""
    return (table or _active).credits(kind, resolution, seconds) / CREDITS_PER_UNIT
