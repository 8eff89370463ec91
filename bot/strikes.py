"""The provider's content refusals are strikes, not retries (issue 25, item 6). Discord-free.

Vidu checks the pictures, the prompt and the generated video, and warns that resubmitting flagged input again
and again can get the account suspended. So, in one place:

- **Which answers are content refusals** (`refused_at_submit`, `failed_for_content`): a submit refused with
  ILLEGAL_PROMPT or ILLEGAL_IMAGE_CONTENT (jiekou's codes), or Vidu's own AuditSubmitIllegal,
  TaskPromptPolicyViolation or CreationPolicyViolation as the reason; a task that FAILED with one of those codes
  in its reason, or with plain moderation wording (`MODERATION_WORDING`). Anything else stays an ordinary
  refusal or failure. Each gets its own reason in both languages (refunded like every refusal and failure).
- **What a refusal flags** (`fingerprints_of`): a prompt refusal flags that prompt (the segment the provider
  names, else the prompts together); a picture refusal the picture the provider names (`images[0]`,
  `start_image`, `image_settings[2].key_image`), else every picture of the job; a task that failed for its
  output, or a refusal that names neither, flags the combination (its prompts and pictures together), so
  exactly that request is never sent again. The server's watermark (`wm_url`) is not the member's: it flags
  nothing and is no strike.
- **Fingerprints**: prompts normalised as the blocklist compares them (bot/moderation.py `normalise`) with
  runs of spaces folded; pictures by a 64-bit difference hash (bot/media/fingerprint.py), where a hash within
  `NEAR_BITS` bits is the same picture. A picture with too little detail for its hash to stand for it alone
  (a flat colour) is flagged only inside its combination.
- **Where they are checked** (`flagged_match`): prompts at admission, before any download; pictures once
  prepared, before the job is created (bot/ui/flagged.py); both again just before submit (bot/jobs/submit.py).
  Flags hold in every server of the bot: they protect the one provider account.
- **Strikes**: every content refusal is a strike of its member in its server; `StrikeRule.limit` strikes
  within `StrikeRule.hours` (a server setting, default 3 in 24 h; 0: never) pause the member there (a block
  with its reason recorded), and the mod-log is told with the job ids. `/mod unblock` lifts the pause, and the
  strikes before it no longer count.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

import regex

from bot.i18n import reason_code
from bot.media.fingerprint import NEAR_BITS, distance, has_detail
from bot.moderation import normalise

# The provider's codes, compared case-insensitively (jiekou's first, then Vidu's own).
PROMPT_CODES = frozenset({"illegal_prompt", "taskpromptpolicyviolation"})
PICTURE_CODES = frozenset({"illegal_image_content"})
INPUT_CODES = frozenset({"auditsubmitillegal"})  # the input was refused; the message may say which part
OUTPUT_CODES = frozenset({"creationpolicyviolation"})  # what would be made was refused
_CODES = regex.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(PROMPT_CODES | PICTURE_CODES | INPUT_CODES
                                                                 | OUTPUT_CODES)) + r")(?![A-Za-z0-9_])",
                       regex.IGNORECASE)
# A failed task's reason that says, in plain words, that moderation stopped it. Kept narrow: a failure for any
# other cause (a timeout, a server error, a picture it could not read) must stay an ordinary failure, refunded
# and free to try again.
MODERATION_WORDING = regex.compile(
    r"moderat|content[ _-]?(?:polic|safety|violat|review|audit|filter)|polic(?:y|ies)[ _-]?violat"
    r"|violat\w*\s+(?:\w+\s+){0,3}polic|inappropriate|\bnsfw\b|sensitive\s+(?:content|material|image|word)"
    r"|(?:illegal|prohibited|disallowed|unsafe|explicit)\s+(?:content|image|picture|prompt|input|output)"
    r"|content\s+(?:that\s+)?is\s+not\s+allowed|审核|违规|敏感|违法|不合规",
    regex.IGNORECASE,
)
# Where the provider's message names the part it refused: `images[0]`, `start_image`,
# `image_settings[2].key_image`, `image_settings[1].prompt`, `prompt`, `wm_url`.
_PATH = regex.compile(r"(?<![\w.])(?:images\[(?P<image>\d+)\]|(?P<start>start_image)"
                      r"|image_settings\[(?P<setting>\d+)\]\.(?P<field>key_image|prompt)|(?P<prompt>prompt)"
                      r"|(?P<mark>wm_url))(?![\w\[])")


class Part(StrEnum):
    """What the provider refused."""

    PROMPT = "prompt"
    PICTURES = "pictures"
    REQUEST = "request"  # the combination: the output, or an input refusal that names neither part
    WATERMARK = "watermark"  # the server's watermark picture: not the member's


@dataclass(frozen=True)
class ContentRefusal:
    """A refusal for content: which part, and which segment's prompt or which picture the provider named."""

    part: Part
    segment: int | None = None  # the prompt of this segment (multiframe), when named
    picture: int | None = None  # the input at this position, when named

    def reason(self) -> str:
        """The job's stored reason (bot/i18n reasons: rendered in the member's language)."""
        if self.part is Part.PROMPT:
            return reason_code("refused_prompt")
        if self.part is Part.PICTURES:
            if self.picture is not None:
                return reason_code("refused_picture", str(self.picture + 1))
            return reason_code("refused_pictures")
        if self.part is Part.WATERMARK:
            return reason_code("refused_watermark")
        return reason_code("refused_content")

    @property
    def is_strike(self) -> bool:
        return self.part is not Part.WATERMARK


def _named(message: str) -> ContentRefusal | None:
    """The part the provider's message names, if any."""
    found = _PATH.search(message or "")
    if found is None:
        return None
    if found["image"] is not None:
        return ContentRefusal(Part.PICTURES, picture=int(found["image"]))
    if found["start"]:
        return ContentRefusal(Part.PICTURES, picture=0)
    if found["setting"] is not None:
        index = int(found["setting"])
        if found["field"] == "key_image":
            return ContentRefusal(Part.PICTURES, picture=index + 1)  # inputs: the start, then each key image
        return ContentRefusal(Part.PROMPT, segment=index)
    if found["prompt"]:
        return ContentRefusal(Part.PROMPT)
    return ContentRefusal(Part.WATERMARK)


def _by_code(code: str, message: str) -> ContentRefusal:
    named = _named(message)
    if code in PROMPT_CODES:
        return named if named is not None and named.part is Part.PROMPT else ContentRefusal(Part.PROMPT)
    if code in PICTURE_CODES:
        if named is not None and named.part in (Part.PICTURES, Part.WATERMARK):
            return named
        return ContentRefusal(Part.PICTURES)
    if code in INPUT_CODES and named is not None:
        return named
    return ContentRefusal(Part.REQUEST)


def refused_at_submit(reason: str, message: str) -> ContentRefusal | None:
    """A submit's refusal (the error body's reason and message) as a content refusal, or None."""
    code = (reason or "").strip().casefold()
    if code not in PROMPT_CODES | PICTURE_CODES | INPUT_CODES | OUTPUT_CODES:
        return None
    return _by_code(code, message)


def failed_for_content(reason: str | None) -> ContentRefusal | None:
    """A FAILED task's reason as a content refusal, or None: one of the provider's codes in it (the part it
    names), else moderation wording (the output: the combination)."""
    if not reason:
        return None
    coded = _CODES.search(reason)
    if coded is not None:
        return _by_code(coded[1].casefold(), reason)
    if MODERATION_WORDING.search(reason):
        return ContentRefusal(Part.REQUEST)
    return None


# -- fingerprints -----------------------------------------------------------------------------------------


class Kind(StrEnum):
    PROMPT = "prompt"
    PICTURE = "picture"
    REQUEST = "request"


