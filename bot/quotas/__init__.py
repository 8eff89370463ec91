"""Quotas: policy (who may spend what) and the ledger (reserve, consume, refund), atomic in the store."""

from bot.quotas.charging import OperatorLimits, charge_for, first_refusal, parse_limits, request_checks, used_against
from bot.quotas.models import (
    Charge,
    GuildSettings,
    Limit,
    Period,
    QuotaCheck,
    QuotaExceeded,
    Scope,
    Usage,
)
from bot.quotas.policy import checks_for, member_limits, with_bot_defaults
from bot.quotas.windows import window, zone

__all__ = ["Charge", "GuildSettings", "Limit", "OperatorLimits", "Period", "QuotaCheck", "QuotaExceeded", "Scope",
           "Usage", "charge_for", "checks_for", "first_refusal", "member_limits", "parse_limits", "request_checks",
           "used_against", "window", "with_bot_defaults", "zone"]
