"""Pictures sized for the video (issue 16): scaled down, never up, to what the requested resolution can use;
large JPEGs decoded at a reduced size (draft mode) without losing their orientation, colours or checks."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image, JpegImagePlugin

from bot.media import ImageLimits, ImageProblem, PreparedImage, ProblemCode, prepare_image
from bot.media.pool import ImagePool
from bot.media.sizing import covering_size, size_for_video, video_frame
from tests.unit.images import BLUE, RED, encode, exif_bytes, marked, noise, rgb_icc_profile

TWELVE_MP = (4000, 3000)


def opened(result: PreparedImage) -> Image.Image:
    im = Image.open(io.BytesIO(result.data))
    im.load()
    return im


def near(pixel: object, expected: tuple[int, ...], tolerance: int = 12) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=False))


@pytest.fixture
def drafts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Every JPEG draft request: (size asked for, size the decoder then works at)."""
    calls: list[tuple[tuple[int, int], tuple[int, int]]] = []
    real = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None) -> object:
        answer = real(self, mode, size)
        assert size is not None
        calls.append((size, self.size))
        return answer

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    return calls


# ------------------------------------------------------------------ the size rule
def test_the_frame_of_each_resolution_is_16_9_at_its_height() -> None:
    assert video_frame("1080p") == (1920, 1080)
    assert video_frame("720p") == (1280, 720)
    assert video_frame("540p") == (960, 540)
    with pytest.raises(ValueError, match="not a video resolution"):
        video_frame("HD")


@pytest.mark.parametrize(("size", "resolution", "expected"), [
    ((4000, 3000), "1080p", (1920, 1440)),  # 4:3: long side to 1920, the short side follows (≥ 1080)
    ((4000, 3000), "720p", (1280, 960)),
    ((4000, 3000), "540p", (960, 720)),
    ((3000, 4000), "720p", (960, 1280)),  # portrait: a portrait frame
    ((4000, 4000), "1080p", (1920, 1920)),  # square: covers a 16:9 crop and a square video alike
    ((6000, 2000), "1080p", (3240, 1080)),  # 3:1 panorama: the short side to 1080, so a 16:9 crop is whole
    ((7999, 2000), "720p", (2880, 721)),  # 3.9995:1 stays under 4:1: the short side is rounded up
])
def test_a_picture_covers_the_frame_in_its_own_shape(size: tuple[int, int], resolution: str,
                                                      expected: tuple[int, int]) -> None:
    assert covering_size(*size, resolution) == expected
    assert size_for_video(*size, resolution) == expected
    frame_long, frame_short = video_frame(resolution)
    width, height = expected
    assert max(width, height) >= frame_long and min(width, height) >= frame_short
    assert width / height < 4


def test_pictures_are_never_scaled_up_and_none_means_their_own_size() -> None:
    assert size_for_video(1280, 960, "1080p") is None  # smaller than the frame: left alone
    assert size_for_video(1920, 1440, "1080p") is None  # exactly the size: nothing to do
    assert size_for_video(2000, 1500, "1080p") is None  # within 10 %: not worth a second resampling
    assert size_for_video(2200, 1650, "1080p") == (1920, 1440)
    assert size_for_video(2000, 700, "720p") is None  # a panorama already below 720 px high, however wide
    assert size_for_video(4000, 3000, None) is None


def test_a_mistyped_resolution_fails_where_the_limits_are_made() -> None:
    with pytest.raises(ValueError, match="not a video resolution"):
        ImageLimits(video_resolution="1080")
    assert ImageLimits().video_resolution is None  # the default keeps every caller's old behaviour


# ------------------------------------------------------------------ prepared pictures
def test_a_phone_photo_held_sideways_is_drafted_turned_and_sized(drafts: list) -> None:
    stored = marked(TWELVE_MP)  # the red block marks the stored top-left corner
    data = encode(stored, "JPEG", quality=90, exif=exif_bytes(orientation=6, gps=True, make="TestPhone"))
    result = prepare_image(data, "IMG_0001.jpg", ImageLimits(video_resolution="720p"))

    # Asked in the file's own (sideways) orientation; the decoder worked at half size.
    assert drafts == [((1280, 960), (2000, 1500))]
    assert (result.width, result.height) == (960, 1280)  # upright: portrait, covering a 720×1280 frame
    out = opened(result)
    assert out.size == (960, 1280)
    # Orientation 6 turns the picture 90° clockwise: the stored top-left corner ends top-right.
    assert near(out.getpixel((950, 10)), RED, tolerance=30)
    assert near(out.getpixel((10, 10)), BLUE, tolerance=30)
    assert result.fixes == ("turned upright (EXIF)",)  # sizing for the video is not a fix of theirs
    assert result.mime_type == "image/jpeg"
    assert "exif" not in out.info and out.getexif().get(0x8825) is None  # no GPS either


def test_without_a_resolution_a_photo_keeps_its_size_and_no_draft_is_asked(drafts: list) -> None:
    data = encode(marked(TWELVE_MP), "JPEG", quality=85)
    result = prepare_image(data, "big.jpg", ImageLimits())
    assert (result.width, result.height) == TWELVE_MP
    assert drafts == []