@dataclass(frozen=True)
class Fingerprint:
    """One flagged input: a prompt (normalised), a picture (its hash), or a request (its prompts, one line per
    segment, and its pictures' hashes in order)."""

    kind: Kind
    prompt: str | None = None
    pictures: tuple[int, ...] = ()


def prompt_key(prompt: str | None) -> str:
    """A prompt as flags compare it: normalised (bot/moderation.py), runs of spaces folded."""
    return " ".join(normalise(prompt or "").split())


def prompts_key(prompts: Sequence[str | None]) -> str:
    """A request's prompts together (the non-empty ones, one per line)."""
    return "\n".join(key for key in map(prompt_key, prompts) if key)


def request_key(prompts: Sequence[str | None]) -> str:
    """A request's prompts as its combination keeps them: one line per segment, empty ones too."""
    return "\n".join(map(prompt_key, prompts))


def prompt_candidates(prompts: Sequence[str | None]) -> list[str]:
    """The texts a flagged prompt may equal: each prompt, and all of them together."""
    keys = [key for key in map(prompt_key, prompts) if key]
    together = prompts_key(prompts)
    return sorted({*keys, *([together] if together else [])})


def fingerprints_of(refusal: ContentRefusal, prompts: Sequence[str | None],
                    pictures: Sequence[int]) -> list[Fingerprint]:
    """What a content refusal flags (see the module's notes)."""
    combination = [Fingerprint(Kind.REQUEST, request_key(prompts), tuple(pictures))]
    if refusal.part is Part.WATERMARK:
        return []
    if refusal.part is Part.PROMPT:
        named = refusal.segment is not None and 0 <= refusal.segment < len(prompts)
        text = prompt_key(prompts[refusal.segment]) if named and refusal.segment is not None else ""
        text = text or prompts_key(prompts)
        return [Fingerprint(Kind.PROMPT, text)] if text else combination
    if refusal.part is Part.PICTURES:
        named = refusal.picture is not None and 0 <= refusal.picture < len(pictures)
        chosen = [pictures[refusal.picture]] if named and refusal.picture is not None else list(pictures)
        detailed = [Fingerprint(Kind.PICTURE, pictures=(value,)) for value in dict.fromkeys(chosen)
                    if has_detail(value)]
        return detailed or combination  # too plain to stand alone: only that request again
    return combination


@dataclass(frozen=True)
class Match:
    """Why a request meets a flag: its kind, and which picture (by position) when a picture matched."""

    kind: Kind
    picture: int | None = None

    def reason(self) -> str:
        """The reason of a queued job stopped by it (bot/i18n reasons)."""
        return reason_code(f"flagged_{self.kind.value}")


def match(flags: Collection[Fingerprint], prompts: Sequence[str | None],
          pictures: Sequence[int] | None) -> Match | None:
    """The first flag this request meets, or None (`pictures` None: prompts only). A prompt matches a flagged
    prompt that equals one of its prompts or all of them together; a picture matches within NEAR_BITS; a
    request matches when its prompts equal the flagged ones and each picture is near its counterpart."""
    candidates = set(prompt_candidates(prompts))
    if any(flag.kind is Kind.PROMPT and flag.prompt in candidates for flag in flags):
        return Match(Kind.PROMPT)
    if pictures is None:
        return None
    for position, value in enumerate(pictures):
        if has_detail(value) and any(flag.kind is Kind.PICTURE and distance(flag.pictures[0], value) <= NEAR_BITS
                                     for flag in flags if flag.pictures):
            return Match(Kind.PICTURE, position)
    combination = request_key(prompts)
    for flag in flags:
        if (flag.kind is Kind.REQUEST and flag.prompt == combination and len(flag.pictures) == len(pictures)
                and all(distance(a, b) <= NEAR_BITS for a, b in zip(flag.pictures, pictures, strict=True))):
            return Match(Kind.REQUEST)
    return None


