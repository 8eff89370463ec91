"""Check a member's keyframe image and fix what can be fixed, so the provider accepts it.

Pure functions over bytes: no Discord, no network. ``prepare_image`` is CPU-bound and runs in a thread
(``prepare_image_async`` / ``prepare_images``), never on the event loop.

Choices (documented for review):
- Every accepted image is decoded and re-encoded once, even a clean PNG/JPEG/WebP: one path strips all
  metadata (EXIF with GPS, XMP, comments, text chunks, ICC) with no format-specific parsing to get wrong.
- Output format: lossless sources (PNG, GIF, BMP, TIFF, ICO, JPEG 2000) become PNG; lossless WebP stays
  lossless WebP; lossy sources (JPEG, MPO, lossy WebP, AVIF, HEIC) stay lossy at quality 92 (JPEG when
  opaque, keeping a JPEG source's chroma subsampling; WebP at 90 when transparent). Lossless in,
  lossless out; a photo never balloons into a huge PNG, and a phone JPEG comes out about its own size.
- When the data URI would exceed the budget: lossy quality steps (JPEG, or WebP to keep transparency),
  then downscaling in steps that keep the aspect ratio; if nothing fits, CANNOT_FIT.
- ICC profiles are converted to sRGB, then dropped (see ``bot.media.pixels``).

A little over 400 lines: one picture's whole path (open, check the header, decode reduced, turn upright, fix,
size, encode) reads in order here, and its many small guards against damaged files belong to that path.
Sizing for the video is bot.media.sizing, encoding within a budget bot.media.encode.
"""

from __future__ import annotations

import asyncio
import io
import re
import struct
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageOps, JpegImagePlugin, UnidentifiedImageError
from pillow_heif import register_heif_opener

from bot.media.encode import EncodePlan, OutputFormat, data_uri, encode_within_budget
from bot.media.pixels import has_alpha, normalise_pixels
from bot.media.problems import (
    RATIO_DETAILS,
    ImageProblem,
    ProblemCode,
    fit_within_pixels,
    human_bytes,
    human_megapixels,
    ratio_problem,
)
from bot.media.sizing import draft_for_video, resize_for_video, video_frame
from bot.media.sniff import sniff_format

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


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 50 * 1024 * 1024  # input file size cap (the provider's own limit)
    max_pixels: int = 40_000_000  # below Pillow's bomb warning (89.5 MP); over it is an error
    data_uri_budget: int = 10 * 1024 * 1024  # max length of the result's data URI string
    min_ratio: float = 0.25  # width/height must be strictly inside (min_ratio, max_ratio)
    max_ratio: float = 4.0
    # The video the picture is for ("540p", "720p", "1080p"): larger pictures are scaled down to what that
    # video can use (bot.media.sizing). None: sent at their own size (only the budget may shrink them).
    video_resolution: str | None = None

    def __post_init__(self) -> None:
        if self.video_resolution is not None:
            video_frame(self.video_resolution)  # a typo fails here, in the caller, not in a worker


@dataclass(frozen=True)
class PreparedImage:
    filename: str  # the member's file name, for messages
    data: bytes
    mime_type: str  # "image/png" | "image/jpeg" | "image/webp"
    width: int
    height: int
    fixes: tuple[str, ...]  # what was changed, in plain words (metadata removal is never listed)

    @property
    def size(self) -> int:
        return len(self.data)

    def data_uri(self) -> str:
        return data_uri(self.mime_type, self.data)

    def __repr__(self) -> str:  # the bytes would flood any log line
        return (
            f"PreparedImage(filename={self.filename!r}, mime_type={self.mime_type!r}, "
            f"{self.width}x{self.height}, size={self.size}, fixes={self.fixes!r})"
        )


