"""Quotas and moderator controls through the fake Discord (SPEC §2), with the real bot process."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from tests.e2e.conftest import eventually, png
from tests.e2e.test_animate import _is_video, private_answer
from tests.fakes.discord import FakeDiscord, InteractionRecord, Upload, permissions
from tests.fakes.provider import FakeProvider


async def answer_of(fake: FakeDiscord, ix: InteractionRecord) -> str:
    """The text of an immediate answer, or of the private followup after a deferral."""
    await fake.wait_for(lambda: ix.responses or None, timeout=10, what="an answer", seen=lambda: "")
    if ix.responses[0].type == 4:
        return str((ix.responses[0].data or {}).get("content", ""))
    return (await private_answer(fake, ix)).text()


async def run(fake: FakeDiscord, who: Any, command: str, **options: Any) -> str:
    ix = await fake.slash(who, command, channel=fake.world.general, options=options)
    return await answer_of(fake, ix)


async def animate(fake: FakeDiscord, who: Any, prompt: str = "a cat", **options: Any) -> str:
    return await run(fake, who, "animate", image=Upload("a.png", png()), prompt=prompt, **options)


async def test_a_daily_video_limit_refuses_the_next_request_and_says_when_it_frees(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    said = await run(fake_discord, world.mod, "quota set", scope="default", period="day", videos=1)
    assert "no limit → 1 video per day" in said
    assert "on its way" in await animate(fake_discord, world.alice)
    refused = await animate(fake_discord, world.alice, "again")
    assert "your daily limit (1 video per day)" in refused and "1 of 1 video used" in refused
    assert "It frees <t:" in refused
    assert len(provider.requests_to("submit")) <= 1
    assert len(fake_discord.threads(world.general)) == 1  # the refused request opened no thread
    me = await run(fake_discord, world.alice, "quota me")
    assert "0 of 1 video left" in me and "resets <t:" in me


async def test_credits_the_bots_default_limits_and_its_overall_budget(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot(DEFAULT_MEMBER_LIMITS="credits=1.00/day", BUDGET_PER_DAY="0.30")
    world = fake_discord.world
    assert await run(fake_discord, world.mod, "quota show") == "• every member: $1.00 of credits per day (bot default)"
    said = await run(fake_discord, world.mod, "quota set", scope="default", period="day", credits=0.2)
    assert "$1.00 of credits per day (bot default) → $0.20 of credits per day" in said
    assert "on its way" in await animate(fake_discord, world.alice, duration=5, resolution="1080p")  # $0.18
    refused = await animate(fake_discord, world.alice, "again", duration=1)  # $0.05
    assert "your daily limit ($0.20 of credits per day): $0.18 of $0.20 used, this request costs about $0.05" in refused
    assert "$0.02 of $0.20 credits left" in await run(fake_discord, world.alice, "quota me")
    refused = await animate(fake_discord, world.bob, duration=5, resolution="1080p")  # bob reads zh-CN
    assert "机器人在所有服务器共用的每日总预算即将用完：总额 US$0.30，剩余 US$0.12，此请求预估费用约 US$0.18" in refused
    assert len(fake_discord.threads(world.general)) == 1  # refused requests open no thread


async def test_1080p_seconds_count_double_against_a_seconds_limit(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await run(fake_discord, world.mod, "quota set", scope="default", period="day", seconds=15)
    refused = await animate(fake_discord, world.alice, duration=8, resolution="1080p")
    assert "0 of 15 s used, this request needs 16 s" in refused
    assert "on its way" in await animate(fake_discord, world.alice, duration=7, resolution="1080p")


async def test_a_failed_job_gives_the_quota_back(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    await start_bot()
    world = fake_discord.world
    await run(fake_discord, world.mod, "quota set", scope="default", period="day", videos=1)
    provider.plan_next_task(fail_reason="internal error")
    await animate(fake_discord, world.alice)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, lambda m: "Failed" in m.text(), timeout=30)
    assert "1 of 1 video left" in await run(fake_discord, world.alice, "quota me")


async def test_roles_members_grants_and_the_pool(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    world = fake_discord.world
    vip = world.guild.add_role("VIP")
    world.bob.role_ids.append(vip.id)
    await start_bot()
    await run(fake_discord, world.mod, "quota set", scope="default", period="day", videos=1)
    await run(fake_discord, world.mod, "quota set", scope="role", period="day", videos=3, role=vip)
    await run(fake_discord, world.mod, "quota set", scope="server", period="month", videos=4)
    shown = await run(fake_discord, world.mod, "quota show", member=world.bob)
    assert "3 of 3 videos left" in shown
    for n in range(3):
        assert "你的视频正在制作中" in await animate(fake_discord, world.bob, f"bob {n}")  # bob reads zh-CN
    assert "你的每日配额" in await animate(fake_discord, world.bob, "bob 4")
    granted = await run(fake_discord, world.mod, "quota grant", member=world.alice, seconds=0, videos=1)
    assert "+1 video for the current periods" in granted and "+0" not in granted  # only what was given
    assert "on its way" in await animate(fake_discord, world.alice, "alice 1")
    assert "the server's monthly limit" in await animate(fake_discord, world.alice, "alice 2")


async def test_members_cannot_use_moderator_commands(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    for command, options in [("quota set", {"scope": "default", "period": "day", "videos": 99}),
                             ("quota grant", {"member": world.alice, "seconds": 100}),
                             ("quota usage", {}), ("quota show", {})]:
        assert "for moderators" in await run(fake_discord, world.alice, command, **options)
    assert "jobs in this server" not in await run(fake_discord, world.alice, "jobs", job="all")


async def test_every_moderator_command_answers_members_through_the_check_in_their_language(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """The moderator check (an app_commands.check, answered by the command tree) on every moderator command,
    and on /jobs all: the same private sentence, the first answer, in the member's language; nothing changes."""
    await start_bot()
    world = fake_discord.world
    commands: list[tuple[str, dict[str, Any]]] = [
        ("config show", {}), ("config channel", {"channel": world.general, "allowed": True}),
        ("config modlog", {}), ("config limits", {"cooldown_seconds": 60}), ("config timezone", {"name": "UTC"}),
        ("config weight", {"resolution": "1080p", "weight": 3.0}), ("config watermark", {}),
        ("mod block", {"member": world.alice}), ("mod unblock", {"member": world.alice}),
        ("mod blocklist add", {"term": "cat"}), ("mod blocklist remove", {"term": "cat"}),
        ("mod blocklist show", {}), ("mod audit", {}),
        ("quota set", {"scope": "default", "period": "day", "videos": 99}),
        ("quota clear", {"scope": "default", "period": "day"}), ("quota show", {}),
        ("quota grant", {"member": world.bob, "videos": 5}), ("quota usage", {}), ("jobs", {"job": "all"}),
    ]
    for member, sentence in ((world.alice, "This is for moderators (Manage Server)."),
                             (world.bob, "此命令仅限管理员（管理服务器权限）使用。")):  # bob reads zh-CN
        for command, options in commands:
            ix = await fake_discord.slash(member, command, channel=world.general, options=options)
            await fake_discord.wait_for_response(ix, timeout=10)
            (answer,) = ix.responses
            assert answer.type == 4 and (answer.data or {}).get("flags", 0) & 64, (command, answer)
            assert (answer.data or {}).get("content") == sentence, (command, answer)
    assert await run(fake_discord, world.mod, "mod audit") == "No changes yet."
    assert "on its way" in await animate(fake_discord, world.alice, "a cat")  # nothing was blocked


