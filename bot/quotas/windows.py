"""Quota windows in the server's own time zone: a day starts at local midnight, a week on Monday, a month
on the 1st. Boundaries are computed in local time and converted to UTC, so days of 23 and 25 hours (the
daylight-saving changes) come out right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.quotas.models import Period


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        raise ValueError(f"{name!r} is not a time zone (use a name like Europe/Paris or Asia/Shanghai)") from None


def _local_start(period: Period, local: datetime) -> datetime:
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _local_next(period: Period, start: datetime) -> datetime:
    if period is Period.DAY:
        return start + timedelta(days=1)  # wall-clock arithmetic: tomorrow's midnight, whatever its length
    if period is Period.WEEK:
        return start + timedelta(days=7)
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def window(period: Period, now: datetime, tz: str) -> tuple[datetime, datetime]:
    """(start, end) in UTC of the window holding `now`."""
    zone_info = zone(tz)
    start = _local_start(period, now.astimezone(zone_info))
    # Rebuild from wall-clock fields so the offset is the one in force at that local time.
    start = start.replace(tzinfo=None).replace(tzinfo=zone_info)
    end = _local_next(period, start).replace(tzinfo=None).replace(tzinfo=zone_info)
    return start.astimezone(UTC), end.astimezone(UTC)
