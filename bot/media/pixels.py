"""Bring decoded pixels to what every encoder and the provider handle: 8-bit L, LA, RGB or RGBA in sRGB.

Colour profiles: an embedded ICC profile is *converted to sRGB and then dropped*, never copied to the
output. Untagged pixels are read as sRGB by the provider and by every browser, so converting keeps the
colours the member saw (a Display P3 phone photo or a CMYK print file would otherwise shift), and it
removes one more piece of metadata (profiles can name the device or the software that made them).
"""

from __future__ import annotations

import io
import logging

from PIL import Image, ImageCms

log = logging.getLogger(__name__)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_FINAL_MODES = frozenset({"L", "LA", "RGB", "RGBA"})


def normalise_pixels(im: Image.Image) -> tuple[Image.Image, list[str]]:
    """Return an image in L/LA/RGB/RGBA (sRGB, 8 bits per channel) and the fixes a member would notice.

    The result carries no ``info`` (no EXIF, XMP, ICC, text chunks, comments): encoders only see pixels.
    """
    fixes: list[str] = []
    icc = im.info.get("icc_profile")
    declared = _declared_bits(im)
    if im.mode == "CMYK":
        fixes.append("CMYK → RGB colours")
    if isinstance(icc, bytes) and icc and im.mode in ("RGB", "RGBA", "CMYK"):
        im = _to_srgb(im, icc)
    if im.mode in _SIXTEEN_BIT_MODES or im.mode in ("I", "F"):
        fixes.append(f"{declared or (16 if im.mode in _SIXTEEN_BIT_MODES else 32)}-bit → 8-bit")
        im = _to_eight_bit_grey(im)
    elif declared:
        # pillow-heif hands over a 10- or 12-bit colour photo already in 8 bits: still a change to tell.
        fixes.append(f"{declared}-bit → 8-bit")
    im = _to_final_mode(im)
    im = _drop_opaque_alpha(im)
    if im.mode not in _FINAL_MODES:  # pragma: no cover - guards the contract of this module
        raise AssertionError(f"unexpected mode {im.mode}")
    im.info.clear()
    return im, fixes


def _declared_bits(im: Image.Image) -> int | None:
    """Bits per channel the file declares when more than 8 (pillow-heif: 10 or 12 for an HDR photo, whose
    grey pixels come scaled to 16 bits and colour ones already in 8), else None."""
    bits = im.info.get("bit_depth")
    return bits if isinstance(bits, int) and 8 < bits <= 16 else None


def has_alpha(im: Image.Image) -> bool:
    return im.mode in ("LA", "RGBA")


def _to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(source).replace(" ", "").lower():
            return im  # already sRGB: converting would only cost time
        out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(im, source, _SRGB, outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        # A broken profile must not cost the member their picture: keep the pixels as they are.
        log.info("ignoring an unusable ICC profile: %s", exc)
        return im
    assert converted is not None  # profileToProfile only returns None when inPlace=True
    return converted


def _to_eight_bit_grey(im: Image.Image) -> Image.Image:
    """16/32-bit integer and float greys scaled (not clipped) into 0..255."""
    if im.mode in _SIXTEEN_BIT_MODES:
        # The declared depth is 16 bits, so the full 0..65535 range maps to 0..255.
        return im.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    extrema = im.getextrema()
    assert not isinstance(extrema[0], tuple)  # single-band modes give (low, high)
    low, high = float(extrema[0]), float(extrema[1])
    if im.mode == "F" and low >= 0 and high <= 1:
        return im.point(lambda v: v * 255).convert("L")
    if im.mode == "I" and low >= 0 and high <= 255:
        return im.convert("L")
    if im.mode == "I" and low >= 0 and high <= 65535:
        return im.point(lambda v: v * (1 / 257)).convert("L")
    # Unknown range (signed, float, 32-bit): stretch what is there to the full 8-bit range.
    span = high - low or 1.0
    scale = 255 / span
    offset = -low * scale
    return im.point(lambda v: v * scale + offset).convert("L")


def _to_final_mode(im: Image.Image) -> Image.Image:
    mode = im.mode
    if mode in ("L", "RGB") and "transparency" in im.info:
        return im.convert("LA" if mode == "L" else "RGBA")  # a tRNS colour key becomes real alpha
    if mode in _FINAL_MODES:
        return im
    if mode == "1":
        return im.convert("L")
    if mode in ("P", "PA"):
        return im.convert("RGBA" if im.has_transparency_data else "RGB")
    if mode == "La":
        return im.convert("LA")
    if mode == "RGBa":
        return im.convert("RGBA")
    return im.convert("RGBA" if "A" in im.getbands() else "RGB")


def _drop_opaque_alpha(im: Image.Image) -> Image.Image:
    # A fully opaque alpha channel is dead weight and would rule out JPEG for no reason.
    if has_alpha(im) and im.getchannel("A").getextrema() == (255, 255):
        return im.convert("L" if im.mode == "LA" else "RGB")
    return im
