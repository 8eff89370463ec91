"""One rule for a whole number typed as text: a form's field, a command's text option, an environment variable.

str.isdigit is not that rule: it also passes digits int() refuses (superscript `²`, Ethiopic `፩`...), and a
check that passed them let int() crash the request with an error id instead of a message naming the field.
str.isdecimal() passes exactly the characters int() reads as digits (Unicode category Nd, in any script).
"""

from __future__ import annotations


def whole_number(text: str) -> int | None:
    """`text` as a whole number when it is nothing but decimal digits, in any script (Arabic-Indic `٣` is 3,
    full-width `５` is 5); None for anything else: empty, a sign, a space, `²`, `½`, `五`. The caller says
    which field was wrong, in the reader's language."""
    if not text.isdecimal():
        return None
    try:
        return int(text)
    except ValueError:  # more digits than int() reads from text (sys.get_int_max_str_digits, 4300)
        return None
