"""A member's defaults against each kind of request (bot/member_settings.py): given options win, defaults fill
what was left out and are named, a default the kind cannot take is explained and the bot's own is used."""

from __future__ import annotations

import pytest

from bot.member_settings import IMG2VIDEO_RULES, MULTIFRAME_RULES, MemberSettings, choose, not_taken_by
from bot.params import Img2VideoParams, MultiframeParams
from bot.requests import InputProblem
from bot.ui.remix import edited_params, prompts_text

MINE = MemberSettings(resolution="1080p", duration=8, movement="high", private=True)


def test_what_the_request_gives_wins_and_defaults_fill_the_rest() -> None:
    c = choose(IMG2VIDEO_RULES, MINE, given={"resolution": "720p"})
    assert (c.resolution, c.duration, c.movement, c.private) == ("720p", 8, "high", True)
    assert c.from_settings == ("duration", "movement", "private")
    assert c.notes() == ("From your /settings: 8 s · movement high · private thread",)


def test_without_defaults_the_bot_s_own_apply_and_nothing_is_said() -> None:
    c = choose(IMG2VIDEO_RULES, MemberSettings())
    assert (c.resolution, c.duration, c.movement, c.private) == ("720p", 5, "auto", False)
    assert c.notes() == ()


def test_a_default_a_kind_cannot_take_is_explained_not_applied() -> None:
    c = choose(MULTIFRAME_RULES, MINE)  # 8 s is longer than a keyframes segment takes; keyframes have no movement
    assert c.duration == 5 and c.resolution == "1080p" and c.from_settings == ("resolution", "private")
    assert c.notes()[1] == ("Your default duration (8 s) was not used: a keyframes segment takes 2–7 s. "
                            "5 s instead.")
    one = choose(IMG2VIDEO_RULES, MemberSettings(resolution="540p"), locale="zh-CN")
    assert one.resolution == "720p"
    assert one.notes() == ("你的默认分辨率（540p）未被使用：单图视频可用 720p 或 1080p。改用 720p。",)


def test_show_says_which_kinds_do_not_take_a_value() -> None:
    assert not_taken_by(IMG2VIDEO_RULES, "resolution", "540p") == ("(not for a video from one picture: it takes "
                                                                    "720p or 1080p)")
    assert not_taken_by(MULTIFRAME_RULES, "resolution", "540p") is None
    assert not_taken_by(MULTIFRAME_RULES, "movement", "high") == "(not used by a keyframes segment)"


KEYS = MultiframeParams(prompts=("walks in", None, "sits down"), durations=(3, 3, 3))


def test_remix_prompts_one_line_per_segment() -> None:
    assert prompts_text(KEYS) == "walks in\n\nsits down"
    edited = edited_params(KEYS, "walks in\n\nlies down\n")
    assert isinstance(edited, MultiframeParams)
    assert edited.prompts == ("walks in", None, "lies down") and edited.durations == (3, 3, 3)
    assert edited_params(KEYS, "dances").prompts == ("dances",) * 3  # one line: every segment's
    with pytest.raises(InputProblem, match="2 lines for 3 segments"):
        edited_params(KEYS, "a\nb")


def test_remix_keeps_everything_but_the_prompt() -> None:
    params = Img2VideoParams(prompt="a red kite", seed=7, resolution="1080p", movement="high")
    assert edited_params(params, " a blue kite ") == Img2VideoParams(prompt="a blue kite", seed=7,
                                                                     resolution="1080p", movement="high")
    with pytest.raises(InputProblem, match="empty"):
        edited_params(params, "   ")