async def test_a_moderator_of_another_server_sees_and_changes_nothing_here(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot, tmp_path: Path
) -> None:
    other = fake_discord.add_guild("Other Server")
    other_general = other.add_text_channel("general")
    other_mod = other.add_member("othermod", roles=[other.add_role("Mods", permissions.MANAGE_GUILD)])
    bot = await start_bot()
    sync = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "sync", env=bot.env, cwd=tmp_path,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(sync.communicate(), 30)
    assert sync.returncode == 0, out.decode()  # global commands: the other server has them too
    world = fake_discord.world
    await run(fake_discord, world.mod, "quota set", scope="default", period="day", videos=1)
    assert "on its way" in await animate(fake_discord, world.alice)

    async def there(command: str, **options: Any) -> str:
        ix = await fake_discord.slash(other_mod, command, channel=other_general, options=options)
        return await answer_of(fake_discord, ix)

    assert await there("quota show") == "No limits set."
    assert await there("mod audit") == "No changes yet."
    # Their server had no limit before: this server's limit is invisible there.
    assert "no limit → 9 videos per day" in await there("quota set", scope="default", period="day", videos=9)
    (job_id,) = [j for j in (await run(fake_discord, world.alice, "jobs")).split("`")[1::2] if len(j) == 8]
    assert await there("jobs", job=job_id) == f"No job `{job_id}` of yours in this server."
    assert "0 queued or running jobs" in await there("jobs", job="all")
    assert "your daily limit" in await animate(fake_discord, world.alice, "still limited here")
    assert "1 video per day" in await run(fake_discord, world.mod, "quota show")


