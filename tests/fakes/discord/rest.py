"""The bot-authenticated REST routes: identity, gateway, commands, channels, messages, threads, guilds."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import permissions as perms
from .errors import (
    THREAD_ALREADY_CREATED,
    THREAD_LOCKED,
    UNKNOWN_GUILD,
    UNKNOWN_MEMBER,
    UNKNOWN_USER,
    DiscordAPIError,
    invalid_form_body,
    missing_access,
    missing_permissions,
    unknown,
)
from .fake import json_response
from .messages import apply_edit, build_message, message_json
from .models import FORUM, PRIVATE_THREAD, PUBLIC_THREAD, TEXT, THREAD_TYPES, FakeChannel, FakeMember, iso
from .requests import checked_body, json_object, require_bot, snowflake

if TYPE_CHECKING:
    from .fake import FakeDiscord

log = logging.getLogger(__name__)


def add_routes(app: web.Application, fake: FakeDiscord, prefix: str) -> None:
    r = _Routes(fake)
    routes = [
        ("GET", "/users/@me", r.get_me),
        ("GET", "/users/{user_id}", r.get_user),
        ("GET", "/oauth2/applications/@me", r.get_application),
        ("GET", "/applications/@me", r.get_application),
        ("GET", "/gateway", r.get_gateway),
        ("GET", "/gateway/bot", r.get_gateway_bot),
        ("GET", "/applications/{application_id}/commands", r.list_commands),
        ("PUT", "/applications/{application_id}/commands", r.overwrite_commands),
        ("POST", "/applications/{application_id}/commands", r.create_command),
        ("DELETE", "/applications/{application_id}/commands/{command_id}", r.delete_command),
        ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", r.list_commands),
        ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", r.overwrite_commands),
        ("POST", "/applications/{application_id}/guilds/{guild_id}/commands", r.create_command),
        ("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", r.delete_command),
        ("GET", "/channels/{channel_id}", r.get_channel),
        ("PATCH", "/channels/{channel_id}", r.edit_channel),
        ("GET", "/channels/{channel_id}/messages", r.list_messages),
        ("POST", "/channels/{channel_id}/messages", r.create_message),
        ("GET", "/channels/{channel_id}/messages/{message_id}", r.get_message),
        ("PATCH", "/channels/{channel_id}/messages/{message_id}", r.edit_message),
        ("DELETE", "/channels/{channel_id}/messages/{message_id}", r.delete_message),
        ("POST", "/channels/{channel_id}/messages/{message_id}/threads", r.thread_from_message),
        ("POST", "/channels/{channel_id}/threads", r.thread_standalone),
        ("GET", "/channels/{channel_id}/thread-members", r.list_thread_members),
        ("PUT", "/channels/{channel_id}/thread-members/@me", r.join_thread),
        ("DELETE", "/channels/{channel_id}/thread-members/@me", r.leave_thread),
        ("PUT", "/channels/{channel_id}/thread-members/{user_id}", r.add_thread_member),
        ("DELETE", "/channels/{channel_id}/thread-members/{user_id}", r.remove_thread_member),
        ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me", r.add_reaction),
        ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me", r.remove_reaction),
        ("GET", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}", r.list_reactions),
        ("GET", "/guilds/{guild_id}", r.get_guild),
        ("GET", "/guilds/{guild_id}/channels", r.get_guild_channels),
        ("GET", "/guilds/{guild_id}/roles", r.get_guild_roles),
        ("GET", "/guilds/{guild_id}/threads/active", r.get_active_threads),
        ("GET", "/guilds/{guild_id}/members/{user_id}", r.get_member),
        ("GET", "/guilds/{guild_id}/auto-moderation/rules", r.list_automod_rules),
        ("GET", "/guilds/{guild_id}/auto-moderation/rules/{rule_id}", r.get_automod_rule),
        ("POST", "/attachments/refresh-urls", r.refresh_attachment_urls),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, prefix + path, _authenticated(fake, handler))


def _authenticated(fake: FakeDiscord, handler: Any) -> Any:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        require_bot(fake, request)
        response: web.StreamResponse = await handler(request)
        return response

    return wrapper


class _Routes:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    # --- identity and gateway ------------------------------------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        me = self.fake.bot_user.to_json()
        return json_response({**me, "verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})

    async def get_user(self, request: web.Request) -> web.Response:
        user = self.fake.users.get(snowflake(request, "user_id"))
        if user is None:
            raise unknown("User", UNKNOWN_USER)
        return json_response(user.to_json())

    async def get_application(self, request: web.Request) -> web.Response:
        fake = self.fake
        return json_response(
            {
                "id": str(fake.application_id),
                "name": fake.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot": fake.bot_user.to_json(),
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": next(iter(fake.users.values())).to_json(),
                "team": None,
                "rpc_origins": [],
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(fake.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.fake.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 86400000, "max_concurrency": 1}
        shards = self.fake.recommended_shards
        return json_response({"url": self.fake.gateway_url, "shards": shards, "session_start_limit": limit})

    # --- application commands ------------------------------------------------------------------------

    def _scope(self, request: web.Request) -> int | None:
        if snowflake(request, "application_id") != self.fake.application_id:
            raise missing_access()
        if "guild_id" not in request.match_info:
            return None
        guild_id = snowflake(request, "guild_id")
        if guild_id not in self.fake.guilds:
            raise missing_access()
        return guild_id

    async def list_commands(self, request: web.Request) -> web.Response:
        return json_response([c.to_json() for c in self.fake.commands.list(self._scope(request))])

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        body = await checked_body(self.fake, request)
        synced = self.fake.commands.overwrite(scope, body.json)
        await self.fake.touch()
        return json_response([c.to_json() for c in synced])

    async def create_command(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        body = await checked_body(self.fake, request)
        synced = self.fake.commands.upsert(scope, body.json)
        await self.fake.touch()
        return json_response(synced.to_json(), 201)

    async def delete_command(self, request: web.Request) -> web.Response:
        self.fake.commands.delete(self._scope(request), snowflake(request, "command_id"))
        return web.Response(status=204)

    # --- channels and messages -----------------------------------------------------------------------

    def _channel(self, request: web.Request) -> FakeChannel:
        """The channel of the route: 404 10003 if deleted or unknown, 403 50001 if the bot may not view it."""
        channel = self.fake.channel(snowflake(request, "channel_id"))
        if not channel.visible_to(self.fake.bot_user.id):
            log.info("refused: the bot may not view channel %s (%s)", channel.id, channel.name)
            raise missing_access()
        return channel

    def _bot(self, channel: FakeChannel) -> FakeMember:
        return self.fake.bot_member(channel.guild)

    def _may(self, channel: FakeChannel, permission: int) -> bool:
        return channel.allows(self._bot(channel), permission)

    def _require(self, channel: FakeChannel, permission: int, action: str) -> None:
        """403 50013 unless the bot holds ``permission`` in ``channel`` (overwrites applied)."""
        if not self._may(channel, permission):
            # Discord's answer names nothing; this log line is for whoever reads a failing test.
            log.info("refused: the bot lacks %s (%#x) in channel %s (%s)", action, permission, channel.id, channel.name)
            raise missing_permissions()

    async def get_channel(self, request: web.Request) -> web.Response:
        return json_response(self._channel(request).to_json())

    async def edit_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        payload = json_object(await checked_body(self.fake, request))
        if not channel.is_thread:
            self._require(channel, perms.MANAGE_CHANNELS, "MANAGE_CHANNELS")
        elif "locked" in payload or channel.owner_id != self.fake.bot_user.id:
            # A thread's owner may rename and (un)archive it; locking and others' threads need Manage Threads.
            self._require(channel, perms.MANAGE_THREADS, "MANAGE_THREADS")
        if "name" in payload:
            name = payload["name"]
            if not (isinstance(name, str) and 1 <= len(name) <= 100):
                raise invalid_form_body("name", "Must be between 1 and 100 in length.")
            channel.name = name
        if channel.is_thread:
            channel.archived = bool(payload.get("archived", channel.archived))
            channel.locked = bool(payload.get("locked", channel.locked))
            channel.applied_tags = [int(t) for t in payload.get("applied_tags", channel.applied_tags)]
        event = "THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE"
        await self.fake.emit(event, channel.to_json())
        await self.fake.touch()
        return json_response(channel.to_json())

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        limit = int(request.query.get("limit", "50"))
        if not 1 <= limit <= 100:
            raise invalid_form_body("limit", "Must be between 1 and 100.")
        if not self._may(channel, perms.READ_MESSAGE_HISTORY):
            return json_response([])  # Discord answers no messages rather than an error
        messages = [m for m in self.fake.messages(channel.id) if not m.ephemeral]
        if "before" in request.query:
            messages = [m for m in messages if m.id < int(request.query["before"])]
        if "after" in request.query:
            messages = [m for m in messages if m.id > int(request.query["after"])]
            # Discord answers newest first even for ``after``; the oldest ``limit`` after the anchor.
            messages = messages[:limit]
        messages = list(reversed(messages))[:limit]
        return json_response([message_json(self.fake, m) for m in messages])

    async def create_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        channel = self._channel(request)
        if channel.type not in (TEXT, *THREAD_TYPES):
            raise DiscordAPIError(400, 50008, "Cannot send messages in a non-text channel")
        if channel.is_thread:
            self._require(channel, perms.SEND_MESSAGES_IN_THREADS, "SEND_MESSAGES_IN_THREADS")
        else:
            self._require(channel, perms.SEND_MESSAGES, "SEND_MESSAGES")
        if channel.is_thread and channel.locked:
            raise DiscordAPIError(403, THREAD_LOCKED, "Thread is archived")
        body = await checked_body(fake, request)
        payload = json_object(body)
        if body.files:
            self._require(channel, perms.ATTACH_FILES, "ATTACH_FILES")
        if payload.get("enforce_nonce") and payload.get("nonce") is not None:
            first = fake.find_nonce(fake.bot_user.id, channel.id, payload["nonce"])
            if first is not None:
                return json_response(message_json(fake, first))
        reference = payload.get("message_reference")
        if reference:
            self._require(channel, perms.READ_MESSAGE_HISTORY, "READ_MESSAGE_HISTORY (to reply)")
        if reference and reference.get("fail_if_not_exists", True):
            fake.message(int(reference["message_id"]))
        message = await build_message(
            fake, channel_id=channel.id, author_id=fake.bot_user.id, payload=payload, files=body.files,
            upload_limit=channel.guild.upload_limit, msg_type=19 if reference else 0,
        )  # fmt: skip
        if channel.archived:
            channel.archived = False  # sending in an archived thread unarchives it, as on Discord
        await fake.store_message(message)
        return json_response(message_json(fake, message))

    def _message_in(self, request: web.Request, channel: FakeChannel) -> Any:
        message = self.fake.message(snowflake(request, "message_id"))
        if message.channel_id != channel.id or message.ephemeral:
            raise unknown("Message", 10008)
        return message

    async def get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._require(channel, perms.READ_MESSAGE_HISTORY, "READ_MESSAGE_HISTORY")
        return json_response(message_json(self.fake, self._message_in(request, channel)))

    async def edit_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        channel = self._channel(request)
        message = self._message_in(request, channel)
        # Interaction responses are authored by the bot, so the bot may edit them here too (after the
        # 15-minute token is gone this is the only way); other users' messages are not editable.
        if message.author_id != fake.bot_user.id:
            raise DiscordAPIError(403, 50005, "Cannot edit a message authored by another user")
        body = await checked_body(fake, request)
        await apply_edit(fake, message, json_object(body), body.files, channel.guild.upload_limit)
        await fake.announce_edit(message)
        return json_response(message_json(fake, message))

    async def delete_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        channel = self._channel(request)
        message = self._message_in(request, channel)
        if message.author_id != fake.bot_user.id:
            self._require(channel, perms.MANAGE_MESSAGES, "MANAGE_MESSAGES (others' message)")
        message.deleted = True
        for attachment in message.attachments:
            fake.cdn.forget(attachment.id)
        payload = {"id": str(message.id), "channel_id": str(channel.id), "guild_id": str(channel.guild.id)}
        await fake.emit("MESSAGE_DELETE", payload)
        await fake.touch()
        return web.Response(status=204)

    # --- attachments ---------------------------------------------------------------------------------

    async def refresh_attachment_urls(self, request: web.Request) -> web.Response:
        """`POST /attachments/refresh-urls`: each CDN link re-signed. Strict: 1-50 links, each a link to an
        attachment the CDN still holds; anything else (another host, a deleted message's file) is refused
        with Invalid Form Body naming the link."""
        fake = self.fake
        payload = json_object(await checked_body(fake, request))
        urls = payload.get("attachment_urls")
        if not isinstance(urls, list) or not 1 <= len(urls) <= 50:
            raise invalid_form_body("attachment_urls", "Must be between 1 and 50 in length.", "BASE_TYPE_BAD_LENGTH")
        refreshed = []
        for n, url in enumerate(urls):
            attachment = fake.cdn.attachment_at(url) if isinstance(url, str) else None
            if attachment is None:
                raise invalid_form_body(f"attachment_urls.{n}", "Not a valid attachment URL.", "URL_TYPE_INVALID_URL")
            refreshed.append({"original": url, "refreshed": fake.cdn.signed_url(attachment)})
        fake.refreshed_urls.extend(r["refreshed"] for r in refreshed)
        return json_response({"refreshed_urls": refreshed})

    # --- threads -------------------------------------------------------------------------------------

    def _thread_name(self, payload: dict[str, Any]) -> str:
        name = payload.get("name")
        if not (isinstance(name, str) and 1 <= len(name) <= 100):
            raise invalid_form_body("name", "Must be between 1 and 100 in length.", "BASE_TYPE_BAD_LENGTH")
        return name

    async def _announce_thread(self, thread: FakeChannel) -> None:
        await self.fake.emit("THREAD_CREATE", {**thread.to_json(), "newly_created": True})
        await self.fake.touch()

    def _new_thread(self, parent: FakeChannel, thread_id: int, type_: int, payload: dict[str, Any]) -> FakeChannel:
        fake = self.fake
        thread = FakeChannel(
            id=thread_id, type=type_, name=self._thread_name(payload), guild=parent.guild, parent_id=parent.id,
            owner_id=fake.bot_user.id, created_at=fake.clock.now(),
            auto_archive_duration=int(payload.get("auto_archive_duration") or 1440),
            invitable=bool(payload.get("invitable", True)),
            applied_tags=[int(t) for t in payload.get("applied_tags") or []],
            thread_member_ids={fake.bot_user.id},
        )  # fmt: skip
        fake.channels[thread.id] = thread
        parent.guild.channels[thread.id] = thread
        return thread

    async def thread_from_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        parent = self._channel(request)
        if parent.type != TEXT:
            raise DiscordAPIError(400, 50024, "Cannot execute action on this channel type")
        self._require(parent, perms.CREATE_PUBLIC_THREADS, "CREATE_PUBLIC_THREADS")
        message = self._message_in(request, parent)
        payload = json_object(await checked_body(fake, request))
        if message.thread_id is not None:
            raise DiscordAPIError(400, THREAD_ALREADY_CREATED, "A thread has already been created for this message")
        # A thread started from a message shares the message's id.
        thread = self._new_thread(parent, message.id, PUBLIC_THREAD, payload)
        message.thread_id = thread.id
        await self._announce_thread(thread)
        await fake.announce_edit(message)
        return json_response(thread.to_json(), 201)

    async def thread_standalone(self, request: web.Request) -> web.Response:
        fake = self.fake
        parent = self._channel(request)
        body = await checked_body(fake, request)
        payload = json_object(body)
        if parent.type == FORUM:
            return await self._forum_post(parent, payload, body.files)
        if parent.type != TEXT:
            raise DiscordAPIError(400, 50024, "Cannot execute action on this channel type")
        type_ = int(payload.get("type") or PRIVATE_THREAD)
        if type_ not in (PUBLIC_THREAD, PRIVATE_THREAD):
            raise invalid_form_body("type", f"Thread type {type_} cannot be created here.")
        if type_ == PRIVATE_THREAD:
            self._require(parent, perms.CREATE_PRIVATE_THREADS, "CREATE_PRIVATE_THREADS")
        else:
            self._require(parent, perms.CREATE_PUBLIC_THREADS, "CREATE_PUBLIC_THREADS")
        thread = self._new_thread(parent, fake.new_id(), type_, payload)
        await self._announce_thread(thread)
        return json_response(thread.to_json(), 201)

    async def _forum_post(self, forum: FakeChannel, payload: dict[str, Any], files: list[Any]) -> web.Response:
        fake = self.fake
        # A forum post is a message: Send Messages in the forum (and Attach Files for files).
        self._require(forum, perms.SEND_MESSAGES, "SEND_MESSAGES (forum post)")
        if files:
            self._require(forum, perms.ATTACH_FILES, "ATTACH_FILES")
        first = payload.get("message")
        if not isinstance(first, dict):
            raise invalid_form_body("message", "A forum post needs a first message.", "BASE_TYPE_REQUIRED")
        thread_id = fake.new_id()
        thread = self._new_thread(forum, thread_id, PUBLIC_THREAD, payload)
        try:
            message = await build_message(
                fake, channel_id=thread.id, author_id=fake.bot_user.id, payload=first, files=files,
                upload_limit=forum.guild.upload_limit,
            )  # fmt: skip
        except DiscordAPIError:
            del fake.channels[thread.id], forum.guild.channels[thread.id]
            raise
        message.id = thread.id  # the starter message of a forum post has the post's id
        await self._announce_thread(thread)
        await fake.store_message(message)
        return json_response({**thread.to_json(), "message": message_json(fake, message)}, 201)

    def _thread(self, request: web.Request) -> FakeChannel:
        thread = self._channel(request)
        if not thread.is_thread:
            raise DiscordAPIError(400, 50024, "Cannot execute action on this channel type")
        return thread

    async def _set_membership(self, thread: FakeChannel, user_id: int, join: bool) -> web.Response:
        fake = self.fake
        member = thread.guild.members.get(user_id)
        if member is None:
            raise unknown("Member", UNKNOWN_MEMBER)
        update: dict[str, Any] = {"id": str(thread.id), "guild_id": str(thread.guild.id)}
        if join and user_id not in thread.thread_member_ids:
            thread.thread_member_ids.add(user_id)
            update["added_members"] = [
                {"id": str(thread.id), "user_id": str(user_id), "join_timestamp": iso(fake.clock.now()),
                 "flags": 0, "member": member.to_json()},
            ]  # fmt: skip
        elif not join and user_id in thread.thread_member_ids:
            thread.thread_member_ids.discard(user_id)
            update["removed_member_ids"] = [str(user_id)]
        update["member_count"] = len(thread.thread_member_ids)
        await fake.emit("THREAD_MEMBERS_UPDATE", update)
        await fake.touch()
        return web.Response(status=204)

    async def join_thread(self, request: web.Request) -> web.Response:
        return await self._set_membership(self._thread(request), self.fake.bot_user.id, True)

    async def leave_thread(self, request: web.Request) -> web.Response:
        return await self._set_membership(self._thread(request), self.fake.bot_user.id, False)

    async def add_thread_member(self, request: web.Request) -> web.Response:
        thread = self._thread(request)
        # Discord: adding someone needs the ability to send messages in the thread.
        self._require(thread, perms.SEND_MESSAGES_IN_THREADS, "SEND_MESSAGES_IN_THREADS (to add a member)")
        return await self._set_membership(thread, snowflake(request, "user_id"), True)

    async def remove_thread_member(self, request: web.Request) -> web.Response:
        return await self._set_membership(self._thread(request), snowflake(request, "user_id"), False)

    async def list_thread_members(self, request: web.Request) -> web.Response:
        thread = self._thread(request)
        return json_response(
            [
                {"id": str(thread.id), "user_id": str(uid), "join_timestamp": iso(thread.created_at), "flags": 0}
                for uid in sorted(thread.thread_member_ids)
            ]
        )

    # --- reactions -----------------------------------------------------------------------------------

    async def add_reaction(self, request: web.Request) -> web.Response:
        fake = self.fake
        channel = self._channel(request)
        message = self._message_in(request, channel)
        emoji = request.match_info["emoji_name"]
        self._require(channel, perms.READ_MESSAGE_HISTORY, "READ_MESSAGE_HISTORY (to react)")
        if not message.reactions.get(emoji):  # joining an existing reaction needs no Add Reactions
            self._require(channel, perms.ADD_REACTIONS, "ADD_REACTIONS")
        message.reactions.setdefault(emoji, set()).add(fake.bot_user.id)
        await fake.emit(
            "MESSAGE_REACTION_ADD",
            {"user_id": str(fake.bot_user.id), "channel_id": str(channel.id), "message_id": str(message.id),
             "guild_id": str(channel.guild.id), "emoji": {"id": None, "name": emoji}, "burst": False,
             "type": 0, "burst_colors": []},
        )  # fmt: skip
        await fake.touch()
        return web.Response(status=204)

    async def remove_reaction(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message_in(request, channel)
        message.reactions.get(request.match_info["emoji_name"], set()).discard(self.fake.bot_user.id)
        await self.fake.touch()
        return web.Response(status=204)

    async def list_reactions(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message_in(request, channel)
        users = message.reactions.get(request.match_info["emoji_name"], set())
        return json_response([self.fake.users[u].to_json() for u in sorted(users)])

    # --- guilds --------------------------------------------------------------------------------------

    def _guild(self, request: web.Request) -> Any:
        guild = self.fake.guilds.get(snowflake(request, "guild_id"))
        if guild is None:
            raise unknown("Guild", UNKNOWN_GUILD)
        return guild

    async def get_guild(self, request: web.Request) -> web.Response:
        return json_response(self._guild(request).to_json(full=False))

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([c.to_json() for c in guild.channels.values() if not c.is_thread])

    async def get_guild_roles(self, request: web.Request) -> web.Response:
        return json_response([r.to_json() for r in self._guild(request).roles.values()])

    async def get_active_threads(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        threads = [t for t in guild.threads() if not t.archived]
        members = [
            {"id": str(t.id), "user_id": str(self.fake.bot_user.id), "join_timestamp": iso(t.created_at), "flags": 0}
            for t in threads
            if self.fake.bot_user.id in t.thread_member_ids
        ]
        return json_response({"threads": [t.to_json() for t in threads], "members": members})

    async def list_automod_rules(self, request: web.Request) -> web.Response:
        return json_response(await self.fake.automod.list_rules(request, self._guild(request)))

    async def get_automod_rule(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response(await self.fake.automod.get_rule(request, guild, snowflake(request, "rule_id")))

    async def get_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        member = guild.members.get(snowflake(request, "user_id"))
        if member is None:
            raise unknown("Member", UNKNOWN_MEMBER)
        return json_response(member.to_json())
