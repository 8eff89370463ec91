"""Refresh the README's pictures of the demo page: `.venv/bin/python -m tools.demo_screenshots`.

Runs `python -m bot demo`, opens the page in headless Chromium (tests/demo/browser.py) and saves crops of it
under docs/ as small palette PNGs (a few hundred KB in all).
"""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
from pathlib import Path

from PIL import Image

from tests.demo.browser import chromium, find_chromium

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
WIDTH = 1100
# (file, element, top pixels kept): the channel, an English thread, the Chinese keyframes thread.
SHOTS = [
    ("demo-general.png", "section.text", 900),
    ("demo-thread-en.png", 'section.thread[data-name^="the lighthouse"]', 1300),
    ("demo-thread-zh.png", 'section.thread[data-name="太阳从山后升起"]', 1450),
]


def _small(png: bytes, scale: float = 0.75) -> bytes:
    """Scaled down and reduced to a 256-colour palette: a screenshot of flat UI stays sharp and small."""
    with Image.open(io.BytesIO(png)) as shot:
        shot = shot.convert("RGB")
        shot = shot.resize((round(shot.width * scale), round(shot.height * scale)), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        shot.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, "PNG", optimize=True)
        return out.getvalue()


# Each video paused one second in (a frame of the picture moving, not the loading spinner).
SHOW_A_FRAME = """Promise.all([...document.querySelectorAll('video')].map(v => new Promise(done => {
  const seek = () => { v.addEventListener('seeked', done, {once: true}); v.currentTime = 1.0; };
  if (v.readyState >= 1) seek(); else v.addEventListener('loadedmetadata', seek, {once: true});
})))"""


async def main() -> int:
    executable = find_chromium()
    if executable is None:
        print("no Chromium on PATH (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "demo.html"
        demo = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "demo", "--out", str(page), cwd=ROOT)
        if await demo.wait() != 0:
            return 1
        async with chromium(executable) as browser:
            await browser.open(page.as_uri(), width=WIDTH, height=900)
            await browser.evaluate("Promise.all([...document.images].map(i => i.decode()))")
            await browser.evaluate(SHOW_A_FRAME)
            for name, selector, height in SHOTS:
                raw = await browser.screenshot(Path(folder) / name, selector, max_height=height)
                (DOCS / name).write_bytes(_small(raw.read_bytes()))
                print(f"docs/{name}: {(DOCS / name).stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
