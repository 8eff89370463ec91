"""English and Simplified Chinese through the real bot process and the fake Discord: `bob` uses Discord in
zh-CN, `alice` in en-US. What each of them reads must be in their own language, and the command list
Discord shows must carry zh-CN names and descriptions."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import png
from tests.e2e.test_animate import private_answer
from tests.e2e.test_moderators import answer_of
from tests.fakes.discord import FakeDiscord, SentMessage, Upload
from tests.fakes.provider import FakeProvider

CJK = re.compile(r"[\u4e00-\u9fff]")
NO_DESCRIPTION = "…"  # discord.py's placeholder for an option nobody described


def _is_video(message: SentMessage) -> bool:
    return any(a.filename.endswith(".mp4") for a in message.attachments)


def _missing_localizations(command: dict[str, Any]) -> list[str]:
    """Every name, description and word choice in one synced command that has no zh-CN text."""
    missing: list[str] = []

    def check(node: dict[str, Any], path: str, *, described: bool) -> None:
        if not (node.get("name_localizations") or {}).get("zh-CN"):
            missing.append(f"{path}: name")
        if described and node.get("description") not in ("", None, NO_DESCRIPTION) \
                and not (node.get("description_localizations") or {}).get("zh-CN"):
            missing.append(f"{path}: description {node.get('description')!r}")
        for choice in node.get("choices") or []:
            if str(choice["name"]).isalpha() and not (choice.get("name_localizations") or {}).get("zh-CN"):
                missing.append(f"{path}: choice {choice['name']!r}")
        for option in node.get("options") or []:
            check(option, f"{path} {option['name']}", described=True)

    check(command, f"/{command['name']}", described=command.get("type", 1) == 1)
    return missing


async def test_synced_commands_carry_zh_cn_names_descriptions_and_choices(
    fake_discord: FakeDiscord, start_bot
) -> None:
    await start_bot()
    synced = {c.name: c.data for c in fake_discord.commands.list(fake_discord.world.guild.id)}
    assert {"animate", "keyframes", "storyboard", "jobs", "quota", "help", "Animate"} <= set(synced)
    missing = [line for data in synced.values() for line in _missing_localizations(data)]
    assert missing == [], '\n'.join(missing)
    animate = synced["animate"]
    assert animate["name_localizations"]["zh-CN"] == "图生视频"
    assert animate["description_localizations"]["zh-CN"] == "把一张图片变成视频"
    movement = next(o for o in animate["options"] if o["name"] == "movement")
    assert {c["value"]: c["name_localizations"]["zh-CN"] for c in movement["choices"]}["auto"] == "自动"


async def test_a_chinese_member_gets_a_bad_picture_refused_in_chinese(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    ix = await fake_discord.slash(world.bob, "animate", channel=world.general,
                                  options={"image": Upload("notes.png", b"plain text, not a picture"),
                                           "prompt": "猫在挥手"})
    answer = await private_answer(fake_discord, ix)
    assert answer.ephemeral and answer.visible_to == world.bob.id
    assert answer.text().startswith("什么都没有发送，未扣除配额。请修正以下问题后重试：")
    assert "• notes.png：这不是图片" in answer.text()
    assert provider.requests_to("submit") == []
    # The same mistake from an English-speaking member reads as before.
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("notes.png", b"plain text, not a picture"),
                                           "prompt": "the cat waves"})
    answer = await private_answer(fake_discord, ix)
    assert answer.text().startswith("Nothing was sent and nothing was charged. Please fix this and try again:")
    assert not CJK.search(answer.text())
    # What a member typed wrong is explained in their language too, field and all.
    frames = {"start": Upload("s.png", png()), "frame1": Upload("a.png", png()), "frame2": Upload("b.png", png())}
    ix = await fake_discord.slash(world.bob, "keyframes", channel=world.general,
                                  options={**frames, "durations": "4,5,6"})
    answer = await private_answer(fake_discord, ix)
    assert "• 时长：有 2 个片段，但填写了 3 个时长（请只填一个，或每个片段各填一个）" in answer.text(), answer.text()
    ix = await fake_discord.slash(world.alice, "keyframes", channel=world.general,
                                  options={**frames, "durations": "4,5,6"})
    answer = await private_answer(fake_discord, ix)
    assert "• durations: 3 durations given for 2 segments (give one, or one per segment)" in answer.text()


async def test_a_chinese_member_sees_chinese_cards_and_delivery(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    ix = await fake_discord.slash(world.bob, "animate", channel=world.general,
                                  options={"image": Upload("cat.png", png()), "prompt": "猫在挥手", "duration": 4})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    video = await fake_discord.wait_for_message(thread, _is_video, timeout=30)
    answer = await private_answer(fake_discord, ix)
    assert answer.text().startswith("你的视频正在制作中：任务 `") and f"<#{thread.id}>" in answer.text()

    card, status = fake_discord.messages(thread)[:2]
    assert card.text().startswith(f"**<@{world.bob.id}> 的请求**")
    assert "4 秒" in card.text() and "运动幅度：自动" in card.text() and "预估费用 约 US$0.08" in card.text()
    assert "auto" not in card.text() and "about" not in card.text()
    await fake_discord.wait_for(lambda: "✅ 完成" in fake_discord.message(status.id).text(), timeout=10,
                                what="the status card to say 完成 (done)", seen=lambda: status.text())
    assert "任务 `" in fake_discord.message(status.id).text()
    assert video.text().startswith(f"<@{world.bob.id}>，你的视频好了 · 任务 `")
    assert video.button_labels() == ["重新生成", "延长", "重混（重新计费）", "删除", "举报"]
    starter = fake_discord.messages(world.general)[-1]
    assert "正在制作视频" in starter.text()


async def test_a_refusal_by_the_provider_is_explained_in_chinese_with_the_provider_words(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    await fake_discord.slash(world.bob, "animate", channel=world.general,
                             options={"image": Upload("a.png", png()), "prompt": "something forbidden"})
    thread = await fake_discord.wait_for_thread(world.general, timeout=15)
    status = await fake_discord.wait_for_message(thread, lambda m: "被视频服务拒绝" in m.text(), timeout=20)
    why = next(line for line in status.text().splitlines() if line.startswith("原因："))
    assert len(why) > len("原因：")  # the provider's own text, as it was given
    assert "没有计入你的配额。" in status.text()


async def test_a_quota_refusal_is_in_the_member_language(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    ix = await fake_discord.slash(world.mod, "quota set", channel=world.general,
                                  options={"scope": "default", "period": "day", "videos": 0})
    await private_answer_or_response(fake_discord, ix)
    ix = await fake_discord.slash(world.bob, "animate", channel=world.general,
                                  options={"image": Upload("a.png", png()), "prompt": "猫"})
    answer = await private_answer(fake_discord, ix)
    assert answer.text().startswith("此请求超出了你的每日配额（每天 0 个视频）：已用 0/0 个视频。")
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("a.png", png()), "prompt": "cat"})
    answer = await private_answer(fake_discord, ix)
    assert answer.text().startswith("This would go over your daily limit (0 videos per day): 0 of 0 videos used.")
    assert provider.requests_to("submit") == []


async def test_help_answers_in_each_member_language_with_the_picture(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    answers = {}
    for member in (world.alice, world.bob):
        ix = await fake_discord.slash(member, "help", channel=world.general)
        answers[member.locale] = await private_answer(fake_discord, ix)
    english, chinese = answers["en-US"], answers["zh-CN"]
    for answer in (english, chinese):
        assert answer.ephemeral and len(answer.text()) <= 2000
        (picture,) = answer.attachments
        assert picture.filename == "keyframes-to-segments.png" and picture.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert "`/animate`" in english.text() and "between 1:4 and 4:1, the limits themselves excluded" in english.text()
    assert "No limits are set in this server." in english.text() and not CJK.search(english.text())
    assert "`/图生视频`" in chinese.text() and "宽高比：必须在 1:4 到 4:1 之间，不含两端" in chinese.text()
    assert "`/任务 任务编号:7K3QZ2MD`" in chinese.text() and "`/jobs" not in chinese.text()
    assert "此服务器没有设置任何配额。" in chinese.text()


async def private_answer_or_response(fake: FakeDiscord, ix: Any) -> str:
    """A moderator command's answer: a plain message (type 4), or the private followup after a deferral
    (/config show defers: reading the server's AutoMod rules may take a call to Discord)."""
    return await answer_of(fake, ix)


async def test_a_chinese_moderator_gets_chinese_answers_and_the_audit_log_stays_as_recorded(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    world.mod.user.locale = "zh-CN"
    await start_bot()

    async def run(command: str, **options: Any) -> str:
        ix = await fake_discord.slash(world.mod, command, channel=world.general, options=options)
        return await private_answer_or_response(fake_discord, ix)

    assert await run("quota set", scope="default", period="day", videos=3) == \
        "每个成员的限制：不限 → 每天 3 个视频。"
    # Option and command names as the moderator's client shows them (commands_zh.py), never retyped.
    assert await run("quota set", scope="role", period="day") == \
        "请填写 `视频数`、`秒数`、`预估费用` 中的一项或多项（要移除限制，请用 `/配额 清除`）。"
    assert await run("quota set", scope="role", period="day", videos=1) == "未更改：请选择此限制针对的 `身份组`。"
    assert await run("quota set", scope="server", period="day", videos=1, role=world.moderators) == \
        "未更改：范围“全服共享配额”不需要身份组或成员。"
    assert await run("quota show") == "• 每个成员：每天 3 个视频"
    shown = await run("config show")
    assert shown.startswith("频道：所有频道\n管理日志：无")
    assert "我无法读取此服务器的 AutoMod 规则" in shown and "“管理服务器”权限" in shown  # the bot lacks it here
    assert await run("mod blocklist show") == "屏蔽词列表是空的。"
    # The audit log is a record every moderator reads alike: its action names are not translated.
    assert f"<@{world.mod.id}> quota.set: — → " in await run("mod audit")


async def test_a_member_whose_language_we_lack_reads_the_server_language(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    world = fake_discord.world
    world.alice.user.locale = "fr"
    world.guild.preferred_locale = "zh-CN"
    await start_bot()
    ix = await fake_discord.slash(world.alice, "jobs", channel=world.general)
    assert (await private_answer_or_response(fake_discord, ix)).startswith("你在此服务器中还没有任务。")


async def test_a_chinese_member_uses_the_storyboard_form_and_the_message_menu_in_chinese(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    frames = [Upload("s.png", png(color=(200, 30, 30))), Upload("a.png", png(color=(30, 200, 30))),
              Upload("b.png", png(color=(30, 30, 200)))]

    async def open_form() -> Any:
        ix = await fake_discord.slash(world.bob, "storyboard", channel=world.general)
        await fake_discord.wait_for(lambda: ix.modal, timeout=10, what="the form", seen=lambda: str(ix.responses))
        return ix

    opened = await open_form()
    assert opened.modal["title"] == "故事板"
    wrong = await fake_discord.submit_modal(world.bob, opened_by=opened, values={
        "frames": frames, "prompts": "一\n二\n三", "durations": "4,5", "resolution": ["720p"]})
    refusal = await private_answer(fake_discord, wrong)
    assert refusal.text().startswith("什么都没有发送，未扣除配额。请修正以下问题后重试：")
    assert "• 提示词：有 2 个片段，但填写了 3 行提示词（请只填一行，或每个片段各填一行）" in refusal.text()

    opened = await open_form()
    submit = await fake_discord.submit_modal(world.bob, opened_by=opened, values={
        "frames": frames, "prompts": "走进来\n坐下", "durations": "4,6", "resolution": ["540p"]})
    preview = await private_answer(fake_discord, submit)
    assert preview.text().startswith(
        "**预览：尚未发送，未扣除配额**\n1. 4 秒 — 走进来\n2. 6 秒 — 坐下\n"
        "3 张图片 · 共 10 秒 · 540p · 预估费用 约 US$")
    labels = sorted(c["label"] for row in preview.components for c in row["components"])
    assert labels == ["取消", "开始"]

    message = await fake_discord.member_says(world.alice, world.general, "no pictures here")
    menu = await fake_discord.message_command(world.bob, "Animate", message=message)
    assert (await private_answer_or_response(fake_discord, menu)) == "这条消息没有图片，没有可以制作成视频的内容。"
    assert provider.requests_to("submit") == []
