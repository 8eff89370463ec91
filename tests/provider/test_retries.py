"""Retries: polls retry what is transient; a paid submit is repeated only when no task can exist."""

from __future__ import annotations

import asyncio
import logging
import random
import socket

import aiohttp
import pytest

from bot.provider import (
    Img2VideoRequest,
    OutcomeUnknown,
    RateLimited,
    RateLimiter,
    RequestRejected,
    RetryPolicy,
    TaskStatus,
    TransientProviderError,
    ViduClient,
    parse_retry_after,
)
from tests.fakes.provider import FakeProvider, Fault
from tests.provider.conftest import API_KEY, TINY_RETRY, data_uri


def cat() -> Img2VideoRequest:
    return Img2VideoRequest(image=data_uri(), prompt="a cat walks")


def retry_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    """The waits the client chose, from its own log lines (what an operator reads)."""
    delays = []
    for record in caplog.records:
        message = record.getMessage()
        if record.name == "bot.provider" and ".retry " in message:
            delays.append(float(message.rsplit("delay=", 1)[1]))
    return delays


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def short_timeout_client(fake: FakeProvider, session: aiohttp.ClientSession) -> ViduClient:
    return ViduClient(
        session,
        base_url=fake.base_url,
        api_key=API_KEY,
        limiter=RateLimiter(60_000),
        timeout=1.0,  # long enough for a loaded machine, short next to the 5 s slow fault
        retry=TINY_RETRY,
    )


# -- polls ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault.status(429, "RATE_LIMIT_EXCEEDED"),
        Fault.status(500, "GET_RESULT_FAILED"),
        Fault.status(502),
        Fault.status(503, "SERVICE_NOT_AVAILABLE"),
        Fault.drop_before(),
        Fault.drop_after(),
    ],
    ids=["429", "500", "502", "503", "drop-before", "drop-after"],
)
async def test_poll_retries_transient_failures(fake: FakeProvider, client: ViduClient, fault: Fault) -> None:
    task_id = (await client.submit(cat())).task_id
    fake.inject("result", fault, times=2)
    result = await client.get_task(task_id)
    assert result.status is TaskStatus.QUEUED
    assert len(fake.requests_to("result")) == 3


async def test_poll_retries_a_timeout(fake: FakeProvider, short_timeout_client: ViduClient) -> None:
    task_id = (await short_timeout_client.submit(cat())).task_id
    fake.inject("result", Fault.slow(5))
    result = await short_timeout_client.get_task(task_id)
    assert result.task_id == task_id
    assert len(fake.requests_to("result")) == 2


async def test_poll_gives_up_after_the_policy(fake: FakeProvider, client: ViduClient) -> None:
    task_id = (await client.submit(cat())).task_id
    fake.inject("result", Fault.status(503, "SERVICE_NOT_AVAILABLE"), times=10)
    with pytest.raises(TransientProviderError) as caught:
        await client.get_task(task_id)
    assert caught.value.status == 503
    assert len(fake.requests_to("result")) == TINY_RETRY.max_attempts


async def test_poll_does_not_retry_bad_requests(fake: FakeProvider, client: ViduClient) -> None:
    fake.inject("result", Fault.status(400, "INVALID_REQUEST_BODY"), times=3)
    with pytest.raises(RequestRejected, match="injected fault"):
        await client.get_task("t")
    assert len(fake.requests_to("result")) == 1


# -- Retry-After and backoff --------------------------------------------------------------------------


async def test_retry_after_seconds_is_honoured(
    fake: FakeProvider, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    client = ViduClient(
        session,
        base_url=fake.base_url,
        api_key=API_KEY,
        limiter=RateLimiter(60_000),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=1.0),
    )
    fake.inject("submit", Fault.status(429, "RATE_LIMIT_EXCEEDED", retry_after=0.4))
    caplog.set_level(logging.INFO, logger="bot.provider")
    await client.submit(cat())
    assert retry_delays(caplog) == [0.4]  # the server's wait, not the tiny jittered backoff
    assert len(fake.tasks) == 1


