"""Members acting: slash commands, context menus, buttons, selects, modal submits and plain messages.

Each action sends INTERACTION_CREATE (or MESSAGE_CREATE) over the gateway exactly as Discord's client
would produce it, and refuses loudly (FakeUsageError) what the client could never send: an unsynced
command, an unknown option, a missing required option, a value of the wrong type, a disabled button.
"""

from __future__ import annotations

import mimetypes
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import commands as c
from . import permissions as perms
from .bodies import image_size
from .errors import FakeUsageError
from .interactions import APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT, InteractionRecord
from .messages import attachment_json, message_json, resolve_mentions
from .models import (
    FORUM,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    FakeChannel,
    FakeMember,
    FakeRole,
    FakeUser,
    SentMessage,
    StoredAttachment,
    walk_components,
)

if TYPE_CHECKING:
    from .fake import FakeDiscord


@dataclass(frozen=True)
class Upload:
    """A file a member attaches: to a slash command option, a modal FileUpload or a message."""

    filename: str
    content: bytes
    content_type: str | None = None

    @property
    def guessed_type(self) -> str | None:
        return self.content_type or mimetypes.guess_type(self.filename)[0]


async def upload(fake: FakeDiscord, channel: FakeChannel, file: Upload) -> StoredAttachment:
    size = await image_size(file.content, file.guessed_type)
    stored = StoredAttachment(
        id=fake.new_id(), channel_id=channel.id, filename=file.filename, content=file.content,
        content_type=file.guessed_type, width=size[0] if size else None, height=size[1] if size else None,
    )  # fmt: skip
    fake.cdn.store(stored)
    return stored


