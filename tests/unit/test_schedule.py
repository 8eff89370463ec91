"""The poll schedule: quick first look, follow the ETA, otherwise back off up to the cap."""

from __future__ import annotations

import random

import pytest

from bot.schedule import FirstLook, next_poll_delay


def test_first_poll_is_quick() -> None:
    assert next_poll_delay(0, eta_seconds=120, first=5, cap=60) == 5


def test_follows_the_providers_eta_just_after_it() -> None:
    assert next_poll_delay(1, eta_seconds=40, first=5, cap=60) == 40.5
    # A named time is followed past the cap for blind backoff (one more look at a five-minute task, not five)
    assert next_poll_delay(3, eta_seconds=300, first=5, cap=60) == 300.5
    assert next_poll_delay(3, eta_seconds=86_400, first=5, cap=60) == 600  # ten minutes ahead, not further
    assert next_poll_delay(3, eta_seconds=86_400, first=5, cap=3600) == 3600  # an operator's longer cap holds
    assert next_poll_delay(3, eta_seconds=300, first=5, cap=60, eta_past_cap=False) == 60  # the CLI's --wait


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


SHAPE = ("img2video", "720p", 5, False)


def _settle(look: FirstLook, durations: list[float], rounds: int = 20) -> tuple[float, float]:
    """Tasks of these durations, in a random order, each first looked at when the learner says. What the looks
    of the last half were like: the average time they were taken at, and the share that found the task done."""
    rng = random.Random(16)
    ats, finished = [], []
    for n in range(rounds):
        for d in rng.sample(durations, len(durations)):
            at = look.delay(SHAPE)
            look.learn(SHAPE, elapsed=at, finished=d <= at, eta_seconds=None if d <= at else round(d - at))
            if n >= rounds // 2:
                ats.append(at)
                finished.append(d <= at)
    return sum(ats) / len(ats), sum(finished) / len(finished)


def test_the_first_look_settles_near_the_median_duration() -> None:
    at, finished = _settle(FirstLook(shortest=5), [20 + n for n in range(101)])  # 20..120 s: median 70
    assert 60 <= at <= 80
    assert 0.4 <= finished <= 0.6  # about half need no second look


def test_a_look_made_late_or_early_still_teaches_the_learned_time() -> None:
    look = FirstLook(shortest=5)
    look.learn(SHAPE, elapsed=5, finished=False, eta_seconds=60)  # a quick look (calls were plentiful): 65 > 5
    assert look.delay(SHAPE) == 6.0
    before = look.delay(SHAPE)
    look.learn(SHAPE, elapsed=300, finished=True, eta_seconds=None)  # held back by the rate limit: no word
    look.learn(SHAPE, elapsed=300, finished=False, eta_seconds=20)  # nor when it is still running then
    look.learn(SHAPE, elapsed=2, finished=False, eta_seconds=None)  # unfinished before the time: no word
    assert look.delay(SHAPE) == before
    look.learn(SHAPE, elapsed=3, finished=True, eta_seconds=None)  # finished by then: earlier
    assert look.delay(SHAPE) == 5.0  # never below the shortest


def test_each_shape_learns_its_own_time() -> None:
    look = FirstLook(shortest=5)
    at, _ = _settle(look, [100.0], rounds=60)
    assert 80 <= at <= 120
    assert look.delay(("multiframe", "1080p", 20, False)) == 5  # nothing learned for it yet


def test_looks_held_back_by_the_rate_limit_do_not_drift_the_time_up() -> None:
    # Every look an hour late: half find the task done, half still running. Learning from the running ones
    # alone (their done twins say nothing about the learned time) pushed the time to the cap.
    look = FirstLook(shortest=5)
    for n in range(200):
        look.learn(SHAPE, elapsed=3600, finished=n % 2 == 0, eta_seconds=None if n % 2 == 0 else 30)
    assert look.delay(SHAPE) == 5


def test_a_look_up_to_1_1_times_the_learned_time_plus_a_second_teaches_a_later_one_does_not() -> None:
    # Learned time 20 s: a look at 23 s (20 × 1.1 + 1) was on time; one at 23.5 s or 40 s was held back.
    on_the_line = FirstLook(shortest=20)
    on_the_line.learn(SHAPE, elapsed=23.0, finished=False, eta_seconds=None)  # still running at 23 s: later
    assert on_the_line.delay(SHAPE) == 24.0
    for late in (23.5, 40.0):
        for finished in (False, True):
            held_back = FirstLook(shortest=20)
            held_back.learn(SHAPE, elapsed=late, finished=finished, eta_seconds=None)
            assert held_back.delay(SHAPE) == 20, (late, finished)


def test_an_unfinished_look_at_or_after_the_learned_time_without_an_eta_moves_it_later() -> None:
    for elapsed in (20.0, 21.0):
        look = FirstLook(shortest=20)
        look.learn(SHAPE, elapsed=elapsed, finished=False, eta_seconds=None)
        assert look.delay(SHAPE) == 24.0, elapsed


def test_an_eta_that_lands_exactly_on_the_learned_time_counts_as_done_by_then() -> None:
    look = FirstLook(shortest=5)
    look.learn(SHAPE, elapsed=5, finished=False, eta_seconds=25)  # 30 s > 5 s: later, to 6 s
    look.learn(SHAPE, elapsed=4, finished=False, eta_seconds=2)  # done at 6 s, the learned time: earlier
    assert look.delay(SHAPE) == 5.0
    look.learn(SHAPE, elapsed=5, finished=False, eta_seconds=25)
    look.learn(SHAPE, elapsed=5, finished=False, eta_seconds=1)  # an ETA of one second is followed too
    assert look.delay(SHAPE) == 5.0


def test_an_eta_of_zero_on_an_unfinished_look_before_the_learned_time_teaches_nothing() -> None:
    look = FirstLook(shortest=5)
    look.learn(SHAPE, elapsed=5, finished=False, eta_seconds=25)  # later, to 6 s
    look.learn(SHAPE, elapsed=3, finished=False, eta_seconds=0)  # "0" names no time: as if there were no ETA
    assert look.delay(SHAPE) == 6.0
    look.learn(SHAPE, elapsed=6, finished=False, eta_seconds=0)  # at the learned time, still running: later
    assert look.delay(SHAPE) == pytest.approx(7.2)
