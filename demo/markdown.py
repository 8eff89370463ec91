"""Discord's markdown as HTML, the part the bot writes: headings, -# subtext, > quotes, lists, code, bold,
italic, underline, strike, spoilers, masked links, mentions and <t:…> timestamps.

Everything is escaped first; the patterns then match the escaped text, so a member's prompt can never
inject markup into the page.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Names:
    """What mentions resolve to: user, role and channel names by id (absent ids stay as Discord shows them)."""

    users: dict[int, str]
    roles: dict[int, str]
    channels: dict[int, str]
    now: float  # the page's time, for relative timestamps
    locale: str = "en-US"  # the reader's, for timestamps


_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_INLINE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\*\*(.+?)\*\*", re.S), r"<strong>\1</strong>"),
    (re.compile(r"__(.+?)__", re.S), r"<u>\1</u>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", re.S), r"<em>\1</em>"),
    (re.compile(r"(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])", re.S), r"<em>\1</em>"),
    (re.compile(r"~~(.+?)~~", re.S), r"<s>\1</s>"),
    (re.compile(r"\|\|(.+?)\|\|", re.S), r'<span class="spoiler">\1</span>'),
]
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_USER = re.compile(r"&lt;@!?(\d+)&gt;")
_ROLE = re.compile(r"&lt;@&amp;(\d+)&gt;")
_CHANNEL = re.compile(r"&lt;#(\d+)&gt;")
_TIME = re.compile(r"&lt;t:(-?\d+)(?::([tTdDfFR]))?&gt;")
_EMOJI = re.compile(r"&lt;a?:(\w+):\d+&gt;")
_SLASH = re.compile(r"&lt;/([\w -]+):\d+&gt;")


def _relative(seconds: float, locale: str) -> str:
    ahead, size = seconds >= 0, abs(seconds)
    units = [(86400, "day", "天"), (3600, "hour", "小时"), (60, "minute", "分钟"), (1, "second", "秒")]
    count, en, zh = next(((int(size // u), en, zh) for u, en, zh in units if size >= u), (0, "second", "秒"))
    if locale.startswith("zh"):
        return f"{count} {zh}{'后' if ahead else '前'}"
    words = f"{count} {en}{'' if count == 1 else 's'}"
    return f"in {words}" if ahead else f"{words} ago"


def timestamp(unix: int, style: str, names: Names) -> str:
    when = dt.datetime.fromtimestamp(unix, dt.UTC)
    if style == "R":
        shown = _relative(unix - names.now, names.locale)
    else:
        shown = when.strftime({"t": "%H:%M", "T": "%H:%M:%S", "d": "%Y-%m-%d", "D": "%d %B %Y",
                               "F": "%A, %d %B %Y %H:%M"}.get(style, "%d %B %Y %H:%M"))
    return f'<time class="ts" datetime="{when.isoformat()}" title="{when:%Y-%m-%d %H:%M} UTC">{shown}</time>'


def inline(text: str, names: Names) -> str:
    """One escaped line's inline markup (code spans are kept verbatim)."""
    spans: list[str] = []

    def keep(match: re.Match[str]) -> str:
        spans.append(f"<code>{match.group(1)}</code>")
        return f"\x00{len(spans) - 1}\x00"

    out = _CODE_SPAN.sub(keep, text)
    out = _LINK.sub(r'<a href="\2" rel="noreferrer">\1</a>', out)
    for pattern, replacement in _INLINE:
        out = pattern.sub(replacement, out)
    out = _USER.sub(lambda m: _mention("@", names.users.get(int(m.group(1)))), out)
    out = _ROLE.sub(lambda m: _mention("@", names.roles.get(int(m.group(1)))), out)
    out = _CHANNEL.sub(lambda m: _channel(int(m.group(1)), names), out)
    out = _TIME.sub(lambda m: timestamp(int(m.group(1)), m.group(2) or "f", names), out)
    out = _EMOJI.sub(r":\1:", out)
    out = _SLASH.sub(r'<span class="mention">/\1</span>', out)
    return re.sub("\x00(\\d+)\x00", lambda m: spans[int(m.group(1))], out)


def _mention(prefix: str, name: str | None) -> str:
    return f'<span class="mention">{prefix}{html.escape(name or "unknown")}</span>'


def _channel(channel_id: int, names: Names) -> str:
    name = names.channels.get(channel_id)
    if name is None:
        return '<span class="mention"># unknown</span>'
    return f'<a class="mention" href="#c-{channel_id}"># {html.escape(name)}</a>'


def render(text: str, names: Names) -> str:
    """Block markup line by line; consecutive quote or list lines are grouped as Discord shows them."""
    lines = html.escape(text, quote=False).split("\n")
    blocks: list[str] = []
    group: tuple[str, list[str]] | None = None  # ("quote" | "ul" | "ol", lines)

    def flush() -> None:
        nonlocal group
        if group is not None:
            kind, items = group
            if kind == "quote":
                blocks.append("<blockquote>" + "<br>".join(items) + "</blockquote>")
            else:
                blocks.append(f"<{kind}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{kind}>")
            group = None

    def add(kind: str, item: str) -> None:
        nonlocal group
        if group is None or group[0] != kind:
            flush()
            group = (kind, [])
        group[1].append(item)

    rules: list[tuple[re.Pattern[str], Callable[[re.Match[str]], None]]] = [
        (re.compile(r"^&gt;\s?(.*)$"), lambda m: add("quote", inline(m.group(1), names))),
        (re.compile(r"^\s*[-*]\s+(.*)$"), lambda m: add("ul", inline(m.group(1), names))),
        (re.compile(r"^\s*\d+\.\s+(.*)$"), lambda m: add("ol", inline(m.group(1), names))),
    ]
    in_code: list[str] | None = None
    for line in lines:
        if line.startswith("```"):
            if in_code is None:
                flush()
                in_code = []
            else:
                blocks.append("<pre><code>" + "\n".join(in_code) + "</code></pre>")
                in_code = None
            continue
        if in_code is not None:
            in_code.append(line)
            continue
        if line.startswith("-# "):
            flush()
            blocks.append(f'<div class="subtext">{inline(line[3:], names)}</div>')
            continue
        heading = re.match(r"^(#{1,3})\s+(.*)$", line)
        if heading:
            flush()
            level = len(heading.group(1))
            blocks.append(f"<h{level + 2}>{inline(heading.group(2), names)}</h{level + 2}>")
            continue
        for pattern, action in rules:
            match = pattern.match(line)
            if match:
                action(match)
                break
        else:
            flush()
            blocks.append(f"<div>{inline(line, names)}</div>" if line.strip() else '<div class="gap"></div>')
    flush()
    if in_code is not None:
        blocks.append("<pre><code>" + "\n".join(in_code) + "</code></pre>")
    return "".join(blocks)
