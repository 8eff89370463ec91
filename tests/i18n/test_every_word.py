"""Every word a Chinese member reads is Chinese: every catalog message, every card and every picture the bot
draws, rendered in zh-CN, holds no Latin word outside a short allow-list (ids, units, brand and model names,
example file names). And every English message that counts something reads right for 1 and for 2.

Pictures are read through the seam every drawn word passes (bot.media.fonts.recording_text), not OCR. Text that
is not ours (a member's prompt, the provider's own words after our sentence) is not part of this check.
"""

from __future__ import annotations

import io
import re
import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from bot.i18n import catalog, reason_code, render_reason, t
from bot.i18n.commands_zh import CHOICES, DESCRIPTIONS, NAMES
from bot.i18n.formats import estimate, money
from bot.i18n.images import image_problem_text
from bot.jobs.models import Job, JobKind
from bot.jobs.pause import PauseKind, PauseNote
from bot.jobs.queue_place import QueuePlace, WaitingFor
from bot.jobs.states import JobState
from bot.media import ImageLimits, ImageProblem, prepare_image
from bot.media.charts import usage_chart
from bot.media.fonts import recording_text
from bot.media.storyboard import panels_for, render_storyboard
from bot.params import Img2VideoParams, MultiframeParams
from bot.quotas.models import Charge, GuildSettings, Limit, Period, QuotaCheck, Scope, Usage
from bot.quotas.text import describe_limit, exceeded_text
from bot.requests import InputProblem, check_keyframe_count, split_durations, split_prompts
from bot.ui.cards import picture_descriptions
from bot.ui.intake import Intake
from bot.ui.permissions import missing_permissions_text
from bot.ui.preview import panel_words, preview_text
from bot.ui.status import status_text
from bot.ui.text import request_lines
from cogs.help import help_text, segments_picture
from cogs.jobs import job_details, job_line
from cogs.menu import parse_duration
from cogs.moderation import describe
from cogs.quota import chart_words, granted_text, usage_bar

ZH = "zh-CN"
# Latin allowed in Chinese text: resolutions, job ids, money (CLDR's US$), example file names, units, brand and
# format names, time zone names, Discord's True, the pictures' start badge S and the menu's "picture N+1".
# AutoMod is the name of Discord's own feature, which its Chinese clients show untranslated (server settings).
ALLOWED = re.compile("|".join([
    r"\d+p", r"[0-9A-Z]{8}", r"US\$[0-9.,]+", r"[\w-]+\.(png|jpe?g|webp|mp4)", r"MB|KB",
    r"Vidu|Discord|AutoMod|PNG|JPEG|WebP|GIF|BMP|TIFF|AVIF|HEIC", r"nudenet", r"UTC", r"True",
    r"S|N(\+1)?", r"all",  # `all`: what a moderator types for every job (/jobs job:all)
]))
# Not words: Discord's markup (mentions, channels, roles, timestamps), link targets and time zone names.
MARKUP = re.compile(r"<(@[!&]?|#)\d+>|<t:\d+:[a-zA-Z]>|\]\([^)]*\)|https://\S+|\b[A-Z][a-z]+/[A-Z][A-Za-z_]+")
EDGES = "`*_~()[]<>:;,.!?\"'“”‘’|/#+-=…"


def latin_words(text: str) -> list[str]:
    """Runs of ASCII holding a Latin letter that the allow-list does not name."""
    found = []
    for run in re.findall(r"[!-~]+", MARKUP.sub(" ", text)):
        for piece in re.split(r"[:/]", run):  # `任务编号:7K3QZ2MD`, US$1.00/US$2.00
            word = piece.strip(EDGES)
            if re.search(r"[A-Za-z]", word) and not ALLOWED.fullmatch(word):
                found.append(word)
    return found


def test_the_checker_finds_english_and_lets_ids_and_units_through() -> None:
    assert latin_words("运动幅度 small · 预估费用 约 US$0.675 · `/jobs job:7K3QZ2MD`") == ["small", "jobs", "job"]
    assert latin_words("<@12> <#3> <t:1700000000:R> [下载](https://x.example/v.mp4) 720p 50 MB a.png") == []


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(catalog("en-US")))
def test_every_catalog_message_reads_chinese(key: str) -> None:
    text = t(key, ZH, **{name: 1 for name in _fields(catalog(ZH)[key])})
    assert latin_words(text) == [], text


@pytest.mark.parametrize("text", sorted({*NAMES.values(), *DESCRIPTIONS.values(), *CHOICES.values()}))
def test_every_command_name_description_and_choice_reads_chinese(text: str) -> None:
    assert latin_words(text) == [], text


