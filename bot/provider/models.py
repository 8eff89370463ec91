"""Request and result objects of the VIDU Q2 Pro task API.

Requests validate themselves in __post_init__, so an invalid request cannot exist and nothing that the
provider would refuse is ever paid for. Results parse leniently: every documented field is optional.
(Both directions of the one API in one file, a little over 400 lines: they share the checks and limits.)
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from bot.provider.errors import RequestValidationError
from bot.provider.text import clean_text, is_usable_id

MAX_PROMPT_CHARS = 2000
MAX_PAYLOAD_CHARS = 1_048_576
MAX_SEED = 2**31 - 1
DEFAULT_VIDEO_TTL_SECONDS = 3600

FAST_RESOLUTIONS = ("720p", "1080p")
MULTIFRAME_RESOLUTIONS = ("540p", "720p", "1080p")
MOVEMENT_AMPLITUDES = ("auto", "small", "medium", "high")
WATERMARK_POSITIONS = ("top_left", "top_right", "bottom_right", "bottom_left")
FAST_DURATION_RANGE = (1, 10)
SEGMENT_DURATION_RANGE = (2, 7)
DEFAULT_SEGMENT_SECONDS = 5
KEYFRAME_COUNT_RANGE = (2, 9)
# The start-end endpoint's own rules (provider-api.md, "Start and end frame"): its movement values say
# `large` where the fast page says `high`, and it places the watermark by number.
STARTEND_RESOLUTIONS = ("540p", "720p", "1080p")
STARTEND_DURATION_RANGE = (1, 8)
STARTEND_MOVEMENTS = ("auto", "small", "medium", "large")
STARTEND_WM_POSITIONS = (1, 2, 3, 4)  # top-left, top-right, bottom-right, bottom-left
# start pixels / end pixels must lie within this range (inclusive)
STARTEND_PIXEL_RATIO = (0.8, 1.25)

_DATA_URI_HEAD = re.compile(r"data:image/(png|jpeg|webp);base64,", re.ASCII)
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# The alphabet check runs over megabytes: bytes.translate (3x faster than a regular expression) in
# pieces, so another thread (the event loop) gets the GIL between them.
_SCAN_PIECE = 256 * 1024
_HTTP_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.ASCII | re.IGNORECASE)


def _check_bool(field: str, value: object) -> None:
    if not isinstance(value, bool):
        raise RequestValidationError(field, f"must be true or false, got {type(value).__name__}")


def _check_int_range(field: str, value: object, low: int, high: int) -> None:
    # bool is an int subclass; True must not pass as a duration of 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestValidationError(field, f"must be a whole number, got {type(value).__name__}")
    if not low <= value <= high:
        raise RequestValidationError(field, f"must be between {low} and {high}, got {value}")


def _check_choice(field: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise RequestValidationError(field, f"must be one of {', '.join(choices)}, got {value!r}")


def _check_prompt(field: str, value: object, *, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise RequestValidationError(field, f"must be text, got {type(value).__name__}")
    if required and not value.strip():
        raise RequestValidationError(field, "must not be empty")
    if len(value) > MAX_PROMPT_CHARS:
        raise RequestValidationError(field, f"is {len(value)} characters; at most {MAX_PROMPT_CHARS} allowed")


def _check_image(field: str, value: object) -> None:
    if not isinstance(value, str):
        raise RequestValidationError(field, f"must be an image URL or data URI, got {type(value).__name__}")
    if value.startswith("data:"):
        if not _is_base64_data_uri(value):
            raise RequestValidationError(
                field, "must be a data:image/(png|jpeg|webp);base64,... data URI with base64 content"
            )
        return
    if not _HTTP_URL.fullmatch(value):
        shown = value[:60] + ("…" if len(value) > 60 else "")
        raise RequestValidationError(field, f"must be an http(s) URL or an image data URI, got {shown!r}")


def _is_base64_data_uri(value: str) -> bool:
    head = _DATA_URI_HEAD.match(value)
    if head is None or not value.isascii():
        return False
    end = len(value.rstrip("="))
    if end <= head.end() or len(value) - end > 2:
        return False
    raw = memoryview(value.encode("ascii"))
    return not any(bytes(raw[start:min(start + _SCAN_PIECE, end)]).translate(None, _BASE64_ALPHABET)
                   for start in range(head.end(), end, _SCAN_PIECE))


# The provider documents no list of voices: an id is free text, kept to a sane length.
MAX_VOICE_ID_CHARS = 64


def _check_optional_text(field: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise RequestValidationError(field, "must be non-empty text when given")


def _check_trace(payload: object, meta_data: object) -> None:
    """`payload` (pass-through text) and `meta_data` (a JSON string), which the provider keeps with a task."""
    if payload is not None:
        if not isinstance(payload, str):
            raise RequestValidationError("payload", "must be text")
        if len(payload) > MAX_PAYLOAD_CHARS:
            raise RequestValidationError("payload",
                                         f"is {len(payload)} characters; at most {MAX_PAYLOAD_CHARS} allowed")
    if meta_data is not None:
        if not isinstance(meta_data, str):
            raise RequestValidationError("meta_data", "must be a JSON string")
        try:
            json.loads(meta_data)
        except json.JSONDecodeError as exc:
            raise RequestValidationError("meta_data", f"is not valid JSON ({exc.msg})") from None


@dataclass(frozen=True)
class Img2VideoRequest:
    """One image to a video (the fast endpoint)."""

    ENDPOINT: ClassVar[str] = "async/vidu-q2-pro-fast-img2video"

    image: str
    prompt: str
    duration: int = 5
    resolution: str = "720p"
    movement_amplitude: str = "auto"
    seed: int | None = None
    audio: bool = False
    bgm: bool = False
    voice_id: str | None = None
    off_peak: bool = False
    watermark: bool = False

    def __post_init__(self) -> None:
        _check_image("images[0]", self.image)
        _check_prompt("prompt", self.prompt, required=True)
        _check_int_range("duration", self.duration, *FAST_DURATION_RANGE)
        _check_choice("resolution", self.resolution, FAST_RESOLUTIONS)
        _check_choice("movement_amplitude", self.movement_amplitude, MOVEMENT_AMPLITUDES)
        if self.seed is not None:
            _check_int_range("seed", self.seed, 0, MAX_SEED)
        for name in ("audio", "bgm", "off_peak", "watermark"):
            _check_bool(name, getattr(self, name))
        _check_optional_text("voice_id", self.voice_id)
        if self.voice_id is not None and len(self.voice_id) > MAX_VOICE_ID_CHARS:
            raise RequestValidationError("voice_id", f"is {len(self.voice_id)} characters; at most "
                                         f"{MAX_VOICE_ID_CHARS} allowed")

    @property
    def total_duration(self) -> int:
        return self.duration

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "images": [self.image],
            "prompt": self.prompt,
            "duration": self.duration,
            "resolution": self.resolution,
            "movement_amplitude": self.movement_amplitude,
            "audio": self.audio,
            "bgm": self.bgm,
            "off_peak": self.off_peak,
            "watermark": self.watermark,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        if self.voice_id is not None:
            body["voice_id"] = self.voice_id
        return body

    def __repr__(self) -> str:
        # Data URIs are megabytes long; a log line needs only their kind and size.
        return (
            f"Img2VideoRequest(image={_short_image(self.image)}, prompt={self.prompt[:40]!r}, "
            f"duration={self.duration}, resolution={self.resolution!r})"
        )


@dataclass(frozen=True)
class KeyframeSetting:
    """One segment of a multiframe video: it ENDS on key_image."""

    key_image: str
    prompt: str | None = None
    duration: int = DEFAULT_SEGMENT_SECONDS

    def validate(self, path: str = "") -> None:
        prefix = f"{path}." if path else ""
        _check_image(f"{prefix}key_image", self.key_image)
        _check_prompt(f"{prefix}prompt", self.prompt, required=False)
        _check_int_range(f"{prefix}duration", self.duration, *SEGMENT_DURATION_RANGE)

    def __post_init__(self) -> None:
        # Alone, a setting does not know its position; MultiframeRequest.build names it in errors.
        self.validate()

    def to_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"key_image": self.key_image, "duration": self.duration}
        if self.prompt is not None:
            item["prompt"] = self.prompt
        return item

    def __repr__(self) -> str:
        prompt = None if self.prompt is None else self.prompt[:40]
        image = _short_image(self.key_image)
        return f"KeyframeSetting(key_image={image}, prompt={prompt!r}, duration={self.duration})"


@dataclass(frozen=True)
class MultiframeRequest:
    """A start image and 2..9 keyframes to one continuous video."""

    ENDPOINT: ClassVar[str] = "async/vidu-q2-pro-multiframe"

    start_image: str
    image_settings: tuple[KeyframeSetting, ...]
    resolution: str = "720p"
    watermark: bool = False
    wm_url: str | None = None
    wm_position: str | None = None
    payload: str | None = None
    meta_data: str | None = None

    def __post_init__(self) -> None:
        _check_image("start_image", self.start_image)
        if not isinstance(self.image_settings, tuple):
            raise RequestValidationError("image_settings", "must be a tuple of KeyframeSetting")
        low, high = KEYFRAME_COUNT_RANGE
        if not low <= len(self.image_settings) <= high:
            raise RequestValidationError(
                "image_settings", f"needs {low} to {high} keyframes, got {len(self.image_settings)}"
            )
        for index, setting in enumerate(self.image_settings):
            if not isinstance(setting, KeyframeSetting):
                raise RequestValidationError(f"image_settings[{index}]", "must be a KeyframeSetting")
            # Re-validated here so the error names the keyframe's position.
            setting.validate(f"image_settings[{index}]")
        _check_choice("resolution", self.resolution, MULTIFRAME_RESOLUTIONS)
        _check_bool("watermark", self.watermark)
        if self.wm_url is not None:
            _check_image("wm_url", self.wm_url)
        if self.wm_position is not None:
            _check_choice("wm_position", self.wm_position, WATERMARK_POSITIONS)
        _check_trace(self.payload, self.meta_data)

    @classmethod
    def build(
        cls,
        start_image: str,
        key_images: Sequence[str],
        *,
        prompts: Sequence[str | None] | None = None,
        durations: Sequence[int] | None = None,
        **options: Any,
    ) -> MultiframeRequest:
        """Build from parallel lists; an error names the keyframe, e.g. `image_settings[3].duration`."""
        count = len(key_images)
        if prompts is not None and len(prompts) != count:
            raise RequestValidationError("image_settings", f"{len(prompts)} prompts for {count} keyframes")
        if durations is not None and len(durations) != count:
            raise RequestValidationError("image_settings", f"{len(durations)} durations for {count} keyframes")
        settings = []
        for index, key_image in enumerate(key_images):
            try:
                settings.append(
                    KeyframeSetting(
                        key_image=key_image,
                        prompt=None if prompts is None else prompts[index],
                        duration=DEFAULT_SEGMENT_SECONDS if durations is None else durations[index],
                    )
                )
            except RequestValidationError as exc:
                raise RequestValidationError(f"image_settings[{index}].{exc.field}", exc.message) from None
        return cls(start_image=start_image, image_settings=tuple(settings), **options)

    @property
    def total_duration(self) -> int:
        return sum(s.duration for s in self.image_settings)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "start_image": self.start_image,
            "image_settings": [s.to_json() for s in self.image_settings],
            "resolution": self.resolution,
            "watermark": self.watermark,
        }
        for name in ("wm_url", "wm_position", "payload", "meta_data"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body

    def __repr__(self) -> str:
        return (
            f"MultiframeRequest(start_image={_short_image(self.start_image)}, "
            f"keyframes={len(self.image_settings)}, total_duration={self.total_duration}, "
            f"resolution={self.resolution!r})"
        )


@dataclass(frozen=True)
class StartEndRequest:
    """A start and an end picture to one video (VIDU Q2 Turbo start-end). Whether the two pictures' pixel
    counts are within STARTEND_PIXEL_RATIO cannot be seen from a data URI here: the image workers fit them
    (bot/media/pair.py) before a request is built."""

    ENDPOINT: ClassVar[str] = "async/vidu-q2-turbo-startend2video"

    start_image: str
    end_image: str
    prompt: str | None = None
    duration: int = 5
    resolution: str = "720p"
    movement_amplitude: str = "auto"
    seed: int | None = None
    bgm: bool = False
    watermark: bool = False
    wm_url: str | None = None
    wm_position: int | None = None
    payload: str | None = None
    meta_data: str | None = None

    def __post_init__(self) -> None:
        _check_image("images[0]", self.start_image)
        _check_image("images[1]", self.end_image)
        _check_prompt("prompt", self.prompt, required=False)
        _check_int_range("duration", self.duration, *STARTEND_DURATION_RANGE)
        _check_choice("resolution", self.resolution, STARTEND_RESOLUTIONS)
        _check_choice("movement_amplitude", self.movement_amplitude, STARTEND_MOVEMENTS)
        if self.seed is not None:
            _check_int_range("seed", self.seed, 0, MAX_SEED)
        for name in ("bgm", "watermark"):
            _check_bool(name, getattr(self, name))
        if self.wm_url is not None:
            _check_image("wm_url", self.wm_url)
        if self.wm_position is not None:
            _check_int_range("wm_position", self.wm_position, min(STARTEND_WM_POSITIONS), max(STARTEND_WM_POSITIONS))
        _check_trace(self.payload, self.meta_data)

    @property
    def total_duration(self) -> int:
        return self.duration

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "images": [self.start_image, self.end_image],
            "duration": self.duration,
            "resolution": self.resolution,
            "movement_amplitude": self.movement_amplitude,
            "bgm": self.bgm,
            "watermark": self.watermark,
        }
        for name in ("prompt", "seed", "wm_url", "wm_position", "payload", "meta_data"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body

    def __repr__(self) -> str:
        prompt = None if self.prompt is None else self.prompt[:40]
        return (f"StartEndRequest(start_image={_short_image(self.start_image)}, "
                f"end_image={_short_image(self.end_image)}, prompt={prompt!r}, duration={self.duration}, "
                f"resolution={self.resolution!r})")


# Every request the bot can submit (ViduClient.submit).
ProviderRequest = Img2VideoRequest | MultiframeRequest | StartEndRequest


def _short_image(value: str) -> str:
    if value.startswith("data:"):
        return f"<{value[: value.find(',')]} {len(value)} chars>"
    return repr(value[:80])


class TaskStatus(enum.StrEnum):
    QUEUED = "TASK_STATUS_QUEUED"
    PROCESSING = "TASK_STATUS_PROCESSING"
    SUCCEED = "TASK_STATUS_SUCCEED"
    FAILED = "TASK_STATUS_FAILED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: object) -> TaskStatus:
        if not isinstance(value, str):
            return cls.UNKNOWN
        text = value.strip().upper()
        if not text.startswith("TASK_STATUS_"):
            text = "TASK_STATUS_" + text
        try:
            return cls(text)
        except ValueError:
            return cls.UNKNOWN


def _lenient_int(value: object) -> int | None:
    """A positive int from an int, float or numeric string; None for missing, zero or junk."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and value == value and value not in (float("inf"), float("-inf")):
        number = int(value)
        return number if number > 0 else None
    return None


