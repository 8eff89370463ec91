"""A headless Chromium driven over the Chrome DevTools protocol (its websocket, with aiohttp): open a page,
evaluate JavaScript, record every request the page makes, take screenshots. No browser library needed.

Chromium's start-up on a machine without network: no sandbox as root (it refuses to start otherwise), no GPU,
no background networking, component updates, sync or first-run work (each of which waits on the network),
and a fresh profile folder.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Fails the page's tests instead of skipping them when no Chromium is found (.ci/run sets it).
REQUIRE_ENV = "VIDU_TEST_REQUIRE_CHROMIUM"


def find_chromium() -> str | None:
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def fonts_config(folder: Path) -> Path:
    """A fontconfig file with the fonts the bot ships (Kurinto Sans, from weblate-fonts: Chinese and Latin),
    so screenshots read the same on every machine, CI's font-less one included."""
    import weblate_fonts

    kurinto = Path(weblate_fonts.__file__).parent / "static" / "weblate_fonts" / "kurinto" / "ttf"
    path = folder / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?>\n<fontconfig>\n'
        f"  <dir>{kurinto}</dir>\n  <cachedir>{folder / 'fontcache'}</cachedir>\n"
        "  <alias><family>sans-serif</family><prefer><family>Kurinto Sans SC</family></prefer></alias>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return path


class Page:
    """One tab: `evaluate` JavaScript, `screenshot` a region; `requests` lists every URL it asked for."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.requests: list[str] = []
        self.events: dict[str, list[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            if "id" in message and message["id"] in self._waiting:
                self._waiting.pop(message["id"]).set_result(message)
            elif "method" in message:
                self.events.setdefault(message["method"], []).append(message.get("params", {}))
                if message["method"] == "Network.requestWillBeSent":
                    self.requests.append(message["params"]["request"]["url"])

    async def send(self, method: str, timeout: float = 60, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        await self.ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
        answer = await asyncio.wait_for(future, timeout)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})  # type: ignore[no-any-return]

    async def evaluate(self, expression: str, timeout: float = 60) -> Any:
        """The value of `expression` (a promise is awaited), as JSON; a JavaScript exception fails loudly."""
        result = await self.send("Runtime.evaluate", timeout=timeout, expression=expression, awaitPromise=True,
                                 returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"the page's JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def open(self, url: str, *, width: int = 1200, height: int = 900) -> None:
        """Navigate and wait for the load event; requests and CSP violations are recorded from the start."""
        await self.send("Network.enable")
        await self.send("Page.enable")
        await self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                        mobile=False)
        await self.send("Page.addScriptToEvaluateOnNewDocument", source=(
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation',"
            " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"))
        loaded = len(self.events.get("Page.loadEventFired", []))
        await self.send("Page.navigate", url=url)
        for _ in range(600):
            if len(self.events.get("Page.loadEventFired", [])) > loaded:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{url} did not finish loading in 30 s")

    async def screenshot(self, path: Path, selector: str | None = None, *, max_height: int = 1400) -> Path:
        """A PNG of the element `selector` (its top `max_height` pixels), or of the viewport."""
        params: dict[str, Any] = {"format": "png"}
        if selector is not None:
            box = await self.evaluate(
                f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
                " return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; })()")
            clip = {**box, "height": min(box["height"], max_height), "scale": 1}
            params.update(captureBeyondViewport=True, clip=clip)
        shot = await self.send("Page.captureScreenshot", **params)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def chromium(executable: str) -> AsyncIterator[Page]:
    """A headless Chromium with one blank tab, stopped (and its profile deleted) on the way out."""
    with tempfile.TemporaryDirectory(prefix="vidu-chromium-") as folder:
        env = {**os.environ, "FONTCONFIG_FILE": str(fonts_config(Path(folder)))}
        flags = ["--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--no-default-browser-check", "--mute-audio",
                 "--hide-scrollbars", "--autoplay-policy=no-user-gesture-required",
                 f"--user-data-dir={folder}/profile", "--remote-debugging-port=0", "about:blank"]
        if os.geteuid() == 0:
            flags.insert(0, "--no-sandbox")
        process = await asyncio.create_subprocess_exec(
            executable, *flags, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            port = await _devtools_port(process)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
                    targets = await answer.json()
                tab = next(t for t in targets if t.get("type") == "page")
                ws = await http.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0)
                page = Page(ws)
                try:
                    yield page
                finally:
                    await page.close()
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _devtools_port(process: asyncio.subprocess.Process) -> int:
    """Chromium prints `DevTools listening on ws://127.0.0.1:PORT/...` on stderr once it is up."""
    assert process.stderr is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(30):
            async for raw in process.stderr:
                line = raw.decode(errors="replace")
                seen.append(line)
                found = re.search(r"DevTools listening on ws://[\d.]+:(\d+)/", line)
                if found:
                    asyncio.create_task(_drain(process.stderr))  # noqa: RUF006 - ends with the process
                    return int(found.group(1))
    except TimeoutError:
        pass
    raise AssertionError("Chromium did not start in 30 s:\n" + "".join(seen[-20:]))


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass
