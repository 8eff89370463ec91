"""The command line's pictures: local files through the bot's image pipeline, http(s) URLs as they are."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bot.cli.common import EXIT_BAD_INPUT, CliError
from bot.config import Settings
from bot.media import ImageLimits, PreparedImage, prepare_images
from bot.media.pair import fit_pair
from bot.media.problems import ImageProblem, display_name
from bot.requests import image_budget


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _other_url(text: str) -> str | None:
    """The scheme of a URL the provider cannot fetch (ftp://, file://), or None for a plain path."""
    scheme = urlsplit(text).scheme
    return scheme if "://" in text and len(scheme) > 1 else None  # (C:\\ is a drive, not a scheme)


def problem_line(problem: ImageProblem) -> str:
    """The pipeline's words, for a file named on the command line (nothing is attached here)."""
    if problem.key == "unsupported":
        return (f"{display_name(problem.filename)}: {problem.params['label']} images can't be read here; "
                "export it as PNG or JPEG and give that file")
    return str(problem)


async def images_as_request_values(sources: Sequence[str], settings: Settings, *,
                                   resolution: str | None = None, start_end: bool = False) -> list[str]:
    """Local files are checked and fixed by the pipeline and sent as data URIs, scaled down to what a video at
    `resolution` can use; URLs are sent as they are. `start_end`: two local pictures are also fitted to each
    other's pixel count, as the start-end endpoint asks (bot/media/pair.py)."""
    files: list[tuple[str, bytes]] = []
    for source in sources:
        if is_url(source):
            continue
        scheme = _other_url(source)
        if scheme is not None:
            raise CliError(f"{source}: {scheme}:// is not taken: give a local file or an http(s) URL", EXIT_BAD_INPUT)
        path = Path(source)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise CliError(f"{source}: no such file", EXIT_BAD_INPUT) from None
        except IsADirectoryError:
            raise CliError(f"{source}: is a folder, not an image", EXIT_BAD_INPUT) from None
        except OSError as exc:
            raise CliError(f"{source}: cannot read ({exc.strerror})", EXIT_BAD_INPUT) from None
        files.append((path.name, data))
    limits = ImageLimits(
        max_bytes=settings.image_max_bytes,
        max_pixels=settings.image_max_pixels,
        data_uri_budget=image_budget(settings.image_data_uri_budget, len(sources)),
        video_resolution=resolution,
    )
    prepared, problems = await prepare_images(files, limits)
    if problems:
        raise CliError("\n".join(problem_line(p) for p in problems), EXIT_BAD_INPUT)
    if start_end and len(prepared) == 2:
        start, end, _ = await asyncio.to_thread(fit_pair, prepared[0], prepared[1], limits.data_uri_budget)
        prepared = [start, end]
    by_order: list[PreparedImage] = list(prepared)
    values: list[str] = []
    for source in sources:
        values.append(source if is_url(source) else by_order.pop(0).data_uri())
    for image in prepared:
        for fix in image.fixes:
            print(f"{image.filename}: {fix}", file=sys.stderr)
    return values
