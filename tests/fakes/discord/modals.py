"""Discord's limits on a modal (interaction callback type 9), as 400 50035 naming the field: title 1-45,
custom_id 1-100, 1-5 top-level components; a label's text 1-45 and description 1-100; a text input's label
1-45, placeholder and value within 100 and 4000 (value within its max_length); a select's placeholder 150,
1-25 options of label and value 1-100 and description 100; a text display 1-4000. Checked on the fake's own
(without the OpenAPI document beside the checkout, nothing else would)."""

from __future__ import annotations

from typing import Any

from .components_v2 import TEXT_DISPLAY, TEXT_INPUT, _bad_length, _kind, check_select_options
from .errors import invalid_form_body

LABEL = 18
MAX_TITLE, MAX_LABEL, MAX_DESCRIPTION, MAX_PLACEHOLDER, MAX_VALUE, MAX_TOP = 45, 45, 100, 100, 4000, 5
MAX_SELECT_PLACEHOLDER = 150


def check_modal(data: Any) -> None:
    if not isinstance(data, dict):
        raise invalid_form_body("data", "Must be an object.", "MODEL_TYPE_CONVERT")
    _text(data, "custom_id", "data", 1, 100, required=True)
    _text(data, "title", "data", 1, MAX_TITLE, required=True)
    top = data.get("components")
    if not isinstance(top, list) or not 1 <= len(top) <= MAX_TOP:
        raise _bad_length("data.components", 1, MAX_TOP)
    for i, component in enumerate(top):
        path = f"data.components.{i}"
        kind = _kind(component, path)
        if kind == LABEL:
            _text(component, "label", path, 1, MAX_LABEL, required=True)
            _text(component, "description", path, 1, MAX_DESCRIPTION)
            _input(component.get("component"), f"{path}.component")
        elif kind == 1:  # an action row of one text input (before labels)
            for j, child in enumerate(component.get("components") or []):
                _input(child, f"{path}.components.{j}")
        elif kind == TEXT_DISPLAY:
            _text(component, "content", path, 1, MAX_VALUE, required=True)


def _input(component: Any, path: str) -> None:
    kind = _kind(component, path)
    if kind == TEXT_INPUT:
        _text(component, "label", path, 1, MAX_LABEL)
        _text(component, "placeholder", path, 0, MAX_PLACEHOLDER)
        high = component.get("max_length") or MAX_VALUE
        _text(component, "value", path, 0, min(MAX_VALUE, high))
    elif "options" in component or kind == 3:
        _text(component, "placeholder", path, 0, MAX_SELECT_PLACEHOLDER)
        check_select_options(component, path)


def _text(c: dict[str, Any], key: str, path: str, low: int, high: int, *, required: bool = False) -> None:
    value = c.get(key)
    if value is None:
        if required:
            raise invalid_form_body(f"{path}.{key}", "This field is required", "BASE_TYPE_REQUIRED")
        return
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise _bad_length(f"{path}.{key}", low, high)
