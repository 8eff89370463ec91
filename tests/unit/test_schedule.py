"""The poll schedule: quick first look, follow the ETA, otherwise back off up to the cap."""

from __future__ import annotations

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
