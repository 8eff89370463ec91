"""A finished video through the screens: a few frames spread over its length (bot/media/frames.py), each checked
as a member's picture is. Runs in an image worker (``screen_video`` is pickled by name), never on the loop."""

from __future__ import annotations

from pathlib import Path

from bot.media.frames import grab_frames
from bot.safety.screens import Verdict, screen_picture

# The verdict for a video no frame could be taken from: not passed (unscreened is never passed), so it is
# treated as flagged, and the mod-log or the spoiler note says a check flagged it.
UNREADABLE = Verdict("frames", True, "unreadable", 1.0)


def screen_video(names: tuple[str, ...], path: str, frames: int) -> Verdict | None:
    """The first verdict that flags one of `frames` frames of the video at `path`, else None."""
    taken = grab_frames(Path(path), frames)
    if not taken:
        return UNREADABLE
    for frame in taken:
        verdict = screen_picture(names, frame)
        if verdict is not None:
            return verdict
    return None
