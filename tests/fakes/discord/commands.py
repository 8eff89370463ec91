"""Application commands: Discord's validation rules on sync, and the store of synced commands with ids."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from .errors import DiscordAPIError, invalid_form_body

CHAT_INPUT, USER, MESSAGE = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER_OPT, CHANNEL, ROLE, MENTIONABLE = 3, 4, 5, 6, 7, 8, 9
NUMBER, ATTACHMENT = 10, 11
OPTION_TYPES = {
    1: "SUB_COMMAND", 2: "SUB_COMMAND_GROUP", 3: "STRING", 4: "INTEGER", 5: "BOOLEAN",
    6: "USER", 7: "CHANNEL", 8: "ROLE", 9: "MENTIONABLE", 10: "NUMBER", 11: "ATTACHMENT",
}  # fmt: skip
MAX_OPTIONS = 25
MAX_CHOICES = 25

LOCALES = frozenset((
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no", "pl",
    "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th", "zh-CN", "ja",
    "zh-TW", "ko",
))  # fmt: skip


def _chat_input_name_ok(name: Any) -> bool:
    # Discord: ^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$, lower case where the script has case.
    return (
        isinstance(name, str)
        and 1 <= len(name) <= 32
        and all(ch.isalnum() or ch in "-_'" or ch.isalpha() for ch in name)
        and name == name.lower()
    )


def _check_name(value: Any, path: str, *, chat_input: bool) -> None:
    if chat_input:
        if not _chat_input_name_ok(value):
            raise invalid_form_body(
                path, f"Command name {value!r} is invalid (1-32 lower-case letters, digits, - _ ')",
                "APPLICATION_COMMAND_INVALID_NAME",
            )  # fmt: skip
    elif not (isinstance(value, str) and 1 <= len(value) <= 32):
        raise invalid_form_body(path, "Must be between 1 and 32 in length.", "BASE_TYPE_BAD_LENGTH")


def _check_description(value: Any, path: str, *, required: bool) -> None:
    if not required:
        if value not in ("", None):
            raise invalid_form_body(path, "Context menu commands cannot have a description.")
        return
    if not (isinstance(value, str) and 1 <= len(value) <= 100):
        raise invalid_form_body(path, "Must be between 1 and 100 in length.", "BASE_TYPE_BAD_LENGTH")


def _check_localizations(value: Any, path: str, check: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid_form_body(path, "Must be a dictionary of locale -> string.", "DICT_TYPE_CONVERT")
    for locale, text in value.items():
        if locale not in LOCALES:
            raise invalid_form_body(f"{path}.{locale}", f"Invalid locale {locale!r}.", "LOCALE_INVALID")
        check(text, f"{path}.{locale}")


def _check_choice_name(value: Any, path: str) -> None:
    if not (isinstance(value, str) and 1 <= len(value) <= 100):
        raise invalid_form_body(path, "Must be between 1 and 100 in length.", "BASE_TYPE_BAD_LENGTH")


def _check_choices(option: dict[str, Any], path: str) -> None:
    choices = option.get("choices")
    if choices is None:
        return
    otype = option["type"]
    if otype not in (STRING, INTEGER, NUMBER):
        raise invalid_form_body(f"{path}.choices", "Choices are only allowed on string, integer, number.")
    if len(choices) > MAX_CHOICES:
        raise invalid_form_body(f"{path}.choices", "Must be 25 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    if option.get("autocomplete") and choices:
        raise invalid_form_body(f"{path}.autocomplete", "Autocomplete cannot be used with choices.")
    for i, choice in enumerate(choices):
        cpath = f"{path}.choices.{i}"
        _check_choice_name(choice.get("name"), f"{cpath}.name")
        localized = choice.get("name_localizations")
        _check_localizations(localized, f"{cpath}.name_localizations", _check_choice_name)
        value = choice.get("value")
        ok = (
            (otype == STRING and isinstance(value, str) and len(value) <= 100)
            or (otype == INTEGER and isinstance(value, int) and not isinstance(value, bool))
            or (otype == NUMBER and isinstance(value, int | float) and not isinstance(value, bool))
        )
        if not ok:
            raise invalid_form_body(f"{cpath}.value", f"Value {value!r} does not fit option type {otype}.")


def _check_options(options: Any, path: str, depth: int) -> None:
    if options is None:
        return
    if not isinstance(options, list):
        raise invalid_form_body(path, "Must be an array.")
    if len(options) > MAX_OPTIONS:
        raise invalid_form_body(path, "Must be 25 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    seen: set[str] = set()
    optional_seen = False
    for i, option in enumerate(options):
        opath = f"{path}.{i}"
        otype = option.get("type")
        if otype not in OPTION_TYPES:
            raise invalid_form_body(f"{opath}.type", f"Value {otype!r} is not a valid option type.")
        _check_name(option.get("name"), f"{opath}.name", chat_input=True)
        if option["name"] in seen:
            raise invalid_form_body(f"{opath}.name", "Option names must be unique.", "DUPLICATE_NAME")
        seen.add(option["name"])
        _check_description(option.get("description"), f"{opath}.description", required=True)
        _check_localizations(
            option.get("name_localizations"), f"{opath}.name_localizations",
            lambda t, p: _check_name(t, p, chat_input=True),
        )  # fmt: skip
        _check_localizations(
            option.get("description_localizations"), f"{opath}.description_localizations",
            lambda t, p: _check_description(t, p, required=True),
        )  # fmt: skip
        if otype in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if depth >= (2 if otype == SUB_COMMAND else 1):
                raise invalid_form_body(f"{opath}.type", "Sub-commands nest at most group > sub-command.")
            children = option.get("options") or []
            if otype == SUB_COMMAND_GROUP and any(c.get("type") != SUB_COMMAND for c in children):
                raise invalid_form_body(f"{opath}.options", "A group may only contain sub-commands.")
            _check_options(children, f"{opath}.options", depth + 1)
            continue
        if option.get("required"):
            if optional_seen:
                raise invalid_form_body(
                    f"{opath}.required", "Required options must be placed before non-required options."
                )
        else:
            optional_seen = True
        _check_choices(option, opath)
    kinds = {o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in options}
    if len(kinds) > 1:
        raise invalid_form_body(path, "Sub-commands cannot be mixed with plain options.")


def validate_command(command: Any, path: str) -> None:
    if not isinstance(command, dict):
        raise invalid_form_body(path, "Must be an object.")
    ctype = command.get("type", CHAT_INPUT)
    if ctype not in (CHAT_INPUT, USER, MESSAGE):
        raise invalid_form_body(f"{path}.type", f"Value {ctype!r} is not a valid command type.")
    chat = ctype == CHAT_INPUT
    _check_name(command.get("name"), f"{path}.name", chat_input=chat)
    _check_description(command.get("description"), f"{path}.description", required=chat)
    _check_localizations(
        command.get("name_localizations"), f"{path}.name_localizations",
        lambda t, p: _check_name(t, p, chat_input=chat),
    )  # fmt: skip
    _check_localizations(
        command.get("description_localizations"), f"{path}.description_localizations",
        lambda t, p: _check_description(t, p, required=chat),
    )  # fmt: skip
    if not chat and command.get("options"):
        raise invalid_form_body(f"{path}.options", "Context menu commands cannot have options.")
    _check_options(command.get("options"), f"{path}.options", depth=0)


@dataclass
class SyncedCommand:
    id: int
    application_id: int
    guild_id: int | None
    version: int
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def type(self) -> int:
        return int(self.data.get("type", CHAT_INPUT))

    def to_json(self) -> dict[str, Any]:
        body = {
            "default_member_permissions": None,
            "nsfw": False,
            "options": [],
            "description": "",
            **self.data,
            "id": str(self.id),
            "application_id": str(self.application_id),
            "version": str(self.version),
            "type": self.type,
        }
        if self.guild_id is not None:
            body["guild_id"] = str(self.guild_id)
        return body


class CommandStore:
    """Commands per scope (None = global, else a guild id), keyed by (type, name) like Discord keys them."""

    def __init__(self, application_id: int, new_id: Any) -> None:
        self._application_id = application_id
        self._new_id = new_id
        self._scopes: dict[int | None, dict[tuple[int, str], SyncedCommand]] = {}
        self.sync_count = 0

    def overwrite(self, guild_id: int | None, commands: Any) -> builtins.list[SyncedCommand]:
        if not isinstance(commands, list):
            raise invalid_form_body("", "Must be an array of commands.")
        for i, command in enumerate(commands):
            validate_command(command, str(i))
        keys = [(c.get("type", CHAT_INPUT), c["name"]) for c in commands]
        if len(set(keys)) != len(keys):
            raise DiscordAPIError(400, 50035, "Invalid Form Body: application command names must be unique")
        old = self._scopes.get(guild_id, {})
        new: dict[tuple[int, str], SyncedCommand] = {}
        for key, command in zip(keys, commands, strict=True):
            previous = old.get(key)
            # Discord keeps a command's id across overwrites as long as its type and name stay the same.
            new[key] = SyncedCommand(
                id=previous.id if previous else self._new_id(),
                application_id=self._application_id,
                guild_id=guild_id,
                version=self._new_id(),
                data=dict(command),
            )
        self._scopes[guild_id] = new
        self.sync_count += 1
        return list(new.values())

    def upsert(self, guild_id: int | None, command: Any) -> SyncedCommand:
        validate_command(command, "")
        scope = dict(self._scopes.get(guild_id, {}))
        key = (command.get("type", CHAT_INPUT), command["name"])
        previous = scope.get(key)
        synced = SyncedCommand(
            previous.id if previous else self._new_id(), self._application_id, guild_id, self._new_id(),
            dict(command),
        )  # fmt: skip
        scope[key] = synced
        self._scopes[guild_id] = scope
        return synced

    def delete(self, guild_id: int | None, command_id: int) -> None:
        scope = self._scopes.get(guild_id, {})
        for key, command in list(scope.items()):
            if command.id == command_id:
                del scope[key]
                return
        raise DiscordAPIError(404, 10063, "Unknown application command")

    def list(self, guild_id: int | None) -> builtins.list[SyncedCommand]:
        return list(self._scopes.get(guild_id, {}).values())

    def find(self, guild_id: int, name: str, command_type: int) -> SyncedCommand | None:
        """What a member in ``guild_id`` can invoke: the guild's command first, else the global one."""
        for scope in (guild_id, None):
            command = self._scopes.get(scope, {}).get((command_type, name))
            if command is not None:
                return command
        return None

    def names(self, guild_id: int) -> builtins.list[str]:
        return sorted({c.name for scope in (guild_id, None) for c in self._scopes.get(scope, {}).values()})
