"""Which screens look at a member's pictures here: the server's choice (/config safety), the channel's age
restriction (a thread follows its parent; the Discord side says which) and the screens installed.

A rule like admission's: over plain values, no Discord, tested on its own (tests/safety/)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PicturePolicy(StrEnum):
    OUTSIDE_AGE_RESTRICTED = "outside_age_restricted"  # the default: age-restricted channels are the server's
    EVERYWHERE = "everywhere"
    OFF = "off"


DEFAULT_PICTURE_POLICY = PicturePolicy.OUTSIDE_AGE_RESTRICTED


def picture_policy(value: str | None) -> PicturePolicy:
    """A stored value as a policy; an unknown one (written by a newer bot) screens, the safe reading."""
    try:
        return PicturePolicy(value or DEFAULT_PICTURE_POLICY)
    except ValueError:
        return PicturePolicy.EVERYWHERE


@dataclass(frozen=True)
class Screening:
    """What happens to a request's pictures in one channel."""

    wanted: bool  # the server's policy asks for the pictures to be screened here
    screens: tuple[str, ...]  # the installed screens that run on each picture (empty: none looks at them)

    @property
    def screened(self) -> bool:
        """Only a picture a screen passed may be shown publicly (on the request card)."""
        return bool(self.screens)


def plan_screening(policy: str | None, *, age_restricted: bool, usable: tuple[str, ...]) -> Screening:
    """Screen here? With which of the `usable` (installed) screens?"""
    chosen = picture_policy(policy)
    wanted = chosen is PicturePolicy.EVERYWHERE or (
        chosen is PicturePolicy.OUTSIDE_AGE_RESTRICTED and not age_restricted)
    return Screening(wanted, usable if wanted else ())
