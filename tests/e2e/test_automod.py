"""Issue 25, item 4, through the real bot process: the server's AutoMod keyword rules apply to prompts, so the
bot never echoes (request card, thread name, status card) what AutoMod would block in chat."""

from __future__ import annotations

from tests.e2e.conftest import eventually, png
from tests.e2e.test_animate import private_answer
from tests.e2e.test_menu import open_menu
from tests.e2e.test_moderators import animate, run
from tests.e2e.test_storyboard import open_form, three_frames
from tests.fakes.discord import FakeDiscord, Upload
from tests.fakes.discord import permissions as perms
from tests.fakes.provider import FakeProvider

WORD = "wyvern"  # what the server's AutoMod filters; the rule's name does not contain it


def grant_manage_server(fake: FakeDiscord) -> None:
    """Before the bot starts: its role may read the server's AutoMod rules."""
    role = fake.bot_role(fake.world.guild)
    role.permissions |= perms.MANAGE_GUILD


def echoed_anywhere(fake: FakeDiscord) -> list[str]:
    """Where the bot wrote the filtered word: its messages (cards, answers, pings) and thread names."""
    said = [m.text() for m in fake.all_messages() if m.author_id == fake.bot_user.id and WORD in m.text().lower()]
    threads = [t.name for t in fake.world.guild.channels.values() if t.is_thread and WORD in t.name.lower()]
    return said + threads


async def test_a_prompt_a_keyword_rule_blocks_is_refused_privately_echoed_nowhere_and_not_charged(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    grant_manage_server(fake_discord)
    await start_bot()
    await run(fake_discord, world.mod, "quota set", scope="default", period="day", videos=1)
    await fake_discord.create_automod_rule(world.guild, world.mod, "Creature filter", keywords=[f"{WORD}*"],
                                           custom_message="Keep *creatures* out, please.")
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("a.png", png()), "prompt": f"two {WORD.upper()}S fight"})
    answer = await private_answer(fake_discord, ix)
    text = answer.text()
    assert "AutoMod rule “Creature filter” does not allow this prompt" in text and "Nothing was sent" in text
    assert r"Keep \*creatures\* out, please." in text  # the rule's own message, escaped
    assert answer.ephemeral and answer.visible_to == world.alice.id
    assert WORD not in text.lower()
    zh = await animate(fake_discord, world.bob, f"一条{WORD}在飞")  # bob reads zh-CN
    assert "AutoMod 规则“Creature filter”不允许这个提示词" in zh
    assert echoed_anywhere(fake_discord) == []
    assert fake_discord.threads(world.general) == [] and fake_discord.cdn.downloads == []  # refused before reading
    # Nothing was charged: alice's one video of the day is still there.
    assert "on its way" in await animate(fake_discord, world.alice, "a calm lake")
    await eventually(lambda: provider.requests_to("submit"), timeout=15, what="the lake's submit")
    assert [r.json["prompt"] for r in provider.requests_to("submit")] == ["a calm lake"]


async def test_an_apps_menu_form_meets_the_same_rules(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    grant_manage_server(fake_discord)
    await start_bot()
    await fake_discord.create_automod_rule(world.guild, world.mod, "Creature filter", regex_patterns=[r"wy+v[e3]rn"])
    opened = await open_menu(fake_discord, [Upload("cat.png", png())])
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "prompt": "the WYYV3RN jumps", "duration": "4", "resolution": ["720p"]})
    assert "AutoMod rule “Creature filter”" in (await private_answer(fake_discord, submit)).text()
    assert echoed_anywhere(fake_discord) == [] and fake_discord.threads(world.general) == []
    assert fake_discord.cdn.downloads == [] and provider.requests_to("submit") == []


