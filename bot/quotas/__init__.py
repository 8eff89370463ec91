"""Quotas: policy (who may spend what) and the ledger (reserve, consume, refund), atomic in the store."""

from bot.quotas.charging import OperatorLimits, charge_for, first_refusal, parse_limits, request_checks, used_against
from bot.quotas.models import (
    Charge,
    GuildSettings,
    Limit,
    MemberPace,
    Period,
    QueueFull,
    QuotaCheck,
    QuotaExceeded,
    Scope,
    TooSoon,
    Usage,
)
from bot.quotas.policy import checks_for, member_limits, with_bot_defaults
from bot.quotas.windows import window, zone

__all__ = ["Charge", "GuildSettings", "Limit", "MemberPace", "OperatorLimits", "Period", "QueueFull", "QuotaCheck",
           "QuotaExceeded", "Scope", "TooSoon", "Usage", "charge_for", "checks_for", "first_refusal", "member_limits",
           "parse_limits", "request_checks", "used_against", "window", "with_bot_defaults", "zone"]