async def test_retry_after_longer_than_max_delay_is_handed_to_the_caller(
    fake: FakeProvider, client: ViduClient
) -> None:
    fake.inject("result", Fault.status(429, "RATE_LIMIT_EXCEEDED", retry_after=120), times=5)
    with pytest.raises(RateLimited) as caught:
        await client.get_task("t")
    assert caught.value.retry_after == 120
    assert len(fake.requests_to("result")) == 1  # raised at once rather than sleeping two minutes


async def test_backoff_without_retry_after_is_jittered_and_capped(
    fake: FakeProvider, client: ViduClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.provider")
    fake.inject("result", Fault.status(429, "RATE_LIMIT_EXCEEDED"), times=2)
    await client.get_task((await client.submit(cat())).task_id)
    delays = retry_delays(caplog)
    assert len(delays) == 2
    assert all(0 <= d <= TINY_RETRY.max_delay for d in delays)


def test_full_jitter_backoff_stays_under_exponential_cap() -> None:
    policy = RetryPolicy(max_attempts=8, base_delay=0.5, max_delay=4.0)
    rng = random.Random(7)
    for attempt in range(1, 9):
        ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
        samples = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling / 2  # really spread over the range, not a constant
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("-4", None),  # a negative wait is nonsense: a plain 429
        ("1e300", 1e300),  # read as asked; the client clamps it (test_submit_faults.py)
        ("1e400", None),
        ("inf", None),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after(header, now=now) == expected


async def test_retry_after_http_date_is_honoured(
    fake: FakeProvider, client: ViduClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.provider")
    fake.inject("result", Fault.status(503, "SERVICE_NOT_AVAILABLE", retry_after="Wed, 21 Oct 2015 07:28:00 GMT"))
    await client.get_task((await client.submit(cat())).task_id)
    assert retry_delays(caplog) == [0.0]  # a date in the past: go again at once


# -- submit: at most once -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault.status(429, "RATE_LIMIT_EXCEEDED"), Fault.status(503, "SERVICE_NOT_AVAILABLE")],
    ids=["429", "503"],
)
async def test_submit_turned_away_is_retried_and_creates_one_task(
    fake: FakeProvider, client: ViduClient, fault: Fault
) -> None:
    fake.inject("submit", fault, times=2)
    result = await client.submit(cat())
    assert list(fake.tasks) == [result.task_id]
    assert len(fake.requests_to("submit")) == 3


async def test_submit_rate_limited_past_the_policy_creates_nothing(fake: FakeProvider, client: ViduClient) -> None:
    fake.inject("submit", Fault.status(429, "RATE_LIMIT_EXCEEDED"), times=10)
    with pytest.raises(RateLimited):
        await client.submit(cat())
    assert fake.tasks == {}
    assert len(fake.requests_to("submit")) == TINY_RETRY.max_attempts


async def test_submit_that_times_out_is_outcome_unknown_never_repeated(
    fake: FakeProvider, short_timeout_client: ViduClient
) -> None:
    fake.inject("submit", Fault.slow(5))
    with pytest.raises(OutcomeUnknown):
        await short_timeout_client.submit(cat())
    assert len(fake.tasks) == 1  # the provider did create it: it must not be created twice
    assert len(fake.requests_to("submit")) == 1


async def test_submit_dropped_after_creation_is_outcome_unknown(fake: FakeProvider, client: ViduClient) -> None:
    fake.inject("submit", Fault.drop_after())
    with pytest.raises(OutcomeUnknown):
        await client.submit(cat())
    assert len(fake.tasks) == 1
    assert len(fake.requests_to("submit")) == 1


async def test_submit_dropped_before_creation_is_still_outcome_unknown(fake: FakeProvider, client: ViduClient) -> None:
    # The client cannot tell the two drops apart, so it must assume the worst and not repeat.
    fake.inject("submit", Fault.drop_before())
    with pytest.raises(OutcomeUnknown):
        await client.submit(cat())
    assert fake.tasks == {}
    assert len(fake.requests_to("submit")) == 1


@pytest.mark.parametrize(
    ("code", "reason"),
    [(500, ""), (502, ""), (504, "GATEWAY_TIMEOUT"), (500, "SERVICE_NOT_AVAILABLE")],
)
async def test_submit_server_errors_without_not_created_reason_are_outcome_unknown(
    fake: FakeProvider, client: ViduClient, code: int, reason: str
) -> None:
    fake.inject("submit", Fault.status(code, reason), times=3)
    with pytest.raises(OutcomeUnknown) as caught:
        await client.submit(cat())
    assert caught.value.status == code
    assert len(fake.requests_to("submit")) == 1


async def test_submit_create_task_failed_is_transient_but_not_repeated(fake: FakeProvider, client: ViduClient) -> None:
    fake.inject("submit", Fault.status(500, "CREATE_TASK_FAILED"), times=3)
    with pytest.raises(TransientProviderError) as caught:
        await client.submit(cat())
    assert not isinstance(caught.value, OutcomeUnknown)
    assert caught.value.reason == "CREATE_TASK_FAILED"
    assert len(fake.requests_to("submit")) == 1


async def test_connection_refused_is_retried_then_transient(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.provider")
    client = ViduClient(
        session,
        base_url=f"http://127.0.0.1:{free_port()}/v3",
        api_key=API_KEY,
        limiter=RateLimiter(60_000),
        retry=TINY_RETRY,
    )
    with pytest.raises(TransientProviderError) as caught:
        await client.submit(cat())
    assert not isinstance(caught.value, OutcomeUnknown)  # nothing was sent: provably no task
    assert "cannot connect" in str(caught.value)
    assert len(retry_delays(caplog)) == TINY_RETRY.max_attempts - 1
    with pytest.raises(TransientProviderError):
        await client.get_task("t")


async def test_submit_refused_then_reachable_creates_exactly_one_task(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.provider")
    port = free_port()
    client = ViduClient(
        session,
        base_url=f"http://127.0.0.1:{port}/v3",
        api_key=API_KEY,
        limiter=RateLimiter(60_000),
        retry=RetryPolicy(max_attempts=50, base_delay=0.05, max_delay=0.05),
    )
    refused = asyncio.Event()

    class SeeRetry(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if ".retry " in record.getMessage():
                refused.set()

    watcher = SeeRetry()
    logging.getLogger("bot.provider").addHandler(watcher)
    try:
        submitting = asyncio.create_task(client.submit(cat()))
        await asyncio.wait_for(refused.wait(), timeout=10)
    finally:
        logging.getLogger("bot.provider").removeHandler(watcher)
    fake = FakeProvider(api_key=API_KEY)
    await fake.start(port=port)
    try:
        result = await asyncio.wait_for(submitting, timeout=10)
        assert list(fake.tasks) == [result.task_id]
        assert len(fake.requests_to("submit")) == 1
    finally:
        await fake.stop()


async def test_submit_answered_200_without_task_id_is_outcome_unknown(fake: FakeProvider, client: ViduClient) -> None:
    # Accepted but unnamed: a task may exist that we cannot follow, so it must not be sent again.
    fake.inject("submit", Fault.status(200, "", message="ok"))
    with pytest.raises(OutcomeUnknown, match="no task id"):
        await client.submit(cat())
    assert len(fake.requests_to("submit")) == 1


async def test_submit_refuses_objects_that_are_not_requests(fake: FakeProvider, client: ViduClient) -> None:
    with pytest.raises(TypeError):
        await client.submit({"images": ["https://x/a.png"], "prompt": "p", "duration": 5})  # type: ignore[arg-type]
    assert fake.requests == []


HTML_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


async def test_non_json_error_pages_still_map_by_status(fake: FakeProvider, client: ViduClient) -> None:
    fake.inject("submit", Fault.status(502, raw_body=HTML_PAGE))
    with pytest.raises(OutcomeUnknown) as unknown:
        await client.submit(cat())
    assert unknown.value.status == 502

    fake.inject("submit", Fault.status(429, raw_body=HTML_PAGE), times=2)
    result = await client.submit(cat())
    assert list(fake.tasks) == [result.task_id]

    fake.inject("result", Fault.status(502, raw_body=HTML_PAGE), times=2)
    assert (await client.get_task(result.task_id)).task_id == result.task_id

    fake.inject("result", Fault.status(429, raw_body=HTML_PAGE, retry_after=500))
    with pytest.raises(RateLimited) as limited:
        await client.get_task(result.task_id)
    assert limited.value.reason == "RATE_LIMIT_EXCEEDED"
    assert limited.value.retry_after == 300  # asked 500: clamped to MAX_RETRY_AFTER_SECONDS
    assert "<html>" not in limited.value.message
