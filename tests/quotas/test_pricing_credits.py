"""Credits: the one price table (PRICE_TABLE), a job's cost by kind, resolution and seconds, the operator's
default limits and budget as the environment gives them, each bad value stopped with one line naming it."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import pytest

from bot.config import ConfigError, load_settings
from bot.pricing import (
    BUILT_IN,
    credits_from_number,
    estimate_usd,
    format_credits,
    parse_price_table,
    price_table,
    use_price_table,
)
from bot.quotas import (
    GuildSettings,
    Limit,
    OperatorLimits,
    Period,
    QuotaExceeded,
    Scope,
    Usage,
    charge_for,
    parse_limits,
    with_bot_defaults,
)

G = 7


@pytest.mark.parametrize(("kind", "resolution", "seconds", "credits"), [
    ("img2video", "540p", 1, 50),  # $0.04 + $0.01/s
    ("img2video", "720p", 5, 90),
    ("img2video", "1080p", 5, 180),  # twice 720p
    ("img2video", "1080p", 10, 280),
    ("multiframe", "540p", 4, 275),  # $0.075 + $0.05/s
    ("multiframe", "720p", 12, 675),
    ("multiframe", "1080p", 63, 6450),  # 9 keyframes of 7 s at 1080p: $6.45, not "one video"
    ("startend", "540p", 1, 70),  # $0.05 + $0.02/s: its own kind, not multiframe's price
    ("startend", "720p", 8, 210),
    ("startend", "1080p", 5, 300),
])
def test_a_jobs_credits_follow_its_kind_resolution_and_seconds(kind: str, resolution: str, seconds: int,
                                                               credits: int) -> None:
    assert BUILT_IN.credits(kind, resolution, seconds) == credits


def test_the_operators_table_replaces_entries_and_rounds_a_job_up_to_a_whole_credit() -> None:
    table = parse_price_table(" img2video = 0.0125+0.0033/s , 1080p=×2.5 ", BUILT_IN)
    assert table.credits("img2video", "720p", 3) == 23  # 22.4 thousandths, rounded up: never under the bill
    assert table.credits("img2video", "1080p", 3) == 56  # exact decimals: no float error to round up
    assert table.credits("multiframe", "720p", 12) == 675  # entries not given keep their default


def test_the_card_estimate_and_the_charge_come_from_the_same_table() -> None:
    before = price_table()
    try:
        use_price_table(parse_price_table("img2video=1+0.5/s", BUILT_IN))
        assert estimate_usd("img2video", "720p", 4) == 3.0
        charge = charge_for(G, 1, kind="img2video", resolution="720p", seconds=4, settings=GuildSettings(),
                            prices=price_table())
        assert charge.credits == 3000 and charge.videos == 1 and charge.seconds == 4
    finally:
        use_price_table(before)
    assert estimate_usd("multiframe", "720p", 12) == 0.675


@pytest.mark.parametrize(("value", "problem"), [
    ("img2video=0.04+0.01/s,", "an entry is empty (two commas in a row, or one at the end?)"),
    ("img2video", "'img2video' is not name=value (e.g. img2video=0.04+0.01/s or 1080p=x2)"),
    ("4k=x3", "'4k' is not a kind (img2video, multiframe, startend) or a resolution (540p, 720p, 1080p)"),
    ("1080p=x2,1080p=x3", "1080p is given twice"),
    ("multiframe=0.075", "multiframe: '0.075' is not BASE+PER_SECOND/s (e.g. 0.04+0.01/s)"),
    ("img2video=-1+0.01/s", "img2video: '-1+0.01/s' is not BASE+PER_SECOND/s"),
    ("720p=2", "720p: '2' is not a multiplier like x2"),
    ("720p=x0", "720p: the multiplier must be above 0"),
    ("img2video=0.0000001+0.01/s", "img2video: 0.0000001 has more than 6 decimals"),
    ("img2video=500+0.01/s", "img2video: 500 is over the most this bot accepts (100)"),
])
def test_a_malformed_price_table_stops_start_up_with_one_line(value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({"PRICE_TABLE": value}, env_file=None)
    assert str(error.value).startswith(f"PRICE_TABLE is malformed: {problem}")
    assert "\n" not in str(error.value)


def test_the_operators_defaults_and_budget_from_the_environment() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.price_table == BUILT_IN
    operator = settings.operator_limits()
    assert (operator.budget_per_day, operator.budget_per_month) == (None, None)  # no budget unless set
    assert [(x.scope, x.period, x.videos, x.seconds, x.credits) for x in operator.defaults] == [
        (Scope.DEFAULT, Period.DAY, 10, None, 2000),
        (Scope.SERVER, Period.DAY, None, None, 20000), (Scope.SERVER, Period.MONTH, None, None, 200000)]
    settings = load_settings({"BUDGET_PER_DAY": "12.5", "BUDGET_PER_MONTH": "300", "DEFAULT_MEMBER_LIMITS": "none",
                              "DEFAULT_SERVER_LIMITS": "seconds=600/week, videos=40/week, credits=0.125/day"},
                             env_file=None)
    operator = settings.operator_limits()
    assert (operator.budget_per_day, operator.budget_per_month) == (12500, 300000)
    assert [(x.scope, x.period, x.videos, x.seconds, x.credits) for x in operator.defaults] == [
        (Scope.SERVER, Period.DAY, None, None, 125), (Scope.SERVER, Period.WEEK, 40, 600, None)]


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("BUDGET_PER_DAY", "lots", "'lots' is not an amount like 2.50"),
    ("BUDGET_PER_MONTH", "-5", "'-5' is not an amount like 2.50"),
    ("BUDGET_PER_DAY", "1.2345", "1.2345 has more than 3 decimals"),
    ("DEFAULT_MEMBER_LIMITS", "videos=5", "'videos=5' is not unit=amount/period"),
    ("DEFAULT_MEMBER_LIMITS", "dollars=5/day", "'dollars=5/day': 'dollars' is not a unit (videos, seconds, credits)"),
    ("DEFAULT_MEMBER_LIMITS", "videos=5/year", "'videos=5/year': 'year' is not a period (day, week, month)"),
    ("DEFAULT_MEMBER_LIMITS", "videos=2.5/day", "'videos=2.5/day': '2.5' is not a whole number"),
    ("DEFAULT_SERVER_LIMITS", "credits=two/day", "'credits=two/day': 'two' is not an amount like 2.50"),
    ("DEFAULT_SERVER_LIMITS", "credits=1/day,credits=2/day", "credits per day is given twice"),
    ("DEFAULT_SERVER_LIMITS", "videos=1/day,,", "an entry is empty"),
    ("DEFAULT_SERVER_LIMITS", "videos=100001/day", "'videos=100001/day': more than 100,000 videos per day"),
])
def test_malformed_budgets_and_default_limits_name_their_variable(name: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({name: value}, env_file=None)
    assert str(error.value).startswith(f"{name} is malformed: {problem}")


def test_the_bot_default_applies_to_each_scope_and_period_the_server_has_not_set() -> None:
    defaults = (Limit(0, Scope.DEFAULT, 0, Period.DAY, 10, None, 2000),
                Limit(0, Scope.SERVER, 0, Period.MONTH, None, None, 200000))
    own = Limit(G, Scope.DEFAULT, 0, Period.DAY, 3, None)  # the server's own daily default replaces the bot's
    in_force = with_bot_defaults([own], defaults, G)
    assert in_force == [own, Limit(G, Scope.SERVER, 0, Period.MONTH, None, None, 200000, bot_default=True)]


def test_a_credits_limit_refuses_exactly_past_its_edge() -> None:
    limit = Limit(G, Scope.DEFAULT, 0, Period.DAY, None, None, 6450)
    charge = charge_for(G, 1, kind="multiframe", resolution="1080p", seconds=63, settings=GuildSettings(),
                        prices=BUILT_IN)
    assert QuotaExceeded.fits(limit, Usage(), charge)
    assert not QuotaExceeded.fits(limit, Usage(credits=1), charge)
    assert QuotaExceeded.fits(limit, Usage(videos=50, seconds=900, credits=-1), charge)  # a grant of 1 credit


def test_money_reads_as_dollars_to_the_thousandth_only_when_needed() -> None:
    assert [format_credits(c) for c in (0, 90, 675, 6450, 2_000_000, -500)] == [
        "$0.00", "$0.09", "$0.675", "$6.45", "$2000.00", "-$0.50"]
    assert Limit(G, Scope.DEFAULT, 0, Period.DAY, 2, None, 1500).describe() == "2 videos and $1.50 of credits per day"


def test_budget_checks_use_utc_windows() -> None:
    now = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    day, month = OperatorLimits(budget_per_day=1000, budget_per_month=9000).budget_checks(now)
    assert (day.since, day.resets_at) == (datetime(2026, 5, 31, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    assert (month.since, month.resets_at) == (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    assert day.is_budget and day.label == "the bot's overall daily budget"
    assert OperatorLimits().budget_checks(now) == []


def test_the_most_a_price_table_accepts_is_100_a_second_and_a_multiplier_of_100_with_six_decimals() -> None:
    table = parse_price_table("img2video=100+100/s,multiframe=0.000001+0.000001/s,1080p=x100", BUILT_IN)
    assert table.credits("img2video", "1080p", 1) == 20_000_000  # ($100 + $100) x 100
    assert table.credits("multiframe", "720p", 1) == 1  # 0.002 thousandths, rounded up to one credit
    for text, problem in [("img2video=100.5+0/s", "img2video: 100.5 is over the most this bot accepts (100)"),
                          ("multiframe=0+100.5/s", "multiframe: 100.5 is over the most this bot accepts (100)"),
                          ("1080p=x100.5", "1080p: 100.5 is over the most this bot accepts (100)")]:
        with pytest.raises(ValueError, match=f"^{re.escape(problem)}$"):
            parse_price_table(text, BUILT_IN)


def test_a_table_without_a_base_must_price_every_kind_and_resolution() -> None:
    with pytest.raises(ValueError, match=r"^no price for multiframe, startend, 540p, 720p, 1080p$"):
        parse_price_table("img2video=0.04+0.01/s")
    table = parse_price_table("img2video=0.04+0.01/s,multiframe=0.075+0.05/s,startend=0.05+0.02/s,"
                              "540p=x1,720p=x1,1080p=x2")
    assert table == BUILT_IN


def test_the_price_table_in_force_is_replaced_whole_never_changed_in_place() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        BUILT_IN.rates = {}  # type: ignore[misc]


def test_credits_a_moderator_types_count_to_the_thousandth_of_a_dollar() -> None:
    # /quota set|grant credits: Discord sends the number as a float.
    assert [credits_from_number(x) for x in (2.5, 0.675, 20, 0.1)] == [2500, 675, 20000, 100]


def test_default_limits_are_templates_marked_as_the_bots_own() -> None:
    assert parse_limits("credits=2.00/day, videos=10/day, seconds=600/week", Scope.DEFAULT) == (
        Limit(0, Scope.DEFAULT, 0, Period.DAY, 10, None, 2000, bot_default=True),
        Limit(0, Scope.DEFAULT, 0, Period.WEEK, None, 600, None, bot_default=True))
    # A server that sets its own daily pool replaces the bot's daily pool, and keeps its monthly one.
    defaults = parse_limits("credits=20/day, credits=200/month", Scope.SERVER)
    own = Limit(G, Scope.SERVER, 0, Period.DAY, None, None, 5000)
    assert with_bot_defaults([own], defaults, G) == [
        own, Limit(G, Scope.SERVER, 0, Period.MONTH, None, None, 200_000, bot_default=True)]


@pytest.mark.parametrize(("text", "problem"), [
    ("videos=100001/day", "'videos=100001/day': more than 100,000 videos per day"),
    ("seconds=10000001/week", "'seconds=10000001/week': more than 10,000,000 seconds per week"),
    ("credits=1000000.001/month", "'credits=1000000.001/month': more than 1,000,000 credits per month"),
])
def test_the_largest_default_limit_is_accepted_and_one_more_is_refused(text: str, problem: str) -> None:
    assert [(x.videos, x.seconds, x.credits) for x in parse_limits(
        "videos=100000/day, seconds=10000000/week, credits=1000000/month", Scope.DEFAULT)] == [
        (100_000, None, None), (None, 10_000_000, None), (None, None, 1_000_000_000)]
    with pytest.raises(ValueError, match=f"^{re.escape(problem)}$"):
        parse_limits(text, Scope.DEFAULT)
