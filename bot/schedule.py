"""When to poll a task next. Shared by the background poller and the CLI's `--wait`.

A fixed 3-second poll wastes calls on a 2-minute task and, multiplied by every job in flight, eats the
provider's rate limit that submits need too. Instead: a quick first look, then follow the provider's ETA
when it gives one (poll just after the moment it names), else back off geometrically up to a cap.
"""

from __future__ import annotations

MIN_GAP_SECONDS = 1.0
BACKOFF_FACTOR = 1.6
ETA_MARGIN_SECONDS = 0.5


def next_poll_delay(poll_count: int, *, eta_seconds: int | None, first: float, cap: float) -> float:
    """Seconds to wait before poll number `poll_count + 1` (`poll_count` polls were made so far)."""
    if poll_count <= 0:
        return first
    if eta_seconds is not None and eta_seconds > 0:
        return min(cap, max(MIN_GAP_SECONDS, eta_seconds + ETA_MARGIN_SECONDS))
    return min(cap, max(MIN_GAP_SECONDS, first * BACKOFF_FACTOR ** poll_count))
