"""What cannot be fixed is refused with one line naming the file and the problem."""

from __future__ import annotations

import struct

import pytest
from images import RED, encode, heic_header, jpeg_with_exif, marked, noise, png_header_only, solid

from bot.media import ImageLimits, ImageProblem, ProblemCode, prepare_image, sniff_format


def refusal(data: bytes, filename: str, limits: ImageLimits | None = None) -> ImageProblem:
    with pytest.raises(ImageProblem) as caught:
        prepare_image(data, filename, limits or ImageLimits())
    assert caught.value.filename == filename
    return caught.value


# ---- aspect ratio -------------------------------------------------------------------------------


def test_too_wide_names_the_file_and_the_ratio() -> None:
    problem = refusal(encode(solid((520, 100)), "WEBP"), "frame3.webp")
    assert problem.code is ProblemCode.ASPECT_RATIO
    assert str(problem) == "frame3.webp: 5.2:1 is wider than 4:1; crop it to 399×100 or narrower"


def test_too_tall_names_the_file_and_the_ratio() -> None:
    problem = refusal(encode(solid((100, 450)), "PNG"), "start.png")
    assert problem.code is ProblemCode.ASPECT_RATIO
    assert str(problem) == "start.png: 1:4.5 is taller than 1:4; crop it to 100×399 or shorter"


@pytest.mark.parametrize(("size", "word"), [((400, 100), "wide"), ((100, 400), "tall")])
def test_exactly_four_to_one_is_refused(size: tuple[int, int], word: str) -> None:
    problem = refusal(encode(solid(size), "PNG"), "edge.png")
    assert problem.code is ProblemCode.ASPECT_RATIO
    assert f"too {word}" in problem.detail


def test_just_over_the_limit_does_not_print_as_the_limit() -> None:
    problem = refusal(encode(solid((4010, 1000)), "PNG"), "edge.png")
    assert str(problem) == "edge.png: 4.01:1 is wider than 4:1; crop it to 3999×1000 or narrower"


@pytest.mark.parametrize("size", [(399, 100), (100, 399), (101, 400)])
def test_just_inside_the_limit_is_accepted(size: tuple[int, int]) -> None:
    result = prepare_image(encode(solid(size), "PNG"), "ok.png")
    assert (result.width, result.height) == size


def test_ratio_is_judged_on_the_upright_picture() -> None:
    # Stored 100×450 but the EXIF says "rotate 90°": the member sees a 4.5:1 wide picture.
    problem = refusal(jpeg_with_exif(solid((100, 450)), orientation=6), "pano.jpg")
    assert str(problem) == "pano.jpg: 4.5:1 is wider than 4:1; crop it to 399×100 or narrower"


