"""Every input format a member may attach comes out as something the provider takes (PNG, JPEG, WebP)."""

from __future__ import annotations

import base64
import io

import pytest
from images import (
    BLUE,
    GREEN,
    RED,
    WHITE,
    animated_gif,
    encode,
    heic_header,
    heic_high_bit,
    heic_photo,
    icon_as_cursor,
    marked,
    solid,
)
from PIL import Image, features

from bot.media import ImageLimits, ImageProblem, PreparedImage, ProblemCode, prepare_image


def opened(result: PreparedImage) -> Image.Image:
    im = Image.open(io.BytesIO(result.data))
    im.load()
    return im


def near(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def test_png_stays_png_with_identical_pixels() -> None:
    source = marked((300, 200))
    result = prepare_image(encode(source, "PNG"), "start.png")
    assert result.mime_type == "image/png"
    assert (result.width, result.height) == (300, 200)
    assert result.fixes == ()
    assert opened(result).convert("RGB").tobytes() == source.tobytes()


def test_jpeg_stays_jpeg_with_no_fixes_listed() -> None:
    result = prepare_image(encode(marked(), "JPEG", quality=90), "photo.jpg")
    assert result.mime_type == "image/jpeg"
    assert result.fixes == ()
    im = opened(result)
    assert im.format == "JPEG"
    assert near(im.getpixel((5, 5)), RED)


def test_the_bytes_decide_the_format_not_the_extension() -> None:
    result = prepare_image(encode(marked(), "JPEG"), "really-a-jpeg.png")
    assert result.mime_type == "image/jpeg"
    assert opened(result).format == "JPEG"


def test_lossless_webp_stays_lossless_webp() -> None:
    source = marked((120, 80))
    result = prepare_image(encode(source, "WEBP", lossless=True), "frame.webp")
    assert result.mime_type == "image/webp"
    assert opened(result).convert("RGB").tobytes() == source.tobytes()


def test_lossy_webp_stays_webp() -> None:
    result = prepare_image(encode(marked(), "WEBP", quality=80), "frame.webp")
    assert result.mime_type == "image/webp"
    assert near(opened(result).convert("RGB").getpixel((5, 5)), RED, tolerance=20)


def test_single_frame_gif_becomes_png() -> None:
    result = prepare_image(encode(solid((40, 30), GREEN), "GIF"), "still.gif")
    assert result.mime_type == "image/png"
    assert result.fixes == ("GIF → PNG",)
    assert opened(result).convert("RGB").getpixel((0, 0)) == GREEN


def test_animated_gif_becomes_png_of_its_first_frame() -> None:
    result = prepare_image(animated_gif([RED, GREEN, BLUE]), "loop.gif")
    assert result.mime_type == "image/png"
    assert result.fixes == ("GIF → PNG (first frame)",)
    im = opened(result)
    assert getattr(im, "n_frames", 1) == 1
    assert im.convert("RGB").getpixel((20, 15)) == RED


def test_animated_png_keeps_only_its_first_frame() -> None:
    frames = [solid((40, 30), RED), solid((40, 30), BLUE)]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 2  # really animated
    result = prepare_image(data, "anim.png")
    assert result.fixes == ("animation → first frame only",)
    im = opened(result)
    assert getattr(im, "n_frames", 1) == 1
    assert im.convert("RGB").getpixel((0, 0)) == RED


def test_animated_webp_keeps_only_its_first_frame() -> None:
    frames = [solid((40, 30), RED), solid((40, 30), BLUE)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    result = prepare_image(data, "anim.webp")
    assert result.mime_type == "image/webp"
    assert result.fixes == ("animation → first frame only",)
    assert near(opened(result).convert("RGB").getpixel((0, 0)), RED)


@pytest.mark.parametrize(("fmt", "label"), [("BMP", "BMP"), ("TIFF", "TIFF")])
def test_bmp_and_tiff_become_png_with_the_same_pixels(fmt: str, label: str) -> None:
    source = marked((90, 60))
    result = prepare_image(encode(source, fmt), f"frame.{fmt.lower()}")
    assert result.mime_type == "image/png"
    assert result.fixes == (f"{label} → PNG",)
    assert opened(result).convert("RGB").tobytes() == source.tobytes()


def test_ico_becomes_png() -> None:
    result = prepare_image(encode(solid((64, 64), GREEN), "ICO", sizes=[(64, 64)]), "icon.ico")
    assert result.mime_type == "image/png"
    assert result.fixes == ("ICO → PNG",)
    assert opened(result).convert("RGB").getpixel((32, 32)) == GREEN


def test_mpo_from_a_3d_camera_becomes_jpeg_of_the_first_picture() -> None:
    data = encode(solid((60, 40), RED), "MPO", save_all=True, append_images=[solid((60, 40), BLUE)])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    result = prepare_image(data, "camera.jpg")
    assert result.mime_type == "image/jpeg"
    assert result.fixes == ("MPO → JPEG (first picture)",)
    im = opened(result)
    assert im.format == "JPEG"
    assert near(im.getpixel((30, 20)), RED)


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow cannot read AVIF")
def test_avif_is_readable_here_so_it_becomes_jpeg() -> None:
    result = prepare_image(encode(marked(), "AVIF", quality=90), "phone.avif")
    assert result.mime_type == "image/jpeg"
    assert result.fixes == ("AVIF → JPEG",)
    assert near(opened(result).getpixel((5, 5)), RED, tolerance=30)


def test_sixteen_bit_grey_png_is_scaled_to_eight_bits_not_clipped() -> None:
    im = Image.new("I;16", (64, 48), 40000)
    im.putpixel((0, 0), 65535)
    result = prepare_image(encode(im, "PNG"), "depth.png")
    assert result.fixes == ("16-bit → 8-bit",)
    out = opened(result)
    assert out.mode == "L"
    assert abs(out.getpixel((10, 10)) - 40000 / 257) <= 1  # clipping would give 255
    assert out.getpixel((0, 0)) == 255


def test_sixteen_bit_tiff_is_scaled_to_eight_bits() -> None:
    im = Image.new("I;16", (64, 48), 1000)
    result = prepare_image(encode(im, "TIFF"), "scan.tif")
    assert "16-bit → 8-bit" in result.fixes
    assert abs(opened(result).getpixel((10, 10)) - 1000 / 257) <= 1


@pytest.mark.parametrize(("bits", "grey"), [(10, False), (12, False), (10, True), (12, True)])
def test_a_10_or_12_bit_heic_says_how_many_bits_it_had(bits: int, grey: bool) -> None:
    # libheif hands colour over in 8 bits and grey scaled to 16: either way the note names the file's depth.
    result = prepare_image(heic_high_bit((64, 48), bits, grey=grey), "hdr.heic")
    assert result.fixes == ("HEIC → JPEG", f"{bits}-bit → 8-bit")
    pixel = opened(result).convert("RGB").getpixel((10, 10))
    expected = (155, 155, 155) if grey else (194, 117, 39)  # 40000/257; 50000, 30000, 10000 over 257
    assert near(pixel, expected, tolerance=12), pixel


def test_a_windows_cursor_becomes_png() -> None:
    result = prepare_image(icon_as_cursor(marked((32, 32))), "pointer.cur")
    assert result.fixes == ("CUR → PNG",)
    assert near(opened(result).getpixel((2, 2)), RED)


def test_palette_with_transparency_keeps_its_transparent_pixels() -> None:
    im = Image.new("P", (50, 40), 1)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(0, (0, 0, 25, 40))  # left half uses the transparent index 0
    result = prepare_image(encode(im, "PNG", transparency=0), "sticker.png")
    assert result.mime_type == "image/png"
    out = opened(result).convert("RGBA")
    assert out.getpixel((5, 5))[3] == 0
    assert out.getpixel((40, 5)) == (255, 0, 0, 255)


def test_grey_with_alpha_keeps_its_alpha() -> None:
    im = Image.new("LA", (50, 40), (200, 255))
    im.paste((10, 0), (0, 0, 10, 10))
    result = prepare_image(encode(im, "PNG"), "grey.png")
    out = opened(result)
    assert out.mode == "LA"
    assert out.getpixel((2, 2)) == (10, 0)
    assert out.getpixel((30, 30)) == (200, 255)


def test_rgba_with_real_transparency_stays_rgba() -> None:
    im = Image.new("RGBA", (50, 40), (0, 255, 0, 255))
    im.paste((0, 0, 0, 0), (0, 0, 10, 10))
    out = opened(prepare_image(encode(im, "PNG"), "cut.png"))
    assert out.mode == "RGBA"
    assert out.getpixel((2, 2))[3] == 0


def test_an_alpha_channel_that_is_fully_opaque_is_dropped() -> None:
    im = Image.new("RGBA", (50, 40), (0, 255, 0, 255))
    out = opened(prepare_image(encode(im, "PNG"), "opaque.png"))
    assert out.mode == "RGB"


def test_transparent_jpeg_like_source_becomes_webp_to_keep_alpha() -> None:
    im = Image.new("RGBA", (60, 40), (255, 0, 0, 255))
    im.paste((0, 0, 0, 0), (0, 0, 20, 40))
    result = prepare_image(encode(im, "WEBP", quality=90), "cut.webp")
    assert result.mime_type == "image/webp"
    assert opened(result).convert("RGBA").getpixel((5, 5))[3] == 0


def test_cmyk_jpeg_becomes_rgb_with_the_right_colour() -> None:
    cmyk = Image.new("CMYK", (60, 40), (0, 255, 255, 0))  # no cyan, full magenta + yellow = red
    result = prepare_image(encode(cmyk, "JPEG", quality=95), "print.jpg")
    assert result.fixes == ("CMYK → RGB colours",)
    out = opened(result)
    assert out.mode == "RGB"
    assert near(out.getpixel((30, 20)), RED, tolerance=20)


def test_black_and_white_bitmap_becomes_grey_png() -> None:
    im = Image.new("1", (40, 30), 1)
    out = opened(prepare_image(encode(im, "BMP"), "bw.bmp"))
    assert out.mode == "L"
    assert out.getpixel((5, 5)) == 255


def test_data_uri_carries_exactly_the_prepared_bytes() -> None:
    result = prepare_image(encode(solid((30, 20), WHITE), "PNG"), "white.png")
    prefix, payload = result.data_uri().split(",", 1)
    assert prefix == "data:image/png;base64"
    assert base64.b64decode(payload) == result.data
    assert result.size == len(result.data)


def test_repr_never_dumps_the_image_bytes() -> None:
    result = prepare_image(encode(solid((30, 20), WHITE), "PNG"), "white.png")
    assert len(repr(result)) < 200
    assert "white.png" in repr(result)


def test_an_iphone_heic_photo_becomes_an_upright_jpeg_without_its_location() -> None:
    data = heic_photo(marked((300, 200)), orientation=6, gps=True)  # held upright, with a GPS position
    result = prepare_image(data, "IMG_0001.HEIC")
    assert result.mime_type == "image/jpeg"
    assert result.fixes == ("HEIC → JPEG",)
    out = opened(result)
    assert out.size == (result.width, result.height) == (200, 300)  # turned once, not twice
    assert near(out.getpixel((195, 5)), RED, tolerance=40)  # the top-left corner is now top-right
    assert near(out.getpixel((100, 150)), BLUE, tolerance=40)
    assert len(out.getexif()) == 0  # no location, no orientation left to apply again


def test_a_heic_with_transparency_keeps_it_as_webp() -> None:
    result = prepare_image(encode(solid((64, 48), (255, 0, 0, 128), "RGBA"), "HEIF"), "sticker.heic")
    assert (result.mime_type, result.fixes) == ("image/webp", ("HEIC → WebP",))
    assert near(opened(result).getpixel((10, 10)), (255, 0, 0, 128), tolerance=20)


def test_a_heic_over_the_pixel_cap_is_refused_from_its_header() -> None:
    data = heic_photo(solid((1200, 900), GREEN))  # 1.08 MP against a 1 MP cap: the bomb guard's path
    with pytest.raises(ImageProblem) as caught:
        prepare_image(data, "huge.heic", ImageLimits(max_pixels=1_000_000))
    assert caught.value.code is ProblemCode.TOO_MANY_PIXELS
    assert str(caught.value).startswith("huge.heic: 1200×900 is 1.1 MP")


@pytest.mark.parametrize("keep", [40, 0.5])
def test_a_heic_cut_short_is_called_damaged(keep: float) -> None:
    data = heic_photo(marked())
    with pytest.raises(ImageProblem) as caught:
        prepare_image(data[: int(keep if keep > 1 else len(data) * keep)], "IMG_0002.HEIC")
    assert caught.value.code is ProblemCode.TRUNCATED
    assert str(caught.value) == "IMG_0002.HEIC: the file is cut short or damaged"


def test_a_heic_photo_without_a_heif_decoder_is_refused_with_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    Image.init()
    monkeypatch.delitem(Image.OPEN, "HEIF")  # an install without pillow-heif's plugin
    with pytest.raises(ImageProblem) as caught:
        prepare_image(heic_header(), "IMG_0001.HEIC")
    assert caught.value.code is ProblemCode.UNSUPPORTED_FORMAT
    assert str(caught.value) == (
        "IMG_0001.HEIC: HEIC images can't be read here; export it as PNG or JPEG and attach it again"
    )