# -- strikes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StrikeRule:
    """A server's rule: `limit` content refusals within `hours` pause a member (0: never)."""

    limit: int = 3
    hours: int = 24

    @property
    def window(self) -> timedelta:
        return timedelta(hours=self.hours)


@dataclass(frozen=True)
class Strikes:
    """A member's strikes in a server after one was recorded: the job ids that count (oldest first), and
    whether this one paused them (a pause already in force, or a moderator's block, is not paused again)."""

    job_ids: tuple[str, ...]
    paused_now: bool = False


@dataclass(frozen=True)
class RecordedRefusal:
    job_id: str
    guild_id: int
    user_id: int
    part: Part
    fingerprints: tuple[Fingerprint, ...]


class StrikeStore(Protocol):
    """What a store keeps for flags and strikes (both SQL stores implement it: bot/db/sql_strikes.py)."""

    async def flags_for_prompts(self, prompts: Collection[str]) -> list[Fingerprint]:
        """Flagged prompts and requests whose prompt text is one of `prompts`."""
        ...

    async def has_picture_flags(self) -> bool:
        """Whether any picture is flagged at all (pictures are hashed only then)."""
        ...

    async def flags_near(self, pictures: Collection[int]) -> list[Fingerprint]:
        """Flagged pictures that may be within NEAR_BITS of one of `pictures` (a superset: `match` decides)."""
        ...

    async def record_content_refusal(self, refusal: RecordedRefusal, *, now: datetime, rule: StrikeRule) -> Strikes:
        """Flag the refusal's fingerprints and count its strike, in one transaction, once per job (a second call
        for the same job changes nothing and answers the same count). Pauses the member in the server (a block
        whose reason names the strikes, audited) when the rule's count is reached and they are not blocked."""
        ...

    async def strike_pause(self, guild_id: int, user_id: int) -> tuple[str, ...] | None:
        """The job ids of the strikes that paused this member here, or None when no strike pause is in force
        (not blocked, or blocked by a moderator)."""
        ...


async def flagged_match(store: StrikeStore, prompts: Sequence[str | None],
                        pictures: Callable[[], Awaitable[list[int]]] | None) -> Match | None:
    """Does this request meet a flag? Prompts first (one indexed read); `pictures` (the hashes, computed on
    demand: decoding costs) only when some picture or a request with these prompts is flagged."""
    flags = await store.flags_for_prompts([*prompt_candidates(prompts), request_key(prompts)])
    found = match(flags, prompts, None)
    if found is not None or pictures is None:
        return found
    if not any(flag.kind is Kind.REQUEST for flag in flags) and not await store.has_picture_flags():
        return None
    hashes = await pictures()
    return match([*flags, *await store.flags_near(hashes)], prompts, hashes)


def pause_note(user_id: int, strikes: Strikes, rule: StrikeRule) -> str:
    """The mod-log's line when strikes pause a member (English, like every mod-log line)."""
    jobs = ", ".join(f"`{job_id}`" for job_id in strikes.job_ids)
    return (f"⛔ <@{user_id}> is paused from making videos in this server: the video service refused "
            f"{len(strikes.job_ids)} of their requests for their content within {rule.hours} h (jobs {jobs}). "
            "The same pictures and prompts are refused before they reach it. /mod unblock lifts the pause.")


def pause_reason(strikes: Strikes, rule: StrikeRule) -> str:
    """The block's recorded reason (English: the audit's words)."""
    return (f"{len(strikes.job_ids)} content refusals by the video service within {rule.hours} h: "
            f"jobs {', '.join(strikes.job_ids)}")


__all__ = [
    "MODERATION_WORDING",
    "ContentRefusal",
    "Fingerprint",
    "Kind",
    "Match",
    "Part",
    "RecordedRefusal",
    "StrikeRule",
    "StrikeStore",
    "Strikes",
    "failed_for_content",
    "fingerprints_of",
    "flagged_match",
    "match",
    "pause_note",
    "pause_reason",
    "prompt_candidates",
    "prompt_key",
    "refused_at_submit",
    "request_key",
]
