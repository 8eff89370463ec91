"""Prompts and durations typed by members: one for all segments or one per segment, else a clear error."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.params import Img2VideoParams, MultiframeParams, params_from_json
from bot.provider import MultiframeRequest, RequestValidationError
from bot.provider.body import encode_json
from bot.requests import (
    REQUEST_IMAGE_BUDGET,
    InputProblem,
    check_keyframe_count,
    image_budget,
    keyframes_request,
    provider_request,
    split_durations,
    split_prompts,
)

URL = "https://cdn.example.com/a.png"


def test_one_prompt_applies_to_every_segment() -> None:
    assert split_prompts("a cat walks", 3) == ["a cat walks"] * 3


def test_one_prompt_per_segment_keeps_order_and_blank_means_none() -> None:
    assert split_prompts(" a | | c ", 3) == ["a", None, "c"]


def test_no_prompt_leaves_segments_free() -> None:
    assert split_prompts(None, 2) == [None, None]
    assert split_prompts("   ", 2) == [None, None]


def test_prompt_count_mismatch_says_both_counts() -> None:
    with pytest.raises(InputProblem) as err:
        split_prompts("a|b", 3)
    assert err.value.field == "prompts"
    assert "2 prompts given for 3 segments" in str(err.value)


@pytest.mark.parametrize(("text", "expected"), [(None, [5, 5, 5]), ("4", [4, 4, 4]), ("4,5,3", [4, 5, 3]),
                                                ("2 7 2", [2, 7, 2]), ("٣,５,4", [3, 5, 4]),
                                                # typed on a Chinese keyboard
                                                ("4，5，3", [4, 5, 3]), ("4、5、3", [4, 5, 3]), ("4；5；3", [4, 5, 3]),
                                                ("４，５，３", [4, 5, 3]), ("4，5,3", [4, 5, 3]),
                                                ("4\u30005\u30003", [4, 5, 3])])
def test_durations(text: str | None, expected: list[int]) -> None:
    assert split_durations(text, 3) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("4,5", "2 durations given for 3 segments"), ("4,x,5", '"x" is not a whole number'),
     ("8", "8 s is outside 2–7 s"), ("1,5,5", "1 s is outside"), ("4.5", '"4.5" is not a whole number'),
     ("4,²,5", '"²" is not a whole number'), ("½", '"½" is not a whole number'), ("五", '"五" is not a whole number'),
     ("-4", '"-4" is not a whole number'), ("٣" * 5000, "is not a whole number")],
)
def test_bad_durations_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(InputProblem) as err:
        split_durations(text, 3)
    assert err.value.field == "durations"
    assert message in str(err.value)


def test_prompts_split_on_the_full_width_bar_too() -> None:
    assert split_prompts("走进来｜坐下", 2) == ["走进来", "坐下"]
    assert split_prompts("walks in | sits down", 2) == ["walks in", "sits down"]


@pytest.mark.parametrize(("count", "given"), [(0, "0 keyframes"), (10, "10 keyframes")])
def test_keyframe_count_other_than_1_or_2_to_9_is_refused(count: int, given: str) -> None:
    with pytest.raises(InputProblem, match=rf"{given} given; give 1 \(an end picture\) or 2 to 9"):
        check_keyframe_count(count)


def test_ten_images_share_the_request_body_budget() -> None:
    per_image = image_budget(10 * 1024 * 1024, 10)
    assert per_image * 10 <= REQUEST_IMAGE_BUDGET
    assert image_budget(10 * 1024 * 1024, 1) == 10 * 1024 * 1024


# ------------------------------------------------------------------ what members and the CLI read
@pytest.mark.parametrize(
    ("make", "english", "chinese"),
    [
        (lambda: split_prompts("a|b", 3), "prompts: 2 prompts given for 3 segments (give one, or one per segment)",
         "提示词：有 3 个片段，但填写了 2 条提示词（请只填一条，或每个片段各填一条）"),
        (lambda: split_durations("4,x", 2), "durations: \"x\" is not a whole number of seconds",
         "时长：“x” 不是整数秒"),
        (lambda: split_durations("4,²", 2), "durations: \"²\" is not a whole number of seconds",
         "时长：“²” 不是整数秒"),
        (lambda: split_durations("8", 2), "durations: 8 s is outside 2–7 s per segment",
         "时长：8 秒超出了每个片段 2–7 秒的范围"),
        (lambda: split_durations("4,5", 3),
         "durations: 2 durations given for 3 segments (give one, or one per segment)",
         "时长：有 3 个片段，但填写了 2 个时长（请只填一个，或每个片段各填一个）"),
        (lambda: check_keyframe_count(10), "keyframes: 10 keyframes given; give 1 (an end picture) or 2 to 9",
         "关键帧：填写了 10 个关键帧；请填写 1 个（结束帧）或 2 到 9 个"),
    ],
    ids=["prompt-count", "not-seconds", "superscript", "duration-range", "duration-count", "keyframe-count"],
)
def test_each_problem_reads_in_full_in_english_and_chinese(make: Callable[[], object], english: str,
                                                          chinese: str) -> None:
    with pytest.raises(InputProblem) as err:
        make()
    assert str(err.value) == english  # the CLI's line and the log's
    assert err.value.text("en-US") == english
    assert err.value.text("zh-CN") == chinese  # what a member with Discord in Chinese reads


def test_a_problem_raised_in_the_members_language_reads_as_it_was_written() -> None:
    problem = InputProblem("提示词", "每行一个片段")
    assert str(problem) == "提示词: 每行一个片段"  # the log's
    assert problem.text("zh-CN") == "提示词：每行一个片段"  # the member's, punctuated as their language is


@pytest.mark.parametrize("count", [2, 9])
def test_two_and_nine_keyframes_are_accepted(count: int) -> None:
    check_keyframe_count(count)
    request = keyframes_request(URL, [URL] * count, prompts=None, durations=None)
    assert len(request.image_settings) == count


@pytest.mark.parametrize("count", [0, 10])
def test_no_keyframe_or_ten_is_an_input_problem_naming_the_count(count: int) -> None:
    expected = rf"^keyframes: {count} keyframes given; give 1 \(an end picture\) or 2 to 9$"
    with pytest.raises(InputProblem, match=expected):
        keyframes_request(URL, [URL] * count, prompts=None, durations=None)


# ------------------------------------------------------------------ the request body's size
MIB = 1024 * 1024
BODY_CAP = 20_000_000  # ../shared/provider-api.md, "Images": the official API caps a whole request body at 20 MB


@pytest.mark.parametrize(("images", "each"), [(0, 10 * MIB), (1, 10 * MIB), (2, 9 * MIB), (3, 6 * MIB),
                                              (5, 3_774_873), (10, 1_887_436)])
def test_pictures_share_18_mib_of_the_body_each_within_its_own_budget(images: int, each: int) -> None:
    # IMAGE_DATA_URI_BUDGET (10 MiB by default) is each picture's own limit; together they keep to 18 MiB.
    assert image_budget(10 * MIB, images) == each


def test_no_picture_is_squeezed_below_256_kib() -> None:
    assert image_budget(100_000, 1) == 256 * 1024
    assert image_budget(2 * MIB, 10) == 1_887_436


def test_the_largest_request_a_member_can_make_fits_the_documented_body_cap() -> None:
    # Ten pictures at their full share and nine 2000-character prompts of characters JSON spells in six
    # bytes each (\u0001): the longest body the bot can send.
    share = image_budget(10 * MIB, 10)
    picture = "data:image/png;base64," + "A" * (share - len("data:image/png;base64,"))
    request = MultiframeRequest.build(picture, [picture] * 9, prompts=["\x01" * 2000] * 9, durations=[7] * 9,
                                      resolution="1080p", watermark=True)
    body = encode_json(request.to_json())
    assert len(body) <= BODY_CAP
    assert len(body) > BODY_CAP - 1_200_000  # and the pictures are not kept needlessly small


def test_the_documented_body_cap_is_still_20_mb() -> None:
    doc = Path(__file__).resolve().parents[3] / "shared" / "provider-api.md"
    if not doc.exists():
        pytest.skip("../shared/provider-api.md is not beside the checkout")
    assert "caps a whole request body at 20 MB" in " ".join(doc.read_text(encoding="utf-8").split())


# ------------------------------------------------------------------ stored parameters <-> the provider's request
def test_a_stored_img2video_job_asks_the_provider_for_what_the_member_chose() -> None:
    params = Img2VideoParams(prompt="a cat yawns", duration=7, resolution="1080p", movement="small", seed=42,
                             audio=True, bgm=True, off_peak=True, voice_id="narrator_01", watermark=True)
    stored = {"prompt": "a cat yawns", "duration": 7, "resolution": "1080p", "movement": "small",
              "seed": 42, "audio": True, "bgm": True, "off_peak": True, "voice_id": "narrator_01", "watermark": True}
    assert params.to_json() == stored and params_from_json("img2video", stored) == params
    request = provider_request(params, [URL], job_id="JOB12345")  # the fast endpoint has no field to carry it
    assert request.ENDPOINT == "async/vidu-q2-pro-fast-img2video"
    assert request.to_json() == {"images": [URL], "prompt": "a cat yawns", "duration": 7, "resolution": "1080p",
                                 "movement_amplitude": "small", "seed": 42, "audio": True, "bgm": True,
                                 "off_peak": True, "watermark": True, "voice_id": "narrator_01"}


def test_an_img2video_job_with_the_defaults_and_one_stored_before_audio_existed() -> None:
    params = Img2VideoParams(prompt="waves")
    assert params.to_json() == {"prompt": "waves", "duration": 5, "resolution": "720p", "movement": "auto",
                                "seed": None, "audio": False, "bgm": False, "off_peak": False, "voice_id": None,
                                "watermark": False}
    expected = {"images": [URL], "prompt": "waves", "duration": 5, "resolution": "720p",
                "movement_amplitude": "auto", "audio": False, "bgm": False, "off_peak": False, "watermark": False}
    assert provider_request(params, [URL]).to_json() == expected
    old = {"prompt": "waves", "duration": 5, "resolution": "720p", "movement": "auto"}  # stored before seed ... voice
    assert provider_request(params_from_json("img2video", old), [URL]).to_json() == expected


def test_a_stored_multiframe_job_asks_for_each_segment_as_typed() -> None:
    request = keyframes_request(URL, [URL + "?1", URL + "?2"], prompts="zoom in | pan left", durations="3,6",
                                 resolution="540p", watermark=True)
    params = MultiframeParams(prompts=("zoom in", "pan left"), durations=(3, 6), resolution="540p", watermark=True)
    stored = {"prompts": ["zoom in", "pan left"], "durations": [3, 6], "resolution": "540p", "watermark": True}
    assert params.to_json() == stored and params_from_json("multiframe", stored) == params
    rebuilt = provider_request(params, [URL, URL + "?1", URL + "?2"])
    assert rebuilt == request
    assert rebuilt.ENDPOINT == "async/vidu-q2-pro-multiframe"
    assert rebuilt.to_json() == {
        "start_image": URL, "resolution": "540p", "watermark": True,
        "image_settings": [{"key_image": URL + "?1", "prompt": "zoom in", "duration": 3},
                           {"key_image": URL + "?2", "prompt": "pan left", "duration": 6}]}


def test_multiframe_defaults_and_one_stored_before_watermarks_existed() -> None:
    request = keyframes_request(URL, [URL, URL], prompts=None, durations=None)
    assert (request.resolution, request.watermark) == ("720p", False)
    params = MultiframeParams(prompts=(None, None), durations=(5, 5))
    assert params.to_json() == {"prompts": [None, None], "durations": [5, 5], "resolution": "720p",
                                "watermark": False}
    old = {"prompts": [None, None], "durations": [5, 5], "resolution": "720p"}
    assert provider_request(params_from_json("multiframe", old), [URL, URL, URL]) == request


def test_an_unknown_job_kind_is_named() -> None:
    with pytest.raises(ValueError, match=r"^unknown job kind 'txt2video'$"):
        params_from_json("txt2video", {})


@pytest.mark.parametrize(("kind", "stored", "named"), [
    ("img2video", {"duration": 5, "resolution": "720p", "movement": "auto"}, "'prompt' is not text"),
    ("img2video", {"prompt": "p", "duration": "5", "resolution": "720p", "movement": "auto"}, "'duration'"),
    ("multiframe", {"prompts": "a|b", "durations": [5, 5], "resolution": "720p"}, "'prompts'"),
    ("multiframe", {"prompts": ["a", "b"], "durations": [5, 5.5], "resolution": "720p"}, "'durations'"),
])
def test_stored_settings_that_are_not_what_their_kind_holds_are_named(kind: str, stored: dict[str, object],
                                                                       named: str) -> None:
    with pytest.raises(ValueError, match=named):
        params_from_json(kind, stored)


def test_a_stored_job_whose_pictures_do_not_match_its_segments_is_never_sent_short() -> None:
    params = MultiframeParams(prompts=("a", "b", "c"), durations=(4, 4, 4))
    # three segments, two keyframes: no segment silently dropped
    with pytest.raises(RequestValidationError, match="3 prompts for 2 keyframes"):
        provider_request(params, [URL, URL + "?1", URL + "?2"])


def test_a_multiframe_job_carries_its_id_to_the_provider() -> None:
    params = MultiframeParams(prompts=("a", "b"), durations=(4, 5))
    request = provider_request(params, [URL, URL + "?1", URL + "?2"], job_id="JOB12345")
    body = request.to_json()
    assert json.loads(body["meta_data"]) == {"job_id": "JOB12345"} and "JOB12345" in body["payload"]
    assert "meta_data" not in provider_request(params, [URL, URL + "?1", URL + "?2"]).to_json()  # the CLI: no job


def test_a_voice_id_over_64_characters_is_refused_naming_the_field() -> None:
    with pytest.raises(RequestValidationError, match=r"voice_id.*65 characters"):
        provider_request(Img2VideoParams(prompt="hi", voice_id="v" * 65), [URL])
    assert provider_request(Img2VideoParams(prompt="hi", voice_id="v" * 64), [URL]).to_json()["voice_id"] == "v" * 64


def test_the_servers_watermark_sends_its_picture_and_its_position_and_turns_the_watermark_on() -> None:
    logo = "https://cdn.example.com/logo.png?ex=1"
    params = MultiframeParams(prompts=("a", "b"), durations=(4, 5), watermark=False)  # the member chose none
    body = provider_request(params, [URL, URL + "?1", URL + "?2"], server_mark=(logo, "bottom_left")).to_json()
    assert (body["watermark"], body["wm_url"], body["wm_position"]) == (True, logo, "bottom_left")
    unmarked = provider_request(params, [URL, URL + "?1", URL + "?2"]).to_json()
    assert unmarked["watermark"] is False and "wm_url" not in unmarked and "wm_position" not in unmarked
