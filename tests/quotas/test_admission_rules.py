"""bot/admission.py on its own: the server's rules over ids and numbers, no Discord, a real store (both
backends). Each rule refuses with its own type, in the order a member can act on them; an admitted request
says what it will be charged and where it waits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from bot.admission import REFUSALS, Ask, Blocked, Blocklisted, ChannelNotAllowed, FlaggedPrompt, StrikePaused, admit
from bot.config import Settings, load_settings
from bot.jobs import Job, JobKind, JobState, JobStore
from bot.jobs.queue_place import QueuePlace, WaitingFor, queue_place
from bot.moderation import BlockedTerm
from bot.params import Img2VideoParams
from bot.quotas import GuildSettings, Limit, Period, QueueFull, QuotaExceeded, Scope, TooSoon
from bot.strikes import Fingerprint, Kind, Part, RecordedRefusal, StrikeRule
from tests.store.backends import BACKENDS, ManualClock, backend_params
from tests.store.factories import drive_to

G, ALICE, MOD, GENERAL, ART = 10, 1, 99, 500, 600
E = TypeVar("E", bound=Exception)
ANIMATE = Ask(guild_id=G, user_id=ALICE, role_ids=(), channel_ids=(GENERAL,), kind="img2video",
              resolution="720p", seconds=5, prompts=("a cat yawns",))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 5, 5, 12, tzinfo=UTC))


@pytest.fixture(params=backend_params())
async def store(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> AsyncIterator[JobStore]:
    async with await BACKENDS[request.param].open(tmp_path, clock) as opened:
        yield opened


@pytest.fixture
def settings() -> Settings:
    return load_settings({"DEFAULT_MEMBER_LIMITS": "none", "DEFAULT_SERVER_LIMITS": "none",
                          "MAX_ACTIVE_JOBS_PER_MEMBER": "1", "MAX_QUEUED_JOBS_PER_MEMBER": "2"}, env_file=None)


@contextmanager
def refused(kind: type[E]) -> Iterator[pytest.ExceptionInfo[E]]:
    """admit() refuses with `kind`, one of the REFUSALS the Discord side catches and words for the member
    (any other exception would reach them as an error)."""
    with pytest.raises(REFUSALS) as caught:
        yield caught
    assert isinstance(caught.value, kind), caught.value


async def stored(store: JobStore, ask: Ask = ANIMATE) -> Job:
    admitted = await admit(store, load_settings({}, env_file=None), ask)
    job = Job.new(guild_id=ask.guild_id, channel_id=GENERAL, user_id=ask.user_id, kind=JobKind.IMG2VIDEO,
                  params=Img2VideoParams(prompt="p"), resolution="720p", duration_seconds=5, now=store.now())
    return await store.create_job(job, [], charge=admitted.charge, checks=admitted.checks, pace=admitted.pace)


async def test_an_allowed_request_says_its_charge_and_goes_at_once(store: JobStore, settings: Settings) -> None:
    admitted = await admit(store, settings, ANIMATE)
    assert (admitted.charge.guild_id, admitted.charge.user_id, admitted.charge.seconds) == (G, ALICE, 5)
    assert admitted.charge.credits > 0 and admitted.max_active == 1


async def test_each_rule_refuses_with_its_own_reason(store: JobStore, settings: Settings) -> None:
    await store.set_blocklisted(G, BlockedTerm("yawns", is_regex=False), True, actor_id=MOD)
    with refused(Blocklisted) as listed:
        await admit(store, settings, ANIMATE)
    assert listed.value.term.pattern == "yawns"
    await store.set_guild_settings(G, GuildSettings(channel_ids=(ART,)), actor_id=MOD, action="channels")
    with refused(ChannelNotAllowed) as elsewhere:  # the channel list is checked before the prompts
        await admit(store, settings, ANIMATE)
    assert elsewhere.value.allowed == (ART,)
    in_a_thread_of_art = replace(ANIMATE, channel_ids=(12345, ART), prompts=("a dog",))
    await admit(store, settings, in_a_thread_of_art)  # admitted: a refusal raises
    await store.set_blocked(G, ALICE, True, actor_id=MOD)
    with refused(Blocked):  # first of all
        await admit(store, settings, ANIMATE)


async def test_a_prompt_the_provider_refused_anywhere_is_refused_before_any_download(
    store: JobStore, settings: Settings, clock: ManualClock
) -> None:
    """Issue 25, item 6: flagged in another server, refused here, in the member's words."""
    await store.record_content_refusal(RecordedRefusal("J1", 77, 5, Part.PROMPT, (Fingerprint(Kind.PROMPT,
                                                                                               "a cat yawns"),)),
                                       now=clock(), rule=StrikeRule())
    with refused(FlaggedPrompt) as flagged:
        await admit(store, settings, replace(ANIMATE, prompts=("A CAT　 yawns",)))  # the same, normalised
    assert "refused this prompt for its content before" in flagged.value.text("en-US")
    assert "之前因内容问题拒绝过这个提示词" in flagged.value.text("zh-CN")
    multiframe = replace(ANIMATE, kind="multiframe", prompts=("walks in", "a cat yawns"))
    with refused(FlaggedPrompt):  # one segment is enough
        await admit(store, settings, multiframe)
    await admit(store, settings, replace(ANIMATE, prompts=("a cat yawns twice",)))  # admitted: a refusal raises


