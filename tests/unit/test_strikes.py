"""Issue 25, item 6, the rules without a store: which provider answers are content refusals, what each one flags,
and when a new request meets a flag (bot/strikes.py), and the pictures' perceptual hash (bot/media/fingerprint.py)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.db.sql_strikes import bands
from bot.i18n import render_reason
from bot.media.fingerprint import NEAR_BITS, dhash, distance, has_detail
from bot.strikes import (
    ContentRefusal,
    Fingerprint,
    Kind,
    Part,
    failed_for_content,
    fingerprints_of,
    match,
    prompt_key,
    refused_at_submit,
)
from tests.fakes.pictures import blobs

# -- which answers are content refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(("reason", "message", "expected"), [
    ("ILLEGAL_PROMPT", "prompt contains content that is not allowed", ContentRefusal(Part.PROMPT)),
    ("ILLEGAL_PROMPT", "image_settings[2].prompt contains content that is not allowed",
     ContentRefusal(Part.PROMPT, segment=2)),
    ("ILLEGAL_IMAGE_CONTENT", "images[0]: image content is not allowed", ContentRefusal(Part.PICTURES, picture=0)),
    ("ILLEGAL_IMAGE_CONTENT", "start_image: image content is not allowed", ContentRefusal(Part.PICTURES, picture=0)),
    ("ILLEGAL_IMAGE_CONTENT", "image_settings[2].key_image: image content is not allowed",
     ContentRefusal(Part.PICTURES, picture=3)),  # the inputs are the start, then each key image
    ("ILLEGAL_IMAGE_CONTENT", "refused", ContentRefusal(Part.PICTURES)),  # which one: not said
    ("ILLEGAL_IMAGE_CONTENT", "wm_url: image content is not allowed", ContentRefusal(Part.WATERMARK)),
    ("TaskPromptPolicyViolation", "", ContentRefusal(Part.PROMPT)),
    ("AuditSubmitIllegal", "images[0] failed the audit", ContentRefusal(Part.PICTURES, picture=0)),
    ("AuditSubmitIllegal", "the input failed the audit", ContentRefusal(Part.REQUEST)),
    ("CreationPolicyViolation", "", ContentRefusal(Part.REQUEST)),
    ("illegal_prompt", "", ContentRefusal(Part.PROMPT)),  # any case
    ("INVALID_REQUEST_BODY", "prompt is required", None),
    ("INVALID_IMAGE_SIZE", "images[0]: 900x100 is not strictly inside 1:4..4:1", None),
    ("", "content that is not allowed", None),  # a submit's refusal counts by its code only
])
def test_a_submit_refusal_is_a_content_refusal_by_its_code_and_names_its_part(
    reason: str, message: str, expected: ContentRefusal | None
) -> None:
    assert refused_at_submit(reason, message) == expected


@pytest.mark.parametrize(("reason", "expected"), [
    ("CreationPolicyViolation", ContentRefusal(Part.REQUEST)),
    ("task failed: AuditSubmitIllegal", ContentRefusal(Part.REQUEST)),
    ("TaskPromptPolicyViolation: the prompt was refused", ContentRefusal(Part.PROMPT)),
    ("ILLEGAL_IMAGE_CONTENT images[0]", ContentRefusal(Part.PICTURES, picture=0)),
    ("content moderation", ContentRefusal(Part.REQUEST)),
    ("The output was blocked by content moderation", ContentRefusal(Part.REQUEST)),
    ("generated video violates the usage policy", ContentRefusal(Part.REQUEST)),
    ("sensitive content detected", ContentRefusal(Part.REQUEST)),
    ("内容审核未通过", ContentRefusal(Part.REQUEST)),
    ("GPU worker crashed", None),
    ("timeout while generating", None),
    ("failed to read image", None),
    ("the content length was wrong", None),
    ("NotAnAuditSubmitIllegalX", None),  # a code inside another word is not the code
    ("", None),
    (None, None),
])
def test_a_failed_tasks_reason_is_a_content_refusal_only_when_it_says_so(
    reason: str | None, expected: ContentRefusal | None
) -> None:
    assert failed_for_content(reason) == expected


def test_each_refusal_has_its_own_reason_in_both_languages() -> None:
    picture = ContentRefusal(Part.PICTURES, picture=2).reason()
    assert "picture 3" in render_reason(picture, "en-US") and "第 3 张图片" in render_reason(picture, "zh-CN")
    for part in Part:
        text = render_reason(ContentRefusal(part).reason(), "en-US")
        assert "video service" in text and "refused" in text, part
        assert "视频服务" in render_reason(ContentRefusal(part).reason(), "zh-CN")
    assert not ContentRefusal(Part.WATERMARK).is_strike and ContentRefusal(Part.REQUEST).is_strike


# -- pictures: the hash -------------------------------------------------------------------------------------


def reencoded(data: bytes, fmt: str = "JPEG", scale: float = 1.0) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB").resize((round(img.width * scale), round(img.height * scale)))
        out = io.BytesIO()
        img.save(out, fmt, quality=70)
        return out.getvalue()


def test_a_picture_reencoded_or_scaled_keeps_its_hash_and_another_picture_does_not() -> None:
    original = dhash(blobs(1))
    assert has_detail(original)
    for copy in (reencoded(blobs(1)), reencoded(blobs(1), "WEBP"), reencoded(blobs(1), "PNG", scale=2.5),
                 reencoded(blobs(1), scale=0.5)):
        assert distance(dhash(copy), original) <= NEAR_BITS
    others = [distance(dhash(blobs(seed)), original) for seed in range(2, 40)]
    assert min(others) > 2 * NEAR_BITS, sorted(others)[:5]


def test_a_flat_picture_has_no_detail_to_stand_for_it() -> None:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (30, 140, 220)).save(out, "PNG")
    assert dhash(out.getvalue()) == 0 and not has_detail(0)


def test_two_hashes_within_near_bits_share_a_band() -> None:
    value = dhash(blobs(7))
    for flips in ((0, 1, 2, 3), (12, 25, 38, 51), (60, 61, 62, 63), (5, 18, 31, 44)):
        other = value
        for bit in flips:
            other ^= 1 << bit
        assert any(a == b for a, b in zip(bands(value), bands(other), strict=True)), flips


# -- what a refusal flags, and what meets a flag -------------------------------------------------------------

A, B, C = dhash(blobs(1)), dhash(blobs(2)), dhash(blobs(3))


def test_a_prompt_refusal_flags_the_prompt_the_provider_named_normalised() -> None:
    prompts = ["walks in", "ＦＯＲＢＩＤＤＥＮ   dance", None]
    flags = fingerprints_of(ContentRefusal(Part.PROMPT, segment=1), prompts, [A, B, C, A])
    assert flags == [Fingerprint(Kind.PROMPT, "forbidden dance")]
    assert match(flags, ["forbidden\u200b dance"], None) is not None  # a zero-width space: dropped
    assert match(flags, ["a forbidden dance"], None) is None  # another prompt (the blocklist matches words)
    assert match(flags, ["Forbidden dance"], None) is not None
    assert match(flags, ["sits", "forbidden dance"], None) is not None  # any segment
    assert match(flags, ["walks in"], None) is None  # the other segments are not flagged
    unnamed = fingerprints_of(ContentRefusal(Part.PROMPT), prompts, [A, B, C, A])
    assert unnamed == [Fingerprint(Kind.PROMPT, "walks in\nforbidden dance")]  # not each: together
    assert match(unnamed, ["walks in"], None) is None
    assert prompt_key(" Walks\tIN ") == "walks in"


def test_a_picture_refusal_flags_the_named_picture_else_every_detailed_one() -> None:
    named = fingerprints_of(ContentRefusal(Part.PICTURES, picture=1), ["p"], [A, B, C])
    assert named == [Fingerprint(Kind.PICTURE, pictures=(B,))]
    found = match(named, ["another prompt"], [C, B ^ 0b101])  # near: two bits off
    assert found is not None and found.kind is Kind.PICTURE and found.picture == 1
    assert match(named, ["p"], [A, C]) is None
    every = fingerprints_of(ContentRefusal(Part.PICTURES), ["p"], [A, 0, B])  # 0: a flat picture
    assert every == [Fingerprint(Kind.PICTURE, pictures=(A,)), Fingerprint(Kind.PICTURE, pictures=(B,))]
    assert match(every, ["x"], [0]) is None  # a flat picture never matches on its own
    plain = fingerprints_of(ContentRefusal(Part.PICTURES), ["p"], [0])
    assert plain == [Fingerprint(Kind.REQUEST, "p", (0,))]  # too plain alone: only that request


def test_an_output_refusal_flags_exactly_that_request() -> None:
    flags = fingerprints_of(ContentRefusal(Part.REQUEST), ["A cat", None], [A, B])
    assert flags == [Fingerprint(Kind.REQUEST, "a cat\n", (A, B))]
    found = match(flags, ["a  CAT", None], [A ^ 1, B])
    assert found is not None and found.kind is Kind.REQUEST
    assert match(flags, ["a cat", None], [B, A]) is None  # another order: another request
    assert match(flags, ["a dog", None], [A, B]) is None
    assert match(flags, [None, "a cat"], [A, B]) is None
    assert match(flags, ["a cat", None], [A]) is None
    assert fingerprints_of(ContentRefusal(Part.WATERMARK), ["a cat"], [A]) == []
