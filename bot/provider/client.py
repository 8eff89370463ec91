"""The VIDU task API client: submit (paid, at most once), poll (idempotent, retried), download.

The session is created and closed by the caller (one per process). Retries never outlive the policy,
and a submit is repeated only when the provider provably did not create a task.
"""

from __future__ import annotations

import asyncio
import email.utils
import io
import json
import logging
import math
import os
import pathlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.provider.body import encode_json
from bot.provider.errors import (
    OutcomeUnknown,
    ProviderError,
    RequestValidationError,
    TransientProviderError,
    UnusableTaskId,
    VideoTooLarge,
    VideoUnavailable,
    error_for_status,
    parse_error_body,
)
from bot.provider.files import DOWNLOAD_CHUNK, head_of, is_video, stream_to_file
from bot.provider.models import (
    MAX_TASK_ID_CHARS,
    Img2VideoRequest,
    MultiframeRequest,
    ProviderRequest,
    StartEndRequest,
    SubmitResult,
    TaskResult,
    usable_task_id,
)
from bot.provider.ratelimit import RateLimiter
from bot.provider.redaction import hide_secrets
from bot.provider.text import clean_text

logger = logging.getLogger("bot.provider")

RESULT_PATH = "async/task-result"
# The longest wait a Retry-After is believed for (issue 26): the provider's limits are per minute, so a longer
# ask is a mistake (a year would stop every submit of the process for a year; 1e300 overflowed the clock).
# Clamped to this, and logged; a value that cannot be read is a plain 429 (the usual backoff).
MAX_RETRY_AFTER_SECONDS = 300.0
# API answers are a few hundred bytes; a proxy's runaway body must not fill memory.
_MAX_ANSWER_BYTES = 1024 * 1024
_CHUNKED_BODY = 1024 * 1024  # larger bodies go out in chunks that yield to the event loop
# Told of every attempt (operation, seconds, the error or None): how the bot's metrics see the provider
# without this package importing them (bot/wiring.py hands in bot.metrics.observe_provider_call).
CallObserver = Callable[[str, float, Exception | None], None]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("RetryPolicy delays must not be negative")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: anywhere between 0 and the capped exponential step, so clients spread out."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date); None if absent/bad."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    when = None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds) or (seconds < 0 and when is None):
        return None  # not a wait anyone can keep (a past HTTP-date is "now", a negative number is nonsense)
    return max(0.0, seconds)


@dataclass(frozen=True)
class _Answer:
    """The provider answered with an HTTP status."""

    status: int
    text: str
    retry_after: float | None


@dataclass(frozen=True)
class _Broken:
    """No usable answer. `sent` is False only when the request provably never left this process."""

    sent: bool
    description: str


class ViduClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        api_key: str,
        limiter: RateLimiter,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),  # frozen, so sharing the default is safe
        rng: random.Random | None = None,
        observe: CallObserver | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"provider base URL must be an http(s) URL, got {base_url!r}")
        if not api_key or not api_key.strip():
            raise ValueError("provider API key is empty")
        if timeout <= 0:
            raise ValueError("provider timeout must be positive")
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._host = parts.netloc
        self._api_key = api_key
        self._limiter = limiter
        self._timeout = timeout
        self._retry = retry
        self._rng = rng or random.Random()
        self._observe = observe

    def __repr__(self) -> str:
        return f"ViduClient(base_url={self._base_url!r}, api_key='***')"

    def calls_are_scarce(self) -> bool:
        """Whether calls waited for the rate limit in the last half minute: each call saved is then work done."""
        return self._limiter.waited_within(30.0)

    # -- public calls -----------------------------------------------------------------------------

    async def submit(self, request: ProviderRequest) -> SubmitResult:
        """Create a task (costs money). Raises OutcomeUnknown when a task may exist: never resubmit then."""
        if not isinstance(request, Img2VideoRequest | MultiframeRequest | StartEndRequest):
            raise TypeError(f"cannot submit {type(request).__name__}")
        # A body with data URIs can be megabytes: encode it off the event loop.
        body = await asyncio.to_thread(encode_json, request.to_json())
        data = await self._call("submit", "POST", request.ENDPOINT, body=body, paid=True)
        task_id = data.get("task_id") if isinstance(data, dict) else None
        if not usable_task_id(task_id):
            # Accepted, so probably billed, but nothing the bot could store and poll: never resubmitted.
            shown = clean_text(task_id, 60)
            logger.error("provider.submit.unusable_task_id endpoint=%s task_id=%r length=%s", request.ENDPOINT,
                         shown, len(task_id) if isinstance(task_id, str) else "-")
            what = "no task id" if not shown else "a task id the bot cannot follow"
            raise UnusableTaskId(f"the provider accepted the request but answered {what}", shown_id=shown)
        assert isinstance(task_id, str)
        request_id = data.get("provider_request_id")
        result = SubmitResult(
            task_id=task_id,
            provider_request_id=request_id if usable_task_id(request_id) else None,
        )
        logger.info(
            "provider.submit.ok endpoint=%s task_id=%s video_seconds=%d",
            request.ENDPOINT,
            task_id,
            request.total_duration,
        )
        return result

    async def get_task(self, task_id: str) -> TaskResult:
        """Current state of a task; transient failures are retried per the policy."""
        if not usable_task_id(task_id):
            raise RequestValidationError(
                "task_id", f"must be 1-{MAX_TASK_ID_CHARS} printable characters without spaces")
        data = await self._call("result", "GET", RESULT_PATH, params={"task_id": task_id}, paid=False)
        result = TaskResult.from_json(data, default_task_id=task_id)
        logger.debug(
            "provider.task task_id=%s status=%s progress=%s eta=%s",
            task_id,
            result.status.name,
            result.progress_percent,
            result.eta,
        )
        return result

    async def download_video(
        self,
        url: str,
        dest: pathlib.Path,
        *,
        max_bytes: int,
        timeout: float,
    ) -> int:
        """Stream a finished video to `dest`; returns the bytes written. Nothing is left behind on failure.

        The presigned URL needs no key, so none is sent (the file host is not the API host); the
        session handed to the client must therefore carry no default Authorization header.
        """
        if max_bytes < 1 or timeout <= 0:
            raise ValueError("download_video needs a positive max_bytes and timeout")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise VideoUnavailable("video URL is not an http(s) URL")
        where = f"{parts.netloc}{parts.path}"  # the query is the URL's signature: never logged
        partial = dest.with_name(dest.name + ".part")
        error: ProviderError | None = None
        written = 0
        try:
            async with asyncio.timeout(timeout):
                async with self._session.get(
                    url, timeout=aiohttp.ClientTimeout(total=None, sock_connect=min(timeout, 30.0))
                ) as resp:
                    if resp.status in (403, 404, 410):
                        error = VideoUnavailable("the video link has expired or the file is gone", status=resp.status)
                    elif resp.status == 429 or resp.status >= 500:
                        error = TransientProviderError("the video host is busy", status=resp.status)
                    elif resp.status != 200:
                        error = ProviderError("the video host answered unexpectedly", status=resp.status)
                    elif resp.content_length is not None and resp.content_length > max_bytes:
                        error = VideoTooLarge(
                            f"the video is {resp.content_length} bytes, more than the {max_bytes} allowed"
                        )
                    else:
                        written = await stream_to_file(resp, partial, max_bytes)
                        if written == 0:
                            error = ProviderError("the video host sent an empty file", status=resp.status)
                        elif not is_video(await asyncio.to_thread(head_of, partial)):
                            # A 200 with an HTML error page, or anything else: never posted, never counted.
                            kind = resp.content_type or "no content type"
                            error = ProviderError(f"the video host sent something that is not a video ({kind})",
                                                  status=resp.status)
        except VideoTooLarge as exc:  # found while streaming a body that announced no length
            error = exc
        except TimeoutError:
            error = TransientProviderError(f"the video download took longer than {timeout:g} s")
        except aiohttp.ClientError as exc:
            error = TransientProviderError(f"the video download broke: {type(exc).__name__}")
        finally:
            if error is not None or written == 0:
                await asyncio.to_thread(partial.unlink, missing_ok=True)
        if error is not None:
            logger.warning("provider.download.failed url=%s error=%s", where, error)
            raise error
        await asyncio.to_thread(os.replace, partial, dest)
        logger.info("provider.download.ok url=%s bytes=%d", where, written)
        return written

    # -- plumbing ---------------------------------------------------------------------------------

    @staticmethod
    def _believable_wait(path: str, header: str | None) -> float | None:
        """The header's wait, at most MAX_RETRY_AFTER_SECONDS (logged when cut); None when absent or unreadable."""
        seconds = parse_retry_after(header)
        if header is not None and seconds is None:
            logger.warning("provider.retry_after_unreadable path=%s value=%r", path, clean_text(header, 40))
        if seconds is not None and seconds > MAX_RETRY_AFTER_SECONDS:
            logger.warning("provider.retry_after_clamped path=%s asked=%s clamped_to=%.0f", path,
                           clean_text(header, 40), MAX_RETRY_AFTER_SECONDS)
            seconds = MAX_RETRY_AFTER_SECONDS
        return seconds

    def _scrub(self, text: str) -> str:
        return hide_secrets(text, (self._api_key,))

    async def _send_once(
        self, method: str, path: str, *, body: bytes | None, params: dict[str, str] | None
    ) -> _Answer | _Broken:
        await self._limiter.acquire()
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        # Exceptions are turned into safe text here and never re-raised: aiohttp errors can carry the
        # request (and its Authorization header) in request_info.
        try:
            async with self._session.request(
                method,
                f"{self._base_url}/{path}",
                # A large body goes out in chunks that yield to the event loop (aiohttp's BytesIOPayload);
                # one 28 MB write would be copied into the transport's buffer in one go, stalling the loop.
                data=io.BytesIO(body) if body is not None and len(body) > _CHUNKED_BODY else body,
                params=params,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                allow_redirects=False,
            ) as resp:
                raw = await _read_capped(resp, _MAX_ANSWER_BYTES)
                return _Answer(
                    status=resp.status,
                    text=raw.decode("utf-8", errors="replace"),
                    retry_after=self._believable_wait(path, resp.headers.get("Retry-After")),
                )
        except aiohttp.ConnectionTimeoutError:
            return _Broken(sent=False, description=f"timed out connecting to {self._host}")
        except aiohttp.ClientConnectorError as exc:
            return _Broken(sent=False, description=f"cannot connect to {self._host} ({_os_reason(exc)})")
        except TimeoutError:
            return _Broken(sent=True, description=f"no answer from {self._host} within {self._timeout:g} s")
        except aiohttp.ClientError as exc:
            return _Broken(sent=True, description=f"connection to {self._host} broke ({type(exc).__name__})")

    def _judge(
        self, operation: str, outcome: _Answer | _Broken, *, paid: bool
    ) -> tuple[Any, ProviderError | None, bool]:
        """(parsed body, error, retryable) for one attempt."""
        if isinstance(outcome, _Broken):
            if not outcome.sent:
                return None, TransientProviderError(outcome.description), True
            if paid:
                return None, OutcomeUnknown(outcome.description), False
            return None, TransientProviderError(outcome.description), True

        if 200 <= outcome.status < 300:
            try:
                return json.loads(outcome.text), None, False
            except ValueError:
                text = "provider answered success with a body that is not JSON"
                if paid:
                    return None, OutcomeUnknown(text, status=outcome.status), False
                return None, TransientProviderError(text, status=outcome.status), True

        # Only error text is scrubbed: a success body is data, and a short key may be part of it.
        reason, message = parse_error_body(outcome.text)
        reason, message = self._scrub(reason), self._scrub(message)
        error = error_for_status(outcome.status, reason, message, operation=operation, retry_after=outcome.retry_after)
        if not paid:
            return None, error, isinstance(error, TransientProviderError)
        if outcome.status in (429, 503):
            return None, error, True  # the provider turned the request away before creating a task
        if outcome.status >= 500 and reason != "CREATE_TASK_FAILED":
            # A gateway error or a crash: the task may have been created behind it.
            return None, OutcomeUnknown(error.message, status=outcome.status, reason=reason), False
        return None, error, False

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: dict[str, str] | None = None,
        paid: bool,
    ) -> Any:
        policy = self._retry
        for attempt in range(1, policy.max_attempts + 1):
            started = time.monotonic()
            outcome = await self._send_once(method, path, body=body, params=params)
            data, error, retryable = self._judge(operation, outcome, paid=paid)
            if self._observe is not None:
                self._observe(operation, time.monotonic() - started, error)
            if error is None:
                return data
            task_id = (params or {}).get("task_id", "-")
            if not retryable or attempt == policy.max_attempts:
                logger.warning(
                    "provider.%s.failed path=%s task_id=%s attempt=%d error=%s status=%s reason=%s",
                    operation,
                    path,
                    task_id,
                    attempt,
                    type(error).__name__,
                    error.status,
                    error.reason or "-",
                )
                raise error
            retry_after = getattr(error, "retry_after", None)
            if retry_after is not None and retry_after > policy.max_delay:
                # Sleeping minutes inside one call would stall the caller; hand it the wait instead.
                logger.warning(
                    "provider.%s.retry_after_too_long path=%s task_id=%s retry_after=%.1f",
                    operation,
                    path,
                    task_id,
                    retry_after,
                )
                raise error
            delay = retry_after if retry_after is not None else policy.backoff(attempt, self._rng)
            logger.info(
                "provider.%s.retry path=%s task_id=%s attempt=%d status=%s reason=%s delay=%.2f",
                operation,
                path,
                task_id,
                attempt,
                error.status,
                error.reason or type(error).__name__,
                delay,
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    """The body, cut at `cap` bytes (a cut JSON body then fails to parse, which is handled)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(DOWNLOAD_CHUNK):
        parts.append(chunk)
        size += len(chunk)
        if size >= cap:
            break
    return b"".join(parts)[:cap]


def _os_reason(exc: aiohttp.ClientConnectorError) -> str:
    os_error = exc.os_error
    return os_error.strerror or type(os_error).__name__
