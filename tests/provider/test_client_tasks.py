"""The client against the fake: submitting, following a task through every state, and every error class."""

from __future__ import annotations

import aiohttp
import pytest

from bot.provider import (
    Img2VideoRequest,
    InsufficientBalance,
    ModelNotFound,
    MultiframeRequest,
    OperatorError,
    ProviderAuthError,
    RateLimiter,
    RequestRejected,
    RequestValidationError,
    TaskNotFound,
    TaskStatus,
    ViduClient,
)
from tests.fakes.provider import FakeProvider, Fault
from tests.provider.conftest import API_KEY, TINY_RETRY, data_uri, image_bytes


def cat(prompt: str = "a cat walks", image: str | None = None, **options: object) -> Img2VideoRequest:
    return Img2VideoRequest(image=image or data_uri(), prompt=prompt, **options)  # type: ignore[arg-type]


async def test_fast_submit_sends_documented_body_and_returns_task_id(fake: FakeProvider, client: ViduClient) -> None:
    request = cat(duration=3, resolution="1080p", seed=42, off_peak=True)
    result = await client.submit(request)
    assert result.task_id in fake.tasks
    assert result.provider_request_id
    task = fake.tasks[result.task_id]
    assert task.endpoint == "vidu-q2-pro-fast-img2video"
    assert task.body == request.to_json()
    assert fake.requests_to("submit")[0].authorized


async def test_multiframe_submit_with_url_images_served_on_loopback(fake: FakeProvider, client: ViduClient) -> None:
    start = fake.add_image("start.png", image_bytes(80, 60))
    key = fake.add_image("key.webp", image_bytes(60, 80, "WEBP"))
    request = MultiframeRequest.build(start, [key, data_uri(fmt="JPEG")], prompts=["turn", None], durations=[2, 7])
    result = await client.submit(request)
    assert fake.tasks[result.task_id].endpoint == "vidu-q2-pro-multiframe"
    assert fake.tasks[result.task_id].body["image_settings"][1] == {
        "key_image": data_uri(fmt="JPEG"),
        "duration": 7,
    }


async def test_task_goes_queued_processing_succeed(fake: FakeProvider, client: ViduClient) -> None:
    fake.plan_next_task(queue_seconds=100, processing_seconds=100)
    task_id = (await client.submit(cat())).task_id

    queued = await client.get_task(task_id)
    assert queued.status is TaskStatus.QUEUED
    assert not queued.is_final
    assert queued.eta is not None
    assert 190 <= queued.eta <= 200
    assert queued.progress_percent is None  # the provider says 0: "not started"
    assert queued.videos == ()

    fake.advance(150)
    processing = await client.get_task(task_id)
    assert processing.status is TaskStatus.PROCESSING
    assert processing.progress_percent is not None
    assert 40 <= processing.progress_percent <= 60
    assert processing.eta is not None
    assert processing.eta < queued.eta

    fake.advance(100)
    done = await client.get_task(task_id)
    assert done.status is TaskStatus.SUCCEED
    assert done.is_final
    assert done.task_id == task_id
    assert done.task_type == "VIDU_Q2_PRO_FAST_IMG2VIDEO"
    assert len(done.videos) == 1
    assert done.videos[0].ttl_seconds == 3600
    assert done.videos[0].video_type == "mp4"
    assert done.videos[0].url.startswith(fake.origin)


async def test_failed_task_carries_reason(fake: FakeProvider, client: ViduClient) -> None:
    fake.plan_next_task(fail_reason="CONTENT_MODERATION_FAILED", queue_seconds=0, processing_seconds=1)
    task_id = (await client.submit(cat())).task_id
    fake.advance(5)
    result = await client.get_task(task_id)
    assert result.status is TaskStatus.FAILED
    assert result.is_final
    assert result.reason == "CONTENT_MODERATION_FAILED"
    assert result.videos == ()


async def test_result_without_eta_and_numeric_ttl(fake: FakeProvider, client: ViduClient) -> None:
    fake.plan_next_task(report_eta=False, ttl_seconds=900, ttl_as_number=True, queue_seconds=10)
    task_id = (await client.submit(cat())).task_id
    queued = await client.get_task(task_id)
    assert queued.status is TaskStatus.QUEUED
    assert queued.eta is None
    assert queued.progress_percent is None
    fake.advance(60)
    done = await client.get_task(task_id)
    assert done.videos[0].ttl_seconds == 900


async def test_forgotten_and_unknown_tasks_are_task_not_found(fake: FakeProvider, client: ViduClient) -> None:
    task_id = (await client.submit(cat())).task_id
    fake.forget_task(task_id)
    with pytest.raises(TaskNotFound) as caught:
        await client.get_task(task_id)
    assert caught.value.status == 404
    assert caught.value.reason == "TASK_NOT_FOUND"
    with pytest.raises(TaskNotFound):
        await client.get_task("no-such-task")
    assert len(fake.requests_to("result")) == 2  # a 404 is an answer, not retried