# sniffed name -> (Pillow plugin ids to try, name shown to members)
_READABLE: dict[str, tuple[list[str], str]] = {
    "png": (["PNG"], "PNG"),
    "jpeg": (["JPEG", "MPO"], "JPEG"),
    "webp": (["WEBP"], "WebP"),
    "gif": (["GIF"], "GIF"),
    "bmp": (["BMP"], "BMP"),
    "tiff": (["TIFF"], "TIFF"),
    "ico": (["ICO"], "ICO"),
    "cur": (["CUR"], "CUR"),
    "jp2": (["JPEG2000"], "JPEG 2000"),
    "avif": (["AVIF"], "AVIF"),
    "heic": (["HEIF"], "HEIC"),  # through pillow-heif's plugin (registered below)
}
_NEVER_READ = {"svg": "SVG", "pdf": "PDF", "psd": "Photoshop", "jxl": "JPEG XL", "qoi": "QOI"}
_PROVIDER_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})  # what the provider takes as it is
_LOSSY_SOURCES = frozenset({"JPEG", "MPO", "AVIF", "HEIF"})
_ORIENTATION = ExifTags.Base.Orientation
_TURNED = range(2, 9)  # EXIF orientations other than "upright" (1)
# Pillow raises these while parsing a damaged or cut-short file, depending on the plugin.
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError)
_BOMB_SIZE = re.compile(r"\((\d+) pixels\)")
# JPEG quality of a photo sized for the video: the lowest that keeps SSIM at the video's size at 0.98 or more
# over benchmarks/photos.py's pictures (tests/media/test_quality.py). Measured (phone photo 720p / 1080p, the
# dim-light one's worst): q92 0.981 / 0.979, 0.959; q95 0.987 / 0.984, 0.974; q97 0.991 / 0.987, 0.984 for
# 0.56 / 1.28 MB; q98 0.993 / 0.989, 0.987 for 0.65 / 1.48 MB. A photo shrunk this much needs more quality
# than at its own size, where the provider's own shrinking hides the JPEG's losses.
_VIDEO_QUALITY = 97

# iPhone photos are HEIC. libheif applies the file's own rotation while decoding and reports EXIF
# orientation 1, so nothing is turned twice. Only the main picture: thumbnails, depth maps and auxiliary
# images would cost memory for nothing.
register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def prepare_image(data: bytes, filename: str, limits: ImageLimits = ImageLimits()) -> PreparedImage:
    """Check one image and return it ready for the provider, or raise ImageProblem. CPU-bound."""
    if not data:
        raise ImageProblem(filename, ProblemCode.EMPTY, "the file is empty", key="empty")
    if len(data) > limits.max_bytes:  # before any decoding: cheap and bomb-proof
        size, limit = human_bytes(len(data)), human_bytes(limits.max_bytes)
        raise ImageProblem(filename, ProblemCode.TOO_LARGE, f"the file is {size}, the limit is {limit}",
                           key="too_large", size=size, limit=limit)
    _make_bomb_warning_an_error()
    kind = sniff_format(data) or _kind_pillow_finds(data, filename, limits)
    if kind is None:
        raise ImageProblem(filename, ProblemCode.NOT_AN_IMAGE, "this is not an image (use PNG, JPEG or WebP)",
                           key="not_an_image")
    plugins, label = _readable_plugins(filename, kind)

    if kind == "png":
        # PNG carries checksums that Pillow only looks at in verify(): a flipped byte would
        # otherwise come out as silently garbled pixels. verify() reads chunks, not pixels, and
        # consumes the file object, so the real work opens the bytes again.
        with _open(data, filename, kind, label, plugins, limits) as im:
            _check_header(im, filename, limits)
            _verify(im, filename)
    with _open(data, filename, kind, label, plugins, limits) as im:
        return _prepare_opened(im, filename, kind, label, limits, source_bytes=len(data))


async def prepare_image_async(
    data: bytes,
    filename: str,
    limits: ImageLimits = ImageLimits(),
) -> PreparedImage:
    """``prepare_image`` in a worker thread."""
    return await asyncio.to_thread(prepare_image, data, filename, limits)


PrepareOne = Callable[[bytes, str, ImageLimits], Awaitable[PreparedImage]]


async def prepare_images(
    files: Sequence[tuple[str, bytes]],
    limits: ImageLimits = ImageLimits(),
    *,
    max_concurrency: int = 2,
    prepare: PrepareOne = prepare_image_async,
) -> tuple[list[PreparedImage], list[ImageProblem]]:
    """Check every (filename, bytes) pair; return the prepared images and ALL problems, in input order.

    At most ``max_concurrency`` images are decoded at once: a 40 MP image takes ~160 MB while it is
    being worked on, and the machine is shared. ``prepare`` does one image: in a thread by default (the
    CLI), or ``ImagePool.prepare`` (bot.media.pool) to keep Pillow out of the bot's interpreter.
    """
    gate = asyncio.Semaphore(max(1, max_concurrency))

    async def one(name: str, data: bytes) -> PreparedImage | ImageProblem:
        async with gate:
            try:
                return await prepare(data, name, limits)
            except ImageProblem as problem:
                return problem

    results = await asyncio.gather(*(one(name, data) for name, data in files))
    prepared = [r for r in results if isinstance(r, PreparedImage)]
    problems = [r for r in results if isinstance(r, ImageProblem)]
    return prepared, problems


