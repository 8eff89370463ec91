"""bot/safety/policy.py on its own, and the server's choice kept and audited by a real store (both backends)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.jobs import JobStore
from bot.quotas import GuildSettings
from bot.safety import PicturePolicy, Screening, plan_screening
from bot.safety.policy import picture_policy
from tests.store.backends import BACKENDS, ManualClock, backend_params

G, MOD = 10, 99
BOTH = ("nudenet", "marker")


@pytest.mark.parametrize(("policy", "age_restricted", "wanted"), [
    (None, False, True),  # the default: every channel that is not age-restricted
    (None, True, False),
    ("outside_age_restricted", False, True),
    ("outside_age_restricted", True, False),
    ("everywhere", False, True),
    ("everywhere", True, True),
    ("off", False, False),
    ("off", True, False),
    ("a-newer-bot's-choice", True, True),  # unknown: screened, the safe reading
])
def test_where_pictures_are_screened(policy: str | None, age_restricted: bool, wanted: bool) -> None:
    plan = plan_screening(policy, age_restricted=age_restricted, usable=BOTH)
    assert plan == Screening(wanted, BOTH if wanted else ())
    assert plan.screened is wanted


def test_a_missing_screen_leaves_the_pictures_unscreened_not_refused() -> None:
    plan = plan_screening("everywhere", age_restricted=False, usable=())
    assert plan.wanted and not plan.screened and plan.screens == ()


def test_the_default_is_outside_age_restricted_channels() -> None:
    assert GuildSettings().safety_pictures == PicturePolicy.OUTSIDE_AGE_RESTRICTED.value
    assert picture_policy("") is PicturePolicy.OUTSIDE_AGE_RESTRICTED


@pytest.fixture(params=backend_params())
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    clock = ManualClock(datetime(2026, 5, 5, 12, tzinfo=UTC))
    async with await BACKENDS[request.param].open(tmp_path, clock) as opened:
        yield opened


async def test_the_servers_choice_is_kept_per_server_and_audited(store: JobStore) -> None:
    assert (await store.guild_settings(G)).safety_pictures == "outside_age_restricted"  # a new server
    current = await store.guild_settings(G)
    before = await store.set_guild_settings(G, replace(current, safety_pictures="off"), actor_id=MOD,
                                            action="config.safety")
    assert before.safety_pictures == "outside_age_restricted"
    assert (await store.guild_settings(G)).safety_pictures == "off"
    assert (await store.guild_settings(G + 1)).safety_pictures == "outside_age_restricted"  # another server's
    (entry, *_) = await store.audit(G)
    assert entry["action"] == "config.safety" and entry["actor_id"] == MOD
    assert json.loads(entry["before"])["safety_pictures"] == "outside_age_restricted"
    assert json.loads(entry["after"])["safety_pictures"] == "off"


def test_settings_stored_before_the_policy_existed_read_as_the_default() -> None:
    old = GuildSettings().to_json()
    del old["safety_pictures"]
    assert GuildSettings.from_json(old).safety_pictures == "outside_age_restricted"
