"""Discord's rules on a message's components (Components V2 layouts and V1 action rows), checked by
``check_message_state``; and the V2 JSON Discord sends back (``attachment://`` media resolved, ids filled).

Error paths follow Discord's form errors: ``components.0.components.2.type``, ``components.1.items.0.media.url``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from .errors import invalid_form_body
from .models import ATTACHMENT_SCHEME, StoredAttachment, media_items, walk_components

ACTION_ROW, BUTTON, TEXT_INPUT, SECTION, TEXT_DISPLAY, THUMBNAIL = 1, 2, 4, 9, 10, 11
MEDIA_GALLERY, FILE, SEPARATOR, CONTAINER = 12, 13, 14, 17
SELECTS = (3, 5, 6, 7, 8)
LINK, PREMIUM = 5, 6
TOP_LEVEL_V2 = (ACTION_ROW, SECTION, TEXT_DISPLAY, MEDIA_GALLERY, FILE, SEPARATOR, CONTAINER)
IN_CONTAINER = (ACTION_ROW, SECTION, TEXT_DISPLAY, MEDIA_GALLERY, FILE, SEPARATOR)
IN_ROW = (BUTTON, *SELECTS)
MAX_TEXT = 4000  # one text display, and all of a message's text displays together
MAX_LABEL, MAX_CUSTOM_ID, MAX_DESCRIPTION, MAX_GALLERY_ITEMS, MAX_SECTION_TEXTS = 80, 100, 1024, 10, 3
MAX_ID = 2**31 - 1
STRING_SELECT, MAX_OPTIONS, MAX_OPTION_TEXT = 3, 25, 100

# filename -> content type (None when unknown) of the attachments a message will hold after the request.
Attachments = Mapping[str, str | None]


def check_components(components: Any, *, v2: bool, attachments: Attachments) -> None:
    """Raise Discord's 400 50035 for the first rule ``components`` break (shape, nesting, limits, references)."""
    if not isinstance(components, list):
        raise invalid_form_body("components", "Must be an array.", "BASE_TYPE_ARRAY")
    _Checker(attachments).top_level(components, v2=v2)


