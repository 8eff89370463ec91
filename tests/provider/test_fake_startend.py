"""The strict fake models the start-end endpoint (provider-api.md "Start and end frame") and refuses what its
page refuses: not exactly two pictures, pixel counts out of 0.8-1.25 of each other, a duration outside 1-8, a
movement or a watermark position it does not name, a prompt over 2000 characters, a bad data URI. Raw HTTP, as
the other strictness tests: a lenient fake would hide a sloppy client."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.fakes.provider import FakeProvider
from tests.provider.conftest import data_uri
from tests.provider.test_fake_strictness import assert_error_body, post

STARTEND = "async/vidu-q2-turbo-startend2video"


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"images": [data_uri(64, 48), data_uri(60, 50)], "prompt": "she turns round",
                            "duration": 5}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


async def test_a_start_and_an_end_picture_make_a_task(fake: FakeProvider, session: aiohttp.ClientSession) -> None:
    status, answer = await post(session, fake, STARTEND, body(
        resolution="540p", movement_amplitude="large", wm_position=1, watermark=True, seed=3, bgm=True,
        prompt="", meta_data='{"job_id": "X"}', payload="p", duration=8))
    assert status == 200, answer
    task = fake.tasks[answer["task_id"]]
    assert task.endpoint == "vidu-q2-turbo-startend2video"
    # Exactly at the ratio's edges (64x50 to 80x50 is 0.8; 80x50 to 64x50 is 1.25) still passes.
    for start, end in (((64, 50), (80, 50)), ((80, 50), (64, 50))):
        status, answer = await post(session, fake, STARTEND, body(images=[data_uri(*start), data_uri(*end)]))
        assert status == 200, answer


@pytest.mark.parametrize(
    ("changes", "reason", "mentions"),
    [
        ({"images": [data_uri()]}, "INVALID_REQUEST_BODY", "exactly 2"),
        ({"images": [data_uri()] * 3}, "INVALID_REQUEST_BODY", "exactly 2"),
        ({"images": ...}, "INVALID_REQUEST_BODY", "images"),
        ({"images": [data_uri(64, 48), data_uri(128, 96)]}, "INVALID_IMAGE_SIZE", "0.8..1.25"),
        ({"images": [data_uri(128, 96), data_uri(64, 48)]}, "INVALID_IMAGE_SIZE", "0.8..1.25"),
        ({"images": [data_uri(64, 48), "data:image/gif;base64,R0lGOD=="]}, "INVALID_IMAGE_FORMAT", "images[1]"),
        ({"images": [data_uri(64, 48), "data:image/png;base64,@@@"]}, "INVALID_IMAGE_FORMAT", "images[1]"),
        ({"images": [data_uri(64, 48), 7]}, "INVALID_REQUEST_BODY", "images[1]"),
        ({"duration": 0}, "INVALID_REQUEST_BODY", "duration"),
        ({"duration": 9}, "INVALID_REQUEST_BODY", "duration"),
        ({"movement_amplitude": "high"}, "INVALID_REQUEST_BODY", "movement_amplitude"),
        ({"wm_position": "top_left"}, "INVALID_REQUEST_BODY", "wm_position"),
        ({"wm_position": 5}, "INVALID_REQUEST_BODY", "wm_position"),
        ({"resolution": "360p"}, "INVALID_REQUEST_BODY", "resolution"),
        ({"prompt": "x" * 2001}, "INVALID_REQUEST_BODY", "prompt"),
        ({"start_image": data_uri()}, "INVALID_REQUEST_BODY", "start_image"),
        ({"meta_data": "{not json"}, "INVALID_REQUEST_BODY", "meta_data"),
    ],
    ids=["one-image", "three-images", "no-images", "ratio-low", "ratio-high", "gif", "bad-base64", "not-a-string",
         "duration-0", "duration-9", "movement-high", "position-name", "position-5", "resolution", "prompt-long",
         "unknown-field", "meta-data"],
)
async def test_what_the_page_refuses_is_refused(fake: FakeProvider, session: aiohttp.ClientSession,
                                                changes: dict[str, Any], reason: str, mentions: str) -> None:
    status, answer = await post(session, fake, STARTEND, body(**changes))
    assert status == 400, answer
    assert_error_body(answer, 400, reason)
    assert mentions in answer["message"]
    assert fake.tasks == {}
