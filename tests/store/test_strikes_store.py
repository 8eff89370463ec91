"""Issue 25, item 6, in the store (every backend): flags found again by prompt and by a near picture, strikes
counted once per job within the server's window, a pause at the limit (once, audited, its strikes named), a
moderator's block left alone, and /mod unblock lifting the pause and the strikes before it."""

from __future__ import annotations

from bot.jobs import JobStore
from bot.media.fingerprint import dhash
from bot.strikes import Fingerprint, Kind, Part, RecordedRefusal, StrikeRule, match
from tests.fakes.pictures import blobs
from tests.store.backends import ManualClock

GUILD, OTHER_GUILD, ALICE, BOB, MOD = 10, 11, 1, 2, 99
RULE = StrikeRule(limit=3, hours=24)
A, B = dhash(blobs(1)), dhash(blobs(2))


def refusal(job_id: str, *prints: Fingerprint, user: int = ALICE, guild: int = GUILD,
            part: Part = Part.PROMPT) -> RecordedRefusal:
    return RecordedRefusal(job_id, guild, user, part, prints)


async def test_flags_are_found_by_prompt_and_by_a_near_picture_from_every_server(
    store: JobStore, clock: ManualClock
) -> None:
    assert await store.flags_for_prompts(["forbidden dance"]) == []
    assert not await store.has_picture_flags()
    await store.record_content_refusal(
        refusal("J1", Fingerprint(Kind.PROMPT, "forbidden dance"), Fingerprint(Kind.PICTURE, pictures=(A,)),
                Fingerprint(Kind.REQUEST, "a cat\n", (A, B)), guild=OTHER_GUILD), now=clock(), rule=RULE)
    assert await store.flags_for_prompts(["forbidden dance", "walks in"]) == [Fingerprint(Kind.PROMPT,
                                                                                           "forbidden dance")]
    assert await store.flags_for_prompts(["a cat\n"]) == [Fingerprint(Kind.REQUEST, "a cat\n", (A, B))]
    assert await store.has_picture_flags()
    near = A ^ (1 << 3) ^ (1 << 20) ^ (1 << 40) ^ (1 << 63)  # four bits off, one in each of four bands
    found = await store.flags_near([B, near])
    assert found == [Fingerprint(Kind.PICTURE, pictures=(A,))]
    assert match(found, ["anything"], [near]) is not None
    assert await store.flags_near([B]) == []  # another picture: not even a candidate


async def test_strikes_count_once_per_job_within_the_window_and_pause_at_the_limit(
    store: JobStore, clock: ManualClock
) -> None:
    prompt = Fingerprint(Kind.PROMPT, "x")
    first = await store.record_content_refusal(refusal("J1", prompt), now=clock(), rule=RULE)
    assert first.job_ids == ("J1",) and not first.paused_now
    again = await store.record_content_refusal(refusal("J1", prompt), now=clock(), rule=RULE)  # a retried write
    assert again.job_ids == ("J1",) and not again.paused_now
    assert len(await store.flags_for_prompts(["x"])) == 1  # flagged once, too
    clock.advance(25 * 3600)  # J1 falls out of the 24 h window
    await store.record_content_refusal(refusal("J2", prompt), now=clock(), rule=RULE)
    await store.record_content_refusal(refusal("B1", prompt, user=BOB), now=clock(), rule=RULE)  # bob's own
    await store.record_content_refusal(refusal("O1", prompt, guild=OTHER_GUILD), now=clock(), rule=RULE)
    clock.advance(60)
    third = await store.record_content_refusal(refusal("J3", prompt), now=clock(), rule=RULE)
    assert third.job_ids == ("J2", "J3") and not third.paused_now
    assert not await store.is_blocked(GUILD, ALICE)
    clock.advance(60)
    paused = await store.record_content_refusal(refusal("J4", prompt), now=clock(), rule=RULE)
    assert paused.job_ids == ("J2", "J3", "J4") and paused.paused_now
    assert await store.is_blocked(GUILD, ALICE) and await store.strike_pause(GUILD, ALICE) == ("J2", "J3", "J4")
    assert not await store.is_blocked(OTHER_GUILD, ALICE) and not await store.is_blocked(GUILD, BOB)
    (entry,) = await store.audit(GUILD)
    assert entry["action"] == "strikes.pause" and entry["actor_id"] == 0 and "J4" in entry["after"]
    clock.advance(60)
    more = await store.record_content_refusal(refusal("J5", prompt), now=clock(), rule=RULE)
    assert not more.paused_now and len(await store.audit(GUILD)) == 1  # paused once


async def test_unblock_lifts_the_pause_and_the_strikes_before_it(store: JobStore, clock: ManualClock) -> None:
    prompt = Fingerprint(Kind.PROMPT, "x")
    for job_id in ("J1", "J2", "J3"):
        await store.record_content_refusal(refusal(job_id, prompt), now=clock(), rule=RULE)
    assert await store.strike_pause(GUILD, ALICE) == ("J1", "J2", "J3")
    await store.set_blocked(GUILD, ALICE, False, actor_id=MOD)
    assert not await store.is_blocked(GUILD, ALICE) and await store.strike_pause(GUILD, ALICE) is None
    clock.advance(60)
    after = await store.record_content_refusal(refusal("J4", prompt), now=clock(), rule=RULE)
    assert after.job_ids == ("J4",) and not after.paused_now  # the lifted strikes no longer count
    assert not await store.is_blocked(GUILD, ALICE)


async def test_a_moderators_block_is_left_as_it_is_and_replaces_a_pause(store: JobStore, clock: ManualClock) -> None:
    prompt = Fingerprint(Kind.PROMPT, "x")
    await store.set_blocked(GUILD, ALICE, True, actor_id=MOD, reason="spam")
    for job_id in ("J1", "J2", "J3"):
        result = await store.record_content_refusal(refusal(job_id, prompt), now=clock(), rule=RULE)
        assert not result.paused_now
    assert await store.is_blocked(GUILD, ALICE) and await store.strike_pause(GUILD, ALICE) is None
    for job_id in ("B1", "B2", "B3"):
        await store.record_content_refusal(refusal(job_id, prompt, user=BOB), now=clock(), rule=RULE)
    assert await store.strike_pause(GUILD, BOB) == ("B1", "B2", "B3")
    await store.set_blocked(GUILD, BOB, True, actor_id=MOD, reason="the moderators' own")
    assert await store.is_blocked(GUILD, BOB) and await store.strike_pause(GUILD, BOB) is None


async def test_a_rule_of_zero_never_pauses(store: JobStore, clock: ManualClock) -> None:
    for job_id in ("J1", "J2", "J3", "J4"):
        result = await store.record_content_refusal(refusal(job_id, Fingerprint(Kind.PROMPT, "x")), now=clock(),
                                                    rule=StrikeRule(limit=0))
    assert result.job_ids == ("J1", "J2", "J3", "J4") and not await store.is_blocked(GUILD, ALICE)
