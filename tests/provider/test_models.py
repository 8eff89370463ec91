"""Request objects refuse what the provider would refuse, naming the field; results parse leniently."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.provider import (
    Img2VideoRequest,
    KeyframeSetting,
    MultiframeRequest,
    RequestValidationError,
    TaskResult,
    TaskStatus,
)
from bot.provider.models import SubmitResult, Video
from tests.provider.conftest import data_uri

URL = "https://cdn.example.com/a.png"


def fast(**changes: Any) -> Img2VideoRequest:
    fields: dict[str, Any] = {"image": URL, "prompt": "a cat walks"}
    fields.update(changes)
    return Img2VideoRequest(**fields)


def multi(count: int = 2, **changes: Any) -> MultiframeRequest:
    fields: dict[str, Any] = {
        "start_image": URL,
        "image_settings": tuple(KeyframeSetting(key_image=URL) for _ in range(count)),
    }
    fields.update(changes)
    return MultiframeRequest(**fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"image": "ftp://example.com/a.png"}, "images[0]"),
        ({"image": "not a url"}, "images[0]"),
        ({"image": "data:image/gif;base64,R0lGOD=="}, "images[0]"),
        ({"image": "data:image/png;base64,"}, "images[0]"),
        ({"image": 42}, "images[0]"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"prompt": None}, "prompt"),
        ({"duration": 0}, "duration"),
        ({"duration": 11}, "duration"),
        ({"duration": "5"}, "duration"),
        ({"duration": True}, "duration"),
        ({"duration": 5.0}, "duration"),
        ({"resolution": "540p"}, "resolution"),
        ({"resolution": "4k"}, "resolution"),
        ({"movement_amplitude": "huge"}, "movement_amplitude"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**31}, "seed"),
        ({"seed": "7"}, "seed"),
        ({"audio": "yes"}, "audio"),
        ({"bgm": 1}, "bgm"),
        ({"off_peak": None}, "off_peak"),
        ({"watermark": "false"}, "watermark"),
        ({"voice_id": ""}, "voice_id"),
    ],
)
def test_fast_request_refuses_bad_field_and_names_it(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        fast(**changes)
    assert caught.value.field == field
    assert field in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start_image": "file:///etc/passwd"}, "start_image"),
        ({"image_settings": ()}, "image_settings"),
        ({"image_settings": (KeyframeSetting(key_image=URL),)}, "image_settings"),
        ({"image_settings": tuple(KeyframeSetting(key_image=URL) for _ in range(10))}, "image_settings"),
        ({"image_settings": [KeyframeSetting(key_image=URL)] * 2}, "image_settings"),
        ({"image_settings": (KeyframeSetting(key_image=URL), "x")}, "image_settings[1]"),
        ({"resolution": "480p"}, "resolution"),
        ({"watermark": "no"}, "watermark"),
        ({"wm_url": "nope"}, "wm_url"),
        ({"wm_position": "center"}, "wm_position"),
        ({"payload": "x" * 1_048_577}, "payload"),
        ({"payload": 5}, "payload"),
        ({"meta_data": "{not json"}, "meta_data"),
        ({"meta_data": {"a": 1}}, "meta_data"),
    ],
)
def test_multiframe_request_refuses_bad_field_and_names_it(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        multi(**changes)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"durations": [5, 5, 1]}, "image_settings[2].duration"),
        ({"durations": [8, 5, 5]}, "image_settings[0].duration"),
        ({"prompts": [None, "x" * 2001, None]}, "image_settings[1].prompt"),
        ({"key_images": [URL, URL, "bad"]}, "image_settings[2].key_image"),
        ({"durations": [5, 5]}, "image_settings"),
        ({"prompts": ["a"]}, "image_settings"),
    ],
)
def test_multiframe_build_names_the_keyframe_position(kwargs: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"key_images": [URL, URL, URL]}
    arguments.update(kwargs)
    with pytest.raises(RequestValidationError) as caught:
        MultiframeRequest.build(URL, **arguments)
    assert caught.value.field == field


def test_keyframe_setting_alone_refuses_bad_duration() -> None:
    with pytest.raises(RequestValidationError) as caught:
        KeyframeSetting(key_image=URL, duration=8)
    assert caught.value.field == "duration"


def test_validation_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="duration"):
        fast(duration=99)


def test_requests_are_frozen() -> None:
    request = fast()
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.duration = 99  # type: ignore[misc]


def test_fast_to_json_matches_documented_body_and_omits_none() -> None:
    body = fast(duration=7, resolution="1080p", movement_amplitude="high", audio=True).to_json()
    assert body == {
        "images": [URL],
        "prompt": "a cat walks",
        "duration": 7,
        "resolution": "1080p",
        "movement_amplitude": "high",
        "audio": True,
        "bgm": False,
        "off_peak": False,
        "watermark": False,
    }
    with_seed = fast(seed=0, voice_id="v1").to_json()
    assert with_seed["seed"] == 0
    assert with_seed["voice_id"] == "v1"
    assert Img2VideoRequest.ENDPOINT == "async/vidu-q2-pro-fast-img2video"


def test_multiframe_to_json_and_total_duration() -> None:
    image = data_uri()
    request = MultiframeRequest.build(
        image,
        [URL, image, URL],
        prompts=["walk", None, "run"],
        durations=[2, 7, 4],
        resolution="540p",
        meta_data='{"job": 12}',
    )
    body = request.to_json()
    assert request.total_duration == 13
    assert body["start_image"] == image
    assert body["image_settings"] == [
        {"key_image": URL, "duration": 2, "prompt": "walk"},
        {"key_image": image, "duration": 7},
        {"key_image": URL, "duration": 4, "prompt": "run"},
    ]
    assert body["resolution"] == "540p"
    assert body["meta_data"] == '{"job": 12}'
    assert "wm_url" not in body
    assert "payload" not in body
    assert MultiframeRequest.ENDPOINT == "async/vidu-q2-pro-multiframe"


def test_multiframe_accepts_the_boundaries() -> None:
    assert multi(count=9).total_duration == 45
    assert multi(payload="x" * 1_048_576, wm_position="top_left", watermark=True).payload is not None
    assert fast(seed=2**31 - 1, duration=10, prompt="x" * 2000).seed == 2**31 - 1


def test_request_repr_does_not_dump_data_uris() -> None:
    image = data_uri(400, 300)
    assert len(repr(fast(image=image))) < 300
    assert len(repr(MultiframeRequest.build(image, [image, image]))) < 300


def test_task_result_parses_documented_body() -> None:
    result = TaskResult.from_json(
        {
            "task": {
                "task_id": "t1",
                "status": "TASK_STATUS_SUCCEED",
                "reason": "",
                "task_type": "VIDU",
                "eta": 0,
                "progress_percent": 100,
            },
            "videos": [{"video_url": "https://x/v.mp4?sig=s", "video_url_ttl": "1800", "video_type": "mp4"}],
        }
    )
    assert result.status is TaskStatus.SUCCEED
    assert result.is_final
    assert result.eta is None  # zero means "not given"
    assert result.progress_percent == 100
    assert result.videos[0].ttl_seconds == 1800
    assert "sig=s" not in repr(result.videos[0])


@pytest.mark.parametrize(
    ("obj", "status", "eta", "progress", "ttl"),
    [
        ({}, TaskStatus.UNKNOWN, None, None, None),
        (None, TaskStatus.UNKNOWN, None, None, None),
        ([1, 2], TaskStatus.UNKNOWN, None, None, None),
        ({"task": "oops"}, TaskStatus.UNKNOWN, None, None, None),
        ({"task": {"status": "TASK_STATUS_EXPLODED"}}, TaskStatus.UNKNOWN, None, None, None),
        (
            {"task": {"status": "PROCESSING", "eta": "40", "progress_percent": "35"}},
            TaskStatus.PROCESSING,
            40,
            35,
            None,
        ),
        (
            {"task": {"status": "TASK_STATUS_QUEUED", "eta": "soon", "progress_percent": -3}},
            TaskStatus.QUEUED,
            None,
            None,
            None,
        ),
        ({"task": {"status": 3, "eta": 12.7, "progress_percent": 250}}, TaskStatus.UNKNOWN, 12, 100, None),
        (
            {
                "task": {"status": "TASK_STATUS_SUCCEED"},
                "videos": [{"video_url": "https://v", "video_url_ttl": 60}],
            },
            TaskStatus.SUCCEED,
            None,
            None,
            60,
        ),
        (
            {
                "task": {"status": "TASK_STATUS_SUCCEED"},
                "videos": [{"video_url": "https://v", "video_url_ttl": "x"}],
            },
            TaskStatus.SUCCEED,
            None,
            None,
            3600,
        ),
        (
            {
                "task": {"status": "TASK_STATUS_SUCCEED"},
                "videos": [{"video_url": "https://v"}, {"no": "url"}, "junk"],
            },
            TaskStatus.SUCCEED,
            None,
            None,
            3600,
        ),
    ],
)
def test_task_result_parses_leniently(
    obj: Any, status: TaskStatus, eta: int | None, progress: int | None, ttl: int | None
) -> None:
    result = TaskResult.from_json(obj, default_task_id="asked")
    assert result.status is status
    assert result.eta == eta
    assert result.progress_percent == progress
    assert result.task_id == "asked"
    if ttl is None:
        assert result.videos == ()
    else:
        assert len(result.videos) == 1
        assert result.videos[0].ttl_seconds == ttl
        assert result.videos[0].video_type == "mp4"


def test_failed_result_is_final_and_keeps_reason() -> None:
    result = TaskResult.from_json({"task": {"task_id": "t9", "status": "TASK_STATUS_FAILED", "reason": "NSFW"}})
    assert result.is_final
    assert result.reason == "NSFW"
    assert result.task_id == "t9"
    assert not TaskResult.from_json({"task": {"status": "TASK_STATUS_QUEUED"}}).is_final


# ------------------------------------------------------------------ every documented choice is accepted and sent
@pytest.mark.parametrize("movement", ["auto", "small", "medium", "high"])
@pytest.mark.parametrize("resolution", ["720p", "1080p"])
def test_every_documented_movement_and_fast_resolution_is_sent_as_chosen(movement: str, resolution: str) -> None:
    body = fast(movement_amplitude=movement, resolution=resolution).to_json()
    assert (body["movement_amplitude"], body["resolution"]) == (movement, resolution)


@pytest.mark.parametrize("position", ["top_left", "top_right", "bottom_right", "bottom_left"])
@pytest.mark.parametrize("resolution", ["540p", "720p", "1080p"])
def test_every_multiframe_resolution_and_watermark_position_is_sent_as_chosen(position: str, resolution: str) -> None:
    body = multi(resolution=resolution, watermark=True, wm_position=position).to_json()
    assert (body["resolution"], body["watermark"], body["wm_position"]) == (resolution, True, position)


def test_a_one_second_fast_video_is_accepted() -> None:
    assert fast(duration=1).to_json()["duration"] == 1


def test_defaults_are_sent_as_the_provider_documents_them() -> None:
    assert fast().to_json() == {"images": [URL], "prompt": "a cat walks", "duration": 5, "resolution": "720p",
                                "movement_amplitude": "auto", "audio": False, "bgm": False, "off_peak": False,
                                "watermark": False}
    assert multi().to_json() == {"start_image": URL, "resolution": "720p", "watermark": False,
                                 "image_settings": [{"key_image": URL, "duration": 5}] * 2}
    built = MultiframeRequest.build(URL, [URL, URL, URL])  # no durations given: 5 s a segment
    assert [s["duration"] for s in built.to_json()["image_settings"]] == [5, 5, 5]


def test_a_watermark_and_a_pass_through_payload_that_are_set_are_sent() -> None:
    image = data_uri()
    body = multi(watermark=True, wm_url=image, wm_position="top_right", payload="order-42",
                 meta_data='{"job": 12}').to_json()
    assert {k: body[k] for k in ("watermark", "wm_url", "wm_position", "payload", "meta_data")} == {
        "watermark": True, "wm_url": image, "wm_position": "top_right", "payload": "order-42",
        "meta_data": '{"job": 12}'}


def test_an_upper_case_url_is_an_url() -> None:
    assert fast(image="HTTPS://CDN.EXAMPLE.COM/A.PNG").image == "HTTPS://CDN.EXAMPLE.COM/A.PNG"


@pytest.mark.parametrize(("value", "shown"), [
    ("x" * 60, "'" + "x" * 60 + "'"),
    ("y" * 61, "'" + "y" * 60 + "…'"),
])
def test_a_value_that_is_no_url_is_shown_in_the_error_cut_at_60_characters(value: str, shown: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        fast(image=value)
    assert caught.value.message == f"must be an http(s) URL or an image data URI, got {shown}"


@pytest.mark.parametrize(("content", "accepted"), [("QUJDRA==", True), ("QUJD", True),
                                                   ("XXXX", True), ("QUJD===", False), ("====", False)])
def test_base64_padding_of_a_data_uri(content: str, accepted: bool) -> None:
    image = f"data:image/png;base64,{content}"
    if accepted:
        assert fast(image=image).image == image
    else:
        with pytest.raises(RequestValidationError):
            fast(image=image)


def test_requests_and_results_cannot_change_once_checked() -> None:
    video = Video.from_json({"video_url": "https://v"})
    assert video is not None
    values: list[tuple[Any, str]] = [
        (KeyframeSetting(key_image=URL), "duration"), (multi(), "resolution"), (video, "url"),
        (TaskResult.from_json({}), "status"), (SubmitResult("t1"), "task_id")]
    for value, name in values:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, None)


def test_log_lines_name_requests_without_their_data() -> None:
    image = data_uri(4, 4)
    long_url = "https://cdn.example.com/" + "p" * 100
    assert repr(KeyframeSetting(key_image=URL)) == f"KeyframeSetting(key_image='{URL}', prompt=None, duration=5)"
    assert repr(KeyframeSetting(key_image=image, prompt="q" * 50, duration=3)) == (
        f"KeyframeSetting(key_image=<data:image/png;base64 {len(image)} chars>, prompt='{'q' * 40}', duration=3)")
    assert repr(fast(image=long_url)) == (
        f"Img2VideoRequest(image='{long_url[:80]}', prompt='a cat walks', duration=5, resolution='720p')")


# ------------------------------------------------------------------ results: what the bot takes from the answer
def test_every_field_of_a_result_is_read_and_missing_ones_are_neutral() -> None:
    full = TaskResult.from_json({"task": {"task_id": "t1", "status": "TASK_STATUS_PROCESSING", "reason": "busy",
                                          "task_type": "VIDU", "eta": 1, "progress_percent": 1},
                                 "videos": [{"video_url": "https://x/v.gif", "video_type": "gif"}]})
    assert (full.task_id, full.reason, full.task_type, full.eta, full.progress_percent) == ("t1", "busy", "VIDU", 1, 1)
    assert full.videos == (Video(url="https://x/v.gif", ttl_seconds=3600, video_type="gif"),)
    empty = TaskResult.from_json({"task": {"task_id": "", "reason": 7, "task_type": 7}})
    assert (empty.task_id, empty.reason, empty.task_type, empty.status) == ("", "", "", TaskStatus.UNKNOWN)
    assert TaskResult.from_json({"task": {"task_id": ""}}, default_task_id="asked").task_id == "asked"
    assert str(TaskStatus.UNKNOWN) == "UNKNOWN"  # what the job keeps as the provider's status


def test_link_lifetimes_are_clamped_to_a_week_and_etas_to_72_hours() -> None:
    result = TaskResult.from_json({"task": {"status": "TASK_STATUS_QUEUED", "eta": 10**12},
                                   "videos": [{"video_url": "https://v", "video_url_ttl": 10**12}]})
    assert (result.eta, result.videos[0].ttl_seconds) == (72 * 3600, 7 * 24 * 3600)
    just_in = TaskResult.from_json({"task": {"eta": 72 * 3600 - 1},
                                    "videos": [{"video_url": "https://v", "video_url_ttl": 7 * 24 * 3600 - 1}]})
    assert (just_in.eta, just_in.videos[0].ttl_seconds) == (72 * 3600 - 1, 7 * 24 * 3600 - 1)


@pytest.mark.parametrize(("url", "kept"), [
    ("https://cdn.example.com/v.mp4", True), ("http://cdn.example.com/v.mp4", True),
    ("ftp://cdn.example.com/v.mp4", False), ("https:///v.mp4", False), ("file:///etc/passwd", False),
    ("//cdn.example.com/v.mp4", False), ("tps://cdn.example.com/v.mp4", False), (42, False), ("", False),
])
def test_only_an_http_link_counts_as_a_video(url: object, kept: bool) -> None:
    assert (Video.from_json({"video_url": url}) is not None) is kept