async def test_config_blocklist_block_and_audit(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    world = fake_discord.world
    modlog = world.guild.add_text_channel("mod-log")  # before the bot starts: in its cache from GUILD_CREATE
    await start_bot()
    assert "Mod-log: <#" in await run(fake_discord, world.mod, "config modlog", channel=modlog)
    assert "refused" in await run(fake_discord, world.mod, "mod blocklist add", term="dragon")
    assert "not a valid regular expression" in await run(fake_discord, world.mod, "mod blocklist add",
                                                         term="(unclosed", regex=True)
    assert "too slow to check" in await run(fake_discord, world.mod, "mod blocklist add", term="(a|aa)+$",
                                            regex=True)
    refused = await animate(fake_discord, world.alice, "a red Dragon flies")
    assert "“dragon”, which this server does not allow" in refused
    assert "blocked → " not in await run(fake_discord, world.mod, "mod block", member=world.bob)
    assert "管理员已禁止你在此服务器中发起视频请求" in await animate(fake_discord, world.bob)  # bob reads zh-CN
    # The server's rules come before any picture is read: a blocked member's ten keyframes cost no download.
    downloads = len(fake_discord.cdn.downloads)
    ten = {"start": Upload("start.png", png()), **{f"frame{n}": Upload(f"{n}.png", png()) for n in range(1, 10)}}
    assert "管理员已禁止" in await run(fake_discord, world.bob, "keyframes", prompts="it walks", **ten)
    assert len(fake_discord.cdn.downloads) == downloads
    assert "Cooldown between requests: 60 s" in await run(fake_discord, world.mod, "config limits",
                                                          cooldown_seconds=60)
    assert "on its way" in await animate(fake_discord, world.alice, "a calm lake")
    downloads = len(fake_discord.cdn.downloads)
    assert "asks for 60 s between requests" in await animate(fake_discord, world.alice, "another")
    assert len(fake_discord.cdn.downloads) == downloads  # refused before its picture was fetched
    assert "Europe/Paris" in await run(fake_discord, world.mod, "config timezone", name="Europe/Paris")
    assert "is not a time zone" in await run(fake_discord, world.mod, "config timezone", name="Mars/Base")
    # The worker submits in the background: wait for the calm lake, then check nothing else went.
    await eventually(lambda: provider.requests_to("submit"), timeout=15, what="the calm lake's submit")
    assert len(provider.requests_to("submit")) == 1  # only the calm lake reached the provider
    log = await fake_discord.wait_for_message(modlog, lambda m: "blocklist" in m.text(), timeout=10)
    assert world.mod.mention in log.text() and "allowed → refused" in log.text()
    audit = await run(fake_discord, world.mod, "mod audit")
    for action in ("config.modlog_channel_id", "mod.blocklist", "mod.block", "config.timezone"):
        assert action in audit


async def test_the_mod_log_names_each_limit_that_changed_with_its_before_and_after(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    """`/config limits queue:5` was logged as "config max_active: null → null" (issue 26): the line named the
    field the command did not change and not the one it did."""
    world = fake_discord.world
    modlog = world.guild.add_text_channel("mod-log")  # before the bot starts: in its cache from GUILD_CREATE
    await start_bot()
    await run(fake_discord, world.mod, "config modlog", channel=modlog)
    await fake_discord.wait_for_message(modlog, lambda m: "modlog_channel_id" in m.text(), timeout=10)

    async def logged(command: str = "config limits", **options: Any) -> str:
        """The mod-log's next line after `command`."""
        seen = {m.id for m in fake_discord.messages(modlog)}
        await run(fake_discord, world.mod, command, **options)
        return (await fake_discord.wait_for_message(modlog, lambda m: m.id not in seen, timeout=10)).text()

    line = await logged(queue=5)
    assert line == f"🛠️ {world.mod.mention} changed **config max_queued**: null → 5", line
    line = await logged(in_flight=2, queue=5, cooldown_seconds=30)  # the queue is given but stays 5
    assert line == (f"🛠️ {world.mod.mention} changed **config max_active**: null → 2; "
                    f"**config cooldown_seconds**: 0 → 30"), line
    # A command that changes nothing says nothing: the next line is the time zone's.
    await run(fake_discord, world.mod, "config limits", queue=5)
    line = await logged("config timezone", name="Europe/Paris")
    assert line == f'🛠️ {world.mod.mention} changed **config timezone**: "UTC" → "Europe/Paris"', line
    audit = await run(fake_discord, world.mod, "mod audit")
    assert audit.count("config.limits") == 3, audit  # the audit table keeps every command, changed or not
    assert '"max_queued": null' in audit and '"max_queued": 5' in audit and '"cooldown_seconds": 30' in audit


async def test_jobs_all_lists_every_running_job_for_moderators(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    provider.plan_next_task(queue_seconds=3600)
    await animate(fake_discord, world.alice, "slow sunrise")
    listing = await run(fake_discord, world.mod, "jobs", job="all")
    assert "1 queued or running job in this server" in listing
    assert "slow sunrise" in listing and world.alice.mention in listing


async def test_usage_chart(fake_discord: FakeDiscord, provider: FakeProvider, start_bot) -> None:
    await start_bot()
    world = fake_discord.world
    await animate(fake_discord, world.alice, duration=4)
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    ix = await fake_discord.slash(world.mod, "quota usage", channel=world.general, options={"period": "week"})
    answer = await private_answer(fake_discord, ix)
    assert f"{world.alice.mention}: 1 video, 4 s" in answer.text()
    assert answer.attachments[0].filename == "usage.png"
    assert answer.attachments[0].content.startswith(b"\x89PNG")
