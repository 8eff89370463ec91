"""The provider pause in the store: one episode in force at most, one probe at a time, one ender, and each
server told once per episode, whichever of several processes (store handles) asks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.jobs import JobState, JobStore
from bot.jobs.pause import PauseKind
from tests.store.backends import ManualClock
from tests.store.conftest import OpenHandle
from tests.store.factories import GUILD, OTHER_GUILD, drive_to, make_job

S = JobState
PROBE = timedelta(minutes=5)
NO_CREDIT, MISCONFIGURED = PauseKind.NO_CREDIT, PauseKind.MISCONFIGURED


async def test_a_pause_starts_once_however_many_processes_start_it_at_once(
    store: JobStore, open_handle: OpenHandle, clock: ManualClock
) -> None:
    assert await store.provider_pause() is None
    handles = [store, *[await open_handle() for _ in range(3)]]
    started = await asyncio.gather(*(h.start_provider_pause(NO_CREDIT, now=clock(), next_probe_at=clock() + PROBE)
                                     for h in handles))
    assert sorted(started) == [False, False, False, True]
    pause = await store.provider_pause()
    assert pause is not None and (pause.kind, pause.started_at, pause.probes) == (NO_CREDIT, clock(), 0)
    assert pause.next_probe_at == clock() + PROBE

    # Started again while in force (a failed probe, a key refused now): no new episode, the later word wins.
    clock.advance(60)
    assert not await store.start_provider_pause(MISCONFIGURED, now=clock(), next_probe_at=clock() + PROBE)
    again = await store.provider_pause()
    assert again is not None and (again.episode, again.kind) == (pause.episode, MISCONFIGURED)
    assert (again.started_at, again.next_probe_at) == (pause.started_at, clock() + PROBE)


async def test_one_process_claims_each_probe_and_only_once_it_is_due(
    store: JobStore, open_handle: OpenHandle, clock: ManualClock
) -> None:
    other = await open_handle()
    assert not await store.claim_provider_probe(owner="a", due_by=clock() + PROBE * 9, next_probe_at=clock())
    await store.start_provider_pause(NO_CREDIT, now=clock(), next_probe_at=clock() + PROBE)
    assert not await store.claim_provider_probe(owner="a", due_by=clock(), next_probe_at=clock() + PROBE)
    clock.advance(PROBE.total_seconds())
    claims = await asyncio.gather(*(h.claim_provider_probe(owner=name, due_by=clock(), next_probe_at=clock() + PROBE)
                                    for h, name in ((store, "a"), (other, "b"), (store, "c"))))
    assert sorted(claims) == [False, False, True]
    pause = await store.provider_pause()
    assert pause is not None and pause.probes == 1 and pause.next_probe_at == clock() + PROBE


async def test_ending_a_pause_once_and_the_next_one_is_a_new_episode(
    store: JobStore, open_handle: OpenHandle, clock: ManualClock
) -> None:
    other = await open_handle()
    assert await store.end_provider_pause(now=clock()) is None
    await store.start_provider_pause(NO_CREDIT, now=clock(), next_probe_at=clock() + PROBE)
    first = await store.provider_pause()
    clock.advance(600)
    ended = await asyncio.gather(store.end_provider_pause(now=clock()), other.end_provider_pause(now=clock()))
    assert [e for e in ended if e is not None] == [first]
    assert await store.provider_pause() is None
    assert not await store.claim_provider_probe(owner="a", due_by=clock() + PROBE, next_probe_at=clock())

    assert await other.start_provider_pause(NO_CREDIT, now=clock(), next_probe_at=clock() + PROBE)
    second = await store.provider_pause()
    assert second is not None and first is not None and second.episode > first.episode


async def test_each_server_with_queued_jobs_is_noted_once_per_episode(
    store: JobStore, open_handle: OpenHandle, clock: ManualClock
) -> None:
    other = await open_handle()
    await store.create_job(make_job(clock), [])
    await store.create_job(make_job(clock), [])
    running = await store.create_job(make_job(clock, guild_id=OTHER_GUILD), [])
    await drive_to(store, running, S.SUBMITTED)  # not waiting: its server is not told
    assert await store.note_paused_guilds() == []  # not paused

    await store.start_provider_pause(NO_CREDIT, now=clock(), next_probe_at=clock() + PROBE)
    noted = await asyncio.gather(store.note_paused_guilds(), other.note_paused_guilds())
    assert sorted(g for batch in noted for g in batch) == [GUILD]
    await store.create_job(make_job(clock, guild_id=OTHER_GUILD), [])  # a job queued during the pause
    assert await other.note_paused_guilds() == [OTHER_GUILD]
    assert await store.note_paused_guilds() == []
    pause = await store.provider_pause()
    assert pause is not None and await other.paused_guilds(pause.episode) == sorted([GUILD, OTHER_GUILD])

    await store.end_provider_pause(now=clock())
    assert await store.note_paused_guilds() == []
    await store.start_provider_pause(NO_CREDIT, now=clock(), next_probe_at=clock() + PROBE)
    assert await store.note_paused_guilds() == sorted([GUILD, OTHER_GUILD])  # a new episode: told again
