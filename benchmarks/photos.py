"""Varied 12 MP pictures, made in code, for sizing pictures for the video (issue 16): what members attach.

Each is 4000×3000 (a 12 MP phone's 4:3), saved the way it would arrive:

- ``photo``: photo-like: sky and ground gradients, objects with hard and soft (out of focus) edges,
  foliage-like texture, and a phone's mild sensor grain; a JPEG q95 with EXIF orientation 6 (held sideways)
  and an ICC profile, as phones write them. The bytes figures are measured on this one.
- ``grainy``: the media benchmark's older photo (gradients under heavy, uncorrelated grain): a worst case
  for bytes, since downscaling only halves its grain.
- ``gradients``: smooth gradients only (banding would show): JPEG q95.
- ``noise``: uncorrelated RGB noise, the worst case for every encoder: JPEG q95.
- ``text``: black text and 1-pixel lines on white, a screenshot: PNG (lossless in, lossless out).
- ``text_jpeg``: the same drawing as a JPEG q90 (a screenshot a phone re-saved).

The tests (tests/media/test_sizing.py) and the benchmark (``python -m benchmarks --only media``) use them.
"""

from __future__ import annotations

import functools
import io
import random
from collections.abc import Callable

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

SIZE = (4000, 3000)


def _save(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def _phone_exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "BenchPhone"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    return exif.tobytes()


def _srgb_icc() -> bytes:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return profile.tobytes()


def texture(size: tuple[int, int], rng: random.Random, octaves: int = 7) -> Image.Image:
    """Detail at every scale, coarse strongest (natural pictures' spectra fall roughly as 1/f): octaves of
    noise, each twice as fine and fainter than the last, blended into one grey picture with full contrast."""
    width, height = size
    acc: Image.Image | None = None
    total = 0.0
    for k in range(octaves):
        cells = (max(2, width >> (octaves - 1 - k)), max(2, height >> (octaves - 1 - k)))
        layer = Image.frombytes("L", cells, rng.randbytes(cells[0] * cells[1])).resize(size, Image.Resampling.BICUBIC)
        weight = 0.85**k
        total += weight
        acc = layer if acc is None else Image.blend(acc, layer, weight / total)
    assert acc is not None
    return ImageOps.autocontrast(acc, cutoff=1)


@functools.cache
def photo_pixels(size: tuple[int, int] = SIZE, seed: int = 1) -> Image.Image:
    """A detailed photo-like scene (upright, RGB): a sky, textured ground and foliage, objects with hard and
    out-of-focus edges, thin branches, and a phone's faint, slightly correlated sensor grain."""
    rng = random.Random(seed)
    width, height = size
    horizon = height * 2 // 5
    sky = Image.merge("RGB", (
        Image.linear_gradient("L").resize(size).point(lambda v: 90 + v // 3),
        Image.linear_gradient("L").resize(size).point(lambda v: 140 + v // 4),
        Image.new("L", size, 225),
    ))
    clouds = texture((width // 8, height // 8), rng, octaves=4).resize(size, Image.Resampling.BICUBIC)
    scene = Image.composite(Image.new("RGB", size, (245, 245, 250)), sky, clouds.point(lambda v: max(0, v - 140)))
    ground_detail = texture((width, height - horizon), rng)
    ground = Image.merge("RGB", (
        ground_detail.point(lambda v: 40 + v * 2 // 5),
        ground_detail.point(lambda v: 60 + v // 2),
        ground_detail.point(lambda v: 20 + v // 4),
    ))
    scene.paste(ground, (0, horizon))
    # Trees: foliage blobs of the texture, in front of the sky and the ground.
    leaves = texture(size, rng)
    foliage = Image.merge("RGB", (leaves.point(lambda v: v // 4), leaves.point(lambda v: 50 + v // 2),
                                  leaves.point(lambda v: v // 5)))
    crowns = Image.new("L", size, 0)
    draw = ImageDraw.Draw(crowns)
    for _ in range(9):
        x, y, r = rng.randrange(width), rng.randrange(horizon // 2, height), rng.randrange(150, 600)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    crowns = ImageChops.multiply(crowns, leaves.point(lambda v: 255 if v > 90 else 0))
    scene.paste(foliage, (0, 0), crowns.filter(ImageFilter.GaussianBlur(1)))
    # Objects: sharp ones in focus, soft ones behind; thin branches and wires.
    sharp = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(sharp)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(60, 700), rng.randrange(60, 700)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
        else:
            draw.rectangle((x, y, x + w, y + h), fill=colour, outline=(20, 20, 20, 255), width=rng.randrange(1, 6))
    for _ in range(25):
        points = [(rng.randrange(width), rng.randrange(height)) for _ in range(3)]
        draw.line(points, fill=(30, 25, 20, 255), width=rng.randrange(1, 5))
    quarter = (width // 4, height // 4)  # out of focus: blurred at a quarter of the size (quicker, as soft)
    soft = sharp.resize(quarter, Image.Resampling.BOX).filter(ImageFilter.GaussianBlur(1.5)).resize(
        size, Image.Resampling.BICUBIC)
    scene.paste(soft, (0, 0), soft)
    half = sharp.crop((0, 0, width, height // 2)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    scene.paste(half, (0, height // 3), half)
    # A phone's grain after its denoiser: faint and a little correlated (demosaicing spreads it).
    grain = Image.effect_noise(size, 40).filter(ImageFilter.GaussianBlur(0.8)).convert("RGB")
    return Image.blend(scene, grain, 0.1)


def high_iso_pixels(size: tuple[int, int] = SIZE) -> Image.Image:
    """The photo in dim light: strong sensor grain, spread over a pixel or two by demosaicing."""
    grain = Image.effect_noise(size, 60).filter(ImageFilter.GaussianBlur(1.0)).convert("RGB")
    return Image.blend(photo_pixels(size), grain, 0.25)


def grainy_pixels(size: tuple[int, int] = SIZE, seed: int = 0) -> Image.Image:
    """benchmarks.media_bench's photo: gradients plus strong uncorrelated grain."""
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    blue = Image.linear_gradient("L").rotate(90).resize(size)
    base = Image.merge("RGB", (red, green, blue))
    grain_layer = Image.effect_noise(size, 60).convert("RGB")
    return Image.blend(base, grain_layer, 0.25 + (seed % 3) * 0.01)


def gradient_pixels(size: tuple[int, int] = SIZE) -> Image.Image:
    return Image.merge("RGB", (
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size),
        Image.linear_gradient("L").rotate(90).resize(size),
    ))


def noise_pixels(size: tuple[int, int] = SIZE, seed: int = 2) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def text_pixels(size: tuple[int, int] = SIZE) -> Image.Image:
    """Black text in several sizes and 1-pixel lines on white."""
    im = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(im)
    width, height = size
    y, line = 40, 0
    while y < height - 200:
        font_size = (28, 40, 64, 96)[line % 4]
        font = ImageFont.load_default(size=font_size)
        draw.text((60, y), f"Keyframe {line}: the quick brown fox jumps over the lazy dog 0123456789",
                  fill=(0, 0, 0), font=font)
        y += font_size + 30
        line += 1
    for x in range(0, width, 50):
        draw.line((x, height - 180, x + 40, height - 20), fill=(0, 0, 0), width=1)
    return im


def photo_jpeg() -> bytes:
    """``photo`` stored sideways (EXIF orientation 6), as a phone held upright writes it."""
    stored = photo_pixels().transpose(Image.Transpose.ROTATE_90)  # orientation 6: turn 90° clockwise to view
    return _save(stored, "JPEG", quality=95, exif=_phone_exif(6), icc_profile=_srgb_icc())


def grainy_jpeg() -> bytes:
    return _save(grainy_pixels(), "JPEG", quality=92, exif=_phone_exif(1))


def upright(data: bytes, *, draft: tuple[int, int] | None = None) -> Image.Image:
    """The member's picture as they see it (EXIF orientation applied), in RGB: the reference that what is sent
    is compared with. ``draft``: decoded at a reduced size of at least that (upright) size, as the pipeline does."""
    im = Image.open(io.BytesIO(data))
    if draft is not None:
        turned = im.getexif().get(0x0112, 1) in (5, 6, 7, 8)
        im.draft(im.mode, (draft[1], draft[0]) if turned else draft)
    return ImageOps.exif_transpose(im).convert("RGB")


# Pictures whose SSIM at the video's size must stay at 0.98 or more (tests/media/test_quality.py).
LOOK_ALIKE = ("photo", "high_iso", "gradients", "text", "text_jpeg")
# Uncorrelated per-pixel noise, where SSIM measures the downscaling filter more than the picture (see the test).
NOISE_LIKE = ("grainy", "noise")

# name -> (file name, the file's bytes)
PHOTOS: dict[str, Callable[[], tuple[str, bytes]]] = {
    "photo": lambda: ("IMG_0001.jpg", photo_jpeg()),
    "high_iso": lambda: ("IMG_0002.jpg", _save(high_iso_pixels(), "JPEG", quality=95, exif=_phone_exif(1))),
    "gradients": lambda: ("gradients.jpg", _save(gradient_pixels(), "JPEG", quality=95)),
    "text": lambda: ("screenshot.png", _save(text_pixels(), "PNG", compress_level=1)),
    "text_jpeg": lambda: ("screenshot.jpg", _save(text_pixels(), "JPEG", quality=90)),
    "grainy": lambda: ("grainy.jpg", grainy_jpeg()),
    "noise": lambda: ("noise.jpg", _save(noise_pixels(), "JPEG", quality=95)),
}
