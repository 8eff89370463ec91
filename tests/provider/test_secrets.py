"""The API key never shows: not in a log line, an exception's text, repr or traceback, nor a repr of ours."""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from bot.provider import Img2VideoRequest, ProviderError, RateLimiter, RetryPolicy, ViduClient
from tests.fakes.provider import FakeProvider, Fault
from tests.provider.conftest import API_KEY, data_uri

RETRY = RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.01)


def cat(prompt: str = "a cat walks") -> Img2VideoRequest:
    return Img2VideoRequest(image=data_uri(), prompt=prompt)


def exception_texts(exc: BaseException) -> list[str]:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    texts += [repr(value) for value in vars(exc).values()]
    texts += [repr(arg) for arg in exc.args]
    seen = exc.__cause__ or exc.__context__
    while seen is not None:  # a chained aiohttp error could hold the request headers
        texts += [repr(seen), repr(getattr(seen, "request_info", None))]
        seen = seen.__cause__ or seen.__context__
    return texts


Scenario = Callable[[FakeProvider, ViduClient, Path], Awaitable[object]]


async def _submit(fake: FakeProvider, client: ViduClient, _: Path) -> object:
    return await client.submit(cat())


async def _poll(fake: FakeProvider, client: ViduClient, _: Path) -> object:
    task_id = (await client.submit(cat())).task_id
    return await client.get_task(task_id)


async def _finish_and_download(fake: FakeProvider, client: ViduClient, folder: Path) -> object:
    fake.plan_next_task(queue_seconds=0, processing_seconds=0, video_size=50_000)
    result = await client.get_task((await client.submit(cat())).task_id)
    return await client.download_video(result.videos[0].url, folder / "v.mp4", max_bytes=10_000, timeout=5)


def injected(endpoint: str, fault: Fault, then: Scenario, times: int = 5) -> Scenario:
    async def run(fake: FakeProvider, client: ViduClient, folder: Path) -> object:
        fake.inject(endpoint, fault, times=times)
        return await then(fake, client, folder)

    return run


def echoing(code: int, reason: str) -> Fault:
    # A provider or proxy that repeats the key in its error message.
    return Fault.status(code, reason, message=f"key Bearer {API_KEY} refused")


SCENARIOS: dict[str, Scenario] = {
    "success": _poll,
    "submit-429-echoing-key": injected("submit", echoing(429, "RATE_LIMIT_EXCEEDED"), _submit),
    "submit-400-echoing-key": injected("submit", echoing(400, "INVALID_REQUEST_BODY"), _submit),
    "submit-500": injected("submit", echoing(500, ""), _submit),
    "submit-503": injected("submit", Fault.status(503, "SERVICE_NOT_AVAILABLE", retry_after=0), _submit),
    "submit-create-failed": injected("submit", Fault.status(500, "CREATE_TASK_FAILED"), _submit),
    "submit-slow": injected("submit", Fault.slow(5), _submit),
    "submit-drop-before": injected("submit", Fault.drop_before(), _submit),
    "submit-drop-after": injected("submit", Fault.drop_after(), _submit),
    "poll-401-echoing-key": injected("result", echoing(401, "INVALID_API_KEY"), _poll),
    "poll-slow": injected("result", Fault.slow(5), _poll),
    "poll-drop": injected("result", Fault.drop_after(), _poll),
    "poll-429-long": injected("result", Fault.status(429, "RATE_LIMIT_EXCEEDED", retry_after=999), _poll),
    "illegal-prompt": lambda fake, client, _: client.submit(cat("a forbidden dance")),
    "balance": lambda fake, client, _: (setattr(fake, "balance_empty", True), client.submit(cat()))[1],
    "video-too-large": _finish_and_download,
    "video-expired": injected("video", Fault.status(403, "AccessDenied"), _finish_and_download),
    "video-drop": injected("video", Fault.drop_after(), _finish_and_download),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_key_never_leaks(
    name: str,
    fake: FakeProvider,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = ViduClient(
        session,
        base_url=fake.base_url,
        api_key=API_KEY,
        limiter=RateLimiter(60_000),
        timeout=1.0,
        retry=RETRY,
    )
    texts = [repr(client), str(client)]
    try:
        outcome = await SCENARIOS[name](fake, client, tmp_path)
        texts.append(repr(outcome))
    except ProviderError as exc:
        texts += exception_texts(exc)
    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(record.args) for record in caplog.records]
    texts.append(repr(fake.requests))
    assert caplog.records, "the scenario logged nothing: the check would be empty"
    leaks = [text for text in texts if API_KEY in text]
    assert leaks == []


async def test_key_does_not_leak_when_unreachable(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ViduClient(
        session,
        base_url=f"http://127.0.0.1:{port}/v3",
        api_key=API_KEY,
        limiter=RateLimiter(60_000),
        retry=RETRY,
    )
    with pytest.raises(ProviderError) as caught:
        await client.get_task("t")
    texts = exception_texts(caught.value) + [r.getMessage() for r in caplog.records]
    assert [text for text in texts if API_KEY in text] == []


async def test_echoed_key_is_redacted_not_dropped(fake: FakeProvider, client: ViduClient) -> None:
    fake.inject("submit", echoing(400, "INVALID_REQUEST_BODY"))
    with pytest.raises(ProviderError) as caught:
        await client.submit(cat())
    assert "[redacted]" in caught.value.message
    assert API_KEY not in caught.value.message


async def test_a_key_that_looks_like_data_does_not_corrupt_answers(session: aiohttp.ClientSession) -> None:
    # Redaction applies to error text only; it must not rewrite the JSON the provider answers.
    async with FakeProvider(api_key="task_id") as fake:
        client = ViduClient(session, base_url=fake.base_url, api_key="task_id", limiter=RateLimiter(60_000))
        result = await client.submit(cat())
        assert result.task_id in fake.tasks
        assert (await client.get_task(result.task_id)).task_id == result.task_id


async def test_the_key_is_hidden_as_a_whole_token_not_inside_words(session: aiohttp.ClientSession) -> None:
    """The client does not judge a key's length (the settings do): a key that is a common word still leaves the
    provider's words that contain it readable."""
    async with FakeProvider(api_key="test") as fake:
        client = ViduClient(session, base_url=fake.base_url, api_key="test", limiter=RateLimiter(60_000))
        fake.inject("submit", Fault.status(400, "INVALID_REQUEST_BODY",
                                           message="key 'test' refused: testing tests (Bearer test)"))
        with pytest.raises(ProviderError) as caught:
            await client.submit(cat())
        assert caught.value.message == "key '[redacted]' refused: testing tests (Bearer [redacted])"
