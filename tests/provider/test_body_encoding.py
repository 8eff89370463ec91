"""The submit body is byte-for-byte what json.dumps gives, however it is built."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest

from bot.provider.body import encode_json

URI = "data:image/png;base64," + base64.b64encode(os.urandom(100_000)).decode()


@pytest.mark.parametrize(
    "body",
    [
        {"start_image": URI, "image_settings": [{"key_image": URI, "prompt": '猫 "q" \\ \x01', "duration": 5}],
         "meta_data": '{"a":1}'},
        {"images": [URI], "prompt": "a NUL \x00 typed by someone", "duration": 5},
        {"images": ["https://example.com/a.png"], "prompt": "small", "seed": 7},
        {"images": ["data:image/png;base64,AAAA"], "prompt": "a small data URI stays in the JSON"},
    ],
    ids=["spliced", "nul-fallback", "no-uri", "small-uri"],
)
def test_spliced_body_equals_plain_json(body: dict[str, Any]) -> None:
    plain = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert encode_json(body) == plain
    assert json.loads(encode_json(body)) == body