def _open(
    data: bytes, filename: str, kind: str, label: str, plugins: list[str], limits: ImageLimits
) -> Image.Image:
    """Read the header only (Pillow is lazy): no pixels are decoded here."""
    try:
        return Image.open(io.BytesIO(data), formats=plugins)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb_problem(filename, exc, limits) from None
    except _DAMAGED as exc:
        # Pillow's AVIF reader lacks some of the format's features; libheif reads every HEIC a phone
        # makes, so a HEIC it cannot identify is damaged (usually cut short).
        if isinstance(exc, UnidentifiedImageError) and kind == "avif":
            raise _unsupported(filename, label) from None
        raise _damaged(filename) from None


def _kind_pillow_finds(data: bytes, filename: str, limits: ImageLimits) -> str | None:
    """For bytes our sniffing does not know: a format we read whose header was unusual (its kind), one
    Pillow knows and we do not accept (refused by its name: TGA, PCX, DDS, Netpbm, EPS, FLI, ...), or None.

    Every Pillow reader may look at the header, none at the pixels (Pillow is lazy); EPS's Ghostscript
    only runs when pixels are loaded, which never happens here."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            found, description = im.format, im.format_description
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb_problem(filename, exc, limits) from None
    except Exception:  # no reader recognised it, or one failed on it: not an image we can name
        return None
    if not found:
        return None
    kind = next((kind for kind, (plugins, _) in _READABLE.items() if found in plugins), None)
    if kind is not None:
        return kind
    label = found if not description or description.lower() == found.lower() else f"{found} ({description})"
    raise _unsupported(filename, label)


def _verify(im: Image.Image, filename: str) -> None:
    try:
        im.verify()
    except _DAMAGED:
        raise _damaged(filename) from None


def _check_header(im: Image.Image, filename: str, limits: ImageLimits) -> int:
    """Size, pixel cap and aspect ratio from the header alone; returns the EXIF orientation.

    Pillow has read nothing but the header yet: huge or badly shaped pictures are refused before
    their pixels are allocated.
    """
    width, height = im.size
    if width <= 0 or height <= 0:
        raise _damaged(filename)
    if width * height > limits.max_pixels:
        size, limit = f"{width}×{height}", human_megapixels(limits.max_pixels)
        megapixels = human_megapixels(width * height)
        fit = "{}×{}".format(*fit_within_pixels(width, height, limits.max_pixels))
        raise ImageProblem(filename, ProblemCode.TOO_MANY_PIXELS,
                           f"{size} is {megapixels}, the limit is {limit}; resize it to {fit} or smaller",
                           key="pixels", size=size, megapixels=megapixels, limit=limit, fit=fit)
    orientation = _orientation(im, loaded=False)
    upright_w, upright_h = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    bad_ratio = ratio_problem(upright_w, upright_h, limits.min_ratio, limits.max_ratio)
    if bad_ratio is not None:
        key, values = bad_ratio
        raise ImageProblem(filename, ProblemCode.ASPECT_RATIO, RATIO_DETAILS[key].format(**values), key=key,
                           **values)
    return orientation


def _prepare_opened(
    im: Image.Image, filename: str, kind: str, label: str, limits: ImageLimits, *, source_bytes: int = 0
) -> PreparedImage:
    orientation = _check_header(im, filename, limits)
    source_format = im.format or ""
    source_pixels = im.width * im.height
    frames = _frame_count(im)
    lossless_webp = kind == "webp" and _is_lossless_webp(im)
    subsampling = _jpeg_subsampling(im)
    try:
        im.seek(0)
        drafted = draft_for_video(im, orientation, limits.video_resolution)
        im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb_problem(filename, exc, limits) from None
    except MemoryError:
        detail = "the picture is too big to work on"
        raise ImageProblem(filename, ProblemCode.TOO_MANY_PIXELS, detail, key="too_big_to_work_on") from None
    except _DAMAGED:
        raise _damaged(filename) from None

    fixes: list[str] = []
    # A PNG with its eXIf chunk after the pixels only reveals the orientation now, while Pillow's
    # TIFF decoder applies the orientation itself and drops the tag: look both before and after.
    turn = _orientation(im, loaded=True)
    still_to_turn = turn in _TURNED
    # Sizing for the video is not listed among the fixes: the member's picture had nothing wrong, and the
    # video cannot show what is left out (bot.media.sizing), like the metadata that is always removed.
    # Decoded photos (L, RGB, CMYK) are scaled first, so that turning and colour conversion work on the
    # smaller picture; other modes are scaled once they are brought to L/LA/RGB/RGBA.
    early = im.mode in ("L", "RGB", "CMYK") and "transparency" not in im.info
    pixels, resized = im, False
    if early:
        pixels, resized = resize_for_video(im, limits.video_resolution, sideways=turn in (5, 6, 7, 8))
    turned = _turn_upright(pixels) if still_to_turn else orientation in _TURNED
    if turned:
        fixes.append("turned upright (EXIF)")
    pixels, pixel_fixes = normalise_pixels(pixels)
    fixes.extend(pixel_fixes)
    if not early:
        pixels, resized = resize_for_video(pixels, limits.video_resolution)

    plan = _plan(source_format, lossless_webp, has_alpha(pixels), subsampling, sized=drafted or resized)
    hopeless = (plan.fmt is OutputFormat.PNG and source_format == "PNG"
                and _png_too_big(source_bytes, source_pixels, pixels, limits.data_uri_budget))
    encoded = encode_within_budget(pixels, plan, limits.data_uri_budget, plan_cannot_fit=hopeless)
    if encoded is None:
        budget = human_bytes(limits.data_uri_budget)
        raise ImageProblem(
            filename,
            ProblemCode.CANNOT_FIT,
            f"cannot be made smaller than {budget} for the request without losing the picture",
            key="cannot_fit", budget=budget,
        )
    conversion = _conversion_fix(source_format, label, encoded.fmt, frames)
    if conversion:
        fixes.insert(0, conversion)
    fixes.extend(encoded.fixes)
    return PreparedImage(
        filename=filename,
        data=encoded.data,
        mime_type=encoded.fmt.mime_type,
        width=encoded.width,
        height=encoded.height,
        fixes=tuple(fixes),
    )


def _png_too_big(source_bytes: int, source_pixels: int, pixels: Image.Image, budget: int) -> bool:
    """Whether a PNG made from a PNG would clearly not fit the budget, judged by the source's bytes per pixel
    (PNG compresses a picture about as well at any size; smaller, rather worse). A photo or noise saved as PNG
    then goes straight to JPEG: its PNG encoding was the costliest step of preparing it, and thrown away
    (the ack burst: 0.24 s of a command's 1.9 CPU-s per such picture)."""
    if source_bytes <= 0 or source_pixels <= 0:
        return False
    estimate = source_bytes / source_pixels * pixels.width * pixels.height
    return estimate * 4 / 3 > budget * PNG_HOPELESS_MARGIN


# How far over the budget a PNG's estimate must be before its encoding is skipped: clear cases only, so a
# picture that might fit is still tried losslessly.
PNG_HOPELESS_MARGIN = 1.5


def _readable_plugins(filename: str, kind: str) -> tuple[list[str], str]:
    if kind in _NEVER_READ:
        raise _unsupported(filename, _NEVER_READ[kind])
    plugins, label = _READABLE[kind]
    Image.init()
    available = [p for p in plugins if p in Image.OPEN]
    if not available:  # e.g. HEIC without pillow-heif
        raise _unsupported(filename, label)
    return available, label


def _plan(source_format: str, lossless_webp: bool, alpha: bool, subsampling: int, *, sized: bool) -> EncodePlan:
    if source_format == "WEBP":
        return EncodePlan(OutputFormat.WEBP, None if lossless_webp else 90)
    if source_format in _LOSSY_SOURCES:
        if alpha:
            return EncodePlan(OutputFormat.WEBP, 90)
        if sized:
            # At the video's own size the video's 4:2:0 chroma is as fine as the picture's: finer costs bytes.
            return EncodePlan(OutputFormat.JPEG, _VIDEO_QUALITY, 2)
        return EncodePlan(OutputFormat.JPEG, 92, subsampling)
    return EncodePlan(OutputFormat.PNG, None)


def _jpeg_subsampling(im: Image.Image) -> int:
    """The source's chroma subsampling (0, 1 or 2) when it is a JPEG, else 4:2:0."""
    if isinstance(im, JpegImagePlugin.JpegImageFile):
        sampling = JpegImagePlugin.get_sampling(im)
        if sampling in (0, 1, 2):
            return sampling
    return 2


def _conversion_fix(source_format: str, label: str, out: OutputFormat, frames: int) -> str | None:
    """The member-facing line for a change of format or a dropped animation, if any."""
    out_label = "WebP" if out is OutputFormat.WEBP else out.value
    if source_format == "MPO":
        return f"MPO → {out_label} (first picture)"
    if source_format not in _PROVIDER_FORMATS:
        return f"{label} → {out_label}" + (" (first frame)" if frames > 1 else "")
    if frames > 1:
        return "animation → first frame only"
    return None  # a provider format re-encoded for the budget is reported by the budget step


def _orientation(im: Image.Image, *, loaded: bool) -> int:
    if im.format == "PNG" and "exif" not in im.info and not loaded:
        # Pillow's PNG getexif() would decode every pixel to look for a late eXIf chunk: not before
        # the checks. It is looked at again once the pixels are loaded.
        return 1
    try:
        value = im.getexif().get(_ORIENTATION, 1)
    except Exception:  # a damaged EXIF block only means we cannot tell: treat the picture as upright
        return 1
    return value if isinstance(value, int) else 1


def _turn_upright(im: Image.Image) -> bool:
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except Exception:  # a damaged EXIF block must not cost the member their picture
        return False
    return True


def _frame_count(im: Image.Image) -> int:
    try:
        return int(getattr(im, "n_frames", 1))
    except _DAMAGED:
        return 1


def _is_lossless_webp(im: Image.Image) -> bool:
    # Pillow does not expose the codec; the RIFF chunk list does. VP8L = lossless, "VP8 " = lossy.
    fp = getattr(im, "fp", None)
    if fp is None:
        return False
    pos = fp.tell()
    try:
        fp.seek(12)
        head = fp.read(4096)
    finally:
        fp.seek(pos)
    if not isinstance(head, bytes):
        return False
    lossless, lossy = head.find(b"VP8L"), head.find(b"VP8 ")
    return lossless != -1 and (lossy == -1 or lossless < lossy)


def _make_bomb_warning_an_error() -> None:
    # Idempotent, so a test runner that resets warning filters between tests cannot switch it off.
    for action, _message, category, _module, _line in warnings.filters:
        if action == "error" and category is Image.DecompressionBombWarning:
            return
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


_make_bomb_warning_an_error()  # at import too, so worker threads normally find it already in place


def _bomb_problem(filename: str, exc: Exception, limits: ImageLimits) -> ImageProblem:
    found = _BOMB_SIZE.search(str(exc))
    # Pillow's own guard (its warning is an error here) may be the lower limit of the two.
    limit = human_megapixels(min(limits.max_pixels, Image.MAX_IMAGE_PIXELS or limits.max_pixels))
    if found is None:  # Pillow did not say how many: the sentence says "more than the limit"
        return ImageProblem(filename, ProblemCode.TOO_MANY_PIXELS,
                            f"the picture has more pixels than the limit of {limit}; resize it to {limit} or less",
                            key="too_many_pixels", limit=limit)
    size = human_megapixels(int(found.group(1)))
    return ImageProblem(filename, ProblemCode.TOO_MANY_PIXELS,
                        f"the picture is {size}, the limit is {limit}; resize it to {limit} or less",
                        key="picture_size", size=size, limit=limit)


def _damaged(filename: str) -> ImageProblem:
    return ImageProblem(filename, ProblemCode.TRUNCATED, "the file is cut short or damaged", key="truncated")


def _unsupported(filename: str, label: str) -> ImageProblem:
    return ImageProblem(
        filename,
        ProblemCode.UNSUPPORTED_FORMAT,
        f"{label} images can't be read here; export it as PNG or JPEG and attach it again",
        key="unsupported", label=label,
    )
