"""Check request bodies against Discord's own OpenAPI 3.1 description, when the file is present.

Validators are built on first use per operation and cached, so starting the fake stays fast.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOCUMENT_URI = "urn:discord-openapi"


@dataclass(frozen=True)
class Violation:
    method: str
    path: str
    error: str
    body: Any

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.error}"


# Limits (too many files, too long a text) are Discord's runtime rules that user input can trip in a correct
# bot; everything else (wrong types, unknown shapes) is a bug in the request the bot builds.
LIMIT_KEYWORDS = frozenset(
    {"maxItems", "minItems", "maxLength", "minLength", "maximum", "minimum", "maxProperties", "uniqueItems"}
)


@dataclass(frozen=True)
class SchemaError:
    path: str
    message: str
    is_limit: bool

    def __str__(self) -> str:
        return f"{self.path or 'body'}: {self.message}"


def find_openapi_document() -> Path | None:
    """$DISCORD_OPENAPI_PATH, else ``shared/discord-openapi.json`` beside the checkout."""
    configured = os.environ.get("DISCORD_OPENAPI_PATH")
    if configured:
        path = Path(configured)
        return path if path.is_file() else None
    checkout = Path(__file__).resolve().parents[3]
    candidate = checkout.parent / "shared" / "discord-openapi.json"
    return candidate if candidate.is_file() else None


def _escape_pointer(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


class OpenAPIChecker:
    def __init__(self, document_path: Path | None) -> None:
        self.document_path = document_path
        self._document: dict[str, Any] | None = None
        self._registry: Any = None
        self._validators: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.document_path is not None

    def _load(self) -> None:
        import referencing
        from referencing.jsonschema import DRAFT202012

        assert self.document_path is not None
        document = json.loads(self.document_path.read_text(encoding="utf-8"))
        schemas = document["components"]["schemas"]
        # Discord accepts snowflakes as JSON integers as well as strings, and discord.py sends integers
        # (attachment ids, allowed_mentions users/roles, message_reference ids): accept both.
        original = copy.deepcopy(schemas["SnowflakeType"])
        original.pop("format", None)
        schemas["SnowflakeType"] = {"oneOf": [original, {"type": "integer", "minimum": 0}]}
        # The published spec predates media channels (type 16), which Discord accepts in channel_types and
        # which discord.py includes for a ForumChannel option.
        channel_types = schemas.get("ChannelTypes", {}).get("oneOf")
        if isinstance(channel_types, list) and not any(t.get("const") == 16 for t in channel_types):
            channel_types.append({"title": "GUILD_MEDIA", "const": 16})
        resource = referencing.Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry = referencing.Registry().with_resource(DOCUMENT_URI, resource)
        self._document = document

    def _validator(self, method: str, spec_path: str) -> Any:
        key = (method, spec_path)
        with self._lock:
            if key in self._validators:
                return self._validators[key]
            if self._document is None:
                self._load()
            assert self._document is not None
            import jsonschema  # type: ignore[import-untyped]

            validator = None
            operation = self._document["paths"].get(spec_path, {}).get(method.lower(), {})
            content = operation.get("requestBody", {}).get("content", {})
            media = "application/json" if "application/json" in content else next(iter(content), None)
            if media is not None:
                pointer = "/".join(
                    _escape_pointer(s)
                    for s in ("paths", spec_path, method.lower(), "requestBody", "content", media, "schema")
                )
                schema = {"$ref": f"{DOCUMENT_URI}#/{pointer}"}
                validator = jsonschema.Draft202012Validator(schema, registry=self._registry)
            self._validators[key] = validator
            return validator

    async def check_async(self, method: str, spec_path: str, body: Any) -> SchemaError | None:
        """As ``check``; the first use of an operation (reading 1 MB of JSON, building the validator) runs
        in a thread so the event loop keeps serving."""
        if not self.enabled:
            return None
        if (method, spec_path) not in self._validators:
            return await asyncio.to_thread(self.check, method, spec_path, body)
        return self.check(method, spec_path, body)

    def check(self, method: str, spec_path: str, body: Any) -> SchemaError | None:
        """The most relevant schema error for this body, or None when it conforms (or no schema applies)."""
        if not self.enabled:
            return None
        validator = self._validator(method, spec_path)
        if validator is None:
            return None
        import jsonschema

        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
        if error is None:
            return None
        error = _explain_union(error)
        return SchemaError(
            path=".".join(str(p) for p in error.absolute_path),
            message=error.message[:500],
            is_limit=error.validator in LIMIT_KEYWORDS,
        )


def _explain_union(error: Any) -> Any:
    """For a failed anyOf/oneOf (Discord's unions keyed by ``type``), report the error inside the branch
    whose ``type`` matched rather than "not valid under any of the given schemas"."""
    import jsonschema

    while error.context:
        branches: dict[Any, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        plausible = [errs for errs in branches.values() if not any(list(e.relative_path) == ["type"] for e in errs)]
        if len(plausible) != 1:
            break
        error = jsonschema.exceptions.best_match(plausible[0])
    return error
