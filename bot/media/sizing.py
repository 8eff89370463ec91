"""Pictures sized for the video they become: no more pixels than the requested resolution can use.

A 12 MP phone photo sent whole for a 720p video is ~7 MB of JPEG (~9 MB of base64) of which the video can
show a tenth. The provider does not say how it maps a picture onto its frame, so the size chosen here is
the largest any reading of "720p" could need:

- the video's frame is at most 16:9 at the resolution's height (1920×1080 at 1080p, 1280×720 at 720p,
  960×540 at 540p), turned to the picture's orientation: neither request takes an aspect ratio, so the
  video's shape can only come from the picture (a portrait picture makes a portrait video);
- the picture is scaled to *cover* that frame: its long side at least the frame's long side AND its short
  side at least the frame's short side. Whether the provider keeps the picture's shape (a 4:3 picture at
  1080p: 1440×1080), keeps the frame's area (1663×1247), crops it to 16:9 (the middle 1920×1080 of it) or
  letterboxes it, every pixel of the video then gets at least one pixel of the picture: nothing is ever
  scaled up by the provider because we scaled it down. For a 4:3 photo this is 1920×1440 at 1080p, 1.33×
  what the shape-keeping reading needs; for a square one 1920×1920; for a 3:1 panorama 3240×1080.
- MARGIN on top of that: 1.0 (none). Pan and zoom in a generated video are drawn by the model at its own
  frame size from the picture it was given at that size: a picture larger than the frame adds nothing a
  zoom could reveal, unless the provider crops tighter than 16:9, which nothing suggests. Measured on the
  12 MP phone photo of benchmarks/photos.py (media benchmark): 1.25 would send 1600×1200 / 2400×1800 at
  720p / 1080p, 0.83 / 1.77 MB instead of 0.56 / 1.28 MB (over issue 16's 0.8 / 1.5 MB both), with a
  full-size decode at 1080p (300 ms instead of 74 under the same load), for an SSIM at the frame's size
  of 0.993 / 0.994 instead of 0.991 / 0.987: nothing a video can show.

Pictures no larger than that are left as they are (never scaled up), and so are pictures at most SLACK
(10 %) larger on each side: resampling 2000×1500 to 1920×1440 (a 12 MP photo decoded at half size for
1080p, see bot.media.keyframes) cost ~60 ms, half of the whole preparation, to save 8 % of the bytes; and
the provider resamples the picture to its own frame anyway, so one resampling is better than two.
"""

from __future__ import annotations

import math
import re

from PIL import Image, JpegImagePlugin

from bot.media.encode import scaled_size

FRAME_RATIO = (16, 9)  # the widest video frame: 1080p is 1920×1080
MARGIN = 1.0  # see above: the covering size is already the worst case of every reading of the frame
SLACK = 1.1  # up to this much larger than the covering size on each side, a picture is not resampled
_RESOLUTION = re.compile(r"([1-9][0-9]{2,3})p")


def video_frame(resolution: str) -> tuple[int, int]:
    """The video's largest frame, landscape: "1080p" -> (1920, 1080), "720p" -> (1280, 720)."""
    found = _RESOLUTION.fullmatch(resolution)
    if found is None:
        raise ValueError(f"not a video resolution: {resolution!r} (expected e.g. '720p')")
    short = int(found.group(1))
    return math.ceil(short * FRAME_RATIO[0] / FRAME_RATIO[1]), short


def covering_size(width: int, height: int, resolution: str, margin: float = MARGIN) -> tuple[int, int]:
    """The smallest size of the picture's shape that covers the video's frame (times ``margin``), turned to
    the picture's orientation. May be larger than the picture: see ``size_for_video``."""
    long_side, short_side = video_frame(resolution)
    frame_w, frame_h = (long_side, short_side) if width >= height else (short_side, long_side)
    scale = max(frame_w / width, frame_h / height) * margin
    return scaled_size((width, height), scale)


def size_for_video(width: int, height: int, resolution: str | None, margin: float = MARGIN) -> tuple[int, int] | None:
    """The size to scale an upright width×height picture down to for a video at ``resolution``, or None
    when it should be left as it is: no resolution given, or no more than SLACK larger than needed."""
    if resolution is None:
        return None
    target = covering_size(width, height, resolution, margin)
    if width <= target[0] * SLACK and height <= target[1] * SLACK:
        return None
    return target


def draft_for_video(im: Image.Image, orientation: int, resolution: str | None) -> bool:
    """Let libjpeg decode a JPEG at 1/2, 1/4 or 1/8 of its size (scaled DCT) when it will be scaled down for
    the video anyway: a 12 MP photo for 720p or 1080p is decoded as 3 MP, a quarter of the memory and about
    two thirds of the time (reading the compressed data costs the same at any reduction).

    Called after every check of the header (the pixel cap judged the file's own size) and before any pixel
    is decoded. libjpeg picks the largest reduction that stays at least the requested size, so the exact
    size is still made by the high-quality resize after (unless the reduction landed within
    bot.media.sizing's SLACK of it). The request is turned to the file's stored orientation (EXIF 5-8 swap
    width and height; the picture is turned upright after decoding); the mode is left alone, so CMYK stays
    CMYK and its ICC profile still applies. Other formats have no such decoder. Returns whether the picture
    will be decoded smaller than its own size."""
    if resolution is None or not isinstance(im, JpegImagePlugin.JpegImageFile):
        return False
    width, height = im.size
    turned = orientation in (5, 6, 7, 8)
    target = size_for_video(*((height, width) if turned else (width, height)), resolution)
    if target is not None:
        im.draft(im.mode, (target[1], target[0]) if turned else target)
    return im.size != (width, height)


def resize_for_video(im: Image.Image, resolution: str | None, *, sideways: bool = False) -> tuple[Image.Image, bool]:
    """The pixels scaled down to what a video at ``resolution`` can use, and whether they were. ``sideways``:
    they are still to be turned a quarter (EXIF 5-8), so their upright width is their height."""
    width, height = (im.height, im.width) if sideways else im.size
    target = size_for_video(width, height, resolution)
    if target is None:
        return im, False
    size = (target[1], target[0]) if sideways else target
    # Lanczos: sharpest of Pillow's filters (Bicubic cost 0.002-0.004 of SSIM for 25 % less time). The
    # reducing gap only acts on big reductions (a 40 MP PNG: box-averaged first, Lanczos for the last 3×).
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0), True
