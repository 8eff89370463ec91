"""Members' own defaults (/settings, migration V12) in the store, on every backend: kept per server and
member, changed one setting at a time (the others stay), a setting cleared alone, reset forgets them all."""

from __future__ import annotations

import pytest

from bot.jobs import JobStore
from bot.member_settings import MemberSettings
from tests.store.backends import ManualClock

GUILD, OTHER_GUILD, ALICE, BOB = 10, 11, 1, 2


async def test_defaults_are_kept_per_server_and_member_and_changed_one_at_a_time(
    store: JobStore, clock: ManualClock
) -> None:
    assert await store.member_settings(GUILD, ALICE) == MemberSettings()
    now = await store.update_member_settings(GUILD, ALICE, {"resolution": "1080p", "private": True}, now=clock())
    assert now == MemberSettings(resolution="1080p", private=True)
    now = await store.update_member_settings(GUILD, ALICE, {"duration": 8, "confirm_cost": False,
                                                            "movement": "high"}, now=clock())
    assert now == MemberSettings(resolution="1080p", duration=8, movement="high", private=True, confirm_cost=False)
    assert await store.member_settings(GUILD, ALICE) == now
    assert await store.member_settings(OTHER_GUILD, ALICE) == MemberSettings()  # another server: not hers there
    assert await store.member_settings(GUILD, BOB) == MemberSettings()
    cleared = await store.update_member_settings(GUILD, ALICE, {"private": None}, now=clock())
    assert cleared.private is None and cleared.resolution == "1080p"


async def test_reset_forgets_every_default_of_the_member_in_that_server_only(
    store: JobStore, clock: ManualClock
) -> None:
    await store.update_member_settings(GUILD, ALICE, {"resolution": "540p"}, now=clock())
    await store.update_member_settings(OTHER_GUILD, ALICE, {"resolution": "720p"}, now=clock())
    assert await store.reset_member_settings(GUILD, ALICE) is True
    assert await store.member_settings(GUILD, ALICE) == MemberSettings()
    assert await store.member_settings(OTHER_GUILD, ALICE) == MemberSettings(resolution="720p")
    assert await store.reset_member_settings(GUILD, ALICE) is False  # nothing left to forget


async def test_only_member_settings_can_be_written(store: JobStore, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="not a member setting"):
        await store.update_member_settings(GUILD, ALICE, {"guild_id": 3}, now=clock())