class _Checker:
    def __init__(self, attachments: Attachments) -> None:
        self.attachments = attachments
        self.custom_ids: set[str] = set()
        self.ids: set[int] = set()
        self.text_length = 0

    def top_level(self, components: list[Any], *, v2: bool) -> None:
        allowed = TOP_LEVEL_V2 if v2 else (ACTION_ROW,)
        for i, component in enumerate(components):
            kind = _kind(component, f"components.{i}")
            if kind not in allowed:
                if not v2 and kind in TOP_LEVEL_V2:
                    raise invalid_form_body(
                        f"components.{i}.type", f"Component type {kind} needs MessageFlags.IS_COMPONENTS_V2.",
                        "UNION_TYPE_CHOICES",
                    )  # fmt: skip
                raise _bad_type(f"components.{i}.type", allowed)
        if not v2 and len(components) > 5:
            raise invalid_form_body("components", "Must be 5 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
        for i, component in enumerate(components):
            self.component(component, f"components.{i}")
        if self.text_length > MAX_TEXT:
            raise invalid_form_body(
                "components", f"The text displays of a message must hold {MAX_TEXT} or fewer characters in "
                f"total; got {self.text_length}.", "BASE_TYPE_MAX_LENGTH",
            )  # fmt: skip

    def component(self, c: dict[str, Any], path: str) -> None:
        """``c`` is a dict whose type was checked for its place by the caller."""
        self.own_id(c, path)
        check: Callable[[dict[str, Any], str], None] = {
            ACTION_ROW: self.action_row, BUTTON: self.button, SECTION: self.section,
            TEXT_DISPLAY: self.text_display, THUMBNAIL: self.thumbnail, MEDIA_GALLERY: self.gallery,
            FILE: self.file, SEPARATOR: self.separator, CONTAINER: self.container,
        }.get(c["type"], self.select)  # fmt: skip
        check(c, path)

    def children(self, c: dict[str, Any], path: str, allowed: tuple[int, ...], low: int, high: int | None) -> None:
        children = c.get("components")
        if not isinstance(children, list):
            raise _required(f"{path}.components") if children is None else _not_array(f"{path}.components")
        if len(children) < low or (high is not None and len(children) > high):
            raise _bad_length(f"{path}.components", low, high)
        for i, child in enumerate(children):
            if _kind(child, f"{path}.components.{i}") not in allowed:
                raise _bad_type(f"{path}.components.{i}.type", allowed)
        for i, child in enumerate(children):
            self.component(child, f"{path}.components.{i}")

    def own_id(self, c: dict[str, Any], path: str) -> None:
        if c.get("id") is None:
            return
        value = c["id"]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
            raise invalid_form_body(f"{path}.id", f"Must be an integer from 0 to {MAX_ID}.", "NUMBER_TYPE_COERCE")
        if value in self.ids:
            raise invalid_form_body(f"{path}.id", "Component id cannot be duplicated.", "COMPONENT_ID_DUPLICATED")
        if value:  # 0 means "unset": Discord then picks one
            self.ids.add(value)

    # --- layout ---------------------------------------------------------------------------------------

    def action_row(self, c: dict[str, Any], path: str) -> None:
        self.children(c, path, IN_ROW, 1, 5)
        kinds = [child["type"] for child in c["components"]]
        if any(k in SELECTS for k in kinds) and len(kinds) > 1:
            raise invalid_form_body(
                f"{path}.components.1", "The specified component exceeds the maximum width",
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
            )  # fmt: skip

    def container(self, c: dict[str, Any], path: str) -> None:
        color = c.get("accent_color")
        if color is not None and (not isinstance(color, int) or isinstance(color, bool) or not 0 <= color <= 0xFFFFFF):
            raise invalid_form_body(
                f"{path}.accent_color", "Must be an integer from 0 to 16777215 (0xFFFFFF).", "NUMBER_TYPE_MAX"
            )
        _optional_bool(c, "spoiler", path)
        self.children(c, path, IN_CONTAINER, 1, None)

    def section(self, c: dict[str, Any], path: str) -> None:
        self.children(c, path, (TEXT_DISPLAY,), 1, MAX_SECTION_TEXTS)
        accessory = c.get("accessory")
        if accessory is None:
            raise _required(f"{path}.accessory")
        if _kind(accessory, f"{path}.accessory") not in (THUMBNAIL, BUTTON):
            raise _bad_type(f"{path}.accessory.type", (THUMBNAIL, BUTTON))
        self.component(accessory, f"{path}.accessory")

    def separator(self, c: dict[str, Any], path: str) -> None:
        if c.get("spacing") is not None and (isinstance(c["spacing"], bool) or c["spacing"] not in (1, 2)):
            raise invalid_form_body(f"{path}.spacing", "Value must be one of (1, 2).", "BASE_TYPE_CHOICES")
        _optional_bool(c, "divider", path)

    # --- content --------------------------------------------------------------------------------------

    def text_display(self, c: dict[str, Any], path: str) -> None:
        content = c.get("content")
        if not isinstance(content, str):
            raise _required(f"{path}.content") if content is None else _not_string(f"{path}.content")
        if not 1 <= len(content) <= MAX_TEXT:
            raise _bad_length(f"{path}.content", 1, MAX_TEXT)
        self.text_length += len(content)

    def thumbnail(self, c: dict[str, Any], path: str) -> None:
        self.media(c.get("media"), f"{path}.media", kinds=("image/",))
        _optional_text(c, "description", path, MAX_DESCRIPTION)
        _optional_bool(c, "spoiler", path)

    def gallery(self, c: dict[str, Any], path: str) -> None:
        items = c.get("items")
        if not isinstance(items, list):
            raise _required(f"{path}.items") if items is None else _not_array(f"{path}.items")
        if not 1 <= len(items) <= MAX_GALLERY_ITEMS:
            raise _bad_length(f"{path}.items", 1, MAX_GALLERY_ITEMS)
        for i, item in enumerate(items):
            where = f"{path}.items.{i}"
            if not isinstance(item, dict):
                raise invalid_form_body(where, "Must be an object.", "MODEL_TYPE_CONVERT")
            self.media(item.get("media"), f"{where}.media", kinds=("image/", "video/"))
            _optional_text(item, "description", where, MAX_DESCRIPTION)
            _optional_bool(item, "spoiler", where)

    def file(self, c: dict[str, Any], path: str) -> None:
        media = c.get("file")
        url = media.get("url") if isinstance(media, dict) else None
        if isinstance(url, str) and url and not url.startswith(ATTACHMENT_SCHEME):
            raise invalid_form_body(
                f"{path}.file.url", "A file component only shows an attachment: use attachment://<filename>.",
                "UNFURLED_MEDIA_ITEM_ATTACHMENT_URL_REQUIRED",
            )  # fmt: skip
        self.media(media, f"{path}.file", kinds=None)
        _optional_bool(c, "spoiler", path)

    def media(self, media: Any, path: str, *, kinds: tuple[str, ...] | None) -> None:
        """An unfurled media item: http(s) url, or attachment://name of one of the message's attachments
        whose content type starts with one of ``kinds`` (None: any type)."""
        if not isinstance(media, dict):
            raise _required(path) if media is None else invalid_form_body(path, "Must be an object.")
        url = media.get("url")
        if not isinstance(url, str) or not url:
            raise _required(f"{path}.url") if url is None else _not_string(f"{path}.url")
        if url.startswith(("https://", "http://")):
            return
        if not url.startswith(ATTACHMENT_SCHEME):
            raise invalid_form_body(
                f"{path}.url", "Scheme must be one of ('http', 'https', 'attachment').", "URL_TYPE_INVALID_SCHEME"
            )
        name = url[len(ATTACHMENT_SCHEME) :]
        if name not in self.attachments:
            raise invalid_form_body(
                f"{path}.url", f"No attachment named {name!r} in this message.",
                "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND",
            )  # fmt: skip
        content_type = self.attachments[name] or ""
        if kinds is not None and not content_type.startswith(kinds):
            wanted = " or ".join(k.rstrip("/") for k in kinds)
            raise invalid_form_body(
                f"{path}.url", f"The attachment {name!r} ({content_type or 'unknown type'}) must be an {wanted}.",
                "UNFURLED_MEDIA_ITEM_INVALID_CONTENT_TYPE",
            )  # fmt: skip

    # --- interactive ----------------------------------------------------------------------------------

    def button(self, c: dict[str, Any], path: str) -> None:
        style = c.get("style")
        if isinstance(style, bool) or style not in range(1, 7):
            raise invalid_form_body(f"{path}.style", "Value must be one of (1, 2, 3, 4, 5, 6).", "BASE_TYPE_CHOICES")
        _optional_text(c, "label", path, MAX_LABEL)
        if style == LINK:
            if not isinstance(c.get("url"), str) or not c["url"]:
                raise _required(f"{path}.url")
            if c.get("custom_id") is not None:
                raise invalid_form_body(
                    f"{path}.custom_id", "A link button cannot have a custom id.", "BUTTON_CANNOT_HAVE_CUSTOM_ID"
                )
        elif style == PREMIUM:
            if c.get("sku_id") is None:
                raise _required(f"{path}.sku_id")
            if c.get("custom_id") is not None:
                raise invalid_form_body(
                    f"{path}.custom_id", "A premium button cannot have a custom id.", "BUTTON_CANNOT_HAVE_CUSTOM_ID"
                )
        else:
            if c.get("url") is not None:
                raise invalid_form_body(f"{path}.url", "Only link buttons have a url.", "BUTTON_CANNOT_HAVE_URL")
            self.custom_id(c, path)

    def select(self, c: dict[str, Any], path: str) -> None:
        self.custom_id(c, path)
        check_select_options(c, path)

    def custom_id(self, c: dict[str, Any], path: str) -> None:
        value = c.get("custom_id")
        if not isinstance(value, str):
            raise _required(f"{path}.custom_id") if value is None else _not_string(f"{path}.custom_id")
        if not 1 <= len(value) <= MAX_CUSTOM_ID:
            raise _bad_length(f"{path}.custom_id", 1, MAX_CUSTOM_ID)
        if value in self.custom_ids:
            raise invalid_form_body(
                f"{path}.custom_id", "Component custom id cannot be duplicated", "COMPONENT_CUSTOM_ID_DUPLICATED"
            )
        self.custom_ids.add(value)


def check_select_options(c: dict[str, Any], path: str) -> None:
    """A string select's options: 1-25, each label and value 1-100 characters, description at most 100."""
    if c.get("type") != STRING_SELECT:
        return
    options = c.get("options")
    if not isinstance(options, list) or not 1 <= len(options) <= MAX_OPTIONS:
        raise _bad_length(f"{path}.options", 1, MAX_OPTIONS)
    for i, option in enumerate(options):
        where = f"{path}.options.{i}"
        for key in ("label", "value"):
            value = option.get(key) if isinstance(option, dict) else None
            if not isinstance(value, str) or not 1 <= len(value) <= MAX_OPTION_TEXT:
                raise _bad_length(f"{where}.{key}", 1, MAX_OPTION_TEXT)
        _optional_text(option, "description", where, MAX_OPTION_TEXT)


def _kind(component: Any, path: str) -> Any:
    if not isinstance(component, dict):
        raise invalid_form_body(path, "Must be an object.", "MODEL_TYPE_CONVERT")
    if component.get("type") is None:
        raise _required(f"{path}.type")
    kind = component["type"]
    return None if isinstance(kind, bool) else kind  # true == 1 in Python, not in Discord


def _bad_type(path: str, allowed: tuple[int, ...]) -> Exception:
    choices = ", ".join(str(k) for k in allowed)
    return invalid_form_body(path, f'Value of field "type" must be one of ({choices}).', "UNION_TYPE_CHOICES")


def _required(path: str) -> Exception:
    return invalid_form_body(path, "This field is required", "BASE_TYPE_REQUIRED")


def _not_string(path: str) -> Exception:
    return invalid_form_body(path, "Could not interpret the value as string.", "BASE_TYPE_STRING")


def _not_array(path: str) -> Exception:
    return invalid_form_body(path, "Must be an array.", "BASE_TYPE_ARRAY")


def _bad_length(path: str, low: int, high: int | None) -> Exception:
    if high is None:
        return invalid_form_body(path, f"Must be {low} or more in length.", "BASE_TYPE_MIN_LENGTH")
    return invalid_form_body(path, f"Must be between {low} and {high} in length.", "BASE_TYPE_BAD_LENGTH")


def _optional_bool(c: dict[str, Any], key: str, path: str) -> None:
    if c.get(key) is not None and not isinstance(c[key], bool):
        raise invalid_form_body(f"{path}.{key}", "Must be either true or false.", "BASE_TYPE_BOOLEAN")


def _optional_text(c: dict[str, Any], key: str, path: str, high: int) -> None:
    value = c.get(key)
    if value is None:
        return
    if not isinstance(value, str):
        raise _not_string(f"{path}.{key}")
    if len(value) > high:
        raise invalid_form_body(f"{path}.{key}", f"Must be {high} or fewer in length.", "BASE_TYPE_MAX_LENGTH")


# --- what Discord sends back ---------------------------------------------------------------------------


def resolved_components(
    components: list[dict[str, Any]],
    find: Callable[[str], StoredAttachment | None],
    url: Callable[[StoredAttachment], str],
) -> list[dict[str, Any]]:
    """A V2 message's components as Discord returns them: a copy where every ``attachment://name`` media
    item names its attachment (``find(name)``) by CDN ``url(attachment)``, proxy_url, size, content type and
    attachment_id, file components carry their ``name`` and ``size``, and every component has an ``id``
    (numbered in reading order, skipping the ids the sender chose)."""
    out = copy.deepcopy(components)
    flat = walk_components(out)
    taken = {c["id"] for c in flat if isinstance(c.get("id"), int) and c["id"]}
    next_id = 1
    for c in flat:
        if not c.get("id"):
            while next_id in taken:
                next_id += 1
            c["id"] = next_id
            taken.add(next_id)
    for c, media in media_items(out):
        link = str(media.get("url"))
        attachment = find(link[len(ATTACHMENT_SCHEME) :]) if link.startswith(ATTACHMENT_SCHEME) else None
        if attachment is None:
            continue
        signed = url(attachment)
        media.update(
            url=signed, proxy_url=signed, width=attachment.width, height=attachment.height,
            content_type=attachment.content_type, attachment_id=str(attachment.id), flags=0,
        )  # fmt: skip
        if c.get("type") == FILE:
            c.update(name=attachment.filename, size=attachment.size)
    return out
