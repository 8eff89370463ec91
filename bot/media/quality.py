"""How close a prepared picture is to the member's original: SSIM, in Pillow alone (no numpy in the bot).

Used by the tests and the media benchmark to *check* that sizing a picture for the video costs nothing
the video can show; the bot itself never computes it (it would cost as much as preparing the picture).

The index is Wang et al.'s SSIM (IEEE TIP 2004) over luma (ITU-R 601, as ``convert("L")`` gives it). The
paper weighs each window by an 11×11 Gaussian (σ 1.5) and slides it one pixel at a time; Pillow cannot
filter float images, but a BILINEAR downscale by 4 of one is exactly a separable tent window 8 pixels wide
(σ 1.66) sampled every 4 pixels, so every local mean, variance and covariance here is such a downscale of
x, y, x², y² or xy (done in C), taken at offsets 0 and 2 so the windows are 2 pixels apart. Checked
against a pure-Python sliding Gaussian SSIM (tests/media/test_quality.py): within 0.002 of it from 0.95 up
(the wider tent reads a little higher: +0.001 near 0.98, +0.004 near 0.93).
"""

from __future__ import annotations

from PIL import Image, ImageMath

_SCALE = 4  # a BILINEAR downscale by 4: a tent window 8 pixels wide, sampled every 4 pixels
_OFFSETS = (0, 2)  # ... from these two starts on each axis: windows every 2 pixels
_C1 = (0.01 * 255) ** 2  # the paper's stabilising constants for 8-bit pixels
_C2 = (0.03 * 255) ** 2


def ssim(first: Image.Image, second: Image.Image) -> float:
    """Mean SSIM of two pictures of the same size (1.0: identical luma)."""
    if first.size != second.size:
        raise ValueError(f"sizes differ: {first.size} and {second.size}")
    if min(first.size) < 2 * _SCALE:
        raise ValueError(f"pictures smaller than {2 * _SCALE} px on a side are too small for SSIM")
    x, y = _luma(first), _luma(second)
    xx = ImageMath.lambda_eval(lambda e: e["a"] * e["a"], a=x)
    yy = ImageMath.lambda_eval(lambda e: e["a"] * e["a"], a=y)
    xy = ImageMath.lambda_eval(lambda e: e["a"] * e["b"], a=x, b=y)
    assert isinstance(xx, Image.Image) and isinstance(yy, Image.Image) and isinstance(xy, Image.Image)
    total = 0.0
    windows = 0
    width, height = first.size
    for left in _OFFSETS:
        for top in _OFFSETS:
            across, down = (width - left) // _SCALE, (height - top) // _SCALE
            box = (left, top, left + across * _SCALE, top + down * _SCALE)
            mx, my, mxx, myy, mxy = (
                im.resize((across, down), Image.Resampling.BILINEAR, box=box) for im in (x, y, xx, yy, xy)
            )
            index = ImageMath.lambda_eval(
                lambda e: ((2 * e["mx"] * e["my"] + _C1) * (2 * (e["mxy"] - e["mx"] * e["my"]) + _C2))
                / ((e["mx"] * e["mx"] + e["my"] * e["my"] + _C1)
                   * (e["mxx"] - e["mx"] * e["mx"] + e["myy"] - e["my"] * e["my"] + _C2)),
                mx=mx, my=my, mxx=mxx, myy=myy, mxy=mxy,
            )
            assert isinstance(index, Image.Image)
            total += _mean(index) * across * down
            windows += across * down
    return total / windows


def _luma(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "P", "PA"):  # transparent pictures are compared as shown on white
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im.convert("RGBA"))
    return im.convert("L").convert("F")


def _mean(im: Image.Image) -> float:
    """The exact mean of a float image (ImageStat bins float pixels into 256 buckets: not exact)."""
    value = im.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    assert isinstance(value, float)
    return value
