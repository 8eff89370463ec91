"""Issue 25, item 6, through the real bot process, the fake Discord and the strict fake provider: a picture the
provider refused for its content is refused locally the next time, in another server too, with nothing sent to
the provider; the third strike pauses the member, the mod-log says why with the job ids, /mod unblock lifts it;
a refused prompt is refused to bob in Chinese."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.media import ImageLimits, prepare_image
from tests.e2e.conftest import eventually
from tests.e2e.test_moderators import answer_of, run
from tests.fakes.discord import FakeDiscord, Upload
from tests.fakes.pictures import blobs
from tests.fakes.provider import FakeProvider

PICTURE = blobs(101, 200, 150)


async def animate(fake: FakeDiscord, who: Any, picture: bytes, prompt: str, *, channel: Any = None,
                  name: str = "cat.png") -> str:
    ix = await fake.slash(who, "animate", channel=channel or fake.world.general,
                          options={"image": Upload(name, picture), "prompt": prompt})
    return await answer_of(fake, ix)


async def refused_card(fake: FakeDiscord, prompt: str, words: str) -> str:
    """The status card of the request named `prompt` once it says `words`."""
    thread = await fake.wait_for(lambda: next((t for t in fake.threads(fake.world.general) if t.name == prompt), None),
                                 timeout=20, what=f"the thread of {prompt!r}", seen=lambda: "")
    card = await fake.wait_for_message(thread, lambda m: words in m.text(), timeout=30)
    return card.text()


async def test_a_refused_picture_is_refused_locally_everywhere_and_three_strikes_pause_alice(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot, tmp_path: Path
) -> None:
    world = fake_discord.world
    modlog = world.guild.add_text_channel("mod-log")  # before the bot starts: in its cache from GUILD_CREATE
    other = fake_discord.add_guild("Other Server")
    other_general = other.add_text_channel("general")
    carol = other.add_member("carol")
    bot = await start_bot()
    sync = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "sync", env=bot.env, cwd=tmp_path,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(sync.communicate(), 30)
    assert sync.returncode == 0, out.decode()  # global commands: the other server has them too
    assert "Mod-log: <#" in await run(fake_discord, world.mod, "config modlog", channel=modlog)

    # 1. The provider refuses alice's picture (as the bot sends it: checked and re-encoded for 720p).
    provider.refuse_image_content(prepare_image(PICTURE, "cat.png", ImageLimits(video_resolution="720p")).data)
    assert "on its way" in await animate(fake_discord, world.alice, PICTURE, "a calm lake")
    card = await refused_card(fake_discord, "a calm lake", "Refused")
    assert "refused picture 1 for its content" in card and "Nothing was counted" in card
    assert len(provider.requests_to("submit")) == 1

    # 2. The same picture again: refused before anything is spent, in another channel's thread and in another
    # server, by its file name, with nothing sent to the provider.
    thread = fake_discord.threads(world.general)[0]
    again = await animate(fake_discord, world.alice, PICTURE, "a calm lake at dawn", channel=thread, name="again.png")
    assert "has refused again.png for its content before" in again and "Nothing was sent" in again
    elsewhere = await animate(fake_discord, carol, PICTURE, "a quiet pond", channel=other_general)
    assert "has refused cat.png for its content before" in elsewhere
    assert len(provider.requests_to("submit")) == 1
    assert fake_discord.threads(other_general) == []  # nothing was re-posted there

    # 3. Two more refusals (prompts the provider refuses) are her third strike: paused here, the mod-log told.
    jobs = []
    for n, prompt in enumerate(("forbidden one", "forbidden two")):
        assert "on its way" in await animate(fake_discord, world.alice, blobs(110 + n), prompt)
        card = await refused_card(fake_discord, prompt, "Refused")
        assert "refused the prompt for its content" in card
    log = await fake_discord.wait_for_message(modlog, lambda m: "is paused from making videos" in m.text(),
                                              timeout=30)
    jobs = log.text().split("(jobs ")[1].split(")")[0]
    assert f"<@{world.alice.id}>" in log.text() and jobs.count("`") == 6 and "/mod unblock" in log.text()
    assert len(provider.requests_to("submit")) == 3
    paused = await animate(fake_discord, world.alice, blobs(120), "a quiet street")
    assert "Your video requests in this server are paused" in paused

    # 4. Bob, in Chinese: the refused prompt is refused before anything is read.
    said = await animate(fake_discord, world.bob, blobs(121), "Forbidden  ONE")
    assert "之前因内容问题拒绝过这个提示词" in said
    assert len(provider.requests_to("submit")) == 3

    # 5. A moderator lifts the pause.
    assert "allowed" in await run(fake_discord, world.mod, "mod unblock", member=world.alice)
    assert "on its way" in await animate(fake_discord, world.alice, blobs(120), "a quiet street")
    await eventually(lambda: len(provider.requests_to("submit")) == 4, timeout=20, what="the quiet street's submit")
    shown = await run(fake_discord, world.mod, "config show")
    assert "Content strikes: 3 refusals by the video service within 24 h pause a member" in shown
    assert "2 refusals" in await run(fake_discord, world.mod, "config strikes", count=2, hours=12)
    changed = await fake_discord.wait_for_message(modlog, lambda m: "strike_limit" in m.text(), timeout=10)
    assert "config strike_limit**: 3 → 2" in changed.text() and "strike_hours**: 24 → 12" in changed.text()
    assert "the bot strikes.pause" in await run(fake_discord, world.mod, "mod audit")