async def test_allow_list_exempt_roles_and_exempt_channels_let_a_prompt_through(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    art = world.guild.add_text_channel("art")
    artists = world.guild.add_role("Artists")
    carol = world.guild.add_member("carol", roles=[artists], locale="en-US")
    grant_manage_server(fake_discord)
    await start_bot()
    await fake_discord.create_automod_rule(world.guild, world.mod, "Creature filter", keywords=[f"*{WORD}*"],
                                           allow_list=[f"{WORD}wood"], exempt_roles=[artists], exempt_channels=[art])
    assert "AutoMod rule" in await animate(fake_discord, world.alice, f"a {WORD} in the sky")
    assert "on its way" in await animate(fake_discord, world.alice, f"the {WORD}wood forest")  # allowed word
    assert "on its way" in await animate(fake_discord, carol, f"a {WORD} in the sky")  # exempt role
    ix = await fake_discord.slash(world.alice, "animate", channel=art,
                                  options={"image": Upload("a.png", png()), "prompt": f"a {WORD} in art"})
    assert "on its way" in (await private_answer(fake_discord, ix)).text()  # exempt channel
    await eventually(lambda: len(provider.requests_to("submit")) == 3, timeout=30, what="three submits")


async def test_rules_created_changed_and_deleted_while_the_bot_runs_apply_at_once(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    grant_manage_server(fake_discord)
    await start_bot()
    assert "0 of this server's keyword rules" in await run(fake_discord, world.mod, "config show")  # read: none
    rule = await fake_discord.create_automod_rule(world.guild, world.mod, "Creature filter", keywords=[WORD])
    assert "AutoMod rule" in await animate(fake_discord, world.alice, f"a {WORD}")
    await fake_discord.update_automod_rule(rule, world.mod, enabled=False)
    assert "on its way" in await animate(fake_discord, world.alice, f"a {WORD}")
    await fake_discord.update_automod_rule(rule, world.mod, enabled=True,
                                           trigger_metadata={"keyword_filter": ["dragon"]})
    assert "AutoMod rule" in await animate(fake_discord, world.alice, "a dragon")
    await fake_discord.delete_automod_rule(rule, world.mod)
    assert "on its way" in await animate(fake_discord, world.alice, "a dragon")


async def test_without_manage_server_prompts_go_through_and_config_show_says_what_to_grant(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    await fake_discord.create_automod_rule(world.guild, world.mod, "Creature filter", keywords=[WORD])
    bot = await start_bot()
    assert "on its way" in await animate(fake_discord, world.alice, f"a {WORD}")
    shown = await run(fake_discord, world.mod, "config show")
    assert "cannot read this server's AutoMod rules" in shown and "Manage Server permission" in shown
    await animate(fake_discord, world.alice, "another")
    assert bot.output.count("cannot read the server's AutoMod rules") == 1  # logged once for the server
    role = fake_discord.bot_role(world.guild)
    await fake_discord.update_role(role, permissions=role.permissions | perms.MANAGE_GUILD)  # granted: at once
    assert "1 of this server's keyword rules" in await run(fake_discord, world.mod, "config show")
    assert "AutoMod rule" in await animate(fake_discord, world.alice, f"a {WORD} again")


async def test_a_queued_job_a_new_rule_matches_is_stopped_before_submit_and_refunded(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    grant_manage_server(fake_discord)
    await start_bot(MAX_ACTIVE_JOBS_PER_MEMBER="1")
    # alice's first job stays busy at the provider; without an ETA, so the bot keeps looking every 2 s (an ETA
    # of an hour would put its next look 10 minutes away, past the provider's `advance` below)
    provider.plan_next_task(queue_seconds=3600, report_eta=False)
    assert "on its way" in await animate(fake_discord, world.alice, "a calm lake")
    await eventually(lambda: len(provider.tasks) == 1, timeout=20, what="the first submit")
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("b.png", png()), "prompt": f"a {WORD} over the lake"})
    await private_answer(fake_discord, ix)
    thread = next(t for t in fake_discord.threads(world.general) if WORD in t.name)
    card = await fake_discord.wait_for_message(  # queued: its card has Cancel
        thread, lambda m: any(c.startswith("vidu:cancel:") for c in m.custom_ids()), timeout=15)
    await fake_discord.create_automod_rule(world.guild, world.mod, "Creature filter", keywords=[WORD])
    provider.advance(3600)  # the first job finishes: the waiting job's turn comes
    await fake_discord.wait_for(lambda: "AutoMod rules came to refuse" in fake_discord.message(card.id).text()
                                or None, timeout=90, what="the queued card to say AutoMod stopped it",
                                seen=lambda: fake_discord.message(card.id).text())
    assert "Nothing was counted" in fake_discord.message(card.id).text()
    assert len(provider.requests_to("submit")) == 1  # the waiting job never reached the provider


async def test_a_storyboard_caption_meets_the_rules_before_any_frame_is_read(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    grant_manage_server(fake_discord)
    await start_bot()
    await fake_discord.create_automod_rule(world.guild, world.mod, "Creature filter", keywords=[WORD])
    opened = await open_form(fake_discord)
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "frames": three_frames(), "prompts": f"walks in\na {WORD} lands", "durations": "4,6"})
    assert "AutoMod rule “Creature filter”" in (await private_answer(fake_discord, submit)).text()
    assert echoed_anywhere(fake_discord) == [] and fake_discord.cdn.downloads == []
