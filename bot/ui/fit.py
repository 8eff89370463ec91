"""Member text inside Discord's limits, measured after escaping (escaping can double a text's length).

Discord counts code points (its API is Python: `len`), so we do. A cut never splits a grapheme (an emoji
sequence, a letter and its combining marks) nor an escape backslash from the character it escapes, and
ends with an ellipsis. `quote` is for a member's words inside a message; `clip` is the last guard on a
whole message or text display; `fit_lines` keeps a list whole lines at a time."""

from __future__ import annotations

from collections.abc import Sequence

import discord
import regex

from bot.i18n import t

MESSAGE_LIMIT = 2000  # a message's content
TEXT_DISPLAY_LIMIT = 4000  # one Components V2 text display, and all of a message's together
THREAD_NAME_LIMIT = 100
DESCRIPTION_LIMIT = 1024  # a media gallery item's alt text
ELLIPSIS = "…"
# An escape and what it escapes, else one grapheme: the smallest pieces a cut may separate.
_PIECE = regex.compile(r"\\\X|\X")


def one_line(text: str) -> str:
    return " ".join(text.split())


def cut(text: str, limit: int) -> str:
    """`text` if it fits `limit`, else its longest head of whole pieces, at a space when one falls in the
    second half, plus an ellipsis."""
    if len(text) <= limit:
        return text
    room = max(0, limit - len(ELLIPSIS))
    spaces: list[int] = []  # where a kept space starts
    used = 0
    for piece in _PIECE.finditer(text):
        if piece.end() > room:
            break
        if piece.group() == " ":
            spaces.append(used)
        used = piece.end()
    if text[used:used + 1] != " " and spaces and spaces[-1] > room // 2:  # inside a word: back to its start
        used = spaces[-1]
    return text[:used].rstrip(" ") + ELLIPSIS


def quote(text: str, limit: int, *, markdown: bool = True) -> str:
    """A member's text on one line, markdown escaped (unless `markdown` is False: thread names, alt text),
    then cut to `limit` characters."""
    text = one_line(text)
    return cut(discord.utils.escape_markdown(text) if markdown else text, limit)


def code(text: str, limit: int) -> str:
    """A member's text for an inline code span (`…`), where a backslash escapes nothing: a backtick in it
    would end the span, so it becomes a look-alike."""
    return cut(one_line(text).replace("`", "ˋ"), limit)


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """A whole message (or text display) cut to `limit`, after its last whole line when that keeps most."""
    if len(text) <= limit:
        return text
    head = cut(text, limit)
    newline = head.rfind("\n")
    if newline >= limit * 3 // 4:
        return head[:newline] + "\n" + ELLIPSIS
    return head


def fit_lines(head: Sequence[str], items: Sequence[str], locale: str, limit: int = MESSAGE_LIMIT) -> str:
    """`head` then as many whole `items` as fit, one a line, and "…and n more" for the n left out."""

    def more(count: int) -> str:
        return t("list.more", locale, count=count)

    lines = list(head)
    size = len("\n".join(lines))
    for n, item in enumerate(items):
        left = len(items) - n - 1
        tail = len(more(left)) + 1 if left else 0
        if size + 1 + len(item) + tail > limit:
            lines.append(more(len(items) - n))
            break
        lines.append(item)
        size += 1 + len(item)
    return clip("\n".join(lines), limit)