def test_a_picture_smaller_than_the_frame_is_sent_as_before(drafts: list) -> None:
    data = encode(noise((1280, 960)), "JPEG", quality=90, subsampling=0)
    sized = prepare_image(data, "small.jpg", ImageLimits(video_resolution="1080p"))
    unsized = prepare_image(data, "small.jpg", ImageLimits())
    assert sized.data == unsized.data  # same size, same quality, the source's own 4:4:4 kept
    assert drafts == []


def test_the_pixel_cap_judges_the_files_own_size_before_any_reduced_decode(drafts: list) -> None:
    data = encode(marked(TWELVE_MP), "JPEG", quality=50)
    with pytest.raises(ImageProblem) as refused:
        prepare_image(data, "huge.jpg", ImageLimits(max_pixels=10_000_000, video_resolution="540p"))
    assert refused.value.code is ProblemCode.TOO_MANY_PIXELS
    assert "4000×3000 is 12 MP" in str(refused.value)  # not the 1000×750 a draft would have decoded
    assert drafts == []  # refused from the header: no decoding at all


def test_the_ratio_check_still_refuses_what_the_provider_refuses() -> None:
    data = encode(marked((4500, 1000)), "JPEG", quality=50)
    with pytest.raises(ImageProblem) as refused:
        prepare_image(data, "pano.jpg", ImageLimits(video_resolution="720p"))
    assert refused.value.code is ProblemCode.ASPECT_RATIO


def test_a_cmyk_print_file_is_drafted_and_keeps_its_colours(drafts: list) -> None:
    cmyk = Image.new("CMYK", TWELVE_MP, (0, 255, 255, 0))  # no cyan, full magenta + yellow = red
    result = prepare_image(encode(cmyk, "JPEG", quality=90), "print.jpg", ImageLimits(video_resolution="720p"))
    assert drafts and drafts[0][1] == (2000, 1500)
    assert result.fixes == ("CMYK → RGB colours",)
    out = opened(result)
    assert (out.mode, out.size) == ("RGB", (1280, 960))
    assert near(out.getpixel((640, 480)), RED, tolerance=20)


def test_an_icc_profile_still_applies_to_a_drafted_photo(drafts: list) -> None:
    icc = rgb_icc_profile("Swapped test RGB", swap_red_and_blue=True)  # stored red is really blue
    data = encode(Image.new("RGB", TWELVE_MP, RED), "JPEG", quality=90, icc_profile=icc)
    out = opened(prepare_image(data, "wide-gamut.jpg", ImageLimits(video_resolution="1080p")))
    assert drafts == [((1920, 1440), (2000, 1500))]
    assert out.size == (2000, 1500)  # decoded at half size, within 10 % of 1920×1440: sent so
    assert "icc_profile" not in out.info
    assert near(out.getpixel((960, 720)), BLUE, tolerance=40)


def test_the_first_picture_of_an_mpo_is_sized(drafts: list) -> None:
    left, right = marked(TWELVE_MP), Image.new("RGB", TWELVE_MP, BLUE)
    data = encode(left, "MPO", quality=80, save_all=True, append_images=[right])
    result = prepare_image(data, "3d.mpo", ImageLimits(video_resolution="720p"))
    assert (result.width, result.height) == (1280, 960)
    assert result.fixes == ("MPO → JPEG (first picture)",)
    assert near(opened(result).getpixel((10, 10)), RED, tolerance=30)


def test_lossless_pictures_stay_lossless_and_keep_their_transparency() -> None:
    im = Image.new("RGBA", (3000, 2000), (0, 128, 255, 255))
    im.paste((0, 0, 0, 0), (0, 0, 1500, 2000))  # the left half is transparent
    result = prepare_image(encode(im, "PNG"), "cut.png", ImageLimits(video_resolution="720p"))
    assert result.mime_type == "image/png"
    out = opened(result)
    assert out.size == (1280, 854) and out.mode == "RGBA"  # 3:2 at 720p: long side 1280 (short rounded up)
    assert out.getpixel((100, 400))[3] == 0 and out.getpixel((1200, 400))[3] == 255
    assert result.fixes == ()


def test_a_grey_png_turned_by_a_late_exif_chunk_is_sized_upright() -> None:
    # The orientation of this PNG is only known once its pixels are read: the size is decided after.
    exif = Image.Exif()
    exif[0x0112] = 8
    data = encode(Image.new("L", (4000, 3000), 90), "PNG", exif=exif.tobytes())
    result = prepare_image(data, "scan.png", ImageLimits(video_resolution="720p"))
    assert (result.width, result.height) == (960, 1280)
    assert result.fixes == ("turned upright (EXIF)",)


async def test_the_image_pool_passes_the_resolution_to_its_workers() -> None:
    pool = ImagePool(workers=1)
    try:
        data = encode(marked(TWELVE_MP), "JPEG", quality=80)
        result = await asyncio.wait_for(pool.prepare(data, "a.jpg", ImageLimits(video_resolution="540p")), 60)
    finally:
        await asyncio.wait_for(pool.close(), 30)
    assert (result.width, result.height) == (1000, 750)  # a quarter-size decode, within 10 % of 960×720
