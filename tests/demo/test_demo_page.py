"""`python -m bot demo`, as the README tells a new operator to run it, and its page in a real headless Chromium:
what a person opening the page would see (every card, Chinese for the Chinese member, pictures decoded,
videos that load) and that the page asks nothing of the network."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from pathlib import Path

import pytest

from bot.i18n import t
from tests.demo.browser import REQUIRE_ENV, chromium, find_chromium

ROOT = Path(__file__).resolve().parents[2]
ALICE_PROMPT = "the lighthouse beam sweeps over the evening sea"
BOB_PROMPTS = ["太阳从山后升起", "小猫伸懒腰", "forbidden 灯塔的光"]
# What each member's cards say, in their language (the English ones must not reach bob).
KEYS = ["status.delivered", "status.cancelled", "status.rejected"]


async def _run_demo(out: Path) -> tuple[str, float]:
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--out", str(out), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    stdout, _ = await asyncio.wait_for(process.communicate(), 150)
    output = stdout.decode(errors="replace")
    assert process.returncode == 0, output
    return output, time.monotonic() - began


def _check_self_contained(page: str) -> None:
    sources = re.findall(r'\b(?:src|href)="([^"#][^"]*)"', page)
    assert sources and all(s.startswith("data:") for s in sources if not s.startswith("https://discord.com")), [
        s[:80] for s in sources if not s.startswith("data:")]
    assert "default-src 'none'" in page  # the page's own policy forbids any request; the browser checks it below


@pytest.mark.timeout(240)  # ~30 s; a demo 49 s under CI-like load was seen, and the browser comes after it
async def test_the_demo_page_shows_the_session_as_members_saw_it(tmp_path: Path) -> None:
    out = tmp_path / "page" / "demo.html"
    output, seconds = await _run_demo(out)
    print(f"python -m bot demo took {seconds:.1f} s")  # a figure for the notes (docs/TESTING.md)
    assert f"the page: {out}" in output
    page = out.read_text(encoding="utf-8")
    _check_self_contained(page)

    executable = find_chromium()
    if executable is None:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set (CI) but no Chromium is on PATH: .ci/run installs Debian's chromium")
        pytest.skip("no Chromium on this machine (apt-get install chromium); the page was checked without a browser")

    async with chromium(executable) as browser:
        await browser.open(out.as_uri())
        seen = await browser.evaluate(SEE)

        assert seen["violations"] == [] and [u for u in browser.requests if not u.startswith(("file:", "data:"))] == []
        assert sorted(seen["threads"]) == sorted([ALICE_PROMPT, *BOB_PROMPTS])  # alice and bob act at once
        # Every card: each request has its request card and its status card in its thread, and a video card when it
        # made one; alice's thread holds her re-roll, bob's keyframes thread his extension (sent through the Extend
        # form); the cancelled job has no video, the refused one its refusal instead.
        assert seen["cards"] == {ALICE_PROMPT: 6, "太阳从山后升起": 6, "小猫伸懒腰": 2, "forbidden 灯塔的光": 3}
        assert seen["videos"] == {ALICE_PROMPT: 2, "太阳从山后升起": 2, "小猫伸懒腰": 0, "forbidden 灯塔的光": 0}
        assert seen["buttons"].count("🎲 Re-roll") == 2 and seen["buttons"].count("🎲 重新生成") == 2
        (form,) = seen["form"]
        assert form.endswith(f"bob sent the form “{t('extend.title', 'zh-CN')}”"), form

        # Private answers are marked; alice's over-the-limit answer and the moderator's chart are among them.
        assert seen["ephemeral"] >= 8 and seen["ephemeral"] == seen["only_you"]
        assert any("daily limit (2 videos per day)" in text for text in seen["alice"])
        assert seen["usage_chart"] is True

        # The Chinese member reads Chinese: his cards say the states in zh-CN and none of the English words.
        bob = "\n".join(seen["bob"])
        for key in KEYS:
            assert t(key, "zh-CN") in bob and t(key, "en-US") not in bob, key
        assert "你的视频正在制作中" in bob and "Your video is on its way" not in bob
        assert all(re.search(r"[\u4e00-\u9fff]", text) for text in seen["bob"]), seen["bob"]

        # Accent colours as the bot set them: green for done, red for refused, grey for cancelled.
        assert {"rgb(87, 242, 135)", "rgb(237, 66, 69)", "rgb(79, 84, 92)"} <= set(seen["accents"])

        pictures = await browser.evaluate(PICTURES)
        # 7 members' pictures, the frame Extend started from, the usage chart
        assert len(pictures) == 9 and all(width > 0 for width in pictures), pictures
        videos = await browser.evaluate(VIDEOS)
        assert len(videos) == 4, videos
        for duration, frame_ready, width in videos:  # it loads, and a frame a second in is decoded and shown
            assert 0 < duration < 60 and frame_ready and width > 0, videos

        shots = [await browser.screenshot(tmp_path / "page.png")]
        for n in range(4):
            shots.append(await browser.screenshot(tmp_path / f"thread-{n}.png", f"section.thread:nth-of-type({n + 2})"))
        assert all(shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000 for shot in shots)


# What a reader sees, read from the laid-out page (innerText: only what is rendered).
SEE = r"""(() => {
  const threads = [...document.querySelectorAll('section.thread')];
  const byThread = f => Object.fromEntries(threads.map(s => [s.dataset.name, f(s)]));
  const texts = who => [...document.querySelectorAll(`article[data-reader="${who}"] .body`)]
    .map(b => [...b.querySelectorAll('.text-display, .body > div:not(.head):not(.ephemeral-note):not(.pressed)')]
      .map(e => e.innerText).join('\n'));
  return {
    violations: window.__violations,
    threads: threads.map(s => s.dataset.name),
    cards: byThread(s => s.querySelectorAll('.container').length),
    videos: byThread(s => s.querySelectorAll('video').length),
    buttons: [...document.querySelectorAll('button')].map(b => b.innerText.trim()),
    ephemeral: document.querySelectorAll('article.ephemeral').length,
    only_you: [...document.querySelectorAll('article.ephemeral .ephemeral-note')]
      .filter(e => e.innerText.includes('Only you can see this')).length,
    alice: texts('alice'),
    bob: texts('bob'),
    usage_chart: !!document.querySelector('article.ephemeral img[alt="usage.png"]'),
    form: [...document.querySelectorAll('.invoked')].map(e => e.textContent.replace(/\s+/g, ' ').trim())
      .filter(t => t.includes('form')),
    accents: [...document.querySelectorAll('.container.accented')].map(c => getComputedStyle(c).borderLeftColor),
  };
})()"""

# Every picture decoded (naturalWidth > 0 once loaded).
PICTURES = r"""Promise.all([...document.images].map(i => i.decode().then(() => i.naturalWidth, () => 0)))"""

# Every video: its duration once its metadata loaded, then whether the frame one second in was decoded
# (readyState HAVE_CURRENT_DATA after the seek) and its width; [0, false, 0] when the browser cannot play it.
VIDEOS = r"""Promise.all([...document.querySelectorAll('video')].map(v => new Promise(done => {
  const seek = () => {
    v.addEventListener('seeked', () => done([v.duration, v.readyState >= 2, v.videoWidth]), {once: true});
    v.currentTime = Math.min(1, v.duration / 2);
  };
  v.addEventListener('error', () => done([0, false, 0]), {once: true});
  if (v.readyState >= 1) seek(); else v.addEventListener('loadedmetadata', seek, {once: true});
})))"""
