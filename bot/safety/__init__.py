"""Safety as its own room (ARCHITECTURE.md): screens that look at a picture's bytes and give a verdict, and
the server's policy of which screens apply where. Discord-free: the Discord side supplies the facts (is the
channel age-restricted) and words the verdicts."""

from bot.safety.policy import (
    FlaggedVideo,
    PicturePolicy,
    Screening,
    VideoScreening,
    plan_screening,
    plan_video_screening,
)
from bot.safety.screens import SCREENS, Verdict, installed_screens, screen_picture

__all__ = ["SCREENS", "FlaggedVideo", "PicturePolicy", "Screening", "Verdict", "VideoScreening", "installed_screens",
           "plan_screening", "plan_video_screening", "screen_picture"]