def test_ratio_is_refused_from_the_header_before_any_pixel_is_read() -> None:
    data = encode(noise((520, 100)), "PNG")
    problem = refusal(data[: len(data) // 2], "cut-and-wide.png")  # the pixels are damaged too
    assert problem.code is ProblemCode.ASPECT_RATIO


def test_custom_ratio_limits_are_named_in_the_message() -> None:
    limits = ImageLimits(min_ratio=0.5, max_ratio=2.0)
    problem = refusal(encode(solid((300, 100)), "PNG"), "wide.png", limits)
    assert str(problem) == "wide.png: 3:1 is wider than 2:1; crop it to 199×100 or narrower"


# ---- size and pixel caps ------------------------------------------------------------------------


def test_empty_file() -> None:
    problem = refusal(b"", "nothing.png")
    assert problem.code is ProblemCode.EMPTY
    assert str(problem) == "nothing.png: the file is empty"


def test_over_max_bytes_is_refused_before_decoding() -> None:
    data = encode(noise((64, 64)), "PNG")
    problem = refusal(data, "big.png", ImageLimits(max_bytes=len(data) - 1))
    assert problem.code is ProblemCode.TOO_LARGE
    assert "the limit is" in problem.detail
    # Exactly at the cap is fine.
    assert prepare_image(data, "big.png", ImageLimits(max_bytes=len(data))).width == 64


def test_too_large_is_checked_even_for_bytes_that_are_not_an_image() -> None:
    problem = refusal(b"x" * 2048, "huge.bin", ImageLimits(max_bytes=1024))
    assert problem.code is ProblemCode.TOO_LARGE
    assert str(problem) == "huge.bin: the file is 2 KB, the limit is 1 KB"


def test_header_over_our_pixel_cap_is_refused_with_its_size() -> None:
    problem = refusal(png_header_only(8000, 7000), "poster.png")
    assert problem.code is ProblemCode.TOO_MANY_PIXELS
    assert str(problem) == "poster.png: 8000×7000 is 56 MP, the limit is 40 MP; resize it to 6761×5916 or smaller"


def test_crafted_bomb_is_refused_from_its_header() -> None:
    # 30000×30000 RGB would need 2.7 GB; the file is ~100 bytes and must never be decoded.
    data = png_header_only(30000, 30000)
    assert len(data) < 200
    problem = refusal(data, "bomb.png")
    assert problem.code is ProblemCode.TOO_MANY_PIXELS
    assert "900 MP" in problem.detail


def test_pillow_bomb_warning_is_an_error_even_with_a_raised_cap() -> None:
    # With our cap set above Pillow's 89.5 MP threshold, Pillow's own warning must still refuse it, and the
    # refusal names the limit that refused it.
    limits = ImageLimits(max_pixels=500_000_000)
    problem = refusal(png_header_only(10000, 10000), "bomb.png", limits)
    assert problem.code is ProblemCode.TOO_MANY_PIXELS
    assert str(problem) == "bomb.png: the picture is 100 MP, the limit is 89.5 MP; resize it to 89.5 MP or less"


def test_custom_pixel_cap() -> None:
    problem = refusal(encode(solid((200, 100)), "PNG"), "p.png", ImageLimits(max_pixels=19_999))
    assert str(problem) == "p.png: 200×100 is 0.02 MP, the limit is 0.02 MP; resize it to 199×99 or smaller"


# ---- not an image / damaged ----------------------------------------------------------------------


def test_text_file_named_jpg() -> None:
    problem = refusal(b"these are my notes, not a photo\n", "notes.jpg")
    assert problem.code is ProblemCode.NOT_AN_IMAGE
    assert str(problem).startswith("notes.jpg: ")


@pytest.mark.parametrize(("fmt", "name"), [("JPEG", "cut.jpg"), ("PNG", "cut.png"), ("WEBP", "cut.webp")])
def test_truncated_file(fmt: str, name: str) -> None:
    data = encode(noise((300, 200)), fmt)
    problem = refusal(data[: len(data) // 2], name)
    assert problem.code is ProblemCode.TRUNCATED
    assert str(problem) == f"{name}: the file is cut short or damaged"


def test_corrupted_png_chunk() -> None:
    data = bytearray(encode(noise((60, 40)), "PNG"))
    data[len(data) // 2] ^= 0xFF  # breaks the IDAT checksum
    assert refusal(bytes(data), "broken.png").code is ProblemCode.TRUNCATED


def test_only_the_magic_bytes_of_a_png() -> None:
    assert refusal(b"\x89PNG\r\n\x1a\n", "stub.png").code is ProblemCode.TRUNCATED


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "SVG"),
        (b"%PDF-1.7\n%binary", "PDF"),
    ],
)
def test_formats_we_cannot_read_ask_for_png_or_jpeg(data: bytes, label: str) -> None:
    problem = refusal(data, "drawing")  # (HEIC is read: tests/unit/test_keyframes_formats.py)
    assert problem.code is ProblemCode.UNSUPPORTED_FORMAT
    assert label in problem.detail
    assert "export it as PNG or JPEG" in problem.detail


def tga(size: tuple[int, int] = (40, 30)) -> bytes:
    """An uncompressed TGA: its first bytes (00 00 02 00) are a Windows cursor's signature."""
    data = encode(marked(size), "TGA", compression=None)
    assert data[:4] == b"\x00\x00\x02\x00"
    return data


def test_a_tga_is_named_not_taken_for_a_damaged_cursor() -> None:
    assert sniff_format(tga()) is None
    problem = refusal(tga(), "sprite.tga")
    assert problem.code is ProblemCode.UNSUPPORTED_FORMAT
    assert str(problem) == ("sprite.tga: TGA (Targa) images can't be read here; "
                            "export it as PNG or JPEG and attach it again")


def test_a_tga_bomb_is_refused_for_its_pixels_from_its_header() -> None:
    header = struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, 30000, 30000, 24, 0)  # 30000×30000, 24-bit
    problem = refusal(header + b"\x00" * 64, "huge.tga")
    assert problem.code is ProblemCode.TOO_MANY_PIXELS
    assert str(problem) == "huge.tga: the picture is 900 MP, the limit is 40 MP; resize it to 40 MP or less"


@pytest.mark.parametrize(
    ("fmt", "label"),
    [("PCX", "PCX (Paintbrush)"), ("PPM", "PPM (Pbmplus image)"), ("DDS", "DDS (DirectDraw Surface)"),
     ("EPS", "EPS (Encapsulated Postscript)"), ("SGI", "SGI (SGI Image File Format)")],
)
def test_formats_pillow_reads_but_we_do_not_are_named_with_what_to_use(fmt: str, label: str) -> None:
    problem = refusal(encode(marked((40, 30)), fmt), "old-file")
    assert problem.code is ProblemCode.UNSUPPORTED_FORMAT, problem
    assert problem.params["label"] == label
    assert str(problem) == f"old-file: {label} images can't be read here; export it as PNG or JPEG and attach it again"


def test_an_icon_signature_alone_is_not_an_icon() -> None:
    # The four bytes of an ICO, then nothing that a directory of icons would hold.
    assert sniff_format(b"\x00\x00\x01\x00" + b"\x00" * 60) is None
    assert refusal(b"\x00\x00\x01\x00" + b"\x00" * 60, "zeros.ico").code is ProblemCode.NOT_AN_IMAGE


def test_the_crop_and_the_size_a_refusal_suggests_are_accepted() -> None:
    wide = refusal(encode(solid((520, 100)), "PNG"), "wide.png")
    tall = refusal(encode(solid((100, 450)), "PNG"), "tall.png")
    limits = ImageLimits(max_pixels=19_999)
    big = refusal(encode(solid((200, 100)), "PNG"), "big.png", limits)
    for problem, key, limit in ((wide, "crop", ImageLimits()), (tall, "crop", ImageLimits()), (big, "fit", limits)):
        width, height = map(int, problem.params[key].split("×"))
        assert prepare_image(encode(solid((width, height)), "PNG"), "fixed.png", limit).width == width
    # The crops are the largest that fit: one pixel more is refused again.
    for size in ((400, 100), (100, 400)):
        assert refusal(encode(solid(size), "PNG"), "grown.png").code is ProblemCode.ASPECT_RATIO


def test_file_name_with_a_line_break_stays_on_one_line() -> None:
    problem = refusal(b"", "evil\nname.png")
    assert "\n" not in str(problem)
    assert problem.filename == "evil\nname.png"  # the original is kept for the caller


# ---- sniffing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("PNG", "png"),
        ("JPEG", "jpeg"),
        ("WEBP", "webp"),
        ("GIF", "gif"),
        ("BMP", "bmp"),
        ("TIFF", "tiff"),
        ("ICO", "ico"),
        ("AVIF", "avif"),
    ],
)
def test_sniff_reads_the_magic_bytes(fmt: str, expected: str) -> None:
    assert sniff_format(encode(marked((32, 32)), fmt)) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (heic_header(), "heic"),
        (b"  <svg xmlns='http://www.w3.org/2000/svg'></svg>", "svg"),
        (b"BMW is a car, not a bitmap", None),
        (b"", None),
        (b"hello", None),
    ],
)
def test_sniff_edge_cases(data: bytes, expected: str | None) -> None:
    assert sniff_format(data) == expected


def test_sniff_ignores_what_the_file_is_called() -> None:
    assert sniff_format(encode(solid((8, 8), RED), "GIF")) == "gif"
