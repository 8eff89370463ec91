"""Fixes a member relies on: pictures turned upright, and nothing private (GPS, camera, XMP) sent on."""

from __future__ import annotations

import io

import pytest
from images import (
    BLUE,
    RED,
    encode,
    exif_bytes,
    jpeg_with_exif,
    marked,
    png_chunks,
    png_with_chunk_moved_after_pixels,
    rgb_icc_profile,
)
from PIL import Image, ImageCms, PngImagePlugin

from bot.media import PreparedImage, prepare_image


def opened(result: PreparedImage) -> Image.Image:
    im = Image.open(io.BytesIO(result.data))
    im.load()
    return im


def is_red(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60


def is_blue(pixel: tuple[int, ...]) -> bool:
    return pixel[0] < 60 and pixel[1] < 60 and pixel[2] > 200


# marked() is 300×200 with a red block in its top-left corner. Where that corner must be once the
# EXIF orientation is applied: (x, y) in the upright picture, and its size.
@pytest.mark.parametrize(
    ("orientation", "red_corner", "size"),
    [
        (3, (299, 199), (300, 200)),  # upside down
        (6, (199, 0), (200, 300)),  # phone held upright: rotate 90° clockwise
        (8, (0, 299), (200, 300)),  # rotate 90° anticlockwise
        (2, (299, 0), (300, 200)),  # mirrored
    ],
)
def test_exif_orientation_is_applied(
    orientation: int, red_corner: tuple[int, int], size: tuple[int, int]
) -> None:
    result = prepare_image(jpeg_with_exif(marked((300, 200)), orientation), "phone.jpg")
    assert (result.width, result.height) == size
    assert "turned upright (EXIF)" in result.fixes
    out = opened(result)
    assert out.size == size
    assert is_red(out.getpixel(red_corner))
    assert is_blue(out.getpixel((size[0] // 2, size[1] // 2)))
    # The orientation tag must be gone, or a viewer would turn the picture a second time.
    assert out.getexif().get(0x0112) is None


def test_png_orientation_stored_after_the_pixels_is_still_applied() -> None:
    data = encode(marked((300, 200)), "PNG", exif=exif_bytes(orientation=6))
    data = png_with_chunk_moved_after_pixels(data, b"eXIf")
    kinds = [kind for kind, _ in png_chunks(data)]
    assert kinds.index(b"eXIf") > kinds.index(b"IDAT")
    result = prepare_image(data, "edited.png")
    assert (result.width, result.height) == (200, 300)
    assert "turned upright (EXIF)" in result.fixes
    assert is_red(opened(result).convert("RGB").getpixel((199, 0)))


def test_upright_photo_lists_no_rotation() -> None:
    result = prepare_image(jpeg_with_exif(marked(), orientation=1), "phone.jpg")
    assert result.fixes == ()
    assert is_red(opened(result).getpixel((3, 3)))


def test_jpeg_exif_with_gps_is_removed() -> None:
    data = jpeg_with_exif(marked(), orientation=6, gps=True)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the input really has GPS
    result = prepare_image(data, "holiday.jpg")
    out = opened(result)
    assert len(out.getexif()) == 0
    assert out.getexif().get_ifd(0x8825) == {}
    assert b"Exif" not in result.data
    assert b"TestPhone" not in result.data


def test_png_text_exif_and_xmp_are_removed() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Private")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret-location</x:xmpmeta>")
    data = encode(marked(), "PNG", pnginfo=info, exif=exif_bytes(gps=True, make="TestPhone"))
    result = prepare_image(data, "edit.png")
    out = opened(result)
    for secret in (b"Jane Private", b"secret-location", b"TestPhone", b"eXIf"):
        assert secret not in result.data
    assert "Author" not in out.info
    assert len(out.getexif()) == 0


def test_webp_exif_and_xmp_are_removed() -> None:
    data = encode(
        marked(),
        "WEBP",
        quality=90,
        exif=exif_bytes(gps=True, make="TestPhone"),
        xmp=b"<x:xmpmeta>secret-location</x:xmpmeta>",
    )
    result = prepare_image(data, "frame.webp")
    assert b"TestPhone" not in result.data
    assert b"secret-location" not in result.data
    assert b"EXIF" not in result.data
    assert b"XMP " not in result.data


def test_jpeg_comment_and_icc_profile_are_removed() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(marked(), "JPEG", quality=90, icc_profile=icc, comment=b"shot at 12 Private Road")
    assert Image.open(io.BytesIO(data)).info.get("icc_profile")
    result = prepare_image(data, "photo.jpg")
    out = opened(result)
    assert "icc_profile" not in out.info
    assert b"Private Road" not in result.data


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_damaged_exif_block_does_not_cost_the_member_their_picture() -> None:
    data = encode(marked(), "JPEG", quality=90, exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f garbage")
    result = prepare_image(data, "odd.jpg")
    assert (result.width, result.height) == (300, 200)
    assert b"garbage" not in result.data


def test_colour_profile_is_converted_to_srgb_then_dropped() -> None:
    # The profile says the stored "red" channel is the blue primary: the member sees blue.
    icc = rgb_icc_profile("Swapped test RGB", swap_red_and_blue=True)
    data = encode(Image.new("RGB", (60, 40), RED), "JPEG", quality=95, icc_profile=icc)
    result = prepare_image(data, "wide-gamut.jpg")
    out = opened(result)
    assert "icc_profile" not in out.info
    assert is_blue(out.getpixel((30, 20)))


def test_colour_profile_conversion_keeps_transparency() -> None:
    icc = rgb_icc_profile("Swapped test RGB", swap_red_and_blue=True)
    im = Image.new("RGBA", (60, 40), (255, 0, 0, 255))
    im.paste((255, 0, 0, 0), (0, 0, 10, 10))
    result = prepare_image(encode(im, "PNG", icc_profile=icc), "wide-gamut.png")
    out = opened(result)
    assert out.mode == "RGBA"
    assert "icc_profile" not in out.info
    assert out.getpixel((5, 5))[3] == 0
    assert is_blue(out.getpixel((30, 20)))


def test_unusable_colour_profile_is_dropped_and_the_pixels_kept() -> None:
    data = encode(marked(), "PNG", icc_profile=b"not a real ICC profile")
    assert Image.open(io.BytesIO(data)).info.get("icc_profile")
    result = prepare_image(data, "odd.png")
    out = opened(result)
    assert "icc_profile" not in out.info
    assert out.convert("RGB").tobytes() == marked().tobytes()


def test_grey_16_bit_fix_and_rotation_are_both_listed_in_order() -> None:
    im = Image.new("I;16", (300, 200), 30000)
    data = encode(im, "TIFF", exif=exif_bytes(orientation=6))
    result = prepare_image(data, "scan.tif")
    assert result.fixes == ("TIFF → PNG", "turned upright (EXIF)", "16-bit → 8-bit")
    assert (result.width, result.height) == (200, 300)


def test_red_stays_red_after_every_fix() -> None:
    # A guard against channel-order or colour-profile mistakes: pure colours survive untouched.
    for colour in (RED, BLUE):
        result = prepare_image(encode(Image.new("RGB", (64, 48), colour), "PNG"), "c.png")
        assert opened(result).convert("RGB").getpixel((10, 10)) == colour
