"""Who may ask for what, here, now: the server's rules over ids and numbers, before any attachment is read.

Discord-free. The Discord side (bot/ui/intake.py) hands in what it knows without reading a byte of the
request's pictures: the server, the member and their roles, the channel (and a thread's parent), and what the
request declares (kind, resolution, seconds, prompts). The answer is an `Admission` (what the job will be
charged, the limits it must fit, its place in the member's queue) or a `Refusal` naming the rule, in the
order a member can act on them. The limits that must hold when requests arrive at the same instant (quota,
cooldown, queue length) are checked again, exactly, inside the transaction that creates the job
(`JobStore.create_job`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.config import Settings
from bot.i18n import t
from bot.jobs.store import JobStore
from bot.moderation import BlockedTerm, blocked_by
from bot.quotas import Charge, MemberPace, QueueFull, QuotaCheck, QuotaExceeded, TooSoon, charge_for, first_refusal
from bot.quotas.charging import request_checks
from bot.safety.automod import KeywordRule, Where, refusing_rule
from bot.strikes import flagged_match


@dataclass(frozen=True)
class Ask:
    """A request as admission sees it: ids and declared numbers, nothing downloaded."""

    guild_id: int
    user_id: int
    role_ids: Collection[int]
    channel_ids: Collection[int]  # where it was asked: the channel, and a thread's parent channel
    kind: str
    resolution: str
    seconds: int
    prompts: Sequence[str | None]
    automod: ServerAutoMod | None = None  # None: the server's AutoMod rules could not be read


@dataclass(frozen=True)
class ServerAutoMod:
    """The server's AutoMod keyword rules (bot/safety/automod.py) and who asks where, as they apply to this ask."""

    rules: Sequence[KeywordRule]
    where: Where


@dataclass(frozen=True)
class Admission:
    """What admitting a request decided: its cost and the limits it must fit when it is stored."""

    charge: Charge
    checks: list[QuotaCheck]
    max_active: int  # the member's running slots here (bot/jobs/queue_place.py says what a queued job waits for)
    pace: MemberPace | None = None


class Refusal(Exception):
    """A rule refused the request; the subclass names which (the Discord side words it for the member)."""


class Blocked(Refusal):
    """A moderator has paused this member's requests in this server."""


class StrikePaused(Blocked):
    """The provider refused this member's requests for their content too often here (bot/strikes.py): paused
    until a moderator unblocks them. Words itself (the member's language)."""

    def __init__(self, job_ids: Sequence[str]) -> None:
        super().__init__(f"paused by {len(job_ids)} content strikes")
        self.job_ids = tuple(job_ids)

    def text(self, locale: str) -> str:
        return t("refuse.paused_strikes", locale, count=len(self.job_ids))


class FlaggedPrompt(Refusal):
    """The provider has refused this prompt for its content before, in any server (bot/strikes.py): it is not
    sent again. Words itself (the member's language)."""

    def text(self, locale: str) -> str:
        return t("refuse.flagged_prompt", locale)


class AutoModRefused(Refusal):
    """One of the server's AutoMod rules would block this prompt in chat. Not echoed: the member is told the
    rule's name (and its own message, when it has one), never the words it matched."""

    def __init__(self, rule: KeywordRule) -> None:
        super().__init__(f"a prompt matches the server's AutoMod rule {rule.name!r}")
        self.rule = rule


class ChannelNotAllowed(Refusal):
    def __init__(self, allowed: Sequence[int]) -> None:
        super().__init__(f"requests are answered only in channels {list(allowed)}")
        self.allowed = tuple(allowed)


class Blocklisted(Refusal):
    def __init__(self, term: BlockedTerm) -> None:
        super().__init__(f"a prompt matches the server's blocklist ({term.shown()})")
        self.term = term


# Also raised: TooSoon, QueueFull and QuotaExceeded (bot.quotas), which create_job raises too.
REFUSALS = (Refusal, TooSoon, QueueFull, QuotaExceeded)


async def admit(store: JobStore, settings: Settings, ask: Ask) -> Admission:
    """May this member ask for this here, now? Raises a Refusal, TooSoon, QueueFull or QuotaExceeded."""
    guild = await store.guild_settings(ask.guild_id)
    if await store.is_blocked(ask.guild_id, ask.user_id):
        strikes = await store.strike_pause(ask.guild_id, ask.user_id)
        raise Blocked("blocked in this server") if strikes is None else StrikePaused(strikes)
    if guild.channel_ids and not set(ask.channel_ids) & set(guild.channel_ids):
        raise ChannelNotAllowed(guild.channel_ids)
    term = blocked_by("\n".join(p for p in ask.prompts if p), await store.blocklist(ask.guild_id))
    if term is not None:
        raise Blocklisted(term)
    if ask.automod is not None and ask.automod.rules:  # what AutoMod would block in chat, the bot does not echo
        # In a thread: up to 6 rules of 1000 keywords and 10 patterns each (~10 ms of CPU on a long prompt).
        rule = await asyncio.to_thread(refusing_rule, ask.prompts, ask.automod.rules, ask.automod.where)
        if rule is not None:
            raise AutoModRefused(rule)
    # A prompt the provider refused for its content, anywhere: not sent again (its pictures are checked once
    # they are prepared, bot/ui/flagged.py).
    if await flagged_match(store, ask.prompts, None) is not None:
        raise FlaggedPrompt("the video service has refused this prompt before")
    now = store.now()  # job times are the database's (bot/db/clock.py)
    max_queued = guild.queued_limit(settings.max_queued_jobs_per_member)
    pace = MemberPace(cooldown_seconds=guild.cooldown_seconds or 0, max_queued=max_queued)
    # Early, so a refused request opens no thread; create_job checks again, exactly (requests sent at once).
    recent = await store.recent_jobs(ask.guild_id, ask.user_id, limit=1)
    if pace.cooldown_seconds and recent:
        since = (now - recent[0].created_at).total_seconds()
        if since < pace.cooldown_seconds:
            raise TooSoon(pace.cooldown_seconds, pace.cooldown_seconds - since)
    queued = await store.queued_for(ask.guild_id, ask.user_id)
    if len(queued) >= max_queued:
        raise QueueFull(len(queued), max_queued)
    # The member's limits, the server pool's and the operator's budget, with the bot's default limits.
    checks = await request_checks(store, settings.operator_limits(), guild, guild_id=ask.guild_id,
                                  user_id=ask.user_id, role_ids=ask.role_ids, now=now)
    charge = charge_for(ask.guild_id, ask.user_id, kind=ask.kind, resolution=ask.resolution, seconds=ask.seconds,
                        settings=guild, prices=settings.price_table)
    exceeded = await first_refusal(store, checks, charge)  # create_job checks again, atomically
    if exceeded is not None:
        raise exceeded
    return Admission(charge, checks, guild.active_limit(settings.max_active_jobs_per_member), pace)
