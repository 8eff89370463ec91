"""Quota vocabulary: who a limit applies to, over which window, in which units. Plain data, no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.pricing import format_credits


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Scope(StrEnum):
    SERVER = "server"  # a pool shared by the whole server: protects the key owner's balance
    DEFAULT = "default"  # every member without a role or personal limit
    ROLE = "role"
    MEMBER = "member"
    BUDGET = "budget"  # the operator's budget across every server (from the environment, never stored)


ADJECTIVE = {Period.DAY: "daily", Period.WEEK: "weekly", Period.MONTH: "monthly"}


@dataclass(frozen=True)
class Limit:
    guild_id: int
    scope: Scope
    target_id: int  # the role or member id; 0 for the server pool and the default
    period: Period
    videos: int | None  # None: no limit in this unit
    seconds: int | None
    credits: int | None = None  # estimated cost, in thousandths of the price table's currency (bot.pricing)
    bot_default: bool = False  # the operator's default (DEFAULT_*_LIMITS), not set by the server

    def describe(self) -> str:
        parts = []
        if self.videos is not None:
            parts.append(f"{self.videos} video{'s' if self.videos != 1 else ''}")
        if self.seconds is not None:
            parts.append(f"{self.seconds} s of video")
        if self.credits is not None:
            parts.append(f"{format_credits(self.credits)} of credits")
        return f"{' and '.join(parts) or 'no limit'} per {self.period.value}"


@dataclass(frozen=True)
class GuildSettings:
    """A server's own configuration (moderators change it with /config)."""

    timezone: str = "UTC"
    weights: dict[str, float] = field(default_factory=lambda: {"540p": 1.0, "720p": 1.0, "1080p": 2.0})
    max_active: int | None = None  # None: the operator's default (MAX_ACTIVE_JOBS_PER_MEMBER)
    max_queued: int | None = None
    cooldown_seconds: int = 0
    channel_ids: tuple[int, ...] = ()  # empty: every channel
    modlog_channel_id: int | None = None
    # The server's watermark on every multiframe video (/config watermark): the Discord CDN URL of the
    # picture as the bot re-posted it in the mod-log channel (refreshed before each submit: such links
    # expire), and where the provider puts it. None: no watermark.
    watermark_url: str | None = None
    watermark_position: str = "bottom_left"
    # Content strikes (bot/strikes.py): this many refusals for content by the provider within `strike_hours`
    # pause a member in this server (/config strikes; 0: never).
    strike_limit: int = 3
    strike_hours: int = 24
    # Where members' pictures are screened (/config safety; bot/safety/policy.py reads it): a plain string so
    # the quotas package needs nothing of bot.safety; an unknown value screens everywhere.
    safety_pictures: str = "outside_age_restricted"
    # Where finished videos are screened before they are posted (the same three choices), and what a flagged one
    # gets: "hold" (for a moderator, in the mod-log) or "spoiler" (bot/safety/policy.py reads both).
    safety_videos: str = "outside_age_restricted"
    safety_flagged_videos: str = "hold"

    def active_limit(self, default: int) -> int:
        """A member's jobs at the provider at once: the server's own limit, else the operator's `default`."""
        return self.max_active if self.max_active is not None else default

    def queued_limit(self, default: int) -> int:
        """A member's jobs waiting in the bot's queue: the server's own limit, else the operator's `default`."""
        return self.max_queued if self.max_queued is not None else default

    def to_json(self) -> dict[str, Any]:
        return {"timezone": self.timezone, "weights": self.weights, "max_active": self.max_active,
                "max_queued": self.max_queued, "cooldown_seconds": self.cooldown_seconds,
                "channel_ids": list(self.channel_ids), "modlog_channel_id": self.modlog_channel_id,
                "watermark_url": self.watermark_url, "watermark_position": self.watermark_position,
                "strike_limit": self.strike_limit, "strike_hours": self.strike_hours,
                "safety_pictures": self.safety_pictures, "safety_videos": self.safety_videos,
                "safety_flagged_videos": self.safety_flagged_videos}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GuildSettings:
        base = cls()
        return cls(
            timezone=str(data.get("timezone", base.timezone)),
            weights={str(k): float(v) for k, v in (data.get("weights") or base.weights).items()},
            max_active=data.get("max_active"), max_queued=data.get("max_queued"),
            cooldown_seconds=int(data.get("cooldown_seconds", 0)),
            channel_ids=tuple(int(c) for c in data.get("channel_ids", ())),
            modlog_channel_id=data.get("modlog_channel_id"),
            watermark_url=data.get("watermark_url"),
            watermark_position=str(data.get("watermark_position") or base.watermark_position),
            strike_limit=int(data.get("strike_limit", base.strike_limit)),
            strike_hours=int(data.get("strike_hours", base.strike_hours)),
            safety_pictures=str(data.get("safety_pictures") or base.safety_pictures),
            safety_videos=str(data.get("safety_videos") or base.safety_videos),
            safety_flagged_videos=str(data.get("safety_flagged_videos") or base.safety_flagged_videos),
        )

    def weighted_seconds(self, seconds: int, resolution: str) -> int:
        return math.ceil(seconds * self.weights.get(resolution, 1.0))


