"""A strict fake of the VIDU Q2 Pro task API (jiekou.ai), served over real HTTP on 127.0.0.1.

It answers what the real API documents and refuses what the real API refuses, with the documented
error body, so the client is tested against the contract rather than against our own assumptions.
Time is a fake clock (real time x time_scale + advance()), tasks move QUEUED -> PROCESSING -> final
by that clock, and finished videos are served from presigned URLs on the fake itself.

Run alone: `python -m tests.fakes.provider [--port 8800] [--time-scale 1]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import io
import json
import math
import re
import secrets
import subprocess
import tempfile
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import imageio_ffmpeg
from aiohttp import web
from PIL import Image

SAMPLE_VIDEO = Path(__file__).with_name("assets") / "sample.mp4"
# The test marker (bot/safety/marker.py: magenta, at least an eighth of the shorter side, top-left) drawn into
# every frame of the sample: the bot's `marker` screen flags such a video, as a real screen would an explicit one.
_MARK_FILTER = "drawbox=x=0:y=0:w=max(16\\,iw/6):h=max(16\\,iw/6):color=0xff00ff:t=fill"

MODELS = {
    "vidu-q2-pro-fast-img2video": "VIDU_Q2_PRO_FAST_IMG2VIDEO",
    "vidu-q2-pro-multiframe": "VIDU_Q2_PRO_MULTIFRAME",
    "vidu-q2-turbo-startend2video": "VIDU_Q2_TURBO_STARTEND2VIDEO",
}
MAX_BODY_BYTES = 20 * 1024 * 1024  # Vidu's documented cap on a whole request body
MAX_DATA_URI_IMAGE_BYTES = 10 * 1024 * 1024
MAX_URL_IMAGE_BYTES = 50 * 1024 * 1024
MAX_PROMPT_CHARS = 2000
MAX_PAYLOAD_CHARS = 1_048_576
MAX_SEED = 2**31 - 1
_CHUNK = 64 * 1024
_FORBIDDEN_WORD = re.compile(r"\bforbidden\b", re.IGNORECASE)
_DATA_URI = re.compile(r"data:image/([A-Za-z0-9.+-]+);base64,(.*)", re.DOTALL)
_PILLOW_FORMATS = {"PNG", "JPEG", "WEBP"}
_LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# Field name -> (JSON type name, required) per endpoint; anything else in a body is refused.
_FAST_FIELDS: dict[str, tuple[str, bool]] = {
    "images": ("array", True),
    "prompt": ("string", True),
    "duration": ("integer", True),
    "resolution": ("string", False),
    "movement_amplitude": ("string", False),
    "seed": ("integer", False),
    "audio": ("boolean", False),
    "bgm": ("boolean", False),
    "voice_id": ("string", False),
    "off_peak": ("boolean", False),
    "watermark": ("boolean", False),
}
_MULTIFRAME_FIELDS: dict[str, tuple[str, bool]] = {
    "start_image": ("string", True),
    "image_settings": ("array", True),
    "resolution": ("string", False),
    "watermark": ("boolean", False),
    "wm_url": ("string", False),
    "wm_position": ("string", False),
    "payload": ("string", False),
    "meta_data": ("string", False),
}
# The start-end page ("VIDU Q2 Turbo 首尾帧", provider-api.md "Start and end frame").
_STARTEND_FIELDS: dict[str, tuple[str, bool]] = {
    "images": ("array", True),
    "prompt": ("string", False),
    "is_rec": ("boolean", False),
    "duration": ("integer", False),
    "resolution": ("string", False),
    "movement_amplitude": ("string", False),
    "seed": ("integer", False),
    "bgm": ("boolean", False),
    "off_peak": ("boolean", False),
    "watermark": ("boolean", False),
    "wm_url": ("string", False),
    "wm_position": ("integer", False),
    "payload": ("string", False),
    "meta_data": ("string", False),
}
STARTEND_PIXEL_RATIO = (0.8, 1.25)  # start pixels / end pixels
_SETTING_FIELDS: dict[str, tuple[str, bool]] = {
    "key_image": ("string", True),
    "prompt": ("string", False),
    "duration": ("integer", False),
}
_ENUMS: dict[tuple[str, str], tuple[str | int, ...]] = {
    ("fast", "resolution"): ("720p", "1080p"),
    ("fast", "movement_amplitude"): ("auto", "small", "medium", "high"),
    ("multiframe", "resolution"): ("540p", "720p", "1080p"),
    ("multiframe", "wm_position"): ("top_left", "top_right", "bottom_right", "bottom_left"),
    ("startend", "resolution"): ("540p", "720p", "1080p"),
    ("startend", "movement_amplitude"): ("auto", "small", "medium", "large"),
    ("startend", "wm_position"): (1, 2, 3, 4),  # numbers here, where the multiframe page takes names
}


_VIDEO_FIELDS = frozenset({"video_url", "video_url_ttl", "video_type"})


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour. Build with the class methods."""

    kind: str
    code: int = 0
    reason: str = ""
    retry_after: float | str | None = None
    seconds: float = 0.0
    message: str = "injected fault"
    raw_body: str | None = None
    fields: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def status(
        cls,
        code: int,
        reason: str = "",
        retry_after: float | str | None = None,
        message: str = "injected fault",
        raw_body: str | None = None,
    ) -> Fault:
        """Answer `code` with the documented error body (and a Retry-After header when given).

        `raw_body` replaces the JSON body with text, as a proxy's HTML error page would.
        """
        return cls("status", code=code, reason=reason, retry_after=retry_after, message=message, raw_body=raw_body)

    @classmethod
    def answer(cls, **fields: Any) -> Fault:
        """Do the work, then answer with these fields replaced: a submit's `task_id` (the task is created under
        its real id, as when the answer is garbled on its way), or a result's task fields (`reason`, `status`,
        `task_id`, ...) and its first video's (`video_url`, `video_url_ttl`, `video_type`). What no real
        provider should send, but nothing it returns is trusted: NUL, megabytes, junk."""
        return cls("answer", fields=tuple(fields.items()))

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Answer only after `seconds` of real time; a submit creates its task first."""
        return cls("slow", seconds=seconds)

    @classmethod
    def drop_before(cls) -> Fault:
        """Close the connection without doing anything (no task is created)."""
        return cls("drop_before")

    @classmethod
    def drop_after(cls) -> Fault:
        """Do the work (a submit creates its task), then close the connection without an answer."""
        return cls("drop_after")


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    time: float
    endpoint: str
    authorized: bool
    status: int | None = None  # None when the connection was dropped


@dataclass
class TaskPlan:
    fail_reason: str | None = None
    queue_seconds: float | None = None
    processing_seconds: float | None = None
    video_size: int | None = None
    ttl_seconds: int = 3600
    ttl_as_number: bool = False
    report_eta: bool = True
    marked: bool | None = None  # None: the provider's `mark_videos`


@dataclass
class FakeTask:
    task_id: str
    endpoint: str
    body: dict[str, Any]
    created_at: float
    queue_seconds: float
    processing_seconds: float
    fail_reason: str | None
    video_size: int | None
    ttl_seconds: int
    ttl_as_number: bool
    report_eta: bool
    clock: Callable[[], float] = field(repr=False)
    marked: bool = False  # its video carries the test marker in every frame

    def state(self, now: float) -> tuple[str, int, int]:
        """(status, progress_percent, eta seconds) at fake time `now`."""
        elapsed = now - self.created_at
        total = self.queue_seconds + self.processing_seconds
        if elapsed >= total:
            return ("TASK_STATUS_FAILED" if self.fail_reason else "TASK_STATUS_SUCCEED"), 100, 0
        eta = max(1, math.ceil(total - elapsed))
        if elapsed < self.queue_seconds:
            return "TASK_STATUS_QUEUED", 0, eta
        fraction = (elapsed - self.queue_seconds) / max(self.processing_seconds, 1e-9)
        return "TASK_STATUS_PROCESSING", min(99, int(99 * fraction)), eta

    @property
    def status(self) -> str:
        return self.state(self.clock())[0]


class _Refused(Exception):
    """A request the real API would refuse: (HTTP status, reason, message)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def _error_response(status: int, reason: str, message: str, retry_after: float | str | None = None) -> web.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    body = {"code": status, "reason": reason, "message": message, "metadata": {}}
    return web.json_response(body, status=status, headers=headers)


def _fault_response(fault: Fault) -> web.Response:
    if fault.raw_body is None:
        return _error_response(fault.code, fault.reason, fault.message, fault.retry_after)
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    return web.Response(status=fault.code, text=fault.raw_body, content_type="text/html", headers=headers)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _invalid(message: str) -> _Refused:
    return _Refused(400, "INVALID_REQUEST_BODY", message)


def _check_fields(obj: dict[str, Any], spec: dict[str, tuple[str, bool]], prefix: str = "") -> None:
    for name in obj:
        if name not in spec:
            raise _invalid(f"unknown field {prefix}{name}")
    for name, (kind, required) in spec.items():
        if name not in obj or (obj[name] is None and not required):
            if required:
                raise _invalid(f"{prefix}{name} is required")
            continue
        actual = _json_type(obj[name])
        if actual != kind:
            raise _invalid(f"{prefix}{name} must be {kind}, got {actual}")


def _check_image_bytes(path: str, data: bytes, limit: int, refused_hashes: set[str]) -> tuple[int, int]:
    """Pillow decides, as the provider's image service would (runs in a thread). The picture's size."""
    if len(data) > limit:
        raise _Refused(400, "IMAGE_FILE_EXCEEDS_MAX_SIZE", f"{path}: image is {len(data)} bytes, more than {limit}")
    try:
        with Image.open(io.BytesIO(data)) as img:
            kind = img.format
            width, height = img.size
            img.load()
    except Exception as exc:  # any decoder failure means "not an image we accept"
        raise _Refused(400, "INVALID_IMAGE_FORMAT", f"{path}: cannot decode image ({type(exc).__name__})") from None
    if kind not in _PILLOW_FORMATS:
        raise _Refused(400, "INVALID_IMAGE_FORMAT", f"{path}: {kind} is not png, jpeg or webp")
    if not (width * 4 > height and height * 4 > width):
        raise _Refused(400, "INVALID_IMAGE_SIZE", f"{path}: {width}x{height} is not strictly inside 1:4..4:1")
    if hashlib.sha256(data).hexdigest() in refused_hashes:
        raise _Refused(400, "ILLEGAL_IMAGE_CONTENT", f"{path}: image content is not allowed")
    return width, height