async def test_strikes_pause_with_their_own_words_and_a_moderators_block_keeps_its_own(
    store: JobStore, settings: Settings, clock: ManualClock
) -> None:
    for job_id in ("J1", "J2", "J3"):
        await store.record_content_refusal(RecordedRefusal(job_id, G, ALICE, Part.PROMPT, ()), now=clock(),
                                           rule=StrikeRule(limit=3))
    with refused(StrikePaused) as paused:
        await admit(store, settings, ANIMATE)
    assert paused.value.job_ids == ("J1", "J2", "J3")
    assert "the video service refused 3 of them for their content" in paused.value.text("en-US")
    await store.set_blocked(G, ALICE, True, actor_id=MOD)  # now the moderators' own block
    with refused(Blocked) as blocked:
        await admit(store, settings, ANIMATE)
    assert not isinstance(blocked.value, StrikePaused)


async def test_the_queue_limit_and_the_cooldown(store: JobStore, settings: Settings, clock: ManualClock) -> None:
    await drive_to(store, await stored(store), JobState.SUBMITTED)  # at the provider: the member's one slot
    first = await stored(store)
    assert await queue_place(store, first, max_active=1, provider_cap=None) == QueuePlace(1, WaitingFor.MEMBER)
    await stored(store)  # two waiting: MAX_QUEUED_JOBS_PER_MEMBER
    with refused(QueueFull) as full:
        await admit(store, settings, ANIMATE)
    assert (full.value.queued, full.value.limit) == (2, 2)
    await store.set_guild_settings(G, GuildSettings(cooldown_seconds=60, max_queued=10), actor_id=MOD,
                                   action="pace")
    with refused(TooSoon) as soon:
        await admit(store, settings, ANIMATE)
    assert soon.value.cooldown_seconds == 60 and 0 < soon.value.wait_seconds <= 60
    clock.advance(61)
    third = await stored(store)
    assert await queue_place(store, third, max_active=1, provider_cap=None) == QueuePlace(3, WaitingFor.MEMBER)


async def test_a_cooldown_counts_from_the_members_last_request_and_ends_exactly_when_it_says(
        store: JobStore, settings: Settings, clock: ManualClock) -> None:
    await store.set_guild_settings(G, GuildSettings(cooldown_seconds=60), actor_id=MOD, action="pace")
    await admit(store, settings, ANIMATE)  # no earlier request: nothing to wait
    await stored(store)
    clock.advance(45)
    with refused(TooSoon) as soon:
        await admit(store, settings, ANIMATE)
    assert (soon.value.cooldown_seconds, soon.value.wait_seconds) == (60, 15)  # 15 s left, as the member reads
    clock.advance(15)  # 60 s after: the cooldown is over (create_job draws the same line)
    await admit(store, settings, ANIMATE)  # admitted: a refusal raises


async def test_without_a_cooldown_a_clock_stepped_back_refuses_nothing(store: JobStore, settings: Settings,
                                                                        clock: ManualClock) -> None:
    await stored(store)
    clock.advance(-30)  # the database's clock set back (NTP): the last request now looks 30 s in the future
    await admit(store, settings, ANIMATE)  # no cooldown: no wait, ever


async def test_a_used_up_quota_refuses_before_anything_is_read(store: JobStore, settings: Settings) -> None:
    await store.set_limit(Limit(G, Scope.MEMBER, ALICE, Period.DAY, videos=1, seconds=None), actor_id=MOD)
    await stored(store)
    with refused(QuotaExceeded) as over:
        await admit(store, settings, ANIMATE)
    assert over.value.check.limit.videos == 1 and over.value.used.videos == 1