class MemberActions:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    # --- the interaction envelope --------------------------------------------------------------------

    def _check_can_see(self, member: FakeMember, channel: FakeChannel) -> None:
        if channel.guild is not member.guild:
            raise FakeUsageError(f"{member.name} is not a member of the guild of channel {channel.name!r}")
        if not channel.visible_to(member.id):
            what = "private thread" if channel.type == PRIVATE_THREAD else "channel"
            raise FakeUsageError(f"{member.name} cannot see {what} {channel.name!r} (no View Channel)")

    def _check_may_use_commands(self, member: FakeMember, channel: FakeChannel) -> None:
        if not channel.allows(member, perms.USE_APPLICATION_COMMANDS):
            raise FakeUsageError(f"{member.name} may not use application commands in {channel.name!r}")

    async def _dispatch(
        self,
        ix_type: int,
        name: str,
        member: FakeMember,
        channel: FakeChannel,
        data: dict[str, Any],
        message: SentMessage | None = None,
    ) -> InteractionRecord:
        fake = self.fake
        self._check_can_see(member, channel)
        if ix_type == APPLICATION_COMMAND:
            self._check_may_use_commands(member, channel)
        guild = channel.guild
        ix_id = fake.new_id()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(90)
        payload: dict[str, Any] = {
            "id": str(ix_id),
            "application_id": str(fake.application_id),
            "type": ix_type,
            "data": data,
            "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
            "guild_id": str(guild.id),
            # Discord sends channel-level permissions (overwrites applied) for the member and the app.
            "channel": {**channel.to_json(), "permissions": str(channel.permissions_for(member))},
            "channel_id": str(channel.id),
            "member": member.to_json(permissions_in=channel),
            "token": token,
            "version": 1,
            "app_permissions": str(channel.permissions_for(fake.bot_member(guild))),
            "locale": member.locale,
            "guild_locale": guild.preferred_locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": member.attachment_size_limit,  # max(Nitro, server)
        }
        if message is not None:
            payload["message"] = message_json(fake, message)
        record = InteractionRecord(
            id=ix_id, type=ix_type, name=name, guild_id=guild.id, channel_id=channel.id, user_id=member.id,
            created_at=fake.clock.now(), payload=payload, token=token,
            message_id=message.id if message is not None else None,
        )  # fmt: skip
        targets = fake.gateway.recipients("INTERACTION_CREATE", payload)
        if targets:  # the guild's shard; several only if sessions of different shard counts overlap
            record.shard, record.session_id, record.delivered = targets[0].shard, targets[0].id, targets[0].live
        fake.register_interaction(record)
        await fake.emit("INTERACTION_CREATE", payload)
        await fake.touch()
        return record

    # --- application commands ------------------------------------------------------------------------

    async def slash(
        self, member: FakeMember, command: str, *, channel: FakeChannel, options: dict[str, Any] | None = None
    ) -> InteractionRecord:
        """``command`` is what the member types: "animate", "quota set" or "config limits daily"."""
        fake = self.fake
        words = command.strip().lstrip("/").split()
        if not words:
            raise FakeUsageError("empty command line")
        synced = fake.commands.find(channel.guild.id, words[0], c.CHAT_INPUT)
        if synced is None:
            raise FakeUsageError(
                f"/{words[0]} was never synced (guild {channel.guild.name!r} or global); synced: "
                f"{fake.commands.names(channel.guild.id) or 'nothing'}"
            )
        definitions = synced.data.get("options") or []
        path: list[dict[str, Any]] = []
        for word in words[1:]:
            found = next((d for d in definitions if d["name"] == word and d["type"] in (1, 2)), None)
            if found is None:
                known = [d["name"] for d in definitions if d["type"] in (1, 2)]
                raise FakeUsageError(f"/{' '.join(words)}: no sub-command {word!r}; known: {known}")
            path.append(found)
            definitions = found.get("options") or []
        if any(d["type"] in (1, 2) for d in definitions):
            known = [d["name"] for d in definitions]
            raise FakeUsageError(f"/{' '.join(words)} needs a sub-command: one of {known}")
        resolved: dict[str, dict[str, Any]] = {}
        given = dict(options or {})
        leaf = []
        for name, value in given.items():
            definition = next((d for d in definitions if d["name"] == name), None)
            if definition is None:
                raise FakeUsageError(
                    f"/{' '.join(words)} has no option {name!r}; synced options: {[d['name'] for d in definitions]}"
                )
            leaf.append(await self._option(definition, value, resolved, channel, member, words))
        missing = [d["name"] for d in definitions if d.get("required") and d["name"] not in given]
        if missing:
            raise FakeUsageError(f"/{' '.join(words)} is missing required option(s) {missing}")
        nested: list[dict[str, Any]] = leaf
        for definition in reversed(path):
            nested = [{"type": definition["type"], "name": definition["name"], "options": nested}]
        data: dict[str, Any] = {"id": str(synced.id), "name": synced.name, "type": c.CHAT_INPUT}
        if nested:
            data["options"] = nested
        if resolved:
            data["resolved"] = resolved
        if synced.guild_id is not None:
            data["guild_id"] = str(synced.guild_id)
        return await self._dispatch(APPLICATION_COMMAND, " ".join(words), member, channel, data)

    async def _option(
        self,
        d: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
        channel: FakeChannel,
        invoker: FakeMember,
        words: list[str],
    ) -> dict[str, Any]:
        fake = self.fake
        where = f"/{' '.join(words)} option {d['name']!r} ({c.OPTION_TYPES[d['type']]})"
        t = d["type"]

        def fail(reason: str) -> FakeUsageError:
            return FakeUsageError(f"{where}: {reason} (got {value!r})")

        out: Any
        if t == c.STRING:
            if not isinstance(value, str):
                raise fail("needs a str")
            if not d.get("min_length", 0) <= len(value) <= d.get("max_length", 6000):
                raise fail(f"length must be within {d.get('min_length', 0)}..{d.get('max_length', 6000)}")
            out = value
        elif t in (c.INTEGER, c.NUMBER):
            ok = isinstance(value, int) if t == c.INTEGER else isinstance(value, int | float)
            if not ok or isinstance(value, bool):
                raise fail("needs an int" if t == c.INTEGER else "needs a number")
            if ("min_value" in d and value < d["min_value"]) or ("max_value" in d and value > d["max_value"]):
                raise fail(f"must be within {d.get('min_value')}..{d.get('max_value')}")
            out = value
        elif t == c.BOOLEAN:
            if not isinstance(value, bool):
                raise fail("needs a bool")
            out = value
        elif t in (c.USER_OPT, c.MENTIONABLE) and isinstance(value, FakeMember | FakeUser):
            user = value.user if isinstance(value, FakeMember) else value
            resolved.setdefault("users", {})[str(user.id)] = user.to_json()
            member = channel.guild.members.get(user.id)
            if member is not None:
                resolved.setdefault("members", {})[str(user.id)] = member.to_json(
                    with_user=False, permissions_in=channel
                )
            out = str(user.id)
        elif t in (c.ROLE, c.MENTIONABLE) and isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = value.to_json()
            out = str(value.id)
        elif t == c.CHANNEL and isinstance(value, FakeChannel):
            allowed = d.get("channel_types")
            if allowed and value.type not in allowed:
                raise fail(f"channel type {value.type} is not among {allowed}")
            resolved.setdefault("channels", {})[str(value.id)] = {
                **value.to_json(),
                "permissions": str(value.permissions_for(invoker)),  # the invoker's, in that channel
            }
            out = str(value.id)
        elif t == c.ATTACHMENT:
            if not isinstance(value, Upload):
                raise fail("needs an Upload(filename, bytes)")
            stored = await upload(fake, channel, value)
            resolved.setdefault("attachments", {})[str(stored.id)] = attachment_json(fake, stored, ephemeral=True)
            out = str(stored.id)
        else:
            raise fail("wrong kind of value for this option type")
        choices = d.get("choices")
        if choices and out not in [ch["value"] for ch in choices]:
            raise fail(f"not one of the choices {[ch['value'] for ch in choices]}")
        return {"name": d["name"], "type": t, "value": out}

    async def message_command(self, member: FakeMember, name: str, *, message: SentMessage) -> InteractionRecord:
        """Apps -> ``name`` on a message (a message context menu)."""
        fake = self.fake
        channel = fake.channel(message.channel_id)
        synced = self._context_command(channel, name, c.MESSAGE)
        if not message.visible_for(member.id):
            raise FakeUsageError(f"{member.name} cannot see message {message.id}")
        data: dict[str, Any] = {
            "id": str(synced.id), "name": synced.name, "type": c.MESSAGE, "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): message_json(fake, message)}},
        }  # fmt: skip
        if synced.guild_id is not None:
            data["guild_id"] = str(synced.guild_id)
        return await self._dispatch(APPLICATION_COMMAND, name, member, channel, data)

    async def user_command(
        self, member: FakeMember, name: str, *, target: FakeMember, channel: FakeChannel
    ) -> InteractionRecord:
        synced = self._context_command(channel, name, c.USER)
        data: dict[str, Any] = {
            "id": str(synced.id), "name": synced.name, "type": c.USER, "target_id": str(target.id),
            "resolved": {
                "users": {str(target.id): target.user.to_json()},
                "members": {str(target.id): target.to_json(with_user=False, permissions_in=channel)},
            },
        }  # fmt: skip
        if synced.guild_id is not None:
            data["guild_id"] = str(synced.guild_id)
        return await self._dispatch(APPLICATION_COMMAND, name, member, channel, data)

    def _context_command(self, channel: FakeChannel, name: str, kind: int) -> c.SyncedCommand:
        synced = self.fake.commands.find(channel.guild.id, name, kind)
        if synced is None:
            raise FakeUsageError(
                f"context menu {name!r} (type {kind}) was never synced; synced: "
                f"{self.fake.commands.names(channel.guild.id) or 'nothing'}"
            )
        return synced

    # --- components ----------------------------------------------------------------------------------

    def _component(self, member: FakeMember, message: SentMessage, custom_id: str) -> dict[str, Any]:
        if not message.visible_for(member.id) or message.deleted:
            raise FakeUsageError(f"{member.name} cannot see message {message.id}")
        for component in walk_components(message.components):
            if component.get("custom_id") == custom_id:
                if component.get("disabled"):
                    raise FakeUsageError(f"component {custom_id!r} on message {message.id} is disabled")
                return component
        raise FakeUsageError(f"message {message.id} has no component {custom_id!r}; it has {message.custom_ids()}")

    async def press_button(self, member: FakeMember, message: SentMessage, custom_id: str) -> InteractionRecord:
        component = self._component(member, message, custom_id)
        if component.get("type") != 2:
            raise FakeUsageError(f"{custom_id!r} is not a button (type {component.get('type')})")
        data = {"custom_id": custom_id, "component_type": 2}
        channel = self.fake.channel(message.channel_id)
        return await self._dispatch(MESSAGE_COMPONENT, custom_id, member, channel, data, message)

    async def select(
        self, member: FakeMember, message: SentMessage, custom_id: str, values: list[str]
    ) -> InteractionRecord:
        component = self._component(member, message, custom_id)
        if component.get("type") not in (3, 5, 6, 7, 8):
            raise FakeUsageError(f"{custom_id!r} is not a select menu (type {component.get('type')})")
        if component.get("type") == 3:
            known = [o["value"] for o in component.get("options", [])]
            unknown_values = [v for v in values if v not in known]
            if unknown_values:
                raise FakeUsageError(f"select {custom_id!r} has no option(s) {unknown_values}; it has {known}")
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        if not low <= len(values) <= high:
            raise FakeUsageError(f"select {custom_id!r} takes {low}..{high} values, got {len(values)}")
        data = {"custom_id": custom_id, "component_type": component["type"], "values": values}
        channel = self.fake.channel(message.channel_id)
        return await self._dispatch(MESSAGE_COMPONENT, custom_id, member, channel, data, message)

    # --- modals --------------------------------------------------------------------------------------

    async def submit_modal(
        self, member: FakeMember, opened_by: InteractionRecord, values: dict[str, Any]
    ) -> InteractionRecord:
        """Fill in and submit the modal the bot opened in answer to ``opened_by``.

        ``values``: custom_id -> str for text inputs, list[Upload] for FileUpload, list[str] for selects
        and checkbox groups, str for a radio group, bool for a checkbox.
        """
        fake = self.fake
        modal = opened_by.modal
        if modal is None:
            raise FakeUsageError(f"the bot never answered interaction {opened_by.id} ({opened_by.name}) with a modal")
        if opened_by.user_id != member.id:
            raise FakeUsageError("only the member who opened a modal can submit it")
        channel = fake.channel(opened_by.channel_id)
        resolved: dict[str, dict[str, Any]] = {}
        remaining = dict(values)
        next_id = iter(range(1, 1000))
        submitted = []
        for top in modal.get("components", []):
            top_id = top.get("id") or next(next_id)
            if top.get("type") == 18:  # Label wrapping one input
                inner = await self._modal_input(top["component"], remaining, resolved, channel, next_id)
                submitted.append({"type": 18, "id": top_id, "component": inner})
            elif top.get("type") == 1:  # legacy action row of text inputs
                row = [await self._modal_input(x, remaining, resolved, channel, next_id) for x in top["components"]]
                submitted.append({"type": 1, "id": top_id, "components": row})
            elif top.get("type") == 10:
                submitted.append({"type": 10, "id": top_id})
        if remaining:
            raise FakeUsageError(f"modal {modal.get('custom_id')!r} has no input(s) {sorted(remaining)}")
        data: dict[str, Any] = {"custom_id": modal["custom_id"], "components": submitted}
        if resolved:
            data["resolved"] = resolved
        message = fake._messages.get(opened_by.message_id or 0)
        return await self._dispatch(MODAL_SUBMIT, modal["custom_id"], member, channel, data, message)

    async def _modal_input(
        self,
        component: dict[str, Any],
        remaining: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
        channel: FakeChannel,
        next_id: Any,
    ) -> dict[str, Any]:
        custom_id = component.get("custom_id", "")
        kind = component.get("type")
        out: dict[str, Any] = {"type": kind, "id": component.get("id") or next(next_id), "custom_id": custom_id}
        required = component.get("required", True)
        if custom_id not in remaining:
            if required and kind != 23:
                raise FakeUsageError(f"modal input {custom_id!r} (type {kind}) is required")
            value: Any = None
        else:
            value = remaining.pop(custom_id)
        where = f"modal input {custom_id!r}"
        if kind == 4:
            text = value or ""
            if not isinstance(text, str):
                raise FakeUsageError(f"{where} is a text input: give a str")
            if required and not text:  # Discord keeps the form's Submit disabled
                raise FakeUsageError(f"{where} is required: it cannot be sent empty")
            if text and not component.get("min_length", 0) <= len(text) <= component.get("max_length", 4000):
                raise FakeUsageError(f"{where}: length {len(text)} outside min_length/max_length")
            out["value"] = text
        elif kind == 19:
            files = value or []
            if not all(isinstance(f, Upload) for f in files):
                raise FakeUsageError(f"{where} is a FileUpload: give a list of Upload")
            low, high = component.get("min_values", 1), component.get("max_values", 1)
            if files and not low <= len(files) <= high:
                raise FakeUsageError(f"{where} takes {low}..{high} files, got {len(files)}")
            ids = []
            for f in files:
                stored = await upload(self.fake, channel, f)
                resolved.setdefault("attachments", {})[str(stored.id)] = attachment_json(
                    self.fake, stored, ephemeral=True
                )
                ids.append(str(stored.id))
            out["values"] = ids
        elif kind in (3, 5, 6, 7, 8, 22):
            out["values"] = list(value or [])
        elif kind == 21:
            out["value"] = value
        elif kind == 23:
            out["value"] = bool(value)
        else:
            raise FakeUsageError(f"{where}: the fake does not know component type {kind}")
        return out

    # --- plain messages ------------------------------------------------------------------------------

    async def member_opens_forum_post(
        self, member: FakeMember, forum: FakeChannel, name: str, content: str = "first post"
    ) -> FakeChannel:
        """A member starts a post (a public thread) in a forum channel; its starter message has the post's id."""
        fake = self.fake
        self._check_can_see(member, forum)
        if forum.type != FORUM:
            raise FakeUsageError(f"#{forum.name} is not a forum channel")
        post = FakeChannel(
            id=fake.new_id(), type=PUBLIC_THREAD, name=name, guild=forum.guild, parent_id=forum.id,
            owner_id=member.id, created_at=fake.clock.now(), auto_archive_duration=1440,
            thread_member_ids={member.id},
        )  # fmt: skip
        fake.channels[post.id] = post
        forum.guild.channels[post.id] = post
        await fake.emit("THREAD_CREATE", {**post.to_json(), "newly_created": True})
        await fake.store_message(SentMessage(
            id=post.id, channel_id=post.id, guild_id=forum.guild.id, author_id=member.id, content=content,
            embeds=[], components=[], flags=0, attachments=[], created_at=fake.clock.now(),
            mentions=[], mention_roles=[], mention_everyone=False,
        ))  # fmt: skip
        await fake.touch()
        return post

    async def member_says(
        self, member: FakeMember, channel: FakeChannel, content: str = "", *, files: list[Upload] | None = None
    ) -> SentMessage:
        """A member posts a message (with attachments): the target of context menus, or chatter."""
        fake = self.fake
        self._check_can_see(member, channel)
        attachments = [await upload(fake, channel, f) for f in files or []]
        users, roles, everyone = resolve_mentions(fake, channel.guild.id, content, None)
        message = SentMessage(
            id=fake.new_id(), channel_id=channel.id, guild_id=channel.guild.id, author_id=member.id,
            content=content, embeds=[], components=[], flags=0, attachments=attachments,
            created_at=fake.clock.now(), mentions=users, mention_roles=roles, mention_everyone=everyone,
        )  # fmt: skip
        await fake.store_message(message)
        return message