async def test_empty_task_id_is_refused_locally(fake: FakeProvider, client: ViduClient) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.get_task("  ")
    assert caught.value.field == "task_id"
    assert fake.requests == []


@pytest.mark.parametrize(
    ("make_request", "reason"),
    [
        (lambda fake: cat("a forbidden dance"), "ILLEGAL_PROMPT"),
        (lambda fake: cat(image=data_uri(500, 100)), "INVALID_IMAGE_SIZE"),
        (lambda fake: cat(image=data_uri(fmt="GIF", mime="png")), "INVALID_IMAGE_FORMAT"),
        (lambda fake: cat(image="https://example.com/not-fetched.png"), "INVALID_IMAGE_FORMAT"),
        (lambda fake: cat(image=fake.add_image("bad.png", b"not an image at all")), "INVALID_IMAGE_FORMAT"),
    ],
)
async def test_provider_refusals_are_request_rejected(
    fake: FakeProvider, client: ViduClient, make_request: object, reason: str
) -> None:
    request = make_request(fake)  # type: ignore[operator]
    with pytest.raises(RequestRejected) as caught:
        await client.submit(request)
    assert caught.value.status == 400
    assert caught.value.reason == reason
    assert caught.value.message  # the provider's words, for the member
    assert fake.tasks == {}
    assert len(fake.requests_to("submit")) == 1  # the member's fault: never retried


async def test_oversized_image_is_request_rejected(fake: FakeProvider, client: ViduClient) -> None:
    import base64

    padded = image_bytes() + bytes(10 * 1024 * 1024)
    image = "data:image/png;base64," + base64.b64encode(padded).decode()
    with pytest.raises(RequestRejected) as caught:
        await client.submit(cat(image=image))
    assert caught.value.reason == "IMAGE_FILE_EXCEEDS_MAX_SIZE"


async def test_refused_image_content_is_request_rejected(fake: FakeProvider, client: ViduClient) -> None:
    picture = image_bytes(90, 90)
    fake.refuse_image_content(picture)
    url = fake.add_image("nsfw.png", picture)
    with pytest.raises(RequestRejected) as caught:
        await client.submit(cat(image=url))
    assert caught.value.reason == "ILLEGAL_IMAGE_CONTENT"


async def test_wrong_key_is_provider_auth_error(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    client = ViduClient(
        session, base_url=fake.base_url, api_key="sk-wrong", limiter=RateLimiter(6000), retry=TINY_RETRY
    )
    with pytest.raises(ProviderAuthError) as caught:
        await client.submit(cat())
    assert caught.value.status == 401
    assert isinstance(caught.value, OperatorError)
    with pytest.raises(ProviderAuthError):
        await client.get_task("whatever")
    assert fake.tasks == {}


async def test_access_deny_is_provider_auth_error(fake: FakeProvider, client: ViduClient) -> None:
    fake.inject("submit", Fault.status(403, "ACCESS_DENY"))
    with pytest.raises(ProviderAuthError) as caught:
        await client.submit(cat())
    assert caught.value.reason == "ACCESS_DENY"


async def test_empty_balance_is_insufficient_balance(fake: FakeProvider, client: ViduClient) -> None:
    fake.balance_empty = True
    with pytest.raises(InsufficientBalance) as caught:
        await client.submit(cat())
    assert caught.value.status == 403
    assert caught.value.reason == "NOT_ENOUGH_BALANCE"
    assert isinstance(caught.value, OperatorError)
    assert fake.tasks == {}


async def test_wrong_base_url_is_model_not_found_even_without_json_body(
    fake: FakeProvider, session: aiohttp.ClientSession
) -> None:
    client = ViduClient(
        session, base_url=fake.origin + "/v9", api_key=API_KEY, limiter=RateLimiter(6000), retry=TINY_RETRY
    )
    with pytest.raises(ModelNotFound) as caught:
        await client.submit(cat())
    assert caught.value.status == 404
    # A bare 404 on a poll means misconfiguration, not a lost task: it must not fail the job.
    with pytest.raises(ModelNotFound):
        await client.get_task("some-task")


async def test_model_not_found_reason(fake: FakeProvider, client: ViduClient) -> None:
    fake.inject("submit", Fault.status(404, "MODEL_NOT_FOUND"))
    with pytest.raises(ModelNotFound) as caught:
        await client.submit(cat())
    assert caught.value.reason == "MODEL_NOT_FOUND"


async def test_client_refuses_bad_configuration(session: aiohttp.ClientSession) -> None:
    limiter = RateLimiter(60)
    with pytest.raises(ValueError, match="base URL"):
        ViduClient(session, base_url="api.jiekou.ai/v3", api_key=API_KEY, limiter=limiter)
    with pytest.raises(ValueError, match="API key"):
        ViduClient(session, base_url="https://api.jiekou.ai/v3", api_key=" ", limiter=limiter)
