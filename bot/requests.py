"""Build checked provider requests from what a member (or the CLI) typed.

Every entry point (slash command, modal, context menu, button, CLI) comes through here, so a rule about
prompts, durations or image budgets lives in one place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from bot.i18n.catalog import DEFAULT_LOCALE, t
from bot.numbers import whole_number
from bot.params import Img2VideoParams, JobParams, MultiframeParams, StartEndParams
from bot.provider import Img2VideoRequest, MultiframeRequest, ProviderRequest, StartEndRequest
from bot.provider.models import (
    DEFAULT_SEGMENT_SECONDS,
    KEYFRAME_COUNT_RANGE,
    SEGMENT_DURATION_RANGE,
    STARTEND_DURATION_RANGE,
)

# The provider's ranges (bot/provider/models.py), under the names the member-facing checks use.
MIN_KEYFRAMES, MAX_KEYFRAMES = KEYFRAME_COUNT_RANGE
SEGMENT_DURATION_MIN, SEGMENT_DURATION_MAX = SEGMENT_DURATION_RANGE
SEGMENT_DURATION_DEFAULT = DEFAULT_SEGMENT_SECONDS
STARTEND_DURATION_MIN, STARTEND_DURATION_MAX = STARTEND_DURATION_RANGE
# A start and ONE end picture is the start-end endpoint's request; two or more keyframes the multiframe one's.
STARTEND_KEYFRAMES = 1
# The member's movement choice (the bot's words, as /animate offers them) in the start-end endpoint's words.
STARTEND_MOVEMENT = {"auto": "auto", "small": "small", "medium": "medium", "high": "large"}
# The server's watermark corner (/config watermark stores names, as the multiframe endpoint takes them) as the
# start-end endpoint's number.
STARTEND_WM_POSITION = {"top_left": 1, "top_right": 2, "bottom_right": 3, "bottom_left": 4}
# The official Vidu API caps a request body at 20 MB; keep the images' data URIs together below this.
REQUEST_IMAGE_BUDGET = 18 * 1024 * 1024


class InputProblem(ValueError):
    """A field the member typed is wrong; the message names the field. Raised here with a catalog `key`
    (messages "input.<key>", field names "input.field.<field>") so `text(locale)` speaks the member's
    language; str() is the English text (logs, the CLI)."""

    def __init__(self, field: str, message: str, *, key: str | None = None, **params: object) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.key = key
        self.params = params

    @classmethod
    def of(cls, field: str, key: str, **params: object) -> InputProblem:
        return cls(field, t(f"input.{key}", DEFAULT_LOCALE, **_shown(params, DEFAULT_LOCALE)), key=key, **params)

    def text(self, locale: str) -> str:
        if self.key is None:  # raised with its field and message already in the member's language
            return t("input.problem", locale, field=self.field, message=self.message)
        return t("input.problem", locale, field=t(f"input.field.{self.field}", locale),
                 message=t(f"input.{self.key}", locale, **_shown(self.params, locale)))


def _shown(params: dict[str, object], locale: str) -> dict[str, object]:
    """A problem's values as its message shows them: what the member typed (`text`) quoted in their language."""
    return {name: quoted(str(value), locale) if name == "text" else value for name, value in params.items()}


# What separates typed items on an English and a Chinese keyboard: `4,5,3`, `4，5，3`, `4、5`, `4；5`, spaces
# (str.split also splits on the ideographic space); prompts are split on `|` and the full-width `｜`.
_LIST_SEPARATORS = re.compile(r"[,，、;；\s]+")
_PROMPT_SEPARATORS = re.compile(r"[|｜]")


def list_items(text: str) -> list[str]:
    """The items of a list a member typed, whatever their keyboard's separators."""
    return [item for item in _LIST_SEPARATORS.split(text) if item]


def quoted(text: str, locale: str) -> str:
    """What a member typed, quoted as the language quotes (“4x”), never as Python's repr ('4x')."""
    return t("input.quoted", locale, text=text)