def _job(params: Img2VideoParams | MultiframeParams, **fields: object) -> Job:
    kind = JobKind.IMG2VIDEO if isinstance(params, Img2VideoParams) else JobKind.MULTIFRAME
    seconds = params.duration if isinstance(params, Img2VideoParams) else sum(params.durations)
    job = Job.new(guild_id=1, channel_id=2, user_id=3, kind=kind, params=params, resolution="720p",
                  duration_seconds=seconds, locale=ZH)
    return replace(job, **fields)


ONE = Img2VideoParams(prompt="猫在挥手", duration=5, resolution="720p", movement="small", seed=7, audio=True,
                      bgm=True, off_peak=True, voice_id="1", watermark=True)
MANY = MultiframeParams(prompts=("走进来", None), durations=(4, 5), resolution="1080p", watermark=True)
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def _cards() -> list[str]:
    """What the request card, the status card, /jobs, the preview and /help say in Chinese, every variant."""
    texts: list[str] = []
    cost = estimate(675, ZH)
    for movement in ("auto", "small", "medium", "high"):
        texts += request_lines(replace(ONE, movement=movement), 5, ZH, budget=500, cost=cost)
    texts += request_lines(MANY, 9, ZH, budget=500, cost=cost, server_mark="top_right")
    texts += picture_descriptions(ZH, ["猫在挥手"], [5], 1) + picture_descriptions(ZH, ["走进来", None], [4, 5], 3)
    reasons = [reason_code(key.removeprefix("reason."), "3") for key in catalog("en-US") if key.startswith("reason.")]
    for state in JobState:
        for reason in (None, *reasons):
            job = _job(MANY, state=state, reason=reason, progress_percent=40, eta_seconds=600,
                       provider_status="TASK_STATUS_QUEUED", submitted_at=NOW - timedelta(hours=5),
                       video_url="https://cdn.example/v.mp4", video_expires_at=datetime.now(UTC) + timedelta(hours=1),
                       succeeded_at=NOW, thread_id=9, card_message_id=10, delivered_message_id=11)
            for pause in (None, *(PauseNote(kind, told) for kind in PauseKind for told in (True, False))):
                for waiting in WaitingFor:
                    texts.append(status_text(job, place=QueuePlace(2, waiting), pause=pause))
            texts += [job_line(job, ZH), job_details(job)]
    texts.append(job_line(_job(ONE), ZH))
    intake = Intake(JobKind.MULTIFRAME, MANY, "1080p", 9, True, "走进来")
    texts.append(preview_text(intake, expires_at=NOW.timestamp(), locale=ZH))
    texts.append(help_text(ZH, max_mb=20, quota_lines=_quota_lines()))
    texts.append(describe(GuildSettings(channel_ids=(1, 2), modlog_channel_id=3, watermark_url="https://x.example/w",
                                        max_active=2), ZH, screens=("nudenet",)))
    return texts


def _quota_lines() -> list[str]:
    lines = []
    for period in Period:
        member, pool = Limit(1, Scope.MEMBER, 3, period, 1, 60, 2000), Limit(1, Scope.SERVER, 0, period, 5, None)
        budget = Limit(1, Scope.BUDGET, 0, period, None, None, 9000)
        # Each limit over in each of its units in turn (videos, seconds, estimated cost).
        for limit, used in ((member, Usage(1, 0, 0)), (member, Usage(0, 60, 0)), (member, Usage(0, 0, 2000)),
                            (pool, Usage(5, 0, 0)), (budget, Usage(0, 0, 9000))):
            check = QuotaCheck(limit, 3 if limit.scope is Scope.MEMBER else None, NOW, NOW + timedelta(days=1))
            lines += [describe_limit(limit, ZH), exceeded_text(check, used, Charge(1, 3, 10, 1, 500), ZH)]
    lines += [granted_text(ZH, seconds=10, videos=1, credits=1500), granted_text(ZH, seconds=0, videos=0, credits=0)]
    return lines


def _typed_problems() -> list[str]:
    """Everything a member can type wrong, answered in Chinese."""
    problems: list[InputProblem] = []
    for attempt in (lambda: split_durations("四秒", 2), lambda: split_durations("4,5,3", 2),
                    lambda: split_durations("99", 2), lambda: split_prompts("a|b|c", 2),
                    lambda: check_keyframe_count(10), lambda: parse_duration("五", ZH)):
        with pytest.raises(InputProblem) as raised:
            attempt()
        problems.append(raised.value)
    return [problem.text(ZH) for problem in problems]


