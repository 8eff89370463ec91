"""Message rules Discord enforces, building SentMessage from a request, and the message JSON it returns."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .bodies import UploadedFile, image_size
from .components_v2 import Attachments, check_components, resolved_components
from .errors import REQUEST_TOO_LARGE, DiscordAPIError, invalid_form_body
from .models import (
    EPHEMERAL,
    IS_COMPONENTS_V2,
    IS_SPOILER,
    LOADING,
    MessageRevision,
    SentMessage,
    StoredAttachment,
    component_texts,
    iso,
    walk_components,
)

if TYPE_CHECKING:
    from .fake import FakeDiscord

MAX_CONTENT = 2000
MAX_FILES = 10
MAX_EMBEDS = 10
MAX_COMPONENTS_V2 = 40
USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
# Flags a sender may set; others (LOADING, crossposted, ...) are Discord's to set.
SETTABLE_FLAGS = (1 << 2) | EPHEMERAL | (1 << 12) | IS_COMPONENTS_V2


def check_files(files: list[UploadedFile], kept: int, upload_limit: int) -> None:
    if len(files) + kept > MAX_FILES:
        raise invalid_form_body("attachments", "Must be 10 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    for f in files:
        if len(f.content) > upload_limit:
            raise DiscordAPIError(413, REQUEST_TOO_LARGE, "Request entity too large")


def check_message_state(
    content: str, embeds: list[Any], components: list[Any], flags: int, attachments: Attachments | None = None
) -> None:
    """The rules on what a message may hold, checked on create and on the result of every edit.
    ``attachments``: filename -> content type of the files the message holds after the request (kept
    ones and new uploads), which V2 components may show by ``attachment://filename``."""
    if len(content) > MAX_CONTENT:
        raise invalid_form_body("content", "Must be 2000 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    if len(embeds) > MAX_EMBEDS:
        raise invalid_form_body("embeds", "Must be 10 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    if flags & IS_COMPONENTS_V2:
        if content:
            raise invalid_form_body(
                "content", "The 'content' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            )  # fmt: skip
        if embeds:
            raise invalid_form_body(
                "embeds", "The 'embeds' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            )  # fmt: skip
        check_components(components, v2=True, attachments=attachments or {})
        total = len(walk_components(components))
        if total > MAX_COMPONENTS_V2:
            raise invalid_form_body(
                "components", f"Must be {MAX_COMPONENTS_V2} or fewer in total; got {total}.",
                "BASE_TYPE_MAX_LENGTH",
            )  # fmt: skip
    else:  # action rows only (at most 5), with the same row and button rules
        check_components(components, v2=False, attachments=attachments or {})


def resolve_mentions(
    fake: FakeDiscord, guild_id: int, content: str, allowed: dict[str, Any] | None
) -> tuple[list[int], list[int], bool]:
    guild = fake.guilds[guild_id]
    parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
    allowed_users = {int(u) for u in (allowed or {}).get("users") or []}
    allowed_roles = {int(r) for r in (allowed or {}).get("roles") or []}
    users = []
    for raw in USER_MENTION.findall(content):
        uid = int(raw)
        if uid in guild.members and ("users" in parse or uid in allowed_users) and uid not in users:
            users.append(uid)
    roles = []
    for raw in ROLE_MENTION.findall(content):
        rid = int(raw)
        if rid in guild.roles and ("roles" in parse or rid in allowed_roles) and rid not in roles:
            roles.append(rid)
    everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
    return users, roles, everyone


def _described(payload: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """payload.attachments entries by id (a file index for new uploads, an attachment id for kept ones)."""
    described = {}
    for i, entry in enumerate(payload.get("attachments") or []):
        try:
            described[int(entry["id"])] = entry
        except (KeyError, TypeError, ValueError):
            raise invalid_form_body(f"attachments.{i}.id", "Must be a file index or attachment id.") from None
    return described


def _upload_name(f: UploadedFile, described: dict[int, dict[str, Any]]) -> str:
    return str(described.get(f.index, {}).get("filename") or f.filename)


def _attachment_types(payload: dict[str, Any], files: list[UploadedFile], kept: list[StoredAttachment]) -> Attachments:
    """filename -> content type of what the message will hold: kept attachments, then the new uploads."""
    described = _described(payload)
    types = {a.filename: a.content_type for a in kept}
    for f in sorted(files, key=lambda f: f.index):
        types.setdefault(_upload_name(f, described), f.content_type)
    return types


async def _store_files(
    fake: FakeDiscord, channel_id: int, payload: dict[str, Any], files: list[UploadedFile]
) -> list[StoredAttachment]:
    """New attachments from the uploaded files, named/described by payload.attachments entries (id = n)."""
    described = _described(payload)
    stored = []
    for f in sorted(files, key=lambda f: f.index):
        entry = described.get(f.index, {})
        filename = _upload_name(f, described)
        size = await image_size(f.content, f.content_type)
        attachment = StoredAttachment(
            id=fake.new_id(), channel_id=channel_id, filename=filename, content=f.content,
            content_type=f.content_type, description=entry.get("description"),
            width=size[0] if size else None, height=size[1] if size else None,
        )  # fmt: skip
        fake.cdn.store(attachment)
        stored.append(attachment)
    return stored


async def build_message(
    fake: FakeDiscord,
    *,
    channel_id: int,
    author_id: int,
    payload: dict[str, Any],
    files: list[UploadedFile],
    upload_limit: int,
    msg_type: int = 0,
    webhook_id: int | None = None,
    interaction_id: int | None = None,
    visible_to: int | None = None,
    extra_flags: int = 0,
) -> SentMessage:
    """Check a create payload against Discord's rules and build the message (not yet stored)."""
    if not isinstance(payload, dict):
        raise invalid_form_body("", "Must be an object.")
    content = payload.get("content") or ""
    embeds = payload.get("embeds") or []
    components = payload.get("components") or []
    flags = int(payload.get("flags") or 0)
    if flags & ~SETTABLE_FLAGS:
        raise invalid_form_body("flags", f"Flags {flags & ~SETTABLE_FLAGS} cannot be set by a sender.")
    flags |= extra_flags
    if flags & EPHEMERAL and interaction_id is None:
        flags &= ~EPHEMERAL  # only interaction responses can be ephemeral; Discord ignores it elsewhere
    if str(content).isspace():
        content = ""
    check_message_state(str(content), embeds, components, flags, _attachment_types(payload, files, []))
    check_files(files, 0, upload_limit)
    stickers = payload.get("sticker_ids") or []
    if not (content or embeds or components or files or stickers or payload.get("poll")) and not (flags & LOADING):
        raise DiscordAPIError(400, 50006, "Cannot send an empty message")
    attachments = await _store_files(fake, channel_id, payload, files)
    channel = fake.channel(channel_id)
    allowed = payload.get("allowed_mentions")
    # Mentions in a V2 message's text displays ping like those in content do.
    mentionable = "\n".join([str(content), *component_texts(components)])
    users, roles, everyone = resolve_mentions(fake, channel.guild.id, mentionable, allowed)
    return SentMessage(
        id=fake.new_id(), channel_id=channel_id, guild_id=channel.guild.id, author_id=author_id,
        content=str(content), embeds=list(embeds), components=list(components), flags=flags,
        attachments=attachments, created_at=fake.clock.now(), nonce=payload.get("nonce"),
        mentions=users, mention_roles=roles, mention_everyone=everyone, allowed_mentions=allowed,
        message_reference=payload.get("message_reference"), type=msg_type, webhook_id=webhook_id,
        interaction_id=interaction_id, visible_to=visible_to if flags & EPHEMERAL else None,
    )  # fmt: skip


async def apply_edit(
    fake: FakeDiscord,
    message: SentMessage,
    payload: dict[str, Any],
    files: list[UploadedFile],
    upload_limit: int,
) -> None:
    """PATCH semantics: present fields replace, ``attachments`` lists the ones to keep plus new uploads."""
    if not isinstance(payload, dict):
        raise invalid_form_body("", "Must be an object.")
    content = message.content if "content" not in payload else (payload["content"] or "")
    embeds = message.embeds if "embeds" not in payload else (payload["embeds"] or [])
    components = message.components if "components" not in payload else (payload["components"] or [])
    flags = message.flags
    if payload.get("flags") is not None:
        requested = int(payload["flags"])
        # Ephemerality is fixed at creation; only the editable flags follow the request.
        flags = (flags & (EPHEMERAL | LOADING)) | (requested & ~(EPHEMERAL | LOADING) & SETTABLE_FLAGS)
        if message.flags & IS_COMPONENTS_V2 and not requested & IS_COMPONENTS_V2:
            raise invalid_form_body("flags", "MessageFlags.IS_COMPONENTS_V2 cannot be removed once set.")
    flags &= ~LOADING  # an edit fills a deferred ("thinking") message
    kept = message.attachments
    if payload.get("attachments") is not None:
        existing = {a.id: a for a in message.attachments}
        keep_ids = [int(a["id"]) for a in payload["attachments"] if int(a["id"]) in existing]
        kept = [existing[i] for i in keep_ids]
    check_message_state(str(content), embeds, components, flags, _attachment_types(payload, files, kept))
    check_files(files, len(kept), upload_limit)
    new = await _store_files(fake, message.channel_id, payload, files)
    previous = MessageRevision(
        at=message.edited_at or message.created_at,
        content=message.content,
        embeds=message.embeds,
        components=message.components,
        flags=message.flags,
        attachment_ids=[a.id for a in message.attachments],
    )
    message.edits.append(previous)
    message.content, message.embeds = str(content), embeds
    message.components, message.flags = components, flags
    message.attachments = kept + new
    if "allowed_mentions" in payload:
        message.allowed_mentions = payload["allowed_mentions"]
    mentionable = "\n".join([message.content, *component_texts(message.components)])
    users, roles, everyone = resolve_mentions(fake, message.guild_id, mentionable, message.allowed_mentions)
    message.mentions, message.mention_roles, message.mention_everyone = users, roles, everyone
    message.edited_at = fake.clock.now()


def attachment_json(fake: FakeDiscord, a: StoredAttachment, *, ephemeral: bool = False) -> dict[str, Any]:
    url = fake.cdn.signed_url(a)
    data: dict[str, Any] = {
        "id": str(a.id), "filename": a.filename, "size": a.size, "url": url, "proxy_url": url,
        "content_type": a.content_type,
    }  # fmt: skip
    if a.description is not None:
        data["description"] = a.description
    if a.spoiler:
        data["flags"] = IS_SPOILER
    if a.width is not None:
        data.update(width=a.width, height=a.height)
    if ephemeral:
        data["ephemeral"] = True
    return data


def message_json(fake: FakeDiscord, m: SentMessage) -> dict[str, Any]:
    author = fake.users[m.author_id]
    guild = fake.guilds[m.guild_id]
    data: dict[str, Any] = {
        "id": str(m.id),
        "channel_id": str(m.channel_id),
        "guild_id": str(m.guild_id),
        "author": author.to_json(),
        "content": m.content,
        "timestamp": iso(m.created_at),
        "edited_timestamp": iso(m.edited_at) if m.edited_at else None,
        "tts": False,
        "mention_everyone": m.mention_everyone,
        "mentions": [
            {**fake.users[u].to_json(), "member": guild.members[u].to_json(with_user=False)}
            for u in m.mentions
            if u in guild.members
        ],
        "mention_roles": [str(r) for r in m.mention_roles],
        "mention_channels": [],
        "attachments": [attachment_json(fake, a) for a in m.attachments],
        "embeds": m.embeds,
        "reactions": [reaction_json(fake, emoji, users) for emoji, users in m.reactions.items() if users],
        "pinned": m.pinned,
        "type": m.type,
        "flags": m.flags,
        "components": _components_json(fake, m),
    }
    if m.author_id in guild.members:
        data["member"] = guild.members[m.author_id].to_json(with_user=False)
    if m.nonce is not None:
        data["nonce"] = m.nonce
    if m.webhook_id is not None:
        data["webhook_id"] = str(m.webhook_id)
        data["application_id"] = str(fake.application_id)
    if m.message_reference:
        data["message_reference"] = {**m.message_reference, "type": 0}
    if m.interaction_id is not None and m.interaction_id in fake.interactions:
        ix = fake.interactions[m.interaction_id]
        user = fake.users[ix.user_id].to_json()
        data["interaction_metadata"] = {
            "id": str(ix.id), "type": ix.type, "user": user,
            "authorizing_integration_owners": {"0": str(m.guild_id)},
        }  # fmt: skip
        data["interaction"] = {"id": str(ix.id), "type": ix.type, "name": ix.name, "user": user}
    if m.thread_id is not None and m.thread_id in fake.channels:
        data["thread"] = fake.channels[m.thread_id].to_json()
    channel = fake.channels.get(m.channel_id)
    if channel is not None and channel.is_thread:
        data["position"] = max(0, channel.message_count - 1)
    return data


def _components_json(fake: FakeDiscord, m: SentMessage) -> list[dict[str, Any]]:
    """V2 components come back with attachment:// media resolved to the CDN and ids filled in; V1 as sent."""
    if not m.flags & IS_COMPONENTS_V2:
        return m.components
    by_name: dict[str, StoredAttachment] = {}
    for a in m.attachments:
        by_name.setdefault(a.filename, a)
    return resolved_components(m.components, by_name.get, fake.cdn.signed_url)


def reaction_json(fake: FakeDiscord, emoji: str, users: set[int]) -> dict[str, Any]:
    return {
        "emoji": {"id": None, "name": emoji},
        "count": len(users),
        "me": fake.bot_user.id in users,
        "count_details": {"burst": 0, "normal": len(users)},
        "me_burst": False,
        "burst_colors": [],
    }