def seconds_typed(text: str | None) -> str:
    """A number of seconds as typed, without its unit: "5", "5 s", "5秒" and "５ 秒" are all "5"-like."""
    return (text or "").strip().removesuffix("s").removesuffix("秒").strip()


def split_prompts(text: str | None, segments: int) -> list[str | None]:
    """`"a|b|c"` (or `a｜b｜c`) gives one prompt per segment; a single prompt applies to every segment."""
    if text is None or not text.strip():
        return [None] * segments
    parts = [p.strip() for p in _PROMPT_SEPARATORS.split(text)]
    if len(parts) == 1:
        return [parts[0]] * segments
    if len(parts) != segments:
        raise InputProblem.of("prompts", "prompt_count", given=len(parts), segments=segments)
    return [p or None for p in parts]


def split_durations(text: str | None, segments: int) -> list[int]:
    """`"4,5,3"` (or `4，5，3`, `4、5、3`) gives one duration per segment; a single number applies to every segment.
    One segment (a start and an end picture) takes the start-end endpoint's range."""
    if text is None or not text.strip():
        return [SEGMENT_DURATION_DEFAULT] * segments
    low, high = ((STARTEND_DURATION_MIN, STARTEND_DURATION_MAX) if segments == STARTEND_KEYFRAMES
                 else (SEGMENT_DURATION_MIN, SEGMENT_DURATION_MAX))
    values: list[int] = []
    for part in list_items(text):
        value = whole_number(part)
        if value is None:
            raise InputProblem.of("durations", "not_seconds", text=part)
        if not low <= value <= high:
            raise InputProblem.of("durations", "duration_range", value=value, low=low, high=high)
        values.append(value)
    if len(values) == 1:
        return values * segments
    if len(values) != segments:
        raise InputProblem.of("durations", "duration_count", given=len(values), segments=segments)
    return values


def check_keyframe_count(count: int) -> None:
    """One keyframe (an end picture: start-end) or MIN_KEYFRAMES..MAX_KEYFRAMES (multiframe)."""
    if count != STARTEND_KEYFRAMES and not MIN_KEYFRAMES <= count <= MAX_KEYFRAMES:
        raise InputProblem.of("keyframes", "keyframe_count", count=count, low=STARTEND_KEYFRAMES, high=MAX_KEYFRAMES)


def keyframes_params(key_count: int, *, prompts: str | None, durations: str | None, resolution: str,
                     movement: str | None = None, watermark: bool = False) -> MultiframeParams | StartEndParams:
    """The settings of a start picture and `key_count` keyframes, from text as typed ("a|b" prompts, "4,5"
    seconds): one keyframe is a start-end request, more a multiframe one. Every entry point with a start and
    keyframes (/keyframes, the Apps menu, /storyboard, the CLI) comes here. `movement` (the bot's words) is the
    start-end endpoint's alone: given with more keyframes, it is refused rather than silently dropped."""
    check_keyframe_count(key_count)
    return segment_params(split_prompts(prompts, key_count), split_durations(durations, key_count),
                          resolution=resolution, movement=movement, watermark=watermark)


def segment_params(segment_prompts: Sequence[str | None], segment_durations: Sequence[int], *, resolution: str,
                   movement: str | None = None, watermark: bool = False) -> MultiframeParams | StartEndParams:
    """keyframes_params from prompts and durations already split, one per segment (the forms' lines)."""
    if len(segment_durations) == STARTEND_KEYFRAMES:
        return StartEndParams(prompt=segment_prompts[0], duration=segment_durations[0], resolution=resolution,
                              movement=movement or "auto", watermark=watermark)
    if movement is not None and movement != "auto":
        raise InputProblem.of("movement", "movement_startend_only")
    return MultiframeParams(prompts=tuple(segment_prompts), durations=tuple(segment_durations),
                            resolution=resolution, watermark=watermark)


