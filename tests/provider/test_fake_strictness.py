"""The fake refuses what the real API refuses, with the documented error body.

These go around our client on purpose (raw HTTP), so a lenient fake cannot hide a sloppy client.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import pytest

from tests.fakes.provider import FakeProvider
from tests.provider.conftest import API_KEY, data_uri, image_bytes

FAST = "async/vidu-q2-pro-fast-img2video"
MULTI = "async/vidu-q2-pro-multiframe"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def fast_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"images": [data_uri()], "prompt": "a cat walks", "duration": 5}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def multi_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "start_image": data_uri(),
        "image_settings": [{"key_image": data_uri(60, 80)}, {"key_image": data_uri(), "duration": 3}],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


async def post(
    session: aiohttp.ClientSession, fake: FakeProvider, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {**AUTH, "Content-Type": "application/json"} if headers is None else headers
    async with session.post(f"{fake.base_url}/{path}", data=data, headers=sent) as resp:
        return resp.status, await resp.json(content_type=None)


def assert_error_body(answer: dict[str, Any], code: int, reason: str) -> None:
    assert set(answer) == {"code", "reason", "message", "metadata"}
    assert answer["code"] == code
    assert answer["reason"] == reason
    assert isinstance(answer["message"], str)
    assert answer["message"]


async def test_valid_bodies_are_accepted(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    status, answer = await post(session, fake, FAST, fast_body())
    assert status == 200
    assert answer["task_id"] in fake.tasks
    status, answer = await post(
        session,
        fake,
        MULTI,
        multi_body(resolution="540p", watermark=True, wm_position="top_left", meta_data='{"a": 1}', payload="p"),
    )
    assert status == 200
    assert len(fake.tasks) == 2


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ({"Content-Type": "application/json"}, 401, "INVALID_API_KEY"),
        ({"Authorization": "Bearer nope", "Content-Type": "application/json"}, 401, "INVALID_API_KEY"),
        ({"Authorization": API_KEY, "Content-Type": "application/json"}, 401, "INVALID_API_KEY"),
        ({**AUTH, "Content-Type": "text/plain"}, 400, "INVALID_REQUEST_BODY"),
        ({**AUTH}, 400, "INVALID_REQUEST_BODY"),
    ],
    ids=["no-auth", "wrong-key", "no-bearer", "text-plain", "no-content-type"],
)
async def test_headers_are_checked(
    fake: FakeProvider, session: aiohttp.ClientSession, headers: dict[str, str], status: int, reason: str
) -> None:
    code, answer = await post(session, fake, FAST, fast_body(), headers=headers)
    assert code == status
    assert_error_body(answer, status, reason)
    assert fake.tasks == {}


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"duration": "5"}, "duration"),
        ({"duration": 5.0}, "duration"),
        ({"duration": 0}, "duration"),
        ({"duration": 11}, "duration"),
        ({"duration": ...}, "duration"),
        ({"prompt": ...}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"images": ...}, "images"),
        ({"images": []}, "images"),
        ({"images": "https://x/a.png"}, "images"),
        ({"images": [7]}, "images[0]"),
        ({"audio": "true"}, "audio"),
        ({"bgm": 1}, "bgm"),
        ({"resolution": "540p"}, "resolution"),
        ({"movement_amplitude": "wild"}, "movement_amplitude"),
        ({"seed": -1}, "seed"),
        ({"seed": "3"}, "seed"),
        ({"voice_id": 5}, "voice_id"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_fast_body_is_strict(
    fake: FakeProvider, session: aiohttp.ClientSession, changes: dict[str, Any], mentions: str
) -> None:
    status, answer = await post(session, fake, FAST, fast_body(**changes))
    assert status == 400
    assert_error_body(answer, 400, "INVALID_REQUEST_BODY")
    assert mentions in answer["message"]
    assert fake.tasks == {}


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"start_image": ...}, "start_image"),
        ({"image_settings": ...}, "image_settings"),
        ({"image_settings": [{"key_image": data_uri()}]}, "image_settings"),
        ({"image_settings": [{"key_image": data_uri()}] * 10}, "image_settings"),
        ({"image_settings": [{"key_image": data_uri()}, {"prompt": "x"}]}, "image_settings[1].key_image"),
        ({"image_settings": [{"key_image": data_uri()}, {"key_image": data_uri(), "duration": 8}]}, "duration"),
        ({"image_settings": [{"key_image": data_uri()}, {"key_image": data_uri(), "duration": 1}]}, "duration"),
        ({"image_settings": [{"key_image": data_uri()}, {"key_image": data_uri(), "prompt": "x" * 2001}]}, "prompt"),
        ({"image_settings": [{"key_image": data_uri()}, "frame"]}, "image_settings[1]"),
        ({"resolution": "4k"}, "resolution"),
        ({"wm_position": "middle"}, "wm_position"),
        ({"watermark": "yes"}, "watermark"),
        ({"payload": "x" * 1_048_577}, "payload"),
        ({"meta_data": {"a": 1}}, "meta_data"),
        ({"meta_data": "{broken"}, "meta_data"),
        ({"images": [data_uri()]}, "images"),
    ],
)
async def test_multiframe_body_is_strict(
    fake: FakeProvider, session: aiohttp.ClientSession, changes: dict[str, Any], mentions: str
) -> None:
    status, answer = await post(session, fake, MULTI, multi_body(**changes))
    assert status == 400
    assert_error_body(answer, 400, "INVALID_REQUEST_BODY")
    assert mentions in answer["message"]
    assert fake.tasks == {}


async def test_body_must_be_a_json_object(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    for body in (b"{not json", b"[1, 2]", b""):
        status, answer = await post(session, fake, FAST, body)
        assert status == 400
        assert_error_body(answer, 400, "INVALID_REQUEST_BODY")


async def test_body_over_20_mb_is_refused(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    status, answer = await post(session, fake, MULTI, multi_body(payload="x" * (21 * 1024 * 1024)))
    assert status == 400
    assert "body" in answer["message"]


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (data_uri(fmt="GIF", mime="png"), "INVALID_IMAGE_FORMAT"),
        (data_uri(fmt="BMP", mime="png"), "INVALID_IMAGE_FORMAT"),
        ("data:image/gif;base64," + base64.b64encode(image_bytes(fmt="GIF")).decode(), "INVALID_IMAGE_FORMAT"),
        ("data:image/png;base64,@@@@", "INVALID_IMAGE_FORMAT"),
        ("data:image/png;base64," + base64.b64encode(b"\x89PNG but broken").decode(), "INVALID_IMAGE_FORMAT"),
        ("data:text/plain;base64,aGk=", "INVALID_IMAGE_FORMAT"),
        (data_uri(400, 100), "INVALID_IMAGE_SIZE"),
        (data_uri(100, 400), "INVALID_IMAGE_SIZE"),
        (data_uri(401, 100), "INVALID_IMAGE_SIZE"),
        ("https://example.com/a.png", "INVALID_IMAGE_FORMAT"),
        ("http://10.0.0.1/a.png", "INVALID_IMAGE_FORMAT"),
        ("ftp://127.0.0.1/a.png", "INVALID_IMAGE_FORMAT"),
    ],
    ids=[
        "gif-as-png",
        "bmp-as-png",
        "gif-mime",
        "bad-base64",
        "truncated-png",
        "not-image-mime",
        "exactly-4-to-1",
        "exactly-1-to-4",
        "wider-than-4-to-1",
        "internet-url",
        "private-url",
        "ftp-url",
    ],
)
async def test_images_are_checked(fake: FakeProvider, session: aiohttp.ClientSession, image: str, reason: str) -> None:
    status, answer = await post(session, fake, FAST, fast_body(images=[image]))
    assert status == 400
    assert_error_body(answer, 400, reason)
    # The multiframe endpoint checks key images the same way.
    status, answer = await post(
        session, fake, MULTI, multi_body(image_settings=[{"key_image": data_uri()}, {"key_image": image}])
    )
    assert status == 400
    assert answer["reason"] == reason
    assert "image_settings[1].key_image" in answer["message"]
    assert fake.tasks == {}


@pytest.mark.parametrize(("width", "height", "fmt"), [(399, 100, "PNG"), (100, 399, "JPEG"), (64, 64, "WEBP")])
async def test_images_inside_the_limits_pass(
    fake: FakeProvider, session: aiohttp.ClientSession, width: int, height: int, fmt: str
) -> None:
    status, _ = await post(session, fake, FAST, fast_body(images=[data_uri(width, height, fmt)]))
    assert status == 200


async def test_decoded_data_uri_over_10_mb_is_refused(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    image = "data:image/png;base64," + base64.b64encode(image_bytes() + bytes(10 * 1024 * 1024)).decode()
    status, answer = await post(session, fake, FAST, fast_body(images=[image]))
    assert status == 400
    assert_error_body(answer, 400, "IMAGE_FILE_EXCEEDS_MAX_SIZE")


async def test_loopback_image_urls_are_fetched(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    good = fake.add_image("ok.jpg", image_bytes(120, 90, "JPEG"))
    status, _ = await post(session, fake, FAST, fast_body(images=[good]))
    assert status == 200
    status, answer = await post(session, fake, FAST, fast_body(images=[f"{fake.origin}/images/missing.png"]))
    assert status == 400
    assert "unreachable" in answer["message"]


async def test_forbidden_prompt_is_illegal(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    status, answer = await post(session, fake, FAST, fast_body(prompt="A Forbidden dance"))
    assert status == 400
    assert_error_body(answer, 400, "ILLEGAL_PROMPT")
    settings = [{"key_image": data_uri()}, {"key_image": data_uri(), "prompt": "forbidden"}]
    status, answer = await post(session, fake, MULTI, multi_body(image_settings=settings))
    assert answer["reason"] == "ILLEGAL_PROMPT"
    status, _ = await post(session, fake, FAST, fast_body(prompt="unforbiddenly fine"))
    assert status == 200


async def test_unknown_model_is_model_not_found(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    status, answer = await post(session, fake, "async/vidu-q9-ultra", fast_body())
    assert status == 404
    assert_error_body(answer, 404, "MODEL_NOT_FOUND")


async def test_task_result_needs_key_and_task_id(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    url = f"{fake.base_url}/async/task-result"
    async with session.get(url, params={"task_id": "x"}) as resp:
        assert resp.status == 401
    async with session.get(url, headers=AUTH) as resp:
        assert resp.status == 400
        assert_error_body(await resp.json(), 400, "INVALID_REQUEST_BODY")
    async with session.get(url, params={"task_id": "nope"}, headers=AUTH) as resp:
        assert resp.status == 404
        assert_error_body(await resp.json(), 404, "TASK_NOT_FOUND")


async def test_task_result_has_documented_shape(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    fake.plan_next_task(queue_seconds=0, processing_seconds=0)
    _, answer = await post(session, fake, FAST, fast_body())
    url = f"{fake.base_url}/async/task-result"
    async with session.get(url, params={"task_id": answer["task_id"]}, headers=AUTH) as resp:
        result = await resp.json()
    assert set(result) == {"task", "videos", "images", "audios", "extra"}
    assert result["task"]["status"] == "TASK_STATUS_SUCCEED"
    assert result["videos"][0]["video_url_ttl"] == "3600"  # a string by default, as the provider sends
    assert result["videos"][0]["video_type"] == "mp4"


async def test_video_url_signature_is_checked(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    fake.plan_next_task(queue_seconds=0, processing_seconds=0)
    _, answer = await post(session, fake, FAST, fast_body())
    async with session.get(
        f"{fake.base_url}/async/task-result", params={"task_id": answer["task_id"]}, headers=AUTH
    ) as resp:
        video_url = (await resp.json())["videos"][0]["video_url"]
    async with session.get(video_url) as resp:
        assert resp.status == 200
    tampered = video_url[:-4] + ("0000" if not video_url.endswith("0000") else "1111")
    async with session.get(tampered) as resp:
        assert resp.status == 403
    async with session.get(video_url.split("?")[0]) as resp:
        assert resp.status == 403


async def test_requests_are_recorded_without_the_key(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    await post(session, fake, FAST, fast_body())
    await post(session, fake, FAST, fast_body(), headers={"Content-Type": "application/json"})
    assert [r.authorized for r in fake.requests] == [True, False]
    assert [r.status for r in fake.requests] == [200, 401]
    assert fake.requests[0].json == fast_body()
    assert API_KEY not in repr(fake.requests)


async def test_wm_url_is_fetched_like_an_image_and_must_be_a_url(
    fake: FakeProvider, session: aiohttp.ClientSession
) -> None:
    """wm_url is documented as a URL (data URIs are documented for the key images only): the fake fetches it
    and checks the picture, and refuses a data URI there."""
    logo = fake.add_image("logo.png", image_bytes(64, 64, "PNG"))
    status, _ = await post(session, fake, MULTI, multi_body(watermark=True, wm_url=logo, wm_position="top_right"))
    assert status == 200
    for wm_url, says in ((f"{fake.origin}/images/gone.png", "unreachable"), (data_uri(), "http(s) image URL")):
        status, answer = await post(session, fake, MULTI, multi_body(watermark=True, wm_url=wm_url))
        assert status == 400 and answer["reason"] == "INVALID_IMAGE_FORMAT"
        assert "wm_url" in answer["message"] and says in answer["message"]
