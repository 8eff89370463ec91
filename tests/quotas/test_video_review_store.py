"""A screened video's decision in the store, on both backends (bot/db/sql_review.py): a held job is left alone by
the delivery and frees its member's slot; a moderator decides it once, audited, and Remove keeps the charge (the
provider billed the video)."""

from __future__ import annotations

from datetime import timedelta

from bot.db import SQLiteStore
from bot.jobs import JobState
from bot.jobs.ledger import Settlement
from bot.jobs.review import REASON_NOT_APPROVED, VideoReview
from tests.quotas.test_ledger import ALICE, DAY, MOD, G, ask, store, used  # noqa: F401 (the fixture)
from tests.store.factories import drive_to

S = JobState
LEASE = timedelta(seconds=30)


async def held_job(opened: SQLiteStore) -> str:
    job = await ask(opened, seconds=7)
    done = await drive_to(opened, job, S.SUCCEEDED)
    now = opened.now()
    [leased] = await opened.lease([S.SUCCEEDED], owner="a", now=now, until=now + LEASE, limit=1)
    assert await opened.record_video_review(job.id, "hold", fence=leased.attempt) is not None
    held = await opened.record_video_review(job.id, VideoReview.HELD, fence=leased.attempt, release=True)
    assert held is not None and (held.video_review, held.lease_owner) == ("held", None) and done.id == job.id
    return job.id


async def test_a_held_video_is_not_leased_frees_its_slot_and_approve_hands_it_back_once(store: SQLiteStore) -> None:  # noqa: F811
    job_id = await held_job(store)
    now = store.now()
    assert await store.lease([S.SUCCEEDED], owner="b", now=now, until=now + LEASE, limit=10) == []
    assert await store.count_active(G, ALICE) == 0
    approved = await store.decide_review(job_id, approve=True, actor_id=MOD, reason=REASON_NOT_APPROVED)
    assert approved is not None and (approved.state, approved.video_review, approved.reviewed_by) == (
        S.SUCCEEDED, "approved", MOD)
    assert approved.delivery_attempts == 0 and approved.succeeded_at == store.now()
    assert await store.decide_review(job_id, approve=False, actor_id=MOD + 1, reason=REASON_NOT_APPROVED) is None
    [leased] = await store.lease([S.SUCCEEDED], owner="b", now=now, until=now + LEASE, limit=10)
    assert leased.id == job_id and await store.count_active(G, ALICE) == 1
    (row,) = [r for r in await store.audit(G) if r["action"].startswith("video.")]
    assert (row["action"], row["actor_id"]) == ("video.approve", MOD) and job_id in row["after"]


async def test_remove_ends_it_expired_charged_and_audited_and_a_stale_lease_cannot_write(store: SQLiteStore) -> None:  # noqa: F811
    job_id = await held_job(store)
    removed = await store.decide_review(job_id, approve=False, actor_id=MOD, reason=REASON_NOT_APPROVED)
    assert removed is not None and (removed.state, removed.video_review, removed.reason) == (
        S.EXPIRED, "removed", REASON_NOT_APPROVED)
    (entry,) = await store.ledger_entries(DAY)
    assert entry.settlement is Settlement.CHARGED and await used(store) == (1, 7)
    assert await store.decide_review(job_id, approve=True, actor_id=MOD, reason=REASON_NOT_APPROVED) is None
    assert [r["action"] for r in await store.audit(G) if r["action"].startswith("video.")] == ["video.remove"]
    assert await store.record_video_review(job_id, "passed", fence=1) is None  # not SUCCEEDED any more


async def test_a_press_before_the_delivery_recorded_the_hold_wins_over_that_record(store: SQLiteStore) -> None:  # noqa: F811
    job = await ask(store, seconds=7)
    await drive_to(store, job, S.SUCCEEDED)
    now = store.now()
    [leased] = await store.lease([S.SUCCEEDED], owner="a", now=now, until=now + LEASE, limit=1)
    assert await store.record_video_review(job.id, "hold", fence=leased.attempt) is not None
    # The mod-log message is out; a moderator approves before the delivery records the video held.
    assert await store.decide_review(job.id, approve=True, actor_id=MOD, reason=REASON_NOT_APPROVED) is not None
    assert await store.record_video_review(job.id, VideoReview.HELD, fence=leased.attempt, release=True) is None
    after = await store.get_job(job.id)
    assert after is not None and (after.video_review, after.lease_owner) == ("approved", None)
    [again] = await store.lease([S.SUCCEEDED], owner="b", now=now, until=now + LEASE, limit=1)
    assert again.id == job.id  # the delivery posts it
