"""Every fault we can cause, with known secrets, against the real bot at LOG_LEVEL=trace and LOG_FORMAT=json:
no secret anywhere in its output, and every line is one JSON event."""

from __future__ import annotations

import asyncio
import json

from tests.e2e.conftest import PROVIDER_KEY, launch_bot, png
from tests.fakes.discord import FakeDiscord, SentMessage, Upload
from tests.fakes.provider import FakeProvider, Fault
from tests.ops.conftest import BotProcess, StartOpsBot, bot_env

EVENT_KEYS = {"ts", "level", "logger", "message"}


def is_video(message: SentMessage) -> bool:
    return any(a.filename.endswith(".mp4") for a in message.attachments)


def events(bot: BotProcess) -> list[dict[str, object]]:
    """Every output line as a JSON event; fails naming the first line that is not one."""
    parsed = []
    for number, line in enumerate(bot.lines, 1):
        try:
            event = json.loads(line)
        except ValueError:
            raise AssertionError(f"output line {number} is not JSON: {line[:300]}") from None
        assert isinstance(event, dict) and event.keys() >= EVENT_KEYS, f"line {number}: {line[:300]}"
        parsed.append(event)
    return parsed


async def animate(fake_discord: FakeDiscord, prompt: str) -> None:
    world = fake_discord.world
    await fake_discord.slash(world.alice, "animate", channel=world.general,
                             options={"image": Upload("cat.png", png()), "prompt": prompt, "duration": 4})


async def test_injected_faults_leak_no_secret_and_every_line_is_json(
    fake_discord: FakeDiscord, provider: FakeProvider, start_ops_bot: StartOpsBot, tmp_path
) -> None:
    token = fake_discord.bot_token
    # A refused key pauses submits until a probe gets through (SPEC section 5): probe every second here.
    bot = await start_ops_bot(LOG_LEVEL="trace", LOG_FORMAT="json", PROVIDER_PAUSE_PROBE_SECONDS="1")

    # 1. The provider refuses the key and echoes it, in its JSON error body.
    provider.inject("submit", Fault.status(401, reason="INVALID_API_KEY", message=f"bad key {PROVIDER_KEY}"))
    await animate(fake_discord, "first try")
    await bot.wait_for_line("SUBMITS PAUSED", timeout=15)

    # 2. A member pastes the bot token and the key into a prompt (logged with every request); the provider
    #    refuses it and echoes the prompt; then a proxy's HTML page echoes the Authorization header on a poll.
    echo = f"not allowed: {token} {PROVIDER_KEY}"
    # (A plain refusal, whose message the bot keeps as the job's reason and logs; a content refusal is a strike
    # and keeps only its own words, bot/strikes.py.)
    provider.inject("submit", Fault.status(400, reason="INVALID_REQUEST_BODY", message=echo))
    await animate(fake_discord, f"my token is {token} and the key {PROVIDER_KEY}")
    await bot.wait_for_line("not allowed:", timeout=15)

    # 3. A traceback: Discord answers 503 when the video is posted, logged with its traceback and
    #    retried a few seconds later; the video arrives.
    provider.inject("result", Fault.status(502, raw_body=f"<html>bad gateway for Authorization: Bearer {PROVIDER_KEY}"
                                                         "</html>"))
    provider.inject("result", Fault.slow(2))
    await animate(fake_discord, "third time lucky")
    await bot.wait_for_line("submitted as task", timeout=15)
    threads = fake_discord.threads(fake_discord.world.general)
    fake_discord.fail_next("POST /channels/*/messages", status=503)
    await bot.wait_for_line("delivery failed, will retry", timeout=20)
    await fake_discord.wait_for(
        lambda: any(is_video(m) for thread in threads for m in fake_discord.messages(thread)),
        timeout=30, what="the video after Discord recovered", seen=lambda: bot.output[-2000:],
    )
    await bot.stop()

    # 4. A refused Discord token (a second process, stopped by Discord's 401 at login).
    refused = await launch_bot(bot_env(fake_discord, provider, tmp_path, DISCORD_TOKEN=token[::-1], LOG_LEVEL="trace",
                                   LOG_FORMAT="json"), tmp_path)
    assert await asyncio.wait_for(refused.process.wait(), 30) == 3
    await asyncio.wait_for(refused.reader, 5)  # type: ignore[arg-type]

    interaction_tokens = [ix.token for ix in fake_discord.interactions.values()]
    assert len(interaction_tokens) == 3
    secrets = {"discord token": token, "refused token": token[::-1], "provider key": PROVIDER_KEY,
               **{f"interaction token {n}": t for n, t in enumerate(interaction_tokens)}}
    for process in (bot, refused):
        for name, secret in secrets.items():
            assert secret not in process.output, f"the {name} reached the output"
    bot_events, refused_events = events(bot), events(refused)

    # The faults really happened and were logged, redacted: the test is not passing on silence.
    text = [str(e["message"]) + str(e.get("exc", "")) for e in bot_events]
    assert any("my token is [redacted] and the key [redacted]" in t for t in text)
    assert any("interactions/" in t and "[redacted]/callback" in t for t in text)  # discord.py's trace lines
    assert any("'token': '[redacted]'" in t or '"token": "[redacted]"' in t for t in text)  # gateway frames
    tracebacks = [e for e in bot_events if "Traceback" in str(e.get("exc", ""))]
    assert any("DiscordServerError" in str(e["exc"]) for e in tracebacks)
    assert any(e["message"] == "DISCORD_TOKEN was refused by Discord" for e in refused_events)
    # Events about a job carry its ids as fields.
    accepted = [e for e in bot_events if "accepted from user" in str(e["message"])]
    assert len(accepted) == 3
    assert all(e["user_id"] == fake_discord.world.alice.id and e["guild_id"] == fake_discord.world.guild.id
               and str(e["job_id"]) in str(e["message"]) for e in accepted)
    print(f"{len(bot_events)} JSON events, {sum('[redacted]' in t for t in text)} with a redaction, "
          f"{len(tracebacks)} tracebacks")



async def test_a_secret_too_short_to_be_real_stops_the_bot_with_one_line(
    fake_discord: FakeDiscord, provider: FakeProvider, tmp_path
) -> None:
    """With the key `e`, every `e` of every log line read [redacted] (issue 26): such a key is refused before
    the bot logs anything, naming the variable and not its value. The Discord token likewise."""
    for name, value in (("VIDU_API_KEY", "test"), ("DISCORD_TOKEN", "e")):
        bot = await launch_bot(bot_env(fake_discord, provider, tmp_path, **{name: value}), tmp_path)
        assert await asyncio.wait_for(bot.process.wait(), 30) == 3, bot.output[-3000:]
        await asyncio.wait_for(bot.reader, 5)  # type: ignore[arg-type]
        assert bot.lines == [f"error: {name} is malformed: shorter than 16 characters, too short to be a real one "
                             "(was it copied whole?)"], bot.output[-3000:]
    assert fake_discord.gateway.identifies == 0 and provider.requests == []  # nothing was sent with them