def image_budget(per_image_budget: int, image_count: int) -> int:
    """The data-URI budget of each image, so that all of them together fit one request body."""
    return max(256 * 1024, min(per_image_budget, REQUEST_IMAGE_BUDGET // max(1, image_count)))


# ------------------------------------------------------------------ a job's settings -> the provider request
def img2video_request(params: Img2VideoParams, image: str) -> Img2VideoRequest:
    return Img2VideoRequest(
        image=image, prompt=params.prompt, duration=params.duration, resolution=params.resolution,
        movement_amplitude=params.movement, seed=params.seed, audio=params.audio, bgm=params.bgm,
        off_peak=params.off_peak, voice_id=params.voice_id, watermark=params.watermark,
    )


def multiframe_request_of(params: MultiframeParams, images: Sequence[str], *, job_id: str | None = None,
                          server_mark: tuple[str, str] | None = None) -> MultiframeRequest:
    """`images`: the start image, then one key image per segment (an error names the keyframe). `job_id`
    rides along in `meta_data` and `payload`, which the provider keeps with the task: a task seen in the
    provider's console can be traced back to its job. `server_mark`: the server's own watermark (/config
    watermark) as (a URL the provider can fetch now, position); it turns the watermark on."""
    start, *keys = images
    traced: dict[str, str] = {} if job_id is None else {
        "meta_data": json.dumps({"job_id": job_id}), "payload": f"vidu-bot job {job_id}"}
    marked: dict[str, object] = {"watermark": params.watermark}
    if server_mark is not None:
        marked = {"watermark": True, "wm_url": server_mark[0], "wm_position": server_mark[1]}
    return MultiframeRequest.build(start, keys, prompts=params.prompts, durations=params.durations,
                                   resolution=params.resolution, **marked, **traced)


def startend_request_of(params: StartEndParams, images: Sequence[str], *, job_id: str | None = None,
                        server_mark: tuple[str, str] | None = None) -> StartEndRequest:
    """The start-end request: the member's movement and the server's watermark corner said in the endpoint's
    own values (`large`, a number 1-4); `job_id` and `server_mark` as for multiframe."""
    start, end = images
    movement = STARTEND_MOVEMENT.get(params.movement, params.movement)  # an unknown one: the request refuses it
    return StartEndRequest(
        start_image=start, end_image=end, prompt=params.prompt, duration=params.duration,
        resolution=params.resolution, movement_amplitude=movement,
        watermark=params.watermark or server_mark is not None,
        wm_url=None if server_mark is None else server_mark[0],
        wm_position=None if server_mark is None else STARTEND_WM_POSITION[server_mark[1]],
        meta_data=None if job_id is None else json.dumps({"job_id": job_id}),
        payload=None if job_id is None else f"vidu-bot job {job_id}",
    )


def provider_request(params: JobParams, images: Sequence[str], *, job_id: str | None = None,
                     server_mark: tuple[str, str] | None = None) -> ProviderRequest:
    """The provider request of a job (stored, or about to be): `images` are its inputs in order, as URLs or
    data URIs. The one builder: the job loop, the request check at intake and the CLI all come here. The job
    loop gives `job_id`: the multiframe endpoint carries it to the task (the fast endpoint documents no such
    field, and the provider refuses unknown ones). `server_mark` applies to multiframe and start-end jobs (the
    fast endpoint documents no wm_url)."""
    if isinstance(params, Img2VideoParams):
        (image,) = images
        return img2video_request(params, image)
    if isinstance(params, StartEndParams):
        return startend_request_of(params, images, job_id=job_id, server_mark=server_mark)
    return multiframe_request_of(params, images, job_id=job_id, server_mark=server_mark)


def keyframes_request(
    start_image: str,
    key_images: Sequence[str],
    *,
    prompts: str | None,
    durations: str | None,
    resolution: str = "720p",
    movement: str | None = None,
    watermark: bool = False,
) -> MultiframeRequest | StartEndRequest:
    """From text as typed ("a|b" prompts, "4,5" seconds; the CLI's way in), through the builders above: one
    key image is a start-end request, more a multiframe one."""
    params = keyframes_params(len(key_images), prompts=prompts, durations=durations, resolution=resolution,
                              movement=movement, watermark=watermark)
    if isinstance(params, StartEndParams):
        return startend_request_of(params, [start_image, *key_images])
    return multiframe_request_of(params, [start_image, *key_images])
