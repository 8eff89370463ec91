"""The data-URI check (now done in pieces) accepts and refuses exactly what the plain pattern did."""

from __future__ import annotations

import base64
import os
import re

import pytest

from bot.provider.models import _is_base64_data_uri

PLAIN = re.compile(r"data:image/(png|jpeg|webp);base64,[A-Za-z0-9+/]+={0,2}", re.ASCII)
BIG = base64.b64encode(os.urandom(700_000)).decode()


@pytest.mark.parametrize(
    "value",
    [
        "data:image/png;base64,AAAA", "data:image/jpeg;base64,AAA=", "data:image/webp;base64,AA==",
        "data:image/png;base64,A===", "data:image/png;base64,", "data:image/gif;base64,AAAA",
        "data:image/png;base64,AA AA", "data:image/png;base64,AAé", "data:image/png,AAAA",
        "data:image/png;base64,====", f"data:image/png;base64,{BIG}",
        f"data:image/png;base64,{BIG[:400_000]}!{BIG[400_000:]}", f"data:image/png;base64,{BIG}\n",
    ],
)
def test_same_verdict_as_the_plain_pattern(value: str) -> None:
    assert _is_base64_data_uri(value) == bool(PLAIN.fullmatch(value))