@dataclass(frozen=True)
class Charge:
    """What one request costs against quotas: one video, its weighted seconds and its estimated cost in
    credits. Build it with `bot.quotas.charge_for`, so every entry point counts a request the same way."""

    guild_id: int
    user_id: int
    seconds: int
    videos: int = 1
    credits: int = 0


@dataclass(frozen=True)
class QuotaCheck:
    """One limit a request must fit, over its current window; user_id None means the server pool."""

    limit: Limit
    user_id: int | None
    since: datetime
    resets_at: datetime

    @property
    def is_budget(self) -> bool:
        return self.limit.scope is Scope.BUDGET

    @property
    def label(self) -> str:
        if self.is_budget:
            return f"the bot's overall {ADJECTIVE[self.limit.period]} budget"
        owner = "the server's" if self.user_id is None else "your"
        return f"{owner} {ADJECTIVE[self.limit.period]} limit"


@dataclass(frozen=True)
class Usage:
    videos: int = 0
    seconds: int = 0
    credits: int = 0


@dataclass(frozen=True)
class MemberPace:
    """A server's pacing of each member, checked again in the transaction that stores the job, so requests
    sent at the same instant cannot all pass the early check: at most `max_queued` of the member's jobs
    waiting in the bot's queue, and `cooldown_seconds` between two of their requests."""

    cooldown_seconds: int = 0
    max_queued: int | None = None


class TooSoon(Exception):
    """The member's previous request was less than the cooldown ago."""

    def __init__(self, cooldown_seconds: int, wait_seconds: float) -> None:
        self.cooldown_seconds, self.wait_seconds = cooldown_seconds, wait_seconds
        super().__init__(f"cooldown {cooldown_seconds} s: {wait_seconds:.1f} s to wait")


class QueueFull(Exception):
    """The member already has `limit` jobs waiting in the bot's queue."""

    def __init__(self, queued: int, limit: int) -> None:
        self.queued, self.limit = queued, limit
        super().__init__(f"{queued} jobs queued, limit {limit}")


class QuotaExceeded(Exception):
    """A request does not fit a limit; the message says which limit and when it frees."""

    def __init__(self, check: QuotaCheck, used: Usage, charge: Charge) -> None:
        self.check, self.used, self.charge = check, used, charge
        super().__init__(self.message("en-US"))

    def message(self, locale: str) -> str:
        """Which limit, how much of it is used and when it frees, in the member's language."""
        from bot.quotas.text import exceeded_text  # (text.py imports this module for its types)

        return exceeded_text(self.check, self.used, self.charge, locale)

    @staticmethod
    def fits(limit: Limit, used: Usage, charge: Charge) -> bool:
        if limit.videos is not None and used.videos + charge.videos > limit.videos:
            return False
        if limit.credits is not None and used.credits + charge.credits > limit.credits:
            return False
        return limit.seconds is None or used.seconds + charge.seconds <= limit.seconds