def _picture_problems() -> list[str]:
    def png(size: tuple[int, int]) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", size).save(out, "PNG")
        return out.getvalue()

    texts = []
    for data, limits in ((b"", ImageLimits()), (b"not a picture", ImageLimits()), (png((100, 900)), ImageLimits()),
                         (png((900, 100)), ImageLimits()), (png((400, 400)), ImageLimits(max_pixels=10_000)),
                         (png((400, 400)), ImageLimits(max_bytes=100)), (png((400, 400))[:60], ImageLimits())):
        with pytest.raises(ImageProblem) as raised:
            prepare_image(data, "1.png", limits)
        texts.append(image_problem_text(raised.value, ZH))
    return texts


def test_every_card_and_answer_reads_chinese() -> None:
    texts = [*_cards(), *_typed_problems(), *_picture_problems(),
             missing_permissions_text(["view_channel", "send_messages", "attach_files"], ZH),
             render_reason(reason_code("rejected_image_size", "images[0]: too narrow"), ZH).split("（")[0]]
    leaks = {word: text for text in texts for word in latin_words(text)}
    assert leaks == {}


def test_every_picture_the_bot_draws_reads_chinese() -> None:
    frame = io.BytesIO()
    Image.new("RGB", (160, 90), (40, 90, 160)).save(frame, "PNG")
    with recording_text() as drawn:
        usage_chart("本月用量", [usage_bar("小明", Usage(1, 5, 90), ZH), usage_bar("7", Usage(2, 10, 1675), ZH)],
                    chart_words(ZH))
        usage_chart("本周用量", [], chart_words(ZH))
        render_storyboard(panels_for([frame.getvalue()] * 3, ["走进来", None], [4, 5], **panel_words(ZH)))
        segments_picture.__wrapped__(ZH)  # past its cache: drawn here, now
    assert {"■ 预估费用（美元）", "第 1 段 · 4 秒", "起始帧", "1 个视频", "US$1.675",
            "第 1 段（4 秒） + 第 2 段（5 秒） = 共 9 秒"} <= set(drawn)
    assert {word: text for text in drawn for word in latin_words(text)} == {}


def test_money_is_written_as_each_language_writes_dollars() -> None:
    assert (money(675, "en-US"), money(2000, "en-US"), money(675, ZH)) == ("$0.675", "$2.00", "US$0.675")
    assert estimate(90, ZH) == "预估费用 约 US$0.09"


# --- English counts: a message that counts something reads right for 1 and for 2
# The nouns English counts: those written after a number or a placeholder somewhere in the catalog.
PLURAL_NOUNS = {word for text in catalog("en-US").values() for word in re.findall(r"[}#0-9] ([a-z]+s)\b", text)} - {
    "is", "moves", "takes"}  # verbs after a number ("1 is", "segment 1 moves")
# The placeholders that hold a number in some message; every other one gets a word.
NUMBERS = {"count", "given", "segments", "lines", "frames", "queued", "limit", "videos", "seconds", "used", "left",
           "needed", "low", "high", "low_keys", "high_keys", "position", "percent", "hours", "minutes", "n", "total",
           "weight", "max_mb", "size", "most", "fast_low", "fast_high", "seg_low", "seg_high", "se_low", "se_high",
           "value", "default"}


def _wrong_for(text: str, count: int) -> list[str]:
    if count == 1:  # "1 videos"
        return [m for m in re.findall(r"(?<![-–])\b1 ([a-z]+s)\b", text) if m in PLURAL_NOUNS]  # not "1-2 videos"
    # "2 video", but not "2 prompt lines" (a noun before the counted one)
    return [m for m in re.findall(rf"\b{count} ([a-z]+)\b(?! [a-z]+s\b)", text) if m + "s" in PLURAL_NOUNS]


# Messages whose numbers are amounts of money ("$0.02 of $0.20 credits left"), never a count.
MONEY = {"quota.credits_left"}


@pytest.mark.parametrize("count", [1, 2])
def test_every_english_message_counts_right(count: int) -> None:
    english = catalog("en-US")
    wrong = {}
    for key, template in english.items():
        if key in MONEY:
            continue
        text = t(key, "en-US", **{name: count if name in NUMBERS else "X" for name in _fields(template)})
        if found := _wrong_for(text, count):
            wrong[key] = (found, text)
    assert wrong == {}


def test_the_counting_check_sees_a_wrong_plural() -> None:
    assert _wrong_for("1 videos left", 1) == ["videos"] and _wrong_for("2 keyframe given", 2) == ["keyframe"]
    assert t("limit.videos", "en-US", count=1) == "1 video" and t("limit.videos", "en-US", count=1000) == "1,000 videos"
    assert t("jobs.all_head", "en-US", count=1) == "**1 queued or running job in this server**"
    assert t("input.keyframe_count", "en-US", count=1, low=1, high=9) == \
        "1 keyframe given; give 1 (an end picture) or 2 to 9"
    assert t("limit.videos", ZH, count=1) == "1 个视频"
