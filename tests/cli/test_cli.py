"""`python -m bot …` end to end: a real subprocess against the strict fake provider on loopback."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.provider import FakeProvider, Fault

API_KEY = "sk-cli-test-SECRET-4b1d9e"
ELAPSED = re.compile(r" · (\d+):(\d\d) elapsed$")  # --wait's progress lines end with the time waited


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
async def fake() -> AsyncIterator[FakeProvider]:
    provider = FakeProvider(api_key=API_KEY)
    provider.queue_seconds, provider.processing_seconds = 0.3, 0.6
    await provider.start()
    yield provider
    await provider.stop()


def write_image(path: Path, width: int = 96, height: int = 64, fmt: str = "PNG") -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (240, 180, 20)).save(buffer, fmt)
    path.write_bytes(buffer.getvalue())
    return path


def cli_environ(fake: FakeProvider, key: str | None = API_KEY, **env: str) -> dict[str, str]:
    """The CLI's environment: this one without the bot's settings, pointed at the fake."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("VIDU_", "DISCORD_", "DATABASE_"))}
    environ.update(VIDU_API_BASE=fake.base_url, POLL_FIRST_SECONDS="0.2", PROVIDER_MAX_ATTEMPTS="2")
    environ.update(env)
    if key is not None:
        environ["VIDU_API_KEY"] = key
    return environ


