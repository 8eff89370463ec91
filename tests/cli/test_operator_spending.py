"""The command line's paid submits in the ledger and the budget (issue 27 item 5), on both stores.

Real `python -m bot` subprocesses against the strict fake provider, one database per test shared by every command
an operator would run in turn (animate, keyframes, task, ledger), as they would share it with the bot.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import signal
import sys
from pathlib import Path

import pytest

from tests.cli.test_cli import API_KEY, Result, cli, cli_environ, fake, write_image
from tests.cli.test_progress import read_until_closed
from tests.fakes.provider import FakeProvider
from tests.store.backends import backend_params, pg_url, sqlite_url

__all__ = ["fake"]  # the fixture, shared with test_cli

# The built-in price table: img2video 0.04 + 0.01/s, multiframe 0.075 + 0.05/s (720p: x1).
ANIMATE_5S = 90  # credits: $0.09
KEYFRAMES_2X3S = 75 + 50 * 6  # $0.375


def url_for(backend: str, tmp_path: Path) -> str:
    return pg_url(tmp_path) if backend == "postgresql" else sqlite_url(tmp_path)


async def run(tmp_path: Path, fake: FakeProvider, url: str, *args: str, **env: str) -> Result:
    return await cli(tmp_path, fake, *args, DATABASE_URL=url, PROVIDER_REQUESTS_PER_MINUTE="6000", **env)


@pytest.mark.parametrize("backend", backend_params())
async def test_every_command_line_submit_is_in_the_ledger_with_its_cost(
    backend: str, tmp_path: Path, fake: FakeProvider
) -> None:
    url = url_for(backend, tmp_path)
    image = str(write_image(tmp_path / "cat.png"))
    frames = [str(write_image(tmp_path / f"k{n}.png")) for n in range(3)]

    made = await run(tmp_path, fake, url, "animate", image, "--prompt", "waves", "--yes", "--wait", "--out", "a.mp4")
    assert made.code == 0, made.err
    assert made.err.splitlines()[0] == "estimated cost: $0.09 (img2video, 5 s at 720p; PRICE_TABLE)"
    # Without --wait: the task id on stdout, and how to follow it on stderr.
    later = await run(tmp_path, fake, url, "keyframes", *frames, "--durations", "3", "--yes")
    assert later.code == 0, later.err
    task_id = later.out.strip()
    assert later.err.splitlines() == [
        "estimated cost: $0.375 (multiframe, 6 s at 720p; PRICE_TABLE)",
        f"{task_id}: submitted (about $0.375, job {later.err.split('job ')[1].split()[0]} in the ledger); "
        f"follow it: python -m bot task {task_id} --wait"]
    fake.plan_next_task(fail_reason="GPU node crashed")
    failed = await run(tmp_path, fake, url, "animate", image, "--prompt", "p", "--yes", "--wait")
    assert failed.code == 1 and "GPU node crashed" in failed.err
    refused = await run(tmp_path, fake, url, "animate", image, "--prompt", "something forbidden", "--yes")
    assert refused.code == 1 and "refused" in refused.err

    # Before the keyframes task is followed, the ledger holds it in flight (reserved against the budget).
    report = json.loads((await run(tmp_path, fake, url, "ledger", "--json")).out)
    (server,) = report["servers"]
    assert server["guild_id"] == "0"
    assert server["in_flight"] == {"jobs": 1, "videos": 1, "seconds": 6, "credits": KEYFRAMES_2X3S}
    followed = await run(tmp_path, fake, url, "task", task_id, "--wait", "--out", "k.mp4")
    assert followed.code == 0, followed.err

    result = await run(tmp_path, fake, url, "ledger")
    assert result.code == 0, result.out + result.err
    rows = [line.split() for line in result.out.splitlines() if line.startswith("command line")]
    assert rows == [["command", "line", "charged", "2", "2", "11", "$0.465"],
                    ["command", "line", "refunded", "2", "2", "10", "$0.18"]]
    report = json.loads((await run(tmp_path, fake, url, "ledger", "--json")).out)
    assert {c["verdict"] for c in report["checks"]} == {"agree"} and len(report["checks"]) == 4
    assert {c["state"] for c in report["checks"]} == {"delivered", "failed", "rejected"}


@pytest.mark.parametrize("backend", backend_params())
async def test_the_budget_counts_the_command_line_and_refuses_in_one_line(
    backend: str, tmp_path: Path, fake: FakeProvider
) -> None:
    url = url_for(backend, tmp_path)
    image = str(write_image(tmp_path / "cat.png"))
    first = await run(tmp_path, fake, url, "animate", image, "--prompt", "p", "--yes", BUDGET_PER_DAY="0.15")
    assert first.code == 0, first.err
    second = await run(tmp_path, fake, url, "animate", image, "--prompt", "p", "--yes", BUDGET_PER_DAY="0.15")
    assert (second.code, second.out) == (3, "")
    assert second.err == ("error: not submitted: BUDGET_PER_DAY is spent: $0.09 of $0.15 used today (UTC) and this "
                          "video costs about $0.09\n")
    monthly = await run(tmp_path, fake, url, "animate", image, "--prompt", "p", "--yes", BUDGET_PER_MONTH="0.10")
    assert monthly.code == 3 and "BUDGET_PER_MONTH is spent: $0.09 of $0.10 used this month" in monthly.err
    assert len(fake.requests_to("submit")) == 1


async def test_without_a_terminal_or_yes_nothing_is_spent(tmp_path: Path, fake: FakeProvider) -> None:
    url = sqlite_url(tmp_path)
    image = str(write_image(tmp_path / "cat.png"))
    result = await run(tmp_path, fake, url, "animate", image, "--prompt", "p")  # stdin and stderr are pipes
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == [
        "estimated cost: $0.09 (img2video, 5 s at 720p; PRICE_TABLE)",
        "error: not submitted: no terminal to confirm the estimated cost on; add --yes to submit without asking"]
    assert fake.requests_to("submit") == []
    report = await run(tmp_path, fake, url, "ledger")
    assert "no jobs in the ledger for this period" in report.out


@pytest.mark.parametrize(("answer", "submitted"), [("y", True), ("n", False), ("", False)])
async def test_on_a_terminal_the_estimate_is_confirmed(
    tmp_path: Path, fake: FakeProvider, answer: str, submitted: bool
) -> None:
    image = str(write_image(tmp_path / "cat.png"))
    controller, terminal = pty.openpty()
    env = cli_environ(fake, DATABASE_URL=sqlite_url(tmp_path))
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "animate", image, "--prompt", "p", "--resolution", "1080p",
            cwd=tmp_path, env=env, stdin=terminal, stdout=asyncio.subprocess.PIPE, stderr=terminal,
        )
        os.close(terminal)
        os.write(controller, f"{answer}\n".encode())  # typed ahead: the terminal keeps the line until it is read
        out = await asyncio.wait_for(process.stdout.read(), timeout=60)  # type: ignore[union-attr]
        raw = await asyncio.wait_for(asyncio.to_thread(read_until_closed, controller), timeout=60)
        code = await asyncio.wait_for(process.wait(), timeout=10)
    finally:
        os.close(controller)
    text = raw.decode().replace("\r\n", "\n")
    assert "Traceback" not in text and API_KEY not in text
    assert "estimated cost: $0.18 (img2video, 5 s at 1080p; PRICE_TABLE)\nsubmit and pay for it? [y/N] " in text
    assert len(fake.requests_to("submit")) == (1 if submitted else 0)
    if submitted:
        assert code == 0 and out.decode().strip() in fake.tasks
    else:
        assert code == 2 and "error: not submitted: nothing was spent" in text


@pytest.mark.skip(reason="a known bug to fix first: in two of three .ci/run passes the command did not exit within "
                         "60 s of its SIGINT (it does in 4-6 s alone); see the closing note of 2026-12-07 and "
                         "docs/TESTING.md")
async def test_ctrl_c_while_waiting_says_the_task_goes_on_and_how_to_follow_it(
    tmp_path: Path, fake: FakeProvider
) -> None:
    # Long enough that the Ctrl-C always comes first, however busy the machine; then the fake's clock jumps.
    fake.queue_seconds, fake.processing_seconds = 0.5, 3600.0
    url = sqlite_url(tmp_path)
    image = str(write_image(tmp_path / "cat.png"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "animate", image, "--prompt", "p", "--yes", "--wait", "--out", "my clip.mp4",
        cwd=tmp_path, env=cli_environ(fake, DATABASE_URL=url), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    task_id = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode().strip()
    seen = []
    while not any(line.startswith(f"{task_id}: ") for line in seen):  # its first progress line: following it
        seen.append((await asyncio.wait_for(process.stderr.readline(), timeout=60)).decode())
    try:
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=60) == 130
        # Line by line, not to the pipe's end: the image workers the command started hold stderr open a moment
        # longer, and on a busy machine that moment was over 30 s.
        lines: list[str] = []
        while not any(line.startswith("interrupted:") for line in lines):
            lines.append((await asyncio.wait_for(process.stderr.readline(), timeout=30)).decode())
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    resume = f"python -m bot task {task_id} --wait --out 'my clip.mp4'"
    assert lines[-1].rstrip("\n") == (f"interrupted: task {task_id} goes on at the provider, which bills it when it "
                                      f"finishes; follow it again with: {resume}")
    assert "Traceback" not in "".join(lines)

    # The command it printed follows the task to its end, and the ledger charges it then.
    fake.advance(3600)
    resumed = await run(tmp_path, fake, url, "task", task_id, "--wait", "--out", "my clip.mp4")
    assert resumed.code == 0, resumed.err
    report = json.loads((await run(tmp_path, fake, url, "ledger", "--json")).out)
    assert report["servers"][0]["charged"]["credits"] == ANIMATE_5S
