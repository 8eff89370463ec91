"""Prompts and durations typed by members: one for all segments or one per segment, else a clear error."""

from __future__ import annotations

import pytest

from bot.requests import (
    REQUEST_IMAGE_BUDGET,
    InputProblem,
    check_keyframe_count,
    image_budget,
    split_durations,
    split_prompts,
)


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
                                                ("2 7 2", [2, 7, 2])])
def test_durations(text: str | None, expected: list[int]) -> None:
    assert split_durations(text, 3) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("4,5", "2 durations given for 3 segments"), ("4,x,5", "'x' is not a whole number"),
     ("8", "8 s is outside 2–7 s"), ("1,5,5", "1 s is outside"), ("4.5", "'4.5' is not a whole number")],
)
def test_bad_durations_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(InputProblem) as err:
        split_durations(text, 3)
    assert err.value.field == "durations"
    assert message in str(err.value)


@pytest.mark.parametrize("count", [0, 1, 10])
def test_keyframe_count_outside_2_to_9_is_refused(count: int) -> None:
    with pytest.raises(InputProblem, match=f"{count} keyframes given; a video needs 2 to 9"):
        check_keyframe_count(count)


def test_ten_images_share_the_request_body_budget() -> None:
    per_image = image_budget(10 * 1024 * 1024, 10)
    assert per_image * 10 <= REQUEST_IMAGE_BUDGET
    assert image_budget(10 * 1024 * 1024, 1) == 10 * 1024 * 1024
