"""A job's settings, typed: one class per kind of job, to and from the JSON the database keeps.

A job stores its settings here and its pictures separately, so the provider request can be rebuilt (submit
after a restart, Re-roll, Try again, /jobs) without keeping image data in the settings: bot/requests.py
builds the request from these and the pictures. Plain data, imports nothing else of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar


@dataclass(frozen=True)
class Img2VideoParams:
    """One picture to a video (VIDU Q2 Pro fast img2video)."""

    KIND: ClassVar[str] = "img2video"

    prompt: str
    duration: int = 5
    resolution: str = "720p"
    movement: str = "auto"
    seed: int | None = None
    audio: bool = False
    bgm: bool = False
    off_peak: bool = False
    voice_id: str | None = None  # the provider's voice for generated speech (audio), as its id
    watermark: bool = False  # the provider's own mark on the video

    @property
    def prompts(self) -> list[str | None]:
        return [self.prompt]

    def with_seed(self, seed: int) -> Img2VideoParams:
        return replace(self, seed=seed)

    def to_json(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "duration": self.duration, "resolution": self.resolution,
                "movement": self.movement, "seed": self.seed, "audio": self.audio, "bgm": self.bgm,
                "off_peak": self.off_peak, "voice_id": self.voice_id, "watermark": self.watermark}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Img2VideoParams:
        return cls(
            prompt=_text(data, "prompt"), duration=_int(data, "duration"), resolution=_text(data, "resolution"),
            movement=_text(data, "movement"), seed=_optional_int(data, "seed"), audio=bool(data.get("audio")),
            bgm=bool(data.get("bgm")), off_peak=bool(data.get("off_peak")),
            voice_id=None if data.get("voice_id") is None else _text(data, "voice_id"),
            watermark=bool(data.get("watermark")),  # (jobs stored before these two read as without them)
        )


@dataclass(frozen=True)
class MultiframeParams:
    """A start picture and 2-9 keyframes to one video: one prompt (or none) and one length per segment.
    (Whether they agree with each other and with the pictures is the request builder's check, so a stored job
    that does not is still read, and fails with a reason, instead of making its row unreadable.)"""

    KIND: ClassVar[str] = "multiframe"

    prompts: tuple[str | None, ...]
    durations: tuple[int, ...]
    resolution: str = "720p"
    watermark: bool = False

    @property
    def segments(self) -> int:
        return len(self.durations)

    def to_json(self) -> dict[str, Any]:
        return {"prompts": list(self.prompts), "durations": list(self.durations), "resolution": self.resolution,
                "watermark": self.watermark}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MultiframeParams:
        prompts, durations = data.get("prompts"), data.get("durations")
        if not isinstance(prompts, list) or not all(p is None or isinstance(p, str) for p in prompts):
            raise ValueError("'prompts' is not a list of texts")
        if not isinstance(durations, list) or not all(type(d) is int for d in durations):
            raise ValueError("'durations' is not a list of whole seconds")
        return cls(prompts=tuple(prompts), durations=tuple(durations), resolution=_text(data, "resolution"),
                   watermark=bool(data.get("watermark")))


@dataclass(frozen=True)
class StartEndParams:
    """A start and an end picture to one video (VIDU Q2 Turbo start-end). `movement` is the member's choice
    in the bot's words (auto|small|medium|high, as on /animate): the request builder says it in the endpoint's."""

    KIND: ClassVar[str] = "startend"

    prompt: str | None = None
    duration: int = 5
    resolution: str = "720p"
    movement: str = "auto"
    watermark: bool = False

    @property
    def prompts(self) -> list[str | None]:
        return [self.prompt]

    @property
    def durations(self) -> tuple[int, ...]:
        return (self.duration,)

    def to_json(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "duration": self.duration, "resolution": self.resolution,
                "movement": self.movement, "watermark": self.watermark}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StartEndParams:
        return cls(prompt=None if data.get("prompt") is None else _text(data, "prompt"),
                   duration=_int(data, "duration"), resolution=_text(data, "resolution"),
                   movement=_text(data, "movement"), watermark=bool(data.get("watermark")))


JobParams = Img2VideoParams | MultiframeParams | StartEndParams
# The params registry: every kind of job and the class of its settings (the stores check against it).
PARAMS_BY_KIND: dict[str, type[JobParams]] = {
    Img2VideoParams.KIND: Img2VideoParams, MultiframeParams.KIND: MultiframeParams,
    StartEndParams.KIND: StartEndParams}


def params_from_json(kind: str, data: Mapping[str, Any]) -> JobParams:
    """The settings of a stored job of `kind`; ValueError names what is missing or malformed."""
    if kind not in PARAMS_BY_KIND:
        raise ValueError(f"unknown job kind {kind!r}")
    return PARAMS_BY_KIND[kind].from_json(data)


def is_params_of(kind: str, value: object) -> bool:
    """Whether `value` is the settings class the registry names for `kind` (what a store may write)."""
    cls = PARAMS_BY_KIND.get(kind)
    return cls is not None and type(value) is cls


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key!r} is not text")
    return value


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if type(value) is not int:
        raise ValueError(f"{key!r} is not a whole number")
    return value


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    return None if data.get(key) is None else _int(data, key)
