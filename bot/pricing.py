"""Estimated cost of a request, shown on the request card (provider-api.md, "Cost": reseller prices [L]).

Only an estimate for members and moderators; quotas count videos and seconds, never dollars.
"""

from __future__ import annotations

# (base, per second) in US dollars at 720p; 1080p costs about twice as much.
RATES = {"img2video": (0.04, 0.01), "multiframe": (0.075, 0.05)}
RESOLUTION_FACTOR = {"540p": 1.0, "720p": 1.0, "1080p": 2.0}


def estimate_usd(kind: str, resolution: str, seconds: int) -> float:
    base, per_second = RATES[kind]
    return round((base + per_second * seconds) * RESOLUTION_FACTOR.get(resolution, 1.0), 3)


def format_usd(amount: float) -> str:
    return f"about ${amount:.2f}"
