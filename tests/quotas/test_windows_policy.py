"""Quota windows in the server's time zone (daylight-saving days included) and who gets which limit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.quotas import GuildSettings, Limit, Period, Scope, checks_for, member_limits, window

G = 1


def test_a_day_starts_at_local_midnight() -> None:
    start, end = window(Period.DAY, datetime(2026, 6, 10, 23, 30, tzinfo=UTC), "Asia/Shanghai")
    # 23:30 UTC is 07:30 on the 11th in Shanghai (UTC+8): the day began at 16:00 UTC on the 10th.
    assert start == datetime(2026, 6, 10, 16, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=24)


@pytest.mark.parametrize(
    ("day", "hours"),
    [(datetime(2026, 3, 29, 12, tzinfo=UTC), 23), (datetime(2026, 10, 25, 12, tzinfo=UTC), 25),
     (datetime(2026, 7, 1, 12, tzinfo=UTC), 24)],
    ids=["spring-forward", "fall-back", "summer"],
)
def test_daylight_saving_days_have_23_and_25_hours(day: datetime, hours: int) -> None:
    start, end = window(Period.DAY, day, "Europe/Paris")
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(end.tzinfo).hour in (22, 23)  # Paris midnight is 22:00 or 23:00 UTC


def test_a_week_starts_on_monday_and_a_month_on_the_first() -> None:
    now = datetime(2026, 11, 19, 9, tzinfo=UTC)  # a Thursday
    start, end = window(Period.WEEK, now, "UTC")
    assert (start, end) == (datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC))
    start, end = window(Period.MONTH, datetime(2026, 12, 31, 23, tzinfo=UTC), "UTC")
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def test_a_month_across_the_daylight_saving_change() -> None:
    start, end = window(Period.MONTH, datetime(2026, 10, 15, tzinfo=UTC), "America/New_York")
    assert start == datetime(2026, 10, 1, 4, tzinfo=UTC)  # EDT, UTC-4
    assert end == datetime(2026, 11, 1, 4, tzinfo=UTC)  # 1 November 00:00 is still EDT


def test_an_unknown_time_zone_is_named() -> None:
    with pytest.raises(ValueError, match="'Mars/Olympus' is not a time zone"):
        window(Period.DAY, datetime(2026, 1, 1, tzinfo=UTC), "Mars/Olympus")


def lim(scope: Scope, target: int, period: Period, videos: int | None, seconds: int | None) -> Limit:
    return Limit(G, scope, target, period, videos, seconds)


LIMITS = [
    lim(Scope.DEFAULT, 0, Period.DAY, 2, 20),
    lim(Scope.ROLE, 100, Period.DAY, 5, 30),
    lim(Scope.ROLE, 200, Period.DAY, 3, None),
    lim(Scope.MEMBER, 7, Period.DAY, 1, 5),
    lim(Scope.SERVER, 0, Period.MONTH, 500, 5000),
]


def test_own_limit_wins_over_roles_and_default() -> None:
    (own,) = member_limits(LIMITS, 7, [100, 200])
    assert (own.videos, own.seconds) == (1, 5)


def test_roles_give_their_most_generous_allowance_per_unit() -> None:
    (best,) = member_limits(LIMITS, 8, [100, 200])
    assert (best.videos, best.seconds) == (5, None)  # 5 videos from one role, no seconds cap from the other


def test_the_default_applies_without_roles_and_the_pool_always() -> None:
    checks = checks_for(LIMITS, GuildSettings(), user_id=9, role_ids=[], now=datetime(2026, 5, 5, tzinfo=UTC))
    assert [(c.user_id, c.limit.scope, c.limit.videos) for c in checks] == [
        (9, Scope.DEFAULT, 2), (None, Scope.SERVER, 500)]
    assert checks[1].label == "the server's monthly limit"


def test_weights_make_1080p_count_double_by_default() -> None:
    assert GuildSettings().weighted_seconds(5, "1080p") == 10
    assert GuildSettings().weighted_seconds(5, "720p") == 5
    assert GuildSettings(weights={"1080p": 1.5}).weighted_seconds(5, "1080p") == 8  # rounded up


# Havana, 2026: UTC-5 in winter, UTC-4 from 8 March (00:00 jumps to 01:00) to 1 November (01:00 falls back
# to 00:00, so that night's local midnight happens twice: 04:00 and 05:00 UTC).
def _utc(month: int, hour: int, year: int = 2026) -> datetime:
    return datetime(year, month, 1, hour, tzinfo=UTC)


HAVANA_MONTHS = [(_utc(1, 5), _utc(2, 5)), (_utc(2, 5), _utc(3, 5)), (_utc(3, 5), _utc(4, 4)),
                 (_utc(4, 4), _utc(5, 4)), (_utc(5, 4), _utc(6, 4)), (_utc(6, 4), _utc(7, 4)),
                 (_utc(7, 4), _utc(8, 4)), (_utc(8, 4), _utc(9, 4)), (_utc(9, 4), _utc(10, 4)),
                 (_utc(10, 4), _utc(11, 4)), (_utc(11, 4), _utc(12, 5)), (_utc(12, 5), _utc(1, 5, 2027))]


@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_window_runs_from_the_1st_to_the_next_1st_in_local_time(month: int) -> None:
    expected = HAVANA_MONTHS[month - 1]
    start, end = expected
    # The middle of the month, the window's first instant and its last second all fall in the same window.
    for now in (datetime(2026, month, 15, 12, tzinfo=UTC), start, end - timedelta(seconds=1)):
        assert window(Period.MONTH, now, "America/Havana") == expected


@pytest.mark.parametrize("now", [datetime(2026, 11, 1, 4, 30, tzinfo=UTC), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)],
                         ids=["first-00:30", "second-00:30"])
def test_a_local_midnight_that_happens_twice_starts_the_day_at_its_first_occurrence(now: datetime) -> None:
    # 00:30 comes twice in Havana on 1 November 2026 (fold 0 at 04:30 UTC, fold 1 at 05:30 UTC): both are the
    # same 25-hour day, which began at the first midnight; the week and the month begin there too.
    assert window(Period.DAY, now, "America/Havana") == (_utc(11, 4), datetime(2026, 11, 2, 5, tzinfo=UTC))
    assert window(Period.WEEK, now, "America/Havana") == (datetime(2026, 10, 26, 4, tzinfo=UTC),
                                                          datetime(2026, 11, 2, 5, tzinfo=UTC))
    assert window(Period.MONTH, now, "America/Havana") == (_utc(11, 4), _utc(12, 5))


def test_a_day_whose_midnight_does_not_exist_starts_when_the_clocks_jump() -> None:
    # 8 March 2026 in Havana: 00:00 jumps to 01:00; the 23-hour day starts at 05:00 UTC (01:00 local).
    assert window(Period.DAY, datetime(2026, 3, 8, 12, tzinfo=UTC), "America/Havana") == (
        datetime(2026, 3, 8, 5, tzinfo=UTC), datetime(2026, 3, 9, 4, tzinfo=UTC))


@pytest.mark.parametrize("name", ["", "Europe/../Paris", "/etc/localtime", "Europe/Pariss"])
def test_a_malformed_time_zone_name_is_named_too(name: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(repr(name))} is not a time zone"):
        window(Period.DAY, datetime(2026, 1, 1, tzinfo=UTC), name)


def test_a_member_with_exactly_one_limited_role_gets_that_roles_limit() -> None:
    (only,) = member_limits(LIMITS, 8, [200])
    assert (only.scope, only.period, only.videos, only.seconds, only.credits) == (Scope.ROLE, Period.DAY, 3, None, None)
    checks = checks_for(LIMITS, GuildSettings(), user_id=8, role_ids=[200], now=datetime(2026, 5, 5, tzinfo=UTC))
    assert [(c.user_id, c.limit.scope, c.limit.videos, c.label) for c in checks] == [
        (8, Scope.ROLE, 3, "your daily limit"), (None, Scope.SERVER, 500, "the server's monthly limit")]
