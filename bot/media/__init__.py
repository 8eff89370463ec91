"""Pillow work on members' pictures: pure functions over bytes, run in threads or worker processes
(bot.media.pool). Never imports discord."""

from bot.media.keyframes import (
    ImageLimits,
    ImageProblem,
    PreparedImage,
    ProblemCode,
    prepare_image,
    prepare_image_async,
    prepare_images,
    sniff_format,
)

__all__ = [
    "ImageLimits",
    "ImageProblem",
    "PreparedImage",
    "ProblemCode",
    "prepare_image",
    "prepare_image_async",
    "prepare_images",
    "sniff_format",
]