async def cli(tmp_path: Path, fake: FakeProvider, *args: str, key: str | None = API_KEY,
              **env: str) -> Result:
    """Run the CLI in `tmp_path` (no .env there) without blocking the loop the fake answers on."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=cli_environ(fake, key, **env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    result = Result(process.returncode or 0, out.decode(), err.decode())
    assert "Traceback" not in result.err, result.err
    assert API_KEY not in result.out + result.err
    return result


async def test_animate_submits_a_checked_image_and_prints_the_task_id(tmp_path: Path, fake: FakeProvider) -> None:
    image = write_image(tmp_path / "cat.png")
    result = await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "the cat yawns", "--duration", "4",
                       "--resolution", "1080p", "--movement", "small", "--seed", "7", "--audio",
                       "--voice-id", "narrator_01", "--watermark")
    assert result.code == 0, result.err
    (task_id,) = result.out.split()
    body = fake.tasks[task_id].body
    assert body["images"][0].startswith("data:image/png;base64,")
    assert (body["prompt"], body["duration"], body["resolution"]) == ("the cat yawns", 4, "1080p")
    assert (body["movement_amplitude"], body["seed"], body["audio"]) == ("small", 7, True)
    assert (body["voice_id"], body["watermark"]) == ("narrator_01", True)


async def test_animate_wait_saves_the_video_and_shows_progress(tmp_path: Path, fake: FakeProvider) -> None:
    image = write_image(tmp_path / "cat.jpg", fmt="JPEG")
    out = tmp_path / "clip.mp4"
    result = await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "waves", "--wait", "--out", str(out))
    assert result.code == 0, result.err
    assert out.read_bytes()[4:8] == b"ftyp"
    # Not a terminal: plain lines, one each time the provider's answer changed (test_progress: a terminal).
    assert "\r" not in result.err
    task_id = result.out.split()[0]
    estimate, *progress, saved = result.err.splitlines()
    assert estimate == "estimated cost: $0.09 (img2video, 5 s at 720p; PRICE_TABLE)"  # 0.04 + 5 x 0.01
    assert saved.startswith(f"{task_id}: saved ")
    assert progress and all(line.startswith(f"{task_id}: ") and ELAPSED.search(line) for line in progress)
    assert progress[-1].startswith(f"{task_id}: done · ") and len(progress) == len(set(progress))


async def test_animate_wait_defaults_to_task_id_mp4(tmp_path: Path, fake: FakeProvider) -> None:
    image = write_image(tmp_path / "cat.png")
    result = await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "waves", "--wait")
    assert result.code == 0, result.err
    task_id = result.out.split()[0]
    assert (tmp_path / f"{task_id}.mp4").is_file()


async def test_an_image_url_is_sent_as_it_is(tmp_path: Path, fake: FakeProvider) -> None:
    url = fake.add_image("remote.png", write_image(tmp_path / "r.png").read_bytes())
    result = await cli(tmp_path, fake, "animate", "--yes", url, "--prompt", "zoom out")
    assert result.code == 0, result.err
    assert fake.tasks[result.out.strip()].body["images"] == [url]


async def test_a_converted_image_is_reported_and_sent_as_png(tmp_path: Path, fake: FakeProvider) -> None:
    image = write_image(tmp_path / "old.gif", fmt="GIF")
    result = await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "zoom out")
    assert result.code == 0, result.err
    assert "old.gif:" in result.err
    assert fake.tasks[result.out.strip()].body["images"][0].startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (lambda p: p.write_bytes(b"hello, not an image"), [], "fake.jpg:"),
        (lambda p: write_image(p, 500, 100), [], "wider than 4:1"),
        (lambda p: p.write_bytes(b""), [], "fake.jpg:"),
        (lambda p: write_image(p), ["--duration", "11"], "--duration"),
        (lambda p: write_image(p), ["--seed", "-1"], "--seed"),
        (lambda p: write_image(p), ["--prompt", "x" * 2001], "--prompt"),
        (lambda p: write_image(p), ["--voice-id", "v" * 65], "--voice-id"),
    ],
    ids=["text-file", "ratio", "empty", "duration", "seed", "long-prompt", "long-voice"],
)
async def test_bad_animate_input_names_the_problem_and_sends_nothing(
    tmp_path: Path, fake: FakeProvider, make: object, args: list[str], message: str
) -> None:
    path = tmp_path / "fake.jpg"
    make(path)  # type: ignore[operator]
    prompt = [] if "--prompt" in args else ["--prompt", "p"]
    result = await cli(tmp_path, fake, "animate", "--yes", str(path), *prompt, *args)
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert fake.requests_to("submit") == []


async def test_a_missing_file_is_named(tmp_path: Path, fake: FakeProvider) -> None:
    result = await cli(tmp_path, fake, "animate", "--yes", "nope.png", "--prompt", "p")
    assert (result.code, result.err.strip()) == (2, "error: nope.png: no such file")


async def test_keyframes_sends_every_segment_with_its_prompt_and_duration(
    tmp_path: Path, fake: FakeProvider
) -> None:
    paths = [str(write_image(tmp_path / f"{n}.png")) for n in range(4)]
    result = await cli(tmp_path, fake, "keyframes", "--yes", *paths, "--prompts", "in|turn|out", "--durations", "4,5,3",
                       "--resolution", "540p", "--watermark")
    assert result.code == 0, result.err
    body = fake.tasks[result.out.strip()].body
    assert body["start_image"].startswith("data:image/png")
    assert [(s["prompt"], s["duration"]) for s in body["image_settings"]] == [("in", 4), ("turn", 5), ("out", 3)]
    assert (body["resolution"], body["watermark"]) == ("540p", True)


def _sent_size(data_uri: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))) as im:
        return im.size


async def test_photos_are_sent_at_the_size_the_requested_resolution_can_use(tmp_path: Path, fake: FakeProvider) -> None:
    photo = str(write_image(tmp_path / "photo.jpg", 4000, 3000, fmt="JPEG"))
    result = await cli(tmp_path, fake, "animate", "--yes", photo, "--prompt", "p", "--resolution", "1080p")
    assert result.code == 0, result.err
    assert _sent_size(fake.tasks[result.out.strip()].body["images"][0]) == (2000, 1500)  # ≥ 1920×1440, within 10 %
    small = str(write_image(tmp_path / "small.png"))
    result = await cli(tmp_path, fake, "keyframes", "--yes", photo, small, photo, "--resolution", "720p")
    assert result.code == 0, result.err
    body = fake.tasks[result.out.strip()].body
    sizes = [_sent_size(body["start_image"]), *(_sent_size(s["key_image"]) for s in body["image_settings"])]
    assert sizes == [(1280, 960), (96, 64), (1280, 960)]  # never scaled up
    assert "scaled" not in result.err  # sizing for the video is not reported as a fix


async def test_keyframes_one_prompt_and_one_duration_apply_to_all(tmp_path: Path, fake: FakeProvider) -> None:
    paths = [str(write_image(tmp_path / f"{n}.png")) for n in range(3)]
    result = await cli(tmp_path, fake, "keyframes", "--yes", *paths, "--prompts", "drift", "--durations", "2")
    assert result.code == 0, result.err
    settings = fake.tasks[result.out.strip()].body["image_settings"]
    assert [(s["prompt"], s["duration"]) for s in settings] == [("drift", 2), ("drift", 2)]


@pytest.mark.parametrize(
    ("count", "args", "message"),
    [
        (2, ["--durations", "9"], "--durations: 9 s is outside 1–8 s"),  # a start and an end: the endpoint's range
        (3, ["--movement", "high"], "--movement: applies only to a start and an end picture"),
        (11, [], "10 keyframes given"),
        (4, ["--prompts", "a|b"], "--prompts: 2 prompts given for 3 segments"),
        (4, ["--durations", "4,5"], "--durations: 2 durations given for 3 segments"),
        (3, ["--durations", "9"], "9 s is outside 2–7 s"),
        (3, ["--durations", "4,²"], '--durations: "²" is not a whole number of seconds'),  # int() refuses ²
    ],
)
async def test_bad_keyframes_input_names_the_option_and_sends_nothing(
    tmp_path: Path, fake: FakeProvider, count: int, args: list[str], message: str
) -> None:
    paths = [str(write_image(tmp_path / f"{n}.png")) for n in range(count)]
    result = await cli(tmp_path, fake, "keyframes", "--yes", *paths, *args)
    assert result.code == 2
    assert message in result.err
    assert fake.requests_to("submit") == []


async def test_keyframes_lists_every_bad_image_at_once(tmp_path: Path, fake: FakeProvider) -> None:
    start = write_image(tmp_path / "start.png")
    wide = write_image(tmp_path / "wide.png", 900, 100)
    broken = tmp_path / "broken.webp"
    broken.write_bytes(b"RIFF....WEBP")
    result = await cli(tmp_path, fake, "keyframes", "--yes", str(start), str(wide), str(broken))
    assert result.code == 2
    assert "wide.png:" in result.err and "broken.webp:" in result.err
    assert fake.requests_to("submit") == []


async def test_a_refused_prompt_exits_1_with_the_providers_reason(tmp_path: Path, fake: FakeProvider) -> None:
    image = write_image(tmp_path / "a.png")
    result = await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "something forbidden")
    assert result.code == 1
    assert "refused" in result.err


async def test_a_failed_task_exits_1_with_its_reason(tmp_path: Path, fake: FakeProvider) -> None:
    fake.plan_next_task(fail_reason="NSFW content detected")
    image = write_image(tmp_path / "a.png")
    result = await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "p", "--wait")
    assert result.code == 1
    assert "NSFW content detected" in result.err


async def test_a_bad_key_exits_3_without_showing_it(tmp_path: Path, fake: FakeProvider) -> None:
    image = write_image(tmp_path / "a.png")
    result = await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "p", key="sk-wrong-key-123456")
    assert result.code == 3
    assert "VIDU_API_KEY was refused" in result.err
    assert "sk-wrong-key-123456" not in result.err


async def test_a_key_too_short_to_be_real_stops_with_one_line(tmp_path: Path, fake: FakeProvider) -> None:
    """Redacted from every log line, a key like `test` made them unreadable: refused before anything runs."""
    result = await cli(tmp_path, fake, "check", key="test")
    assert result.code == 3 and result.out == ""
    assert result.err == ("error: VIDU_API_KEY is malformed: shorter than 16 characters, too short to be a real "
                          "one (was it copied whole?)\n")
    assert fake.requests == []  # nothing was sent with it


async def test_no_key_at_all_stops_with_one_line(tmp_path: Path, fake: FakeProvider) -> None:
    result = await cli(tmp_path, fake, "task", "abc", key=None)
    assert result.code == 3
    assert result.err.startswith("error: VIDU_API_KEY is not set")


async def test_an_unknown_submit_outcome_is_reported_not_repeated(tmp_path: Path, fake: FakeProvider) -> None:
    fake.inject("submit", Fault.drop_after())
    image = write_image(tmp_path / "a.png")
    result = await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "p")
    assert result.code == 4
    assert "not repeated" in result.err
    assert len(fake.tasks) == 1 and len(fake.requests_to("submit")) == 1


async def test_task_shows_state_and_unknown_task_exits_1(tmp_path: Path, fake: FakeProvider) -> None:
    image = write_image(tmp_path / "a.png")
    task_id = (await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "p")).out.strip()
    shown = await cli(tmp_path, fake, "task", task_id)
    assert shown.code == 0 and task_id in shown.out
    missing = await cli(tmp_path, fake, "task", "no-such-task")
    assert missing.code == 1 and "TASK_NOT_FOUND" in missing.err


async def test_task_wait_saves_the_video(tmp_path: Path, fake: FakeProvider) -> None:
    image = write_image(tmp_path / "a.png")
    task_id = (await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "p")).out.strip()
    result = await cli(tmp_path, fake, "task", task_id, "--wait", "--out", "v.mp4")
    assert result.code == 0, result.err
    assert (tmp_path / "v.mp4").read_bytes()[4:8] == b"ftyp"


async def test_check_reports_settings_database_and_key(tmp_path: Path, fake: FakeProvider) -> None:
    result = await cli(tmp_path, fake, "check", DATABASE_URL=f"sqlite:///{tmp_path}/db/bot.db")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "ok: configuration", "ok: screen nudenet active: exposed nudity in a picture (NudeNet 320n, offline)",
        "ok: database writable", f"ok: provider key accepted by {fake.base_url}",
        "skipped: DISCORD_TOKEN is not set (the bot needs it; with it, check prints the invite link)"]
    assert (tmp_path / "db" / "bot.db").is_file()


async def test_check_says_which_screens_cannot_run_without_failing(tmp_path: Path, fake: FakeProvider) -> None:
    result = await cli(tmp_path, fake, "check", SAFETY_SCREENS="none", DATABASE_URL=f"sqlite:///{tmp_path}/bot.db")
    assert result.code == 0, result.err
    assert "warning: no picture screen can run (SAFETY_SCREENS)" in result.out
    seam = await cli(tmp_path, fake, "check", SAFETY_SCREENS="marker", DATABASE_URL=f"sqlite:///{tmp_path}/bot.db")
    assert "warning: screen marker is the tests' seam" in seam.out and seam.code == 0
    bad = await cli(tmp_path, fake, "check", SAFETY_SCREENS="nudenet,eyeball")
    assert bad.code == 3 and "SAFETY_SCREENS is malformed: unknown screen 'eyeball'" in bad.err


async def test_check_names_a_refused_key(tmp_path: Path, fake: FakeProvider) -> None:
    result = await cli(tmp_path, fake, "check", key="sk-not-it-000000",
                       DATABASE_URL=f"sqlite:///{tmp_path}/bot.db")
    assert result.code == 3 and "VIDU_API_KEY was refused" in result.err


async def test_check_names_an_unwritable_database(tmp_path: Path, fake: FakeProvider) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = await cli(tmp_path, fake, "check", DATABASE_URL=f"sqlite:///{blocker}/bot.db")
    assert result.code == 3 and result.err.startswith("error: DATABASE_URL:")


async def test_malformed_setting_stops_with_one_line(tmp_path: Path, fake: FakeProvider) -> None:
    result = await cli(tmp_path, fake, "check", PROVIDER_REQUESTS_PER_MINUTE="lots")
    assert result.code == 3
    assert result.err.strip() == "error: PROVIDER_REQUESTS_PER_MINUTE is malformed: 'lots' is not a whole number"


async def test_keyframes_with_a_start_and_an_end_makes_a_start_end_video_with_the_pictures_fitted(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """`keyframes START END`: the start-end endpoint, the end picture enlarged to the start's pixel count (the
    strict fake refuses a pair outside 0.8-1.25), said on stderr, and the video saved."""
    start = write_image(tmp_path / "start.png", 960, 720)
    end = write_image(tmp_path / "end.png", 320, 240)
    result = await cli(tmp_path, fake, "keyframes", "--yes", str(start), str(end), "--prompts", "the sun sets",
                       "--durations", "8", "--movement", "high", "--resolution", "540p", "--wait",
                       "--out", str(tmp_path / "video.mp4"))
    assert result.code == 0, result.err
    (task,) = fake.tasks.values()
    assert task.endpoint == "vidu-q2-turbo-startend2video"
    body = task.body
    assert (body["prompt"], body["duration"], body["movement_amplitude"], body["resolution"]) == (
        "the sun sets", 8, "large", "540p")
    sizes = [Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).size for uri in body["images"]]
    assert sizes == [(960, 720), (960, 720)]
    assert "end.png: scaled from 320×240 to 960×720 to match the other picture" in result.err
    assert (tmp_path / "video.mp4").stat().st_size > 0


async def test_a_url_the_command_does_not_take_is_named_as_one(tmp_path: Path, fake: FakeProvider) -> None:
    result = await cli(tmp_path, fake, "animate", "--yes", "ftp://example.com/cat.png", "--prompt", "p")
    assert (result.code, result.err) == (
        2, "error: ftp://example.com/cat.png: ftp:// is not taken: give a local file or an http(s) URL\n")
    assert fake.requests_to("submit") == []


async def test_an_unsupported_format_asks_for_another_file(tmp_path: Path, fake: FakeProvider) -> None:
    image = write_image(tmp_path / "old.tga", fmt="TGA")
    result = await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "p")
    assert (result.code, result.err) == (
        2, "error: old.tga: TGA (Targa) images can't be read here; export it as PNG or JPEG and give that file\n")


async def test_a_small_video_is_measured_in_kilobytes(tmp_path: Path, fake: FakeProvider) -> None:
    image = write_image(tmp_path / "cat.png")
    result = await cli(tmp_path, fake, "animate", "--yes", str(image), "--prompt", "p", "--wait", "--out", "v.mp4")
    assert result.code == 0, result.err
    size = (tmp_path / "v.mp4").stat().st_size
    assert size < 1024 * 1024  # the fake's clip: a few kilobytes
    assert result.err.splitlines()[-1].endswith(f": saved v.mp4 ({max(1, round(size / 1024))} KB)")
