"""Text the provider sends, made safe to store and to show.

Nothing the provider returns is trusted: a reason or message may hold NUL (PostgreSQL text cannot store it,
so every write of a poll's result failed and the job wedged), lone surrogates (no database can encode them),
other control or invisible characters, or run to a megabyte. Every provider string the bot keeps goes
through here first, so both stores keep the same readable text.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
# Format characters a reader cannot see but that change what a text shows (bidirectional overrides, zero-width
# joiners): dropped, like the control characters.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def clean_text(value: object, limit: int) -> str:
    """`value` as one readable line of at most `limit` characters: "" for anything that is not text; line breaks,
    tabs and runs of whitespace become one space; control, format, surrogate, private-use and unassigned
    characters are dropped; a longer text is cut, ending in an ellipsis."""
    if not isinstance(value, str) or limit < 1:
        return ""
    # Cut a generous prefix first: a megabyte of junk is not walked character by character.
    kept = (" " if ch.isspace() else ch for ch in value[: limit * 4])
    text = " ".join("".join(ch for ch in kept if ch == " " or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
                    .split())
    if len(text) > limit or len(value) > limit * 4:  # (the second: more followed what was read)
        text = text[: limit - 1].rstrip() + ELLIPSIS
    return text


def is_usable_id(value: object, limit: int) -> bool:
    """Whether `value` is an id the bot can store and send back: 1 to `limit` printable characters, no spaces."""
    return (isinstance(value, str) and 0 < len(value) <= limit and value.isprintable()
            and not any(ch.isspace() for ch in value))
