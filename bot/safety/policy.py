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


class FlaggedVideo(StrEnum):
    """What a generated video a screen flagged gets (/config safety flagged_videos)."""

    HOLD = "hold"  # the default: not posted; the mod-log gets it with Approve / Remove
    SPOILER = "spoiler"  # posted behind a spoiler, with a content note


DEFAULT_FLAGGED_VIDEO = FlaggedVideo.HOLD


def flagged_video(value: str | None) -> FlaggedVideo:
    """A stored value as a choice; an unknown one (written by a newer bot) holds, the safe reading."""
    try:
        return FlaggedVideo(value or DEFAULT_FLAGGED_VIDEO)
    except ValueError:
        return FlaggedVideo.HOLD


@dataclass(frozen=True)
class VideoScreening:
    """What happens to a finished video before it is posted in one place."""

    screens: tuple[str, ...]  # the installed screens its frames go through (empty: posted as it is)
    flagged: FlaggedVideo  # what a flagged one gets there


def plan_video_screening(policy: str | None, flagged: str | None, *, age_restricted: bool, usable: tuple[str, ...],
                         can_hold: bool) -> VideoScreening:
    """The server's video policy (the same three choices as for pictures) in a channel; a server without a
    mod-log to hold a video in gets its flagged videos behind a spoiler (never posted plainly)."""
    screens = plan_screening(policy, age_restricted=age_restricted, usable=usable).screens
    action = flagged_video(flagged)
    if action is FlaggedVideo.HOLD and not can_hold:
        action = FlaggedVideo.SPOILER
    return VideoScreening(screens, action)
