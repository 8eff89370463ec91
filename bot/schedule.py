"""When to poll a task next. Shared by the background poller and the CLI's `--wait`.

A fixed 3-second poll wastes calls on a 2-minute task and, multiplied by every job in flight, eats the
provider's rate limit that submits need too. Instead: a quick first look, then follow the provider's ETA
when it gives one (poll just after the moment it names, up to ten minutes ahead), else back off
geometrically up to a cap.

While that rate limit is what holds the bot back, the quick first look costs a call that another job needed:
then the first look waits until about half the tasks of the same kind are done (`FirstLook`), so half need
no second look, and the rest learn their ETA from it. Measured as `provider_calls_per_job` and
`jobs_per_min_at_60rpm` (docs/PERFORMANCE.md).
"""

from __future__ import annotations

from collections.abc import Hashable

MIN_GAP_SECONDS = 1.0
BACKOFF_FACTOR = 1.6
ETA_MARGIN_SECONDS = 0.5
# A time the provider names is followed this far ahead: past POLL_MAX_SECONDS (which caps blind backoff) so a
# two-minute task is asked about once more, not every minute; not further, so a wrong ETA costs ten minutes
# at most (the client clamps what it reads to sane ranges already).
ETA_FOLLOW_MAX_SECONDS = 600.0
# A first look taken later than this share of the learned time (plus a second) was held back by the rate limit.
LATE_FACTOR = 1.1


def next_poll_delay(poll_count: int, *, eta_seconds: int | None, first: float, cap: float,
                    eta_past_cap: bool = True) -> float:
    """Seconds to wait before poll number `poll_count + 1` (`poll_count` polls were made so far)."""
    if poll_count <= 0:
        return first
    if eta_seconds is not None and eta_seconds > 0:
        # (`eta_past_cap=False`: the CLI's --wait, where a person watches the progress line: `cap` holds for all)
        longest = max(cap, ETA_FOLLOW_MAX_SECONDS) if eta_past_cap else cap
        return min(longest, max(MIN_GAP_SECONDS, eta_seconds + ETA_MARGIN_SECONDS))
    return min(cap, max(MIN_GAP_SECONDS, first * BACKOFF_FACTOR ** poll_count))


class FirstLook:
    """When to take the first look at a new task while calls are scarce: learned per kind of task (`shape`:
    what decides how long the provider takes, e.g. endpoint, resolution, seconds) as the time by which half
    of them have finished.

    Each first look made on time says whether a look at the learned time would have found the task finished
    (finished by then; or the ETA it names lands before it), and the time moves a step toward the answer:
    down when it would have, up when not. Equal steps up and down settle where both answers are equally
    likely: the median. No durations are stored. A look the rate limit held back well past the learned time
    teaches nothing: finished, it cannot say whether it was by then; unfinished, it would push the time up
    only, since its finished twin says nothing. Learning from those drifted the time up to the cap (the
    capacity benchmark, 2026-12-03: 220 s of delay instead of 25)."""

    STEP = 1.2  # a factor: some twelve looks to move tenfold; about ±20 % around the median after

    def __init__(self, *, shortest: float, longest: float = ETA_FOLLOW_MAX_SECONDS) -> None:
        self._shortest, self._longest = shortest, max(shortest, longest)
        self._at: dict[Hashable, float] = {}

    def delay(self, shape: Hashable) -> float:
        """Seconds after the submit to take the first look at a task of this shape."""
        return self._at.get(shape, self._shortest)

    def learn(self, shape: Hashable, *, elapsed: float, finished: bool, eta_seconds: int | None) -> None:
        """What a first look, `elapsed` seconds after the submit, found."""
        at = self.delay(shape)
        if elapsed > at * LATE_FACTOR + 1.0:
            return  # held back by the rate limit: no word on `at` either way (see above)
        if finished:
            done_by_then = True
        elif eta_seconds is not None and eta_seconds > 0:
            done_by_then = elapsed + eta_seconds <= at
        elif elapsed >= at:
            done_by_then = False
        else:
            return  # unfinished before `at`, and no ETA: no word
        at = at / self.STEP if done_by_then else at * self.STEP
        self._at[shape] = min(self._longest, max(self._shortest, at))
