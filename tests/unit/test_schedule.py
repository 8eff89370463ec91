"""The poll schedule: quick first look, follow the ETA, otherwise back off up to the cap."""

from __future__ import annotations

import pytest

from bot.schedule import next_poll_delay


def test_first_poll_is_quick() -> None:
    assert next_poll_delay(0, eta_seconds=120, first=5, cap=60) == 5


def test_follows_the_providers_eta_just_after_it() -> None:
    assert next_poll_delay(1, eta_seconds=40, first=5, cap=60) == 40.5
    assert next_poll_delay(3, eta_seconds=300, first=5, cap=60) == 60  # capped


def test_without_eta_backs_off_geometrically_to_the_cap() -> None:
    delays = [next_poll_delay(n, eta_seconds=None, first=5, cap=60) for n in range(1, 10)]
    assert delays == sorted(delays)
    assert delays[0] > 5
    assert delays[-1] == 60


def test_never_hammers_when_eta_is_tiny() -> None:
    assert next_poll_delay(2, eta_seconds=0, first=0.1, cap=60) >= 1.0


def test_without_eta_each_gap_is_1_6_times_the_last_until_the_cap() -> None:
    # A 2-minute task without an ETA is looked at after 5 s, then 8, 12.8, 20.48, 32.77, 52.43 s, then every 60 s.
    delays = [next_poll_delay(n, eta_seconds=None, first=5, cap=60) for n in range(7)]
    assert delays == pytest.approx([5, 8, 12.8, 20.48, 32.768, 52.4288, 60])


def test_an_eta_of_zero_means_none_and_an_eta_of_one_second_is_followed() -> None:
    # The third look at a task: without an ETA it backs off to 12.8 s; "eta 0" says nothing about when it ends.
    assert next_poll_delay(2, eta_seconds=0, first=5, cap=60) == pytest.approx(12.8)
    assert next_poll_delay(2, eta_seconds=1, first=5, cap=60) == 1.5  # just after the second it names


def test_polls_are_never_closer_than_one_second() -> None:
    assert next_poll_delay(1, eta_seconds=None, first=0.1, cap=60) == 1.0  # 0.16 s of backoff, raised to 1 s
    assert next_poll_delay(4, eta_seconds=None, first=0.1, cap=60) == 1.0  # 0.66 s
    assert next_poll_delay(5, eta_seconds=None, first=0.1, cap=60) == pytest.approx(1.048576)
