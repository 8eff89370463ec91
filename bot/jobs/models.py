"""The durable job record and its stored inputs (plain data; no I/O here)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from bot.jobs.states import TERMINAL_STATES, JobState
from bot.params import JobParams

# Crockford base32: no I, L, O, U, so ids read aloud or typed from a screenshot are unambiguous.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
JOB_ID_LENGTH = 8  # 40 random bits; the store regenerates on the rare collision


def new_job_id() -> str:
    return "".join(secrets.choice(_CROCKFORD) for _ in range(JOB_ID_LENGTH))


def normalize_job_id(text: str) -> str:
    """What a member typed (any case, O for 0, I/L for 1, stray dashes) -> the canonical id."""
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("OIL", "011"))


def utcnow() -> datetime:
    return datetime.now(UTC)


class JobKind(StrEnum):
    IMG2VIDEO = "img2video"
    MULTIFRAME = "multiframe"
    STARTEND = "startend"


class JobSource(StrEnum):
    """Who asked: a member through Discord (the job loop's work) or the operator on the command line, whose
    jobs (server 0, member 0) are in the ledger and the budget but submitted and followed by the command line."""

    DISCORD = "discord"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class JobInput:
    position: int  # 0-based order of the image in the request
    filename: str
    mime_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Job:
    """One member request, as the store keeps it. Times are aware UTC, kept to the millisecond.

    Change it only through `JobStore.transition` (state) and the store's other setters: it is frozen so
    that a copy in memory can never be mistaken for the truth in the database.
    """

    id: str
    guild_id: int
    channel_id: int
    user_id: int
    kind: JobKind
    # Request settings and prompts: everything needed to rebuild the provider request from the stored
    # inputs (for /jobs and Re-roll). JSON in the database. Kept out of repr: long, member-written.
    params: JobParams = field(repr=False)
    resolution: str
    duration_seconds: int  # total across segments
    created_at: datetime
    locale: str = "en-US"
    private: bool = False
    thread_id: int | None = None
    state: JobState = JobState.ACCEPTED
    task_id: str | None = None
    provider_status: str | None = None
    progress_percent: int | None = None
    eta_seconds: int | None = None
    reason: str | None = None
    attempt: int = 0  # fencing number: bumped on every lease (and every entry into SUBMITTING)
    poll_count: int = 0
    next_poll_at: datetime | None = None
    submitted_at: datetime | None = None
    finished_at: datetime | None = None
    # A presigned provider URL: a bearer credential until it expires, so never in a repr.
    video_url: str | None = field(default=None, repr=False)
    video_expires_at: datetime | None = None
    card_message_id: int | None = None
    status_message_id: int | None = None
    delivered_message_id: int | None = None
    parent_job_id: str | None = None  # the job this one re-rolls or extends
    # Which worker process holds the job while it submits, polls or delivers it, and until when.
    lease_owner: str | None = None
    lease_until: datetime | None = None
    # When the provider reported the video made, and how many posts of it failed since: a delivery ends
    # after a deadline and an attempt cap (WorkerSettings), whatever restarts happen meanwhile.
    succeeded_at: datetime | None = None
    delivery_attempts: int = 0
    # Discord's attachment_size_limit for the interaction that asked (bytes; None from the CLI): the posted
    # video is fitted to it as well as to the server's limit (bot/ui/delivery.py).
    upload_limit: int | None = None
    # When this claim's submit request left the bot: None while nothing was sent (bot/jobs/submit.py).
    sent_at: datetime | None = None
    # A finished video's screening before it is posted (bot/jobs/review.py VideoReview), and the moderator who
    # decided a held one.
    video_review: str | None = None
    reviewed_by: int | None = None
    source: JobSource = JobSource.DISCORD
    # Posted behind a spoiler (the member asked): the request card's pictures and the video.
    spoiler: bool = False

    @classmethod
    def new(
        cls,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        kind: JobKind,
        params: JobParams,
        resolution: str,
        duration_seconds: int,
        locale: str = "en-US",
        private: bool = False,
        thread_id: int | None = None,
        parent_job_id: str | None = None,
        upload_limit: int | None = None,
        now: datetime | None = None,
        source: JobSource = JobSource.DISCORD,
        spoiler: bool = False,
    ) -> Job:
        """A fresh job in ACCEPTED with a new id, ready for `JobStore.create_job`."""
        if kind != params.KIND:
            raise ValueError(f"a {kind} job cannot hold {type(params).__name__}")
        return cls(
            id=new_job_id(),
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            kind=kind,
            params=params,
            resolution=resolution,
            duration_seconds=duration_seconds,
            created_at=now or utcnow(),
            locale=locale,
            private=private,
            thread_id=thread_id,
            parent_job_id=parent_job_id,
            upload_limit=upload_limit,
            source=source,
            spoiler=spoiler,
        )

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES
