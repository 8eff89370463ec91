"""Quotas: policy (who may spend what) and the ledger (reserve, consume, refund), atomic in the store."""

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
from bot.quotas.policy import checks_for, member_limits
from bot.quotas.windows import window, zone

__all__ = ["Charge", "GuildSettings", "Limit", "Period", "QuotaCheck", "QuotaExceeded", "Scope", "Usage",
           "checks_for", "member_limits", "window", "zone"]
