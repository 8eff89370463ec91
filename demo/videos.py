"""Videos the demo's fake provider serves: made from the request's own pictures, so the page shows the
member's picture moving (a slow zoom, or a cross-fade through the keyframes) instead of the tests' 64×64
sample. Frames are drawn with Pillow and encoded to H.264 by the packaged ffmpeg (imageio-ffmpeg)."""

from __future__ import annotations

import base64
import io
import itertools
import tempfile
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from PIL import Image

WIDTH, HEIGHT, FPS = 480, 300, 20
SECONDS_PER_PICTURE = 1.5


def _picture(data_uri: str) -> Image.Image:
    raw = base64.b64decode(data_uri.split(",", 1)[1])
    with Image.open(io.BytesIO(raw)) as opened:
        return opened.convert("RGB").resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def pictures_of(body: dict[str, Any]) -> list[Image.Image]:
    """The pictures of an img2video or multiframe request body, in order."""
    uris = list(body.get("images") or [])
    if body.get("start_image"):
        uris = [body["start_image"], *(s["key_image"] for s in body.get("image_settings", []))]
    return [_picture(uri) for uri in uris if str(uri).startswith("data:")]


def _zoom(picture: Image.Image, f: float) -> Image.Image:
    """The picture at zoom 1 + 0.15 f, centred (a slow push in)."""
    scale = 1 + 0.15 * f
    w, h = WIDTH / scale, HEIGHT / scale
    box = ((WIDTH - w) / 2, (HEIGHT - h) / 2, (WIDTH + w) / 2, (HEIGHT + h) / 2)
    return picture.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR, box=box)


def frames(pictures: list[Image.Image]) -> list[Image.Image]:
    count = round(FPS * SECONDS_PER_PICTURE)
    if len(pictures) == 1:
        return [_zoom(pictures[0], n / count) for n in range(count * 2)]
    out: list[Image.Image] = []
    for first, second in itertools.pairwise(pictures):
        out += [Image.blend(first, second, n / count) for n in range(count)]
    return [*out, *[pictures[-1]] * (FPS // 2)]


def make_video(body: dict[str, Any]) -> bytes | None:
    """An MP4 (H.264, yuv420p, faststart: it plays in any browser) of the request's pictures; None without
    pictures in the body (image URLs)."""
    pictures = pictures_of(body)
    if not pictures:
        return None
    with tempfile.TemporaryDirectory(prefix="vidu-demo-") as folder:
        path = Path(folder) / "video.mp4"
        writer = imageio_ffmpeg.write_frames(
            str(path), (WIDTH, HEIGHT), fps=FPS, codec="libx264", pix_fmt_out="yuv420p", macro_block_size=4,
            ffmpeg_log_level="error", output_params=["-preset", "veryfast", "-crf", "30", "-movflags", "+faststart"],
        )
        writer.send(None)
        for frame in frames(pictures):
            writer.send(frame.tobytes())
        writer.close()
        return path.read_bytes()