class FakeProvider:
    def __init__(self, *, api_key: str = "fake-key-please-ignore", time_scale: float = 1.0) -> None:
        self.api_key = api_key
        self.time_scale = time_scale
        self.base_url = ""
        self.origin = ""
        self.requests: list[RecordedRequest] = []
        self.tasks: dict[str, FakeTask] = {}
        self.max_running_seen = 0  # the most tasks running at once (running())
        self.forgotten: set[str] = set()
        self.queue_seconds = 1.0
        self.processing_seconds = 2.0
        self.balance_empty = False
        # False: serve videos without Content-Length (chunked), as some CDNs do.
        self.send_video_length = True
        # True: every finished video carries the test marker (a plan's `marked` decides for its own task).
        self.mark_videos = False
        self._marked_sample: bytes | None = None
        # The video a finished task serves, made from its request body (run in a thread); None, or a maker
        # that returns None: the bundled sample. The demo (demo/videos.py) animates the request's pictures.
        self.video_maker: Callable[[dict[str, Any]], bytes | None] | None = None
        self._plans: deque[TaskPlan] = deque()
        # Plans a task from its request body when the queue of plans is empty (a benchmark's tasks whose time
        # follows who asked); None: the defaults above.
        self.planner: Callable[[dict[str, Any]], TaskPlan] | None = None
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._images: dict[str, bytes] = {}
        self._refused_image_hashes: set[str] = set()
        self._url_secret = secrets.token_bytes(16)
        self._t0 = time.monotonic()
        self._wall0 = time.time()
        self._offset = 0.0
        self._sample = SAMPLE_VIDEO.read_bytes()
        self._runner: web.AppRunner | None = None
        self._fetcher: aiohttp.ClientSession | None = None
        self._closing = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(client_max_size=MAX_BODY_BYTES * 3)
        app.router.add_post("/v3/async/{model}", self._handle_submit)
        app.router.add_get("/v3/async/task-result", self._handle_result)
        app.router.add_get("/files/{task_id}.mp4", self._handle_video)
        app.router.add_get("/images/{name}", self._handle_image)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        assert isinstance(server, asyncio.Server) and server.sockets
        bound_port = server.sockets[0].getsockname()[1]
        self.origin = f"http://{host}:{bound_port}"
        self.base_url = f"{self.origin}/v3"
        self._fetcher = aiohttp.ClientSession()
        self._closing.clear()
        return self.base_url

    async def stop(self) -> None:
        self._closing.set()  # wakes slow faults so shutdown does not wait for them
        if self._fetcher is not None:
            await self._fetcher.close()
            self._fetcher = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeProvider:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- test controls ------------------------------------------------------------------------------

    def now(self) -> float:
        """The fake clock, in seconds since the fake started."""
        return (time.monotonic() - self._t0) * self.time_scale + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def plan_next_task(
        self,
        *,
        fail_reason: str | None = None,
        queue_seconds: float | None = None,
        processing_seconds: float | None = None,
        video_size: int | None = None,
        ttl_seconds: int = 3600,
        ttl_as_number: bool = False,
        report_eta: bool = True,
        marked: bool | None = None,
    ) -> None:
        """Shape the next created task (plans are used in order, one per task). `marked`: its video carries the
        test marker in every frame (None: as `mark_videos` says)."""
        self._plans.append(
            TaskPlan(
                fail_reason,
                queue_seconds,
                processing_seconds,
                video_size,
                ttl_seconds,
                ttl_as_number,
                report_eta,
                marked,
            )
        )

    def add_task(self, model: str, body: dict[str, Any], *, task_id: str | None = None) -> str:
        """Create a task as an accepted submit would (next plan applies), without the HTTP round trip:
        benchmarks seed thousands of tasks; `task_id` lets a saved database point at them again."""
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}")
        task = self._create_task(model, body)
        if task_id is not None:
            del self.tasks[task.task_id]
            task.task_id = task_id
            self.tasks[task_id] = task
        return task.task_id

    def forget_task(self, task_id: str) -> None:
        self.tasks.pop(task_id, None)
        self.forgotten.add(task_id)

    def expire_video_urls(self) -> None:
        """Every URL handed out so far stops working (a fresh poll hands out a fresh one)."""
        self._url_secret = secrets.token_bytes(16)

    def inject(self, endpoint: str, fault: Fault, times: int = 1) -> None:
        if endpoint not in ("submit", "result", "video"):
            raise ValueError(f"unknown fault endpoint {endpoint!r}")
        self._faults[endpoint].extend([fault] * times)

    def add_image(self, name: str, data: bytes) -> str:
        """Serve `data` at a loopback URL the fake will accept as an image URL."""
        self._images[name] = data
        return f"{self.origin}/images/{name}"

    def refuse_image_content(self, data: bytes) -> None:
        """Answer ILLEGAL_IMAGE_CONTENT for this exact image (a moderation refusal)."""
        self._refused_image_hashes.add(hashlib.sha256(data).hexdigest())

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.endpoint == endpoint]

    # -- handlers -----------------------------------------------------------------------------------

    async def _record(self, request: web.Request, endpoint: str) -> tuple[RecordedRequest, bytes]:
        raw = await request.read()
        try:
            # Bodies with data URIs run to megabytes: parse them off the event loop.
            parsed = await asyncio.to_thread(json.loads, raw) if raw else None
        except ValueError:
            parsed = None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            json=parsed,
            time=self.now(),
            endpoint=endpoint,
            authorized=hmac.compare_digest(
                request.headers.get("Authorization", "").encode(), f"Bearer {self.api_key}".encode()
            ),
        )
        self.requests.append(record)
        return record, raw

    def _next_fault(self, endpoint: str) -> Fault | None:
        queue = self._faults[endpoint]
        return queue.popleft() if queue else None

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    @staticmethod
    def _drop(request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        record.status = None
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response(status=500)  # never reaches the client: the socket is gone

    def _reply(self, record: RecordedRequest, response: web.StreamResponse) -> web.StreamResponse:
        record.status = response.status
        return response

    async def _handle_submit(self, request: web.Request) -> web.StreamResponse:
        record, raw = await self._record(request, "submit")
        fault = self._next_fault("submit")
        if fault is not None and fault.kind == "status":
            return self._reply(record, _fault_response(fault))
        if fault is not None and fault.kind == "drop_before":
            return self._drop(request, record)
        try:
            body = await self._validate_submit(request, record, raw)
        except _Refused as refused:
            return self._reply(record, _error_response(refused.status, refused.reason, refused.message))
        task = self._create_task(request.match_info["model"], body)
        if fault is not None and fault.kind == "slow":
            await self._pause(fault.seconds)
        if fault is not None and fault.kind == "drop_after":
            return self._drop(request, record)
        answer = {"task_id": task.task_id, "provider_request_id": f"req-{uuid.uuid4().hex[:16]}"}
        if fault is not None and fault.kind == "answer":
            answer.update(dict(fault.fields))
        return self._reply(record, web.json_response(answer))

    async def _validate_submit(self, request: web.Request, record: RecordedRequest, raw: bytes) -> dict[str, Any]:
        if not record.authorized:
            raise _Refused(401, "INVALID_API_KEY", "missing or invalid API key")
        model = request.match_info["model"]
        if model not in MODELS:
            raise _Refused(404, "MODEL_NOT_FOUND", f"model {model} not found")
        if request.content_type != "application/json":
            raise _invalid(f"Content-Type must be application/json, got {request.content_type or 'none'}")
        if len(raw) > MAX_BODY_BYTES:
            raise _invalid(f"request body is {len(raw)} bytes, more than {MAX_BODY_BYTES}")
        if not isinstance(record.json, dict):
            raise _invalid("request body must be a JSON object")
        if self.balance_empty:
            raise _Refused(403, "NOT_ENOUGH_BALANCE", "not enough balance")
        body: dict[str, Any] = record.json
        if model == "vidu-q2-pro-fast-img2video":
            await self._validate_fast(body)
        elif model == "vidu-q2-turbo-startend2video":
            await self._validate_startend(body)
        else:
            await self._validate_multiframe(body)
        return body

    async def _validate_fast(self, body: dict[str, Any]) -> None:
        _check_fields(body, _FAST_FIELDS)
        images = body["images"]
        if not images:
            raise _invalid("images must hold at least one image")
        self._check_enums("fast", body)
        if not 1 <= body["duration"] <= 10:
            raise _invalid(f"duration must be 1..10, got {body['duration']}")
        seed = body.get("seed")
        if seed is not None and not 0 <= seed <= MAX_SEED:
            raise _invalid(f"seed must be 0..{MAX_SEED}, got {seed}")
        self._check_prompt("prompt", body["prompt"], required=True)
        for index, image in enumerate(images):
            if not isinstance(image, str):
                raise _invalid(f"images[{index}] must be string, got {_json_type(image)}")
            await self._check_image(f"images[{index}]", image)

    async def _validate_startend(self, body: dict[str, Any]) -> None:
        _check_fields(body, _STARTEND_FIELDS)
        self._check_enums("startend", body)
        images = body["images"]
        if len(images) != 2:
            raise _invalid(f"images must hold exactly 2 images (start, end), got {len(images)}")
        duration = body.get("duration")
        if duration is not None and not 1 <= duration <= 8:
            raise _invalid(f"duration must be 1..8, got {duration}")
        seed = body.get("seed")
        if seed is not None and not 0 <= seed <= MAX_SEED:
            raise _invalid(f"seed must be 0..{MAX_SEED}, got {seed}")
        if body.get("prompt") is not None:
            self._check_prompt("prompt", body["prompt"], required=False)
        self._check_trace(body)
        sizes = []
        for index, image in enumerate(images):
            if not isinstance(image, str):
                raise _invalid(f"images[{index}] must be string, got {_json_type(image)}")
            sizes.append(await self._check_image(f"images[{index}]", image))
        (start_w, start_h), (end_w, end_h) = sizes
        ratio = (start_w * start_h) / (end_w * end_h)
        low, high = STARTEND_PIXEL_RATIO
        if not low <= ratio <= high:
            raise _Refused(400, "INVALID_IMAGE_SIZE", f"images: start {start_w}x{start_h} and end {end_w}x{end_h} "
                           f"pixels are {ratio:.2f} to 1; they must be within {low}..{high}")
        await self._check_wm_url(body)

    @staticmethod
    def _check_trace(body: dict[str, Any]) -> None:
        payload = body.get("payload")
        if payload is not None and len(payload) > MAX_PAYLOAD_CHARS:
            raise _invalid(f"payload is {len(payload)} characters, more than {MAX_PAYLOAD_CHARS}")
        meta = body.get("meta_data")
        if meta is not None:
            try:
                json.loads(meta)
            except ValueError:
                raise _invalid("meta_data must be a JSON string") from None

    async def _check_wm_url(self, body: dict[str, Any]) -> None:
        wm_url = body.get("wm_url")
        if wm_url is not None:
            # Documented as a URL (only the key images are documented to take data URIs): fetched like them.
            if not wm_url.startswith(("http://", "https://")):
                raise _Refused(400, "INVALID_IMAGE_FORMAT", "wm_url must be an http(s) image URL")
            await self._check_image("wm_url", wm_url)

    async def _validate_multiframe(self, body: dict[str, Any]) -> None:
        _check_fields(body, _MULTIFRAME_FIELDS)
        self._check_enums("multiframe", body)
        settings = body["image_settings"]
        if not 2 <= len(settings) <= 9:
            raise _invalid(f"image_settings must hold 2..9 items, got {len(settings)}")
        for index, setting in enumerate(settings):
            path = f"image_settings[{index}]"
            if not isinstance(setting, dict):
                raise _invalid(f"{path} must be object, got {_json_type(setting)}")
            _check_fields(setting, _SETTING_FIELDS, prefix=f"{path}.")
            duration = setting.get("duration")
            if duration is not None and not 2 <= duration <= 7:
                raise _invalid(f"{path}.duration must be 2..7, got {duration}")
            if setting.get("prompt") is not None:
                self._check_prompt(f"{path}.prompt", setting["prompt"], required=False)
        self._check_trace(body)
        await self._check_image("start_image", body["start_image"])
        for index, setting in enumerate(settings):
            await self._check_image(f"image_settings[{index}].key_image", setting["key_image"])
        await self._check_wm_url(body)

    @staticmethod
    def _check_enums(kind: str, body: dict[str, Any]) -> None:
        for (endpoint, name), allowed in _ENUMS.items():
            if endpoint == kind and body.get(name) is not None and body[name] not in allowed:
                raise _invalid(f"{name} must be one of {', '.join(map(str, allowed))}, got {body[name]!r}")

    @staticmethod
    def _check_prompt(path: str, prompt: str, *, required: bool) -> None:
        if required and not prompt.strip():
            raise _invalid(f"{path} must not be empty")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise _invalid(f"{path} is {len(prompt)} characters, more than {MAX_PROMPT_CHARS}")
        if _FORBIDDEN_WORD.search(prompt):
            raise _Refused(400, "ILLEGAL_PROMPT", f"{path} contains content that is not allowed")

    async def _check_image(self, path: str, value: str) -> tuple[int, int]:
        if value.startswith("data:"):
            match = _DATA_URI.fullmatch(value)
            if match is None or match.group(1).lower() not in ("png", "jpeg", "jpg", "webp"):
                raise _Refused(
                    400, "INVALID_IMAGE_FORMAT", f"{path}: data URI must be data:image/png|jpeg|webp;base64,"
                )
            try:
                data = await asyncio.to_thread(base64.b64decode, match.group(2), validate=True)
            except (binascii.Error, ValueError):
                raise _Refused(400, "INVALID_IMAGE_FORMAT", f"{path}: base64 content does not decode") from None
            limit = MAX_DATA_URI_IMAGE_BYTES
        else:
            data = await self._fetch_image(path, value)
            limit = MAX_URL_IMAGE_BYTES
        return await asyncio.to_thread(_check_image_bytes, path, data, limit, self._refused_image_hashes)

    async def _fetch_image(self, path: str, url: str) -> bytes:
        unreachable = _Refused(400, "INVALID_IMAGE_FORMAT", f"{path}: image URL unreachable")
        parts = urlsplit(url)
        # Only loopback URLs are fetched: a test must never reach the internet through the fake.
        if parts.scheme not in ("http", "https") or parts.hostname not in _LOCAL_HOSTS or self._fetcher is None:
            raise unreachable
        try:
            async with self._fetcher.get(url, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                if resp.status != 200:
                    raise unreachable
                data = await resp.content.read(MAX_URL_IMAGE_BYTES + 1)
                # read(n) may return early: keep reading until the cap or the end.
                while len(data) <= MAX_URL_IMAGE_BYTES and not resp.content.at_eof():
                    more = await resp.content.read(MAX_URL_IMAGE_BYTES + 1 - len(data))
                    if not more:
                        break
                    data += more
                return data
        except (aiohttp.ClientError, TimeoutError):
            raise unreachable from None

    def _create_task(self, model: str, body: dict[str, Any]) -> FakeTask:
        plan = self._plans.popleft() if self._plans else self.planner(body) if self.planner else TaskPlan()
        task = FakeTask(
            task_id=uuid.uuid4().hex,
            endpoint=model,
            body=body,
            created_at=self.now(),
            queue_seconds=self.queue_seconds if plan.queue_seconds is None else plan.queue_seconds,
            processing_seconds=(
                self.processing_seconds if plan.processing_seconds is None else plan.processing_seconds
            ),
            fail_reason=plan.fail_reason,
            video_size=plan.video_size,
            ttl_seconds=plan.ttl_seconds,
            ttl_as_number=plan.ttl_as_number,
            report_eta=plan.report_eta,
            clock=self.now,
            marked=self.mark_videos if plan.marked is None else plan.marked,
        )
        self.tasks[task.task_id] = task
        # Tasks only start here, so the most ever running at once is seen at a creation.
        self.max_running_seen = max(self.max_running_seen, self.running(task.created_at))
        return task

    def running(self, at: float) -> int:
        """Tasks created and not finished at fake time `at` (what the provider's concurrency limit counts)."""
        return sum(1 for task in self.tasks.values()
                   if task.created_at <= at < task.created_at + task.queue_seconds + task.processing_seconds)

    async def _handle_result(self, request: web.Request) -> web.StreamResponse:
        record, _ = await self._record(request, "result")
        fault = self._next_fault("result")
        if fault is not None and fault.kind == "status":
            return self._reply(record, _fault_response(fault))
        if fault is not None and fault.kind in ("drop_before", "drop_after"):
            return self._drop(request, record)
        if fault is not None and fault.kind == "slow":
            await self._pause(fault.seconds)
        if not record.authorized:
            return self._reply(record, _error_response(401, "INVALID_API_KEY", "missing or invalid API key"))
        task_id = request.query.get("task_id", "")
        if not task_id:
            return self._reply(record, _error_response(400, "INVALID_REQUEST_BODY", "task_id is required"))
        task = self.tasks.get(task_id)
        if task is None:
            return self._reply(record, _error_response(404, "TASK_NOT_FOUND", f"task {task_id} not found"))
        answer = self._task_json(task)
        if fault is not None and fault.kind == "answer":
            for name, value in fault.fields:
                if name in _VIDEO_FIELDS:
                    for video in answer["videos"][:1]:
                        video[name] = value
                else:
                    answer["task"][name] = value
        return self._reply(record, web.json_response(answer))

    def _task_json(self, task: FakeTask) -> dict[str, Any]:
        status, progress, eta = task.state(self.now())
        info: dict[str, Any] = {
            "task_id": task.task_id,
            "status": status,
            "reason": task.fail_reason if status == "TASK_STATUS_FAILED" else "",
            "task_type": MODELS[task.endpoint],
        }
        if task.report_eta:
            info["eta"] = eta
            info["progress_percent"] = progress
        videos = []
        if status == "TASK_STATUS_SUCCEED":
            ttl: int | str = task.ttl_seconds if task.ttl_as_number else str(task.ttl_seconds)
            videos.append({"video_url": self._presign(task), "video_url_ttl": ttl, "video_type": "mp4"})
        return {"task": info, "videos": videos, "images": [], "audios": [], "extra": {}}

    def _fake_unix(self) -> float:
        return self._wall0 + self.now()

    def _signature(self, task_id: str, expires: int) -> str:
        return hmac.new(self._url_secret, f"{task_id}:{expires}".encode(), hashlib.sha256).hexdigest()

    def _presign(self, task: FakeTask) -> str:
        expires = int(self._fake_unix() + task.ttl_seconds)
        signature = self._signature(task.task_id, expires)
        return f"{self.origin}/files/{task.task_id}.mp4?expires={expires}&sig={signature}"

    async def _handle_video(self, request: web.Request) -> web.StreamResponse:
        record, _ = await self._record(request, "video")
        fault = self._next_fault("video")
        if fault is not None and fault.kind == "status" and fault.raw_body is not None:
            return self._reply(record, _fault_response(fault))  # e.g. a 200 with a proxy's HTML page
        if fault is not None and fault.kind == "status":
            return self._reply(record, web.Response(status=fault.code, text=fault.reason or "injected fault"))
        if fault is not None and fault.kind == "drop_before":
            return self._drop(request, record)
        if fault is not None and fault.kind == "slow":
            await self._pause(fault.seconds)
        task_id = request.match_info["task_id"]
        try:
            expires = int(request.query.get("expires", ""))
        except ValueError:
            return self._reply(record, web.Response(status=403, text="AccessDenied: bad expires"))
        good = hmac.compare_digest(request.query.get("sig", ""), self._signature(task_id, expires))
        if not good or self._fake_unix() > expires:
            return self._reply(record, web.Response(status=403, text="AccessDenied: expired or bad signature"))
        task = self.tasks.get(task_id)
        if task is None:
            return self._reply(record, web.Response(status=404, text="NoSuchKey"))
        if task.marked:
            video = await self._marked()
        else:  # the demo's maker, else the sample
            made = await asyncio.to_thread(self.video_maker, task.body) if self.video_maker is not None else None
            video = made or self._sample
        size = max(len(video), task.video_size or 0)
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        if self.send_video_length:
            response.content_length = size
        await response.prepare(request)
        record.status = 200
        cut = size // 2 if fault is not None and fault.kind == "drop_after" else None
        sent = 0
        for chunk in self._video_chunks(video, size):
            if cut is not None and sent + len(chunk) > cut:
                record.status = None
                if request.transport is not None:
                    request.transport.abort()
                return response
            await response.write(chunk)
            sent += len(chunk)
        await response.write_eof()
        return response

    async def _marked(self) -> bytes:
        """The sample with the test marker in every frame: a real H.264 MP4, made once by ffmpeg (imageio-ffmpeg's,
        as the bot's) from the sample, off the loop."""
        if self._marked_sample is None:
            self._marked_sample = await asyncio.to_thread(marked_video, self._sample)
        return self._marked_sample

    @staticmethod
    def _video_chunks(video: bytes, size: int) -> Any:
        """The MP4, then a `free` box of zeros up to `size` (still a valid MP4), in chunks."""
        yield video
        pad = size - len(video)
        if pad < 8:
            return
        yield pad.to_bytes(4, "big") + b"free"  # box header: size includes these 8 bytes
        remaining = pad - 8
        zeros = bytes(_CHUNK)
        while remaining > 0:
            step = min(_CHUNK, remaining)
            yield zeros[:step]
            remaining -= step

    async def _handle_image(self, request: web.Request) -> web.StreamResponse:
        data = self._images.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")


def marked_video(sample: bytes) -> bytes:
    """`sample` (an MP4) re-encoded with the test marker drawn into every frame."""
    with tempfile.TemporaryDirectory(prefix="fake-provider-") as folder:
        source, out = Path(folder) / "sample.mp4", Path(folder) / "marked.mp4"
        source.write_bytes(sample)
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-i", str(source),
                        "-vf", _MARK_FILTER, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-an", str(out)],
                       check=True, timeout=60, capture_output=True)
        return out.read_bytes()


async def _serve(port: int, time_scale: float) -> None:
    fake = FakeProvider(time_scale=time_scale)
    base_url = await fake.start(port=port)
    print(f"VIDU_API_BASE={base_url}")
    print(f"VIDU_API_KEY={fake.api_key}")
    print("fake provider running; Ctrl-C to stop", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the strict fake VIDU provider on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.time_scale))


if __name__ == "__main__":
    main()
