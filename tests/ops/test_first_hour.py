"""An operator's first hour (issue 27 items 2-4): the real `python -m bot` against the fake Discord and the strict
fake provider. A first run gets its commands, a bot in no server logs its invite link, `check` prints it, and each
start-up or configuration failure is one readable line with its exit code."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from bot.discord_app import PERMISSIONS_INTEGER
from tests.cli.test_cli import cli
from tests.e2e.conftest import BotProcess, launch_bot, provider  # noqa: F401 - the provider fixture
from tests.e2e.conftest import bot_env as e2e_bot_env
from tests.fakes.discord import FakeDiscord
from tests.fakes.provider import FakeProvider

EXPECTED_INVITE = ("https://discord.com/oauth2/authorize?client_id={id}&scope=bot+applications.commands"
                   f"&permissions={PERMISSIONS_INTEGER}")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, never listening: connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def ended(bot: BotProcess, timeout: float = 60) -> int:
    """Wait for a command that ends by itself (sync, a failed start-up) and for its last line."""
    await asyncio.wait_for(bot.process.wait(), timeout)
    return await bot.stop()


async def test_a_first_run_without_dev_guild_syncs_its_commands_once(
    fake_discord: FakeDiscord, provider: FakeProvider, tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    env = e2e_bot_env(fake_discord, provider, tmp_path)  # no DEV_GUILD_ID
    assert "DEV_GUILD_ID" not in env
    bot = await launch_bot(env, tmp_path)
    try:
        await bot.wait_for_line("bot.app: ready as", timeout=30)
        synced = {c.name for c in fake_discord.commands.list(None)}
        assert {"animate", "keyframes", "jobs", "quota"} <= synced
        (line,) = [line for line in bot.lines if "no global commands were registered" in line]
        assert "run `python -m bot sync`" in line
    finally:
        assert await bot.stop() == 0, bot.output
    # No PyNaCl or davey warnings: the bot never joins a voice channel.
    assert "PyNaCl" not in bot.output and "davey" not in bot.output
    # The stop line speaks of the job loop only because one ran.
    assert "the job loop hands its jobs back" in bot.output

    syncs = fake_discord.commands.sync_count
    again = await launch_bot(env, tmp_path)
    try:
        await again.wait_for_line("bot.app: ready as", timeout=30)
    finally:
        assert await again.stop() == 0, again.output
    assert fake_discord.commands.sync_count == syncs  # registered already: not synced again
    assert "no global commands were registered" not in again.output


async def test_a_bot_in_no_server_logs_its_invite_link(
    provider: FakeProvider, tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    async with FakeDiscord() as lonely:  # no server at all
        env = e2e_bot_env(lonely, provider, tmp_path)
        bot = await launch_bot(env, tmp_path)
        try:
            await bot.wait_for_line("bot.app: ready as", timeout=30)
            line = await bot.wait_for_line("the bot is in no server yet", timeout=10)
        finally:
            await bot.stop()
        assert line.endswith("invite it with " + EXPECTED_INVITE.format(id=lonely.application_id)), line
        assert "WARNING" in line


async def test_sync_neither_starts_nor_stops_the_job_loop(
    fake_discord: FakeDiscord, provider: FakeProvider, tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    bot = await launch_bot(e2e_bot_env(fake_discord, provider, tmp_path), tmp_path, "sync")
    assert await ended(bot) == 0, bot.output
    assert "synced" in bot.output and "global commands" in bot.output
    assert "job loop" not in bot.output and "job-worker" not in bot.output
    assert fake_discord.commands.list(None)


async def test_discord_unreachable_is_one_line_and_exit_4(
    fake_discord: FakeDiscord, provider: FakeProvider, tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    port = closed_port()
    env = e2e_bot_env(fake_discord, provider, tmp_path, DISCORD_API_BASE=f"http://127.0.0.1:{port}/api/v10",
                      LOG_LEVEL="info")
    bot = await launch_bot(env, tmp_path)
    assert await ended(bot) == 4, bot.output
    errors = [line for line in bot.lines if " ERROR " in line or " CRITICAL " in line]
    assert len(errors) == 1, bot.output
    assert f"cannot reach Discord at http://127.0.0.1:{port}/api/v10" in errors[0]
    assert "Traceback" not in bot.output and "\\n" not in bot.output


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_an_uncaught_traceback_is_readable_in_text_and_one_line_in_json(fmt: str, tmp_path: Path) -> None:
    """The text format prints a traceback as Python does, indented under its event; JSON keeps one line."""
    code = (f"from bot.logs import configure_logging; import logging; configure_logging('info', [], fmt={fmt!r})\n"
            "try:\n    1 / 0\nexcept ZeroDivisionError:\n    logging.getLogger('bot').exception('it broke')\n")
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", code, cwd=tmp_path,
                                                   stderr=asyncio.subprocess.PIPE, env=dict(os.environ))
    _, err = await asyncio.wait_for(process.communicate(), 30)
    lines = err.decode().splitlines()
    if fmt == "json":
        assert len(lines) == 1 and '"exc": "Traceback' in lines[0]
    else:
        assert lines[0].endswith("ERROR bot: it broke")
        assert lines[1] == "    Traceback (most recent call last):"
        assert lines[-1] == "    ZeroDivisionError: division by zero"
        assert all(line.startswith("    ") for line in lines[1:])


async def test_check_prints_the_invite_link_once_the_token_is_accepted(
    fake_discord: FakeDiscord, provider: FakeProvider, tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    env = {"DISCORD_TOKEN": fake_discord.bot_token, "DISCORD_API_BASE": fake_discord.api_base,
           "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db"}
    result = await cli(tmp_path, provider, "check", key=provider.api_key, **env)
    assert result.code == 0, result.err
    assert result.out.splitlines()[-2:] == [
        f"ok: DISCORD_TOKEN accepted (application {fake_discord.bot_user.username!r}, "
        f"id {fake_discord.application_id})",
        f"invite (scopes bot and applications.commands, permissions {PERMISSIONS_INTEGER}): "
        + EXPECTED_INVITE.format(id=fake_discord.application_id)]
    assert fake_discord.bot_token not in result.out + result.err

    refused = await cli(tmp_path, provider, "check", key=provider.api_key,
                        **{**env, "DISCORD_TOKEN": "x" * 24 + ".wrong.token"})
    assert refused.code == 3 and "DISCORD_TOKEN was refused by Discord (401)" in refused.err
    gone = await cli(tmp_path, provider, "check", key=provider.api_key,
                     **{**env, "DISCORD_API_BASE": f"http://127.0.0.1:{closed_port()}/api/v10"})
    assert gone.code == 4 and gone.err.startswith("error: cannot reach Discord at http://127.0.0.1:")
    assert len(gone.err.splitlines()) == 1


async def test_configuration_mistakes_are_named_in_one_line(
    provider: FakeProvider, tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    key = provider.api_key
    wrong = provider.base_url.removesuffix("/v3") + "/v2"
    wrong_path = await cli(tmp_path, provider, "check", key=key, VIDU_API_BASE=wrong,
                           DATABASE_URL=f"sqlite:///{tmp_path}/bot.db")
    assert wrong_path.code == 3
    assert wrong_path.err == (f"error: VIDU_API_BASE: {wrong} answered 404 (not found): check the path "
                              "(the task API's base ends in /v3, e.g. https://api.jiekou.ai/v3)\n")
    mysql = await cli(tmp_path, provider, "check", key=key, DATABASE_URL="mysql://bot:s3cret-pw@db/vidu")
    assert (mysql.code, mysql.err) == (3, "error: DATABASE_URL is malformed: the scheme 'mysql' is not supported: "
                                          "it takes sqlite:///path/to/file.db or postgresql://user:password@host/database\n")
    typo = await cli(tmp_path, provider, "check", key=key, VIDU_API_KEYS="sk-123", BUDGET_PER_DYA="5",
                     DATABASE_URL=f"sqlite:///{tmp_path}/bot.db")
    assert typo.code == 0, typo.err
    assert typo.err.splitlines() == [
        "warning: BUDGET_PER_DYA in the environment is not a setting and is ignored: did you mean BUDGET_PER_DAY?",
        "warning: VIDU_API_KEYS in the environment is not a setting and is ignored: did you mean VIDU_API_KEY?"]
    (tmp_path / ".env").write_text("DATABSE_URL=sqlite:///x.db\n")
    in_file = await cli(tmp_path, provider, "check", key=key, DATABASE_URL=f"sqlite:///{tmp_path}/bot.db")
    assert in_file.err.splitlines() == [
        "warning: DATABSE_URL in .env is not a setting and is ignored: did you mean DATABASE_URL?"]


async def test_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--version", cwd=tmp_path,
                                                   stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert (process.returncode, out.decode()) == (0, f"vidu-bot {version('vidu-bot')}\n")
