"""The catalogs: every key in every language with the same placeholders; the member's language is chosen
member first, then server, then English; stored failure reasons render in the job's language."""

from __future__ import annotations

import string

import pytest

from bot.i18n import SUPPORTED_LOCALES, catalog, pick_locale, reason_code, render_reason, t


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("locale", [x for x in SUPPORTED_LOCALES if x != "en-US"])
def test_every_key_exists_in_every_language_with_the_same_placeholders(locale: str) -> None:
    english, other = catalog("en-US"), catalog(locale)
    assert sorted(set(english) - set(other)) == [], f"{locale} lacks these keys"
    assert sorted(set(other) - set(english)) == [], f"{locale} has keys English lacks"
    mismatched = {key: (_fields(english[key]), _fields(other[key])) for key in english
                  if _fields(english[key]) != _fields(other[key])}
    assert mismatched == {}


def test_chinese_texts_are_chinese() -> None:
    # A copy-pasted English line in the Chinese catalog is a missing translation.
    english, chinese = catalog("en-US"), catalog("zh-CN")
    untranslated = [k for k, v in chinese.items() if v == english[k] and any(c.isalpha() for c in
                    string.Formatter().vformat(v, (), _Blank()))]
    assert untranslated == []


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


@pytest.mark.parametrize(("member", "guild", "expected"), [
    ("zh-CN", "en-US", "zh-CN"),
    ("en-GB", "zh-CN", "en-US"),
    ("fr", "zh-CN", "zh-CN"),
    ("fr", "de", "en-US"),
    ("zh-TW", None, "en-US"),  # Traditional Chinese readers get English rather than Simplified
    (None, None, "en-US"),
])
def test_the_member_language_then_the_server_then_english(member: str | None, guild: str | None,
                                                          expected: str) -> None:
    assert pick_locale(member, guild) == expected


def test_a_message_is_formatted_in_the_chosen_language() -> None:
    assert t("problems.many", "zh-CN", count=3) == "什么都没有发送，未扣除配额。有 3 个问题需要修正："
    assert t("problems.many", "fr", count=3) == "Nothing was sent and nothing was charged. 3 problems to fix:"


def test_an_unknown_key_is_a_loud_error() -> None:
    with pytest.raises(KeyError, match=r"no\.such"):
        t("no.such.key", "zh-CN")


def test_a_stored_reason_renders_in_the_job_language_with_the_provider_text_untouched() -> None:
    stored = reason_code("provider_said", "CONTENT_MODERATION_FAILED: nope")
    assert render_reason(stored, "en-US") == "the video service said: CONTENT_MODERATION_FAILED: nope"
    assert render_reason(stored, "zh-CN") == "视频服务返回：CONTENT_MODERATION_FAILED: nope"
    assert render_reason(reason_code("timed_out"), "zh-CN") == "视频服务没有及时回应"
    # Reasons stored before codes existed are plain English and stay as they are.
    old = "no answer from the video service in time"
    assert render_reason(old, "zh-CN") == old


def test_a_reason_code_must_exist() -> None:
    with pytest.raises(KeyError):
        reason_code("made_up")


def test_a_refused_picture_is_explained_in_chinese_with_its_figures() -> None:
    import io

    from PIL import Image

    from bot.i18n.images import image_problem_text
    from bot.media import ImageLimits, ImageProblem, prepare_image

    tall = io.BytesIO()
    Image.new("RGB", (100, 900)).save(tall, "PNG")
    try:
        prepare_image(tall.getvalue(), "tall.png", ImageLimits())
    except ImageProblem as problem:
        refused = problem
    else:  # pragma: no cover - the picture is 1:9
        raise AssertionError("a 1:9 picture was accepted")
    assert image_problem_text(refused, "zh-CN") == "tall.png：宽高比 1:9 比 1:4 还高；请裁剪到 100×399 或更矮"
    assert image_problem_text(refused, "en-US") == "tall.png: 1:9 is taller than 1:4; crop it to 100×399 or shorter" \
        == str(refused)
    big = ImageProblem("big.png", refused.code, "?", key="too_large", size="60 MB", limit="50 MB")
    assert image_problem_text(big, "zh-CN") == "big.png：文件大小为 60 MB，上限是 50 MB"


def test_commands_in_a_sentence_carry_the_names_the_members_client_shows() -> None:
    from bot.i18n.commands import localise_commands

    assert localise_commands("`/jobs job:{job_id}` 查看", "zh-CN") == "`/任务 任务编号:{job_id}` 查看"
    assert localise_commands("请用 /config modlog 设置", "zh-CN") == "请用 /服务器设置 管理日志 设置"
    assert localise_commands("`/quota set|clear` · `/storyboard private:True`", "zh-CN") == \
        "`/配额 设置|清除` · `/故事板 私密:True`"
    assert localise_commands("选择 `role`", "zh-CN") == "选择 `身份组`"
    # Slashes that are not commands stay: amounts, links, fractions, placeholders.
    untouched = "US$1.20/US$2.00 · https://x.example/jobs · 1/2 · {left}/{limit} · /nothing"
    assert localise_commands(untouched, "zh-CN") == untouched
    assert localise_commands("`/jobs job:X`", "en-US") == "`/jobs job:X`"  # English names are the declared ones


def test_plurals_follow_each_language_s_cldr_rules() -> None:
    assert [t("limit.videos", "en-US", count=n) for n in (0, 1, 2, 1000)] == \
        ["0 videos", "1 video", "2 videos", "1,000 videos"]
    assert t("quota.weight", "en-US", weight="1.5") == "Each 1080p second counts as 1.5 seconds against the quota."
    assert t("quota.weight", "en-US", weight="1") == "Each 1080p second counts as 1 second against the quota."
    assert [t("limit.videos", "zh-CN", count=n) for n in (1, 2)] == ["1 个视频", "2 个视频"]  # Chinese has no plural
    assert t("refuse.queue_full", "en-US", queued=1, limit=1) == (
        "You already have 1 job waiting in the queue (the limit is 1). Cancel it or wait for it to start.")