# Sane ranges for what the provider reports (an off-peak task takes up to 48 h; links live an hour). Its texts
# are kept cleaned and cut (bot/provider/text.py): a reason is shown to members, a link is stored and fetched.
MAX_REASON_CHARS = 500
MAX_TASK_TYPE_CHARS = 100
MAX_VIDEO_URL_CHARS = 8192
MAX_TASK_ID_CHARS = 200
MAX_VIDEO_TTL_SECONDS = 7 * 24 * 3600
MAX_ETA_SECONDS = 72 * 3600


def usable_task_id(value: object) -> bool:
    """A task id the bot can store and poll: 1-200 printable characters without spaces (a NUL, a newline or a
    kilobyte of id is not one, and must not be stored to fail every poll after)."""
    return is_usable_id(value, MAX_TASK_ID_CHARS)


def _is_http_url(text: str) -> bool:
    if len(text) > MAX_VIDEO_URL_CHARS or not text.isprintable() or " " in text:
        return False  # a link with a NUL, a line break or a megabyte of query is nothing the bot may store or fetch
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an invalid IPv6 host
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _clamp(value: int | None, highest: int) -> int | None:
    return None if value is None else min(value, highest)


@dataclass(frozen=True)
class Video:
    url: str
    ttl_seconds: int
    video_type: str

    @classmethod
    def from_json(cls, obj: object) -> Video | None:
        if not isinstance(obj, Mapping):
            return None
        url = obj.get("video_url")
        if not isinstance(url, str) or not _is_http_url(url):
            return None  # not a link the bot may fetch: the task is treated as having no video yet
        # Clamped: a link's lifetime past a week is the provider's mistake, not a promise (and a huge one
        # would overflow the datetime arithmetic that schedules the download).
        ttl = min(_lenient_int(obj.get("video_url_ttl")) or DEFAULT_VIDEO_TTL_SECONDS, MAX_VIDEO_TTL_SECONDS)
        video_type = obj.get("video_type")
        return cls(url=url, ttl_seconds=ttl, video_type=clean_text(video_type, 20) or "mp4")

    def __repr__(self) -> str:
        # The query string of a presigned URL is a bearer credential for the file: keep it out of logs.
        url = self.url.split("?", 1)[0]
        return f"Video(url={url!r}, ttl_seconds={self.ttl_seconds}, video_type={self.video_type!r})"


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    status: TaskStatus
    reason: str
    task_type: str
    eta: int | None
    progress_percent: int | None
    videos: tuple[Video, ...]

    @property
    def is_final(self) -> bool:
        return self.status in (TaskStatus.SUCCEED, TaskStatus.FAILED)

    @classmethod
    def from_json(cls, obj: object, *, default_task_id: str = "") -> TaskResult:
        """Parse a task-result body; anything missing or odd becomes a neutral value, never an error."""
        root: Mapping[str, Any] = obj if isinstance(obj, Mapping) else {}
        raw_task = root.get("task")
        task: Mapping[str, Any] = raw_task if isinstance(raw_task, Mapping) else {}
        task_id = task.get("task_id")
        reason = task.get("reason")
        task_type = task.get("task_type")
        progress = _lenient_int(task.get("progress_percent"))
        raw_videos = root.get("videos")
        items = raw_videos if isinstance(raw_videos, list) else []
        videos = tuple(v for v in (Video.from_json(item) for item in items) if v is not None)
        return cls(
            task_id=task_id if isinstance(task_id, str) and usable_task_id(task_id) else default_task_id,
            status=TaskStatus.parse(task.get("status")),
            reason=clean_text(reason, MAX_REASON_CHARS),
            task_type=clean_text(task_type, MAX_TASK_TYPE_CHARS),
            eta=_clamp(_lenient_int(task.get("eta")), MAX_ETA_SECONDS),
            progress_percent=None if progress is None else min(progress, 100),
            videos=videos,
        )


@dataclass(frozen=True)
class SubmitResult:
    task_id: str
    provider_request_id: str | None = None
