"""The server's rules a request meets before anything is downloaded (bot.ui.intake.admit), in the order a
member can act on them: the real bot (logged in to the fake Discord, its job loop not started), the real
store, and interactions exactly as the fake Discord sends them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import discord
import pytest
from prometheus_client import REGISTRY

from bot.admission import Admission
from bot.app import ViduBot
from bot.config import load_settings
from bot.db import open_store
from bot.jobs import Job, JobKind, JobState
from bot.jobs.models import utcnow
from bot.jobs.queue_place import QueuePlace, WaitingFor, queue_place
from bot.moderation import BlockedTerm
from bot.params import Img2VideoParams
from bot.quotas import GuildSettings, Limit, Period, Scope
from bot.ui.intake import Intake, admit
from bot.ui.replies import Refused
from tests.fakes.discord import FakeDiscord, Upload, permissions, point_discord_py_at
from tests.fakes.discord.models import FakeChannel, FakeMember
from tests.store.factories import drive_to

MOD = 99
ANIMATE = Intake(JobKind.IMG2VIDEO, Img2VideoParams(prompt="a cat yawns"), "720p", 5, private=False,
                 title="a cat yawns")


@pytest.fixture
async def bot(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[ViduBot]:
    settings = load_settings({"DISCORD_TOKEN": fake_discord.bot_token, "VIDU_API_KEY": "sk-unused-0123456789",
                              "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "DATA_DIR": str(tmp_path / "data"),
                              "DEFAULT_MEMBER_LIMITS": "none", "DEFAULT_SERVER_LIMITS": "none",
                              "MAX_ACTIVE_JOBS_PER_MEMBER": "1", "MAX_QUEUED_JOBS_PER_MEMBER": "2"}, env_file=None)
    restore = point_discord_py_at(fake_discord.api_base, fake_discord.gateway_url)
    try:
        async with aiohttp.ClientSession() as session, open_store(settings.database_url.get()) as store:
            vidu = ViduBot(settings, session=session, store=store, sync_only=True)  # no job loop
            await vidu.login(settings.discord_token.get())  # loads the commands
            guild = discord.Object(fake_discord.world.guild.id)
            vidu.tree.copy_global_to(guild=guild)
            await vidu.tree.sync(guild=guild)
            try:
                yield vidu
            finally:
                await vidu.close()
    finally:
        restore()


async def ask(fake: FakeDiscord, bot: ViduBot, member: FakeMember, channel: FakeChannel | None = None,
              intake: Intake = ANIMATE) -> Admission:
    record = await fake.slash(member, "animate", channel=channel or fake.world.general,
                              options={"image": Upload("a.png", b"\x89PNG"), "prompt": intake.params.prompts[0]})
    return await admit(bot, discord.Interaction(data=record.payload, state=bot._connection), intake)


async def refused(fake: FakeDiscord, bot: ViduBot, member: FakeMember, channel: FakeChannel | None = None) -> str:
    with pytest.raises(Refused) as refusal:
        await ask(fake, bot, member, channel)
    return str(refusal.value)


async def job_of(bot: ViduBot, member: FakeMember, guild_id: int, *, seconds_ago: float = 0) -> Job:
    job = Job.new(guild_id=guild_id, channel_id=1, user_id=member.id, kind=JobKind.IMG2VIDEO,
                  params=Img2VideoParams(prompt="p"), resolution="720p", duration_seconds=5,
                  now=utcnow() - timedelta(seconds=seconds_ago))
    return await bot.store.create_job(job, [])


async def test_requests_only_in_the_channels_a_server_chose(fake_discord: FakeDiscord, bot: ViduBot) -> None:
    world = fake_discord.world
    memes = world.guild.add_text_channel("memes")
    await bot.store.set_guild_settings(world.guild.id, GuildSettings(channel_ids=(world.general.id,)), actor_id=MOD,
                                       action="config")
    assert await refused(fake_discord, bot, world.alice, memes) == f"I make videos only in <#{world.general.id}>."
    await ask(fake_discord, bot, world.alice)  # in #general it is admitted (a refusal raises)


async def test_a_cooldown_refuses_until_it_has_passed_since_the_members_last_request(fake_discord: FakeDiscord,
                                                                                     bot: ViduBot) -> None:
    world = fake_discord.world
    await bot.store.set_guild_settings(world.guild.id, GuildSettings(cooldown_seconds=60), actor_id=MOD,
                                       action="config")
    last = await job_of(bot, world.alice, world.guild.id, seconds_ago=59.5)  # half a second to go
    text = await refused(fake_discord, bot, world.alice)
    assert text.startswith("This server asks for 60 s between requests: try again <t:")
    frees_at = (last.created_at + timedelta(seconds=60)).timestamp()
    assert 0 <= int(text.split("<t:")[1].split(":")[0]) - frees_at <= 2  # "in a second", as a Discord timestamp
    await drive_to(bot.store, last, JobState.CANCELLED)
    assert (await refused(fake_discord, bot, world.alice)).startswith("This server asks")  # cancelled: still asked
    await job_of(bot, world.bob, world.guild.id, seconds_ago=60.5)  # half a second past
    await job_of(bot, world.bob, world.guild.id + 1)  # a request in another server does not count here
    await ask(fake_discord, bot, world.bob)


async def test_a_full_queue_refuses_and_a_busy_member_waits_with_a_position(fake_discord: FakeDiscord,
                                                                           bot: ViduBot) -> None:
    world, guild_id = fake_discord.world, fake_discord.world.guild.id
    running = await job_of(bot, world.alice, guild_id)
    running = await drive_to(bot.store, running, JobState.SUBMITTED)  # MAX_ACTIVE_JOBS_PER_MEMBER=1: the slot is taken
    admission = await ask(fake_discord, bot, world.alice)
    assert admission.max_active == 1
    first = await job_of(bot, world.alice, guild_id)
    assert await queue_place(bot.store, first, max_active=1, provider_cap=None) == QueuePlace(1, WaitingFor.MEMBER)
    second = await job_of(bot, world.alice, guild_id)  # MAX_QUEUED_JOBS_PER_MEMBER=2: full
    assert await queue_place(bot.store, second, max_active=1, provider_cap=None) == QueuePlace(2, WaitingFor.MEMBER)
    assert await refused(fake_discord, bot, world.alice) == (
        "You already have 2 jobs waiting in the queue (the limit is 2). Cancel one or wait for them to start.")
    await bot.store.set_guild_settings(guild_id, GuildSettings(max_queued=3, max_active=2), actor_id=MOD,
                                       action="config")  # the server's own numbers win over the bot's
    admission = await ask(fake_discord, bot, world.alice)
    assert (admission.max_active, admission.checks) == (2, [])


async def test_a_request_over_a_limit_is_refused_and_counted_for_the_operator(fake_discord: FakeDiscord,
                                                                              bot: ViduBot) -> None:
    world = fake_discord.world
    await bot.store.set_limit(Limit(world.guild.id, Scope.DEFAULT, 0, Period.DAY, 1, None), actor_id=MOD)
    admission = await ask(fake_discord, bot, world.alice)
    assert (admission.charge.videos, admission.charge.seconds, admission.charge.credits) == (1, 5, 90)
    assert [check.label for check in admission.checks] == ["your daily limit"]
    job = Job.new(guild_id=world.guild.id, channel_id=1, user_id=world.alice.id, kind=JobKind.IMG2VIDEO,
                  params=ANIMATE.params, resolution="720p", duration_seconds=5)
    await bot.store.create_job(job, [], charge=admission.charge, checks=admission.checks)  # as start_job does
    before = REGISTRY.get_sample_value("vidu_quota_refusals_total") or 0
    assert (await refused(fake_discord, bot, world.alice)).startswith(
        "This would go over your daily limit (1 video per day): 1 of 1 video used")
    assert REGISTRY.get_sample_value("vidu_quota_refusals_total") == before + 1


async def test_the_first_rule_a_member_can_act_on_is_the_one_they_read(fake_discord: FakeDiscord, bot: ViduBot) -> None:
    world, guild_id = fake_discord.world, fake_discord.world.guild.id
    await fake_discord.set_overwrite(world.general, fake_discord.bot_member(world.guild),
                                     deny=permissions.ATTACH_FILES)
    await bot.store.set_blocked(guild_id, world.alice.id, True, actor_id=MOD)
    assert (await refused(fake_discord, bot, world.alice)).startswith(
        "I can't answer in this channel: I'm missing Attach Files here.")  # nobody can ask here: said first
    await fake_discord.remove_overwrite(world.general, fake_discord.bot_member(world.guild))
    assert await refused(fake_discord, bot, world.alice) == "A moderator has paused your video requests in this server."
    await bot.store.set_blocked(guild_id, world.alice.id, False, actor_id=MOD)
    await bot.store.set_blocklisted(guild_id, BlockedTerm("yawn", is_regex=True), True, actor_id=MOD)
    assert await refused(fake_discord, bot, world.alice) == (
        "Your prompt contains /yawn/, which this server does not allow. Nothing was sent.")
    await bot.store.set_blocklisted(guild_id, BlockedTerm("yawn", is_regex=True), False, actor_id=MOD)
    await ask(fake_discord, bot, world.alice)

