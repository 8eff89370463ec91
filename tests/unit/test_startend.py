"""Start and end frame (issue 28 item 1): the request built from what a member typed follows the start-end
endpoint's own rules, and the two pictures are made to fit its pixel ratio (bot/media/pair.py)."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from bot.jobs.models import Job, JobKind
from bot.media import ImageLimits, prepare_image
from bot.media.pair import fit_pair, pixel_ratio
from bot.params import StartEndParams, params_from_json
from bot.pricing import parse_price_table
from bot.provider import RequestValidationError, StartEndRequest
from bot.requests import InputProblem, keyframes_params, keyframes_request, provider_request
from tests.unit.images import encode, marked, noise

URL = "https://cdn.example.com/a.png"
END = "https://cdn.example.com/b.png"


def test_a_start_and_one_end_picture_is_a_start_end_request_with_the_endpoints_own_values() -> None:
    request = keyframes_request(URL, [END], prompts="she turns round", durations="8", resolution="1080p",
                                movement="high")
    assert isinstance(request, StartEndRequest)
    assert request.ENDPOINT == "async/vidu-q2-turbo-startend2video"
    assert request.to_json() == {"images": [URL, END], "prompt": "she turns round", "duration": 8,
                                 "resolution": "1080p", "movement_amplitude": "large", "bgm": False,
                                 "watermark": False}


def test_the_server_watermark_goes_by_number_and_the_job_rides_along() -> None:
    params = StartEndParams(prompt=None, duration=3)
    for corner, number in (("top_left", 1), ("top_right", 2), ("bottom_right", 3), ("bottom_left", 4)):
        body = provider_request(params, [URL, END], job_id="ABCD1234",
                                server_mark=("https://cdn.example.com/mark.png", corner)).to_json()
        assert (body["watermark"], body["wm_url"], body["wm_position"]) == (True, "https://cdn.example.com/mark.png",
                                                                            number)
        assert json.loads(body["meta_data"]) == {"job_id": "ABCD1234"} and "prompt" not in body


@pytest.mark.parametrize(("durations", "message"), [("0", "0 s is outside 1–8 s"), ("9", "9 s is outside 1–8 s"),
                                                    ("4,5", "2 durations given for 1 segment ")])
def test_start_end_durations_take_the_endpoints_range(durations: str, message: str) -> None:
    with pytest.raises(InputProblem, match=message):
        keyframes_params(1, prompts=None, durations=durations, resolution="720p")
    assert keyframes_params(1, prompts=None, durations="1", resolution="720p") == StartEndParams(duration=1)


def test_movement_with_more_keyframes_is_refused_not_dropped() -> None:
    with pytest.raises(InputProblem) as problem:
        keyframes_params(2, prompts=None, durations=None, resolution="720p", movement="high")
    assert problem.value.text("zh-CN") == "运动幅度：只适用于起始帧和结束帧两张图片（一个关键帧）"


def test_the_request_refuses_what_the_endpoint_refuses() -> None:
    for field, changes in (("duration", {"duration": 9}), ("movement_amplitude", {"movement_amplitude": "high"}),
                           ("wm_position", {"wm_position": 5}), ("prompt", {"prompt": "x" * 2001}),
                           ("images[1]", {"end_image": "data:image/gif;base64,AAAA"})):
        with pytest.raises(RequestValidationError) as error:
            StartEndRequest(**{"start_image": URL, "end_image": END, **changes})  # type: ignore[arg-type]
        assert error.value.field == field


def test_stored_start_end_settings_read_back_and_make_the_same_request() -> None:
    params = StartEndParams(prompt="a wave", duration=6, resolution="540p", movement="small", watermark=True)
    stored = params.to_json()
    assert params_from_json("startend", stored) == params
    job = Job.new(guild_id=1, channel_id=2, user_id=3, kind=JobKind.STARTEND, params=params, resolution="540p",
                  duration_seconds=6)
    assert provider_request(job.params, [URL, END]) == provider_request(params_from_json("startend", stored),
                                                                        [URL, END])


def test_start_end_is_priced_as_its_own_kind() -> None:
    table = parse_price_table("img2video=0.04+0.01/s,multiframe=0.075+0.05/s,startend=0.2+0.1/s,"
                              "540p=x1,720p=x1,1080p=x2")
    assert table.credits("startend", "720p", 5) == 700
    assert table.credits("startend", "1080p", 5) == 1400
    assert table.credits("img2video", "720p", 5) == 90  # the others keep theirs


# ------------------------------------------------------------------ fitting the two pictures
def prepared(size: tuple[int, int], fmt: str = "PNG", picture: Image.Image | None = None):  # type: ignore[no-untyped-def]
    return prepare_image(encode(picture or marked(size), fmt), f"p.{fmt.lower()}", ImageLimits())


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        return im.size


@pytest.mark.parametrize(("start", "end"), [((1280, 720), (640, 360)), ((400, 300), (1600, 1200)),
                                            ((300, 600), (1200, 800))])
def test_pictures_out_of_ratio_are_fitted_by_enlarging_the_smaller_one(start: tuple[int, int],
                                                                       end: tuple[int, int]) -> None:
    a, b = prepared(start), prepared(end, "JPEG")
    fitted_start, fitted_end, fitted = fit_pair(a, b, 10 * 1024 * 1024)
    assert fitted is not None
    small = 0 if start[0] * start[1] < end[0] * end[1] else 1
    assert fitted.which == small and fitted.before == (start, end)[small]
    new_sizes = (size_of(fitted_start.data), size_of(fitted_end.data))
    assert 0.8 <= pixel_ratio(*new_sizes) <= 1.25
    assert new_sizes[small] == fitted.after and new_sizes[1 - small] == (start, end)[1 - small]  # the other as it was
    w, h = fitted.after  # its own shape kept
    assert abs(w / h - fitted.before[0] / fitted.before[1]) < 0.01
    assert (fitted_start, fitted_end)[1 - small] == (a, b)[1 - small]


def test_pictures_within_the_ratio_are_left_alone() -> None:
    a, b = prepared((1000, 500)), prepared((900, 500))
    assert fit_pair(a, b, 10 * 1024 * 1024) == (a, b, None)


def test_when_the_enlarged_picture_cannot_fit_the_budget_the_larger_one_is_made_smaller() -> None:
    big = prepared((1200, 900), picture=noise((1200, 900)))  # incompressible: enlarging the other would not fit
    small = prepared((300, 225), picture=noise((300, 225), seed=2))
    start, end, fitted = fit_pair(small, big, 150 * 1024)
    assert fitted is not None and fitted.which == 1
    assert 0.8 <= pixel_ratio(size_of(start.data), size_of(end.data)) <= 1.25
    assert start == small
