"""FakeDiscord: one aiohttp server on 127.0.0.1 speaking Discord's REST API, gateway and CDN.

State lives here; the routes are in rest.py (bot REST), webhooks.py (interaction answers) and the
member-side actions (slash commands, buttons, modals) in acting.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from . import permissions as perms
from .acting import MemberActions, Upload
from .automod import AutoModRules, FakeAutoModRule, rule_body
from .cdn import FakeCDN
from .clock import FakeClock
from .commands import CommandStore
from .errors import UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, DiscordAPIError, FakeUsageError, unknown
from .gateway import GUILD_MEMBERS, MESSAGE_CONTENT, FakeGateway, GatewaySession, Shard
from .interactions import InteractionRecord
from .messages import message_json
from .models import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, SentMessage
from .openapi import OpenAPIChecker, Violation, find_openapi_document
from .ratelimits import ForcedLimit, RateLimitHit, bucket_headers, route_matches, too_many_requests
from .snowflakes import SnowflakeFactory

log = logging.getLogger(__name__)
T = TypeVar("T")
API_PREFIX = "/api/v10"
_AUTO = object()


def json_response(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py ignores JSON bodies whose content type carries a charset.
    return web.Response(status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


@dataclass
class Hold:
    pattern: str
    when: str
    taken: bool = False
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


class FakeDiscord:
    def __init__(
        self,
        *,
        bot_name: str = "Vidu",
        heartbeat_interval_ms: int = 41250,
        openapi_path: Path | object | None = _AUTO,
        recommended_shards: int | None = None,
        shards_required: int = 1,
    ) -> None:
        """``shards_required``: IDENTIFY without a shard, or with fewer shards, is closed with 4011 (a bot
        in more guilds than one shard may hold). ``recommended_shards``: ``GET /gateway/bot``'s "shards"
        (default: ``shards_required``, i.e. 1)."""
        if shards_required < 1 or (recommended_shards is not None and recommended_shards < 1):
            raise ValueError("shards_required and recommended_shards are at least 1")
        self.recommended_shards = recommended_shards or shards_required
        self.clock = FakeClock()
        self._ids = SnowflakeFactory()
        self.bot_user = FakeUser(self.new_id(), bot_name, bot=True)
        self.application_id = self.bot_user.id  # Discord: a bot's user id is its application id
        # Shaped like a real token (base64 user id . timestamp . hmac) so parsers that split it work.
        user_part = base64.b64encode(str(self.bot_user.id).encode()).decode().rstrip("=")
        self.bot_token = f"{user_part}.{secrets.token_urlsafe(4)}.{secrets.token_urlsafe(27)}"
        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self._messages: dict[int, SentMessage] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self._interaction_tokens: dict[str, int] = {}
        self._nonces: dict[tuple[int, int, str], tuple[int, float]] = {}
        self.commands = CommandStore(self.application_id, self.new_id)
        self.cdn = FakeCDN(self.clock)
        path = find_openapi_document() if openapi_path is _AUTO else openapi_path
        self.openapi = OpenAPIChecker(path if isinstance(path, Path) else None)
        self.violations: list[Violation] = []
        self.refreshed_urls: list[str] = []  # every link POST /attachments/refresh-urls gave out, in order
        self.requests: list[tuple[str, str, int]] = []  # (method, route template, status): no tokens
        self.rate_limited: list[RateLimitHit] = []
        self._forced_limits: list[ForcedLimit] = []
        self._forced_failures: list[tuple[str, int, list[int]]] = []  # (pattern, status, [times left])
        self._forced_drops: list[tuple[str, list[int]]] = []  # (pattern, [times left])
        self._holds: list[Hold] = []
        self._changed = asyncio.Condition()
        self._background: set[asyncio.Task[Any]] = set()
        self.gateway = FakeGateway(
            token=self.bot_token,
            ready_payload=self._ready_payload,
            guild_payloads=self._guild_payloads,
            members_chunk=lambda gid: [m.to_json() for m in self.guilds[gid].members.values()],
            on_change=self.touch,
            heartbeat_interval_ms=heartbeat_interval_ms,
            shards_required=shards_required,
        )
        self._runner: web.AppRunner | None = None
        self.base_url = ""

        self._actions = MemberActions(self)
        self.automod = AutoModRules(self)  # the guilds' AutoMod rules (automod.py)
        self.world: Any = None  # the TestServer handles when built by build_test_server / the fixture

    def __repr__(self) -> str:  # never the token
        return f"<FakeDiscord {self.base_url or 'not started'} guilds={len(self.guilds)}>"

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeDiscord:
        from . import rest, webhooks

        app = web.Application(middlewares=[self._middleware], client_max_size=200 * 1024 * 1024)
        rest.add_routes(app, self, API_PREFIX)
        webhooks.add_routes(app, self, API_PREFIX)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self.cdn.handle)
        app.on_shutdown.append(self._close_sockets)
        # A bot still connected at the end must not hold the test up for aiohttp's default 60 s.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        bound_port = sockets[0].getsockname()[1]
        self.base_url = f"http://{host}:{bound_port}"
        self.cdn.base_url = self.base_url
        return self

    async def stop(self) -> None:
        for hold in self._holds:
            hold.release()
        await self.gateway.drop_connections(code=1001)
        for task in list(self._background):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _close_sockets(self, app: web.Application) -> None:
        await self.gateway.drop_connections(code=1001)

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1) + "/gateway"

    def new_id(self) -> int:
        return self._ids.next()

    # --- building the world --------------------------------------------------------------------------

    def guild_id_for_shard(self, shard_id: int, num_shards: int) -> int:
        """A fresh snowflake for a guild whose events travel on ``shard_id`` of ``num_shards``."""
        return self._ids.next_on_shard(shard_id, num_shards)

    def add_guild(
        self, name: str, *, premium_tier: int = 0, preferred_locale: str = "en-US", shard: Shard | None = None
    ) -> FakeGuild:
        """A new guild the bot is in; ``shard=(i, n)`` picks an id on shard i of n (random otherwise)."""
        guild_id = self.new_id() if shard is None else self.guild_id_for_shard(*shard)
        owner = FakeUser(self.new_id(), f"{name.lower().replace(' ', '-')}-owner")
        self.users[owner.id] = owner
        guild = FakeGuild(
            id=guild_id, name=name, owner_id=owner.id, premium_tier=premium_tier,
            preferred_locale=preferred_locale,
        )  # fmt: skip
        guild._new_id = self.new_id
        guild._now = self.clock.now
        guild.roles[guild.id] = FakeRole(guild.id, "@everyone", perms.EVERYONE_DEFAULT, position=0)
        bot_role = guild.add_role(self.bot_user.username, perms.BOT_DEFAULT)
        guild.members[owner.id] = FakeMember(owner, guild, [], joined_at=self.clock.now())
        guild.members[self.bot_user.id] = FakeMember(self.bot_user, guild, [bot_role.id], self.clock.now())
        guild._on_member_added = lambda m: self._member_added(m)
        guild._on_channel_added = lambda c: self._channel_added(c)
        self.guilds[guild.id] = guild
        if self.gateway.sessions:
            self._spawn(self.emit("GUILD_CREATE", guild.to_json(full=True), transform=self._guild_create))
        return guild

    async def update_guild(self, guild: FakeGuild, *, premium_tier: int | None = None) -> None:
        """Change a guild (its boost tier sets the upload limit) and tell the bot with GUILD_UPDATE."""
        if premium_tier is not None:
            guild.premium_tier = premium_tier
        await self.emit("GUILD_UPDATE", guild.to_json(full=False))
        await self.touch()

    # --- moderators changing the world (each tells the bot over the gateway, as Discord does) ---------

    def bot_member(self, guild: FakeGuild) -> FakeMember:
        return guild.members[self.bot_user.id]

    def bot_role(self, guild: FakeGuild) -> FakeRole:
        """The role the bot got when it joined ``guild`` (BOT_DEFAULT permissions)."""
        return guild.role(self.bot_user.username)

    async def set_overwrite(
        self, channel: FakeChannel, target: FakeRole | FakeMember, *, allow: int = 0, deny: int = 0
    ) -> None:
        """A moderator sets ``target``'s overwrite on ``channel`` (a text or forum channel; its threads
        follow); the bot gets CHANNEL_UPDATE. ``target``: a role, ``guild.everyone_role`` or a member
        (``fake.bot_member(guild)`` for the bot itself)."""
        channel.set_overwrite(target, allow=allow, deny=deny)
        await self.announce_channel(channel)

    async def remove_overwrite(self, channel: FakeChannel, target: FakeRole | FakeMember) -> None:
        channel.remove_overwrite(target)
        await self.announce_channel(channel)

    async def announce_channel(self, channel: FakeChannel) -> None:
        """Tell the bot a channel or thread changed (after editing the model directly)."""
        await self._settle()
        event = "THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE"
        await self.emit(event, channel.to_json())
        await self.touch()

    async def update_role(self, role: FakeRole, *, permissions: int) -> None:
        """A role's guild-level permissions change (``fake.bot_role(guild)`` for the bot's own role, but
        note @everyone also grants the bot most of what it uses); the bot gets GUILD_ROLE_UPDATE."""
        await self._settle()
        role.permissions = permissions
        guild = next((g for g in self.guilds.values() if g.roles.get(role.id) is role), None)
        if guild is None:
            raise FakeUsageError(f"role {role.name!r} belongs to no guild of this fake")
        await self.emit("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role.to_json()})
        await self.touch()

    async def update_thread(
        self, thread: FakeChannel, *, locked: bool | None = None, archived: bool | None = None
    ) -> None:
        """A moderator locks/archives (or reopens) a thread; the bot gets THREAD_UPDATE."""
        if not thread.is_thread:
            raise FakeUsageError(f"{thread.name!r} is not a thread")
        if locked is not None:
            thread.locked = locked
        if archived is not None:
            thread.archived = archived
        await self.announce_channel(thread)

    async def delete_channel(self, channel: FakeChannel) -> None:
        """A moderator deletes a thread (THREAD_DELETE) or a channel with its threads (CHANNEL_DELETE);
        every route on them then answers 404 10003. Their messages stay observable through
        ``fake.messages(channel)``."""
        await self._settle()
        guild = channel.guild
        gone = [channel] if channel.is_thread else [channel, *self.threads(channel)]
        for dead in gone:
            self.channels.pop(dead.id, None)
            guild.channels.pop(dead.id, None)
            starter = self._messages.get(dead.id)
            if dead.is_thread and starter is not None and starter.thread_id == dead.id:
                starter.thread_id = None  # the message may start a new thread, as on Discord
        if channel.is_thread:
            await self.emit(
                "THREAD_DELETE", {"id": str(channel.id), "guild_id": str(guild.id),
                                  "parent_id": str(channel.parent_id), "type": channel.type},
            )  # fmt: skip
        else:
            await self.emit("CHANNEL_DELETE", channel.to_json())  # discord.py drops its threads with it
        await self.touch()

    async def delete_message(self, message: SentMessage) -> None:
        """A member with Manage Messages deletes a message: gone for the bot, and its files from the CDN (no
        longer served, no longer refreshed)."""
        message.deleted = True
        for attachment in message.attachments:
            self.cdn.forget(attachment.id)
        payload = {"id": str(message.id), "channel_id": str(message.channel_id), "guild_id": str(message.guild_id)}
        await self.emit("MESSAGE_DELETE", payload)
        await self.touch()

    async def create_automod_rule(self, guild: FakeGuild, by: FakeMember, name: str, **fields: Any) -> FakeAutoModRule:
        """A moderator adds a keyword rule that blocks messages members send (``rule_body``'s fields:
        keywords, regex_patterns, allow_list, exempt_roles, exempt_channels, custom_message, enabled); the bot
        gets AUTO_MODERATION_RULE_CREATE if it asked for the intent."""
        await self._settle()
        return await self.automod.create(guild, by, rule_body(name, **fields))

    async def update_automod_rule(self, rule: FakeAutoModRule, by: FakeMember, **changes: Any) -> FakeAutoModRule:
        """A moderator changes a rule (fields as PATCH sends them: name, enabled, trigger_metadata,
        exempt_roles, exempt_channels, actions); AUTO_MODERATION_RULE_UPDATE."""
        await self._settle()
        return await self.automod.update(rule, by, changes)

    async def delete_automod_rule(self, rule: FakeAutoModRule, by: FakeMember) -> None:
        await self._settle()
        await self.automod.delete(rule, by)

    async def drop_gateway(self, code: int = 4000, *, shard: Shard | None = None) -> int:
        """Cut every gateway socket (or those holding ``shard``) as a network failure would; the bot should
        RESUME. Returns how many."""
        return await self.gateway.drop_connections(code, shard=shard)

    async def wait_for_shards(self, shards: set[Shard], *, timeout: float = 10.0) -> None:
        """Until exactly ``shards`` are held by connected sessions (``set()``: every bot is offline)."""
        gateway = self.gateway
        await self.wait_for(
            lambda: gateway.connected_shards() == shards, timeout=timeout,
            what=f"connected shards {sorted(shards)}",
            seen=lambda: f"  connected: {sorted(gateway.connected_shards())}",
        )  # fmt: skip

    def _member_added(self, member: FakeMember) -> None:
        self.users[member.id] = member.user
        self._spawn(self.emit("GUILD_MEMBER_ADD", {**member.to_json(), "guild_id": str(member.guild.id)}))

    def _channel_added(self, channel: FakeChannel) -> None:
        self.channels[channel.id] = channel
        self._spawn(self.emit("CHANNEL_CREATE", channel.to_json()))

    async def _settle(self) -> None:
        """Let events spawned while building the world (CHANNEL_CREATE, GUILD_MEMBER_ADD) go out first, so
        an update sent right after ``add_text_channel`` never reaches the bot before the channel does."""
        pending = [t for t in self._background if t is not asyncio.current_task()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:  # no loop yet (building the world before start): nobody to tell
            coro.close()
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _guild_payloads(self, session: GatewaySession) -> list[dict[str, Any]]:
        return [
            self._guild_create(session, guild.to_json(full=True))
            for guild in self.guilds.values()
            if session.owns(guild.id)
        ]

    def _guild_create(self, session: GatewaySession, data: dict[str, Any]) -> dict[str, Any]:
        if session.intents & GUILD_MEMBERS:
            return data
        # Without the intent Discord sends only the bot's own member; the rest come by fetch.
        return {**data, "members": [m for m in data["members"] if m["user"]["id"] == str(self.bot_user.id)]}

    def _ready_payload(self, session: GatewaySession) -> dict[str, Any]:
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**self.bot_user.to_json(), "verified": True, "mfa_enabled": False, "email": None},
            "application": {"id": str(self.application_id), "flags": 0},
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds if session.owns(g)],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "session_type": "normal",
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "presences": [],
        }
        if session.shard_given:
            ready["shard"] = list(session.shard)
        return ready

    # --- lookups used by the routes ------------------------------------------------------------------

    def channel(self, channel_id: int) -> FakeChannel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise unknown("Channel", UNKNOWN_CHANNEL)
        return channel

    def message(self, message_id: int) -> SentMessage:
        message = self._messages.get(message_id)
        if message is None or message.deleted:
            raise unknown("Message", UNKNOWN_MESSAGE)
        return message

    def guild_of(self, channel_id: int) -> FakeGuild:
        return self.channel(channel_id).guild

    def interaction_by_token(self, token: str) -> InteractionRecord | None:
        ix_id = self._interaction_tokens.get(token)
        return None if ix_id is None else self.interactions[ix_id]

    def register_interaction(self, record: InteractionRecord) -> None:
        self.interactions[record.id] = record
        self._interaction_tokens[record.token] = record.id

    # --- storing and announcing ----------------------------------------------------------------------

    def find_nonce(self, author_id: int, channel_id: int, nonce: Any) -> SentMessage | None:
        """Discord's enforce_nonce: the same author+nonce within a few minutes gets the first message."""
        hit = self._nonces.get((author_id, channel_id, str(nonce)))
        if hit is None or self.clock.now() - hit[1] > 120:
            return None
        return self._messages.get(hit[0])

    async def store_message(self, message: SentMessage, *, announce: bool = True) -> None:
        self._messages[message.id] = message
        if message.nonce is not None:
            self._nonces[(message.author_id, message.channel_id, str(message.nonce))] = (
                message.id, message.created_at,
            )  # fmt: skip
        channel = self.channels.get(message.channel_id)
        if channel is not None and not message.ephemeral:
            channel.last_message_id = message.id
            if channel.is_thread:
                channel.message_count += 1
                channel.total_message_sent += 1
        # Ephemeral messages never travel over the gateway; loading (deferred) ones do, like Discord.
        if announce and not message.ephemeral and self._bot_sees(message.channel_id):
            await self.emit("MESSAGE_CREATE", message_json(self, message), transform=self._content_intent)
        await self.touch()

    async def announce_edit(self, message: SentMessage) -> None:
        if not message.ephemeral and self._bot_sees(message.channel_id):
            await self.emit("MESSAGE_UPDATE", message_json(self, message), transform=self._content_intent)
        await self.touch()

    def _bot_sees(self, channel_id: int) -> bool:
        """Message events of a channel the bot may not view never reach it."""
        channel = self.channels.get(channel_id)
        return channel is None or channel.visible_to(self.bot_user.id)

    def _content_intent(self, session: GatewaySession, data: dict[str, Any]) -> dict[str, Any]:
        """Without MESSAGE_CONTENT, members' messages arrive empty unless they mention the bot."""
        if session.intents & MESSAGE_CONTENT or data["author"]["id"] == str(self.bot_user.id):
            return data
        if any(u["id"] == str(self.bot_user.id) for u in data.get("mentions", [])):
            return data
        return {**data, "content": "", "embeds": [], "attachments": [], "components": []}

    async def emit(self, event: str, data: dict[str, Any], *, transform: Any = None) -> list[GatewaySession]:
        """Send a gateway event to the session(s) of its guild's shard; returns them."""
        return await self.gateway.dispatch(event, data, transform=transform)

    async def touch(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def record_violation(self, violation: Violation) -> None:
        log.error("OpenAPI violation: %s", violation)
        self.violations.append(violation)

    # --- the middleware: auth, forced 429s, rate-limit headers, Discord's error shape ----------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else request.path
        route = template.removeprefix(API_PREFIX)
        is_api = template.startswith(API_PREFIX)
        if is_api:
            for limit in self._forced_limits:
                if limit.times > 0 and route_matches(limit.pattern, request.method, route, request.path):
                    limit.times -= 1
                    self.rate_limited.append(RateLimitHit(request.method, route, limit.retry_after, limit.is_global))
                    self.requests.append((request.method, route, 429))
                    return too_many_requests(route, request.method, limit)
            for pattern, status, left in self._forced_failures:
                if left[0] > 0 and route_matches(pattern, request.method, route, request.path):
                    left[0] -= 1
                    self.requests.append((request.method, route, status))
                    return json_response({"message": f"{status}: Service Unavailable", "code": 0}, status)
            for pattern, left in self._forced_drops:
                if left[0] > 0 and route_matches(pattern, request.method, route, request.path) \
                        and request.transport is not None:
                    left[0] -= 1
                    self.requests.append((request.method, route, 0))
                    request.transport.close()  # nothing done, nothing answered: the client sees a broken connection
                    raise web.HTTPRequestTimeout()
        hold = self._take_hold(request.method, route, request.path) if is_api else None
        if hold is not None and hold.when == "before":
            hold.reached.set()
            await hold.released.wait()
            if request.transport is None or request.transport.is_closing():
                # The caller died while we held its request: like Discord, never act on a request whose
                # connection is gone before it was processed.
                raise web.HTTPRequestTimeout()
        try:
            response = await handler(request)
        except DiscordAPIError as error:
            response = json_response(error.body(), error.status)
        except web.HTTPException as error:
            if not is_api:
                raise
            code = 0
            response = json_response({"message": f"{error.status}: {error.reason}", "code": code}, error.status)
        if is_api:
            response.headers.update(bucket_headers(route, request.method))
            self.requests.append((request.method, route, response.status))
        if hold is not None and hold.when == "after":
            hold.reached.set()  # the work is done (e.g. the message exists); only the answer is held
            await hold.released.wait()
        return response

    def hold_next(self, route_pattern: str, *, when: str = "before") -> Hold:
        """Hold the next request matching ``route_pattern`` until ``hold.release()``: ``when="before"`` it
        is processed (a message is not created yet), ``"after"`` it is processed but not answered. Crash
        tests kill the bot while ``hold.reached`` is set, to stop it at an exact point."""
        if when not in ("before", "after"):
            raise ValueError("when is 'before' or 'after'")
        hold = Hold(route_pattern, when)
        self._holds.append(hold)
        return hold

    def _take_hold(self, method: str, route: str, path: str) -> Hold | None:
        for hold in self._holds:
            if not hold.taken and route_matches(hold.pattern, method, route, path):
                hold.taken = True
                return hold
        return None

    def rate_limit_next(
        self, route_pattern: str, *, retry_after: float = 0.5, times: int = 1, is_global: bool = False
    ) -> None:
        """The next ``times`` requests matching ``route_pattern`` get a 429 (e.g. "POST /channels/*/messages")."""
        self._forced_limits.append(ForcedLimit(route_pattern, retry_after, times, is_global))

    def fail_next(self, route_pattern: str, *, status: int = 503, times: int = 1) -> None:
        """The next ``times`` requests matching ``route_pattern`` fail with ``status`` before anything is
        done (Discord's edge having a bad moment; discord.py raises DiscordServerError for a 503 at once)."""
        if not 500 <= status <= 599:
            raise ValueError("fail_next is for server errors (5xx); forbidden actions come from permissions")
        self._forced_failures.append((route_pattern, status, [times]))

    def drop_next(self, route_pattern: str, *, times: int = 1) -> None:
        """The next ``times`` requests matching ``route_pattern`` lose their connection before anything is
        done (a network hiccup between the bot and Discord: aiohttp raises ServerDisconnectedError, which
        discord.py does not retry)."""
        self._forced_drops.append((route_pattern, [times]))

    # --- observing -----------------------------------------------------------------------------------

    def messages(
        self, channel_id: int | FakeChannel, *, as_member: FakeMember | None = None, include_deleted: bool = False
    ) -> list[SentMessage]:
        """Messages in a channel or thread, oldest first; ``as_member`` hides others' ephemeral messages."""
        cid = channel_id.id if isinstance(channel_id, FakeChannel) else channel_id
        found = [m for m in self._messages.values() if m.channel_id == cid]
        if not include_deleted:
            found = [m for m in found if not m.deleted]
        if as_member is not None:
            found = [m for m in found if m.visible_for(as_member.id)]
        return sorted(found, key=lambda m: m.id)

    def all_messages(self) -> list[SentMessage]:
        return sorted((m for m in self._messages.values() if not m.deleted), key=lambda m: m.id)

    def threads(self, parent_id: int | FakeChannel) -> list[FakeChannel]:
        pid = parent_id.id if isinstance(parent_id, FakeChannel) else parent_id
        return sorted((c for c in self.channels.values() if c.parent_id == pid), key=lambda c: c.id)

    def interaction(self, interaction_id: int | InteractionRecord) -> InteractionRecord:
        ix_id = interaction_id.id if isinstance(interaction_id, InteractionRecord) else interaction_id
        return self.interactions[ix_id]

    def attachment_bytes(self, attachment_id: int) -> bytes:
        stored = self.cdn.get(attachment_id)
        if stored is None:
            raise KeyError(f"no attachment {attachment_id}")
        return stored.content

    async def wait_for(self, probe: Callable[[], T | None], *, timeout: float, what: str, seen: Callable[[], str]) -> T:
        """Wait until ``probe()`` returns something; on timeout, raise TimeoutError saying what was seen."""
        result: list[T] = []

        def check() -> bool:
            value = probe()
            if value is None or value is False:
                return False
            result.append(value)
            return True

        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(check)

        try:
            await asyncio.wait_for(_wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"fake Discord: waited {timeout}s for {what}; seen:\n{seen()}") from None
        return result[0]

    async def wait_for_message(
        self,
        channel_id: int | FakeChannel | None = None,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        timeout: float = 10.0,
        as_member: FakeMember | None = None,
    ) -> SentMessage:
        """The first message (already there or yet to come) in the channel (any channel if None) that
        matches ``predicate``."""
        cid = channel_id.id if isinstance(channel_id, FakeChannel) else channel_id

        def candidates() -> list[SentMessage]:
            found = self.all_messages() if cid is None else self.messages(cid)
            return [m for m in found if as_member is None or m.visible_for(as_member.id)]

        def probe() -> SentMessage | None:
            return next((m for m in candidates() if predicate is None or predicate(m)), None)

        where = "any channel" if cid is None else f"channel {cid}"
        return await self.wait_for(
            probe, timeout=timeout, what=f"a matching message in {where}",
            seen=lambda: self.describe_messages(candidates()),
        )  # fmt: skip

    async def wait_for_thread(
        self,
        parent_id: int | FakeChannel,
        predicate: Callable[[FakeChannel], bool] | None = None,
        *,
        timeout: float = 10.0,
    ) -> FakeChannel:
        def probe() -> FakeChannel | None:
            return next((t for t in self.threads(parent_id) if predicate is None or predicate(t)), None)

        return await self.wait_for(
            probe, timeout=timeout, what=f"a thread under {parent_id}",
            seen=lambda: "\n".join(f"  thread {t.id} {t.name!r} type={t.type}" for t in self.threads(parent_id))
            or "  (no threads)",
        )  # fmt: skip

    async def wait_for_response(self, interaction: InteractionRecord, *, timeout: float = 10.0) -> InteractionRecord:
        """Until the bot has acknowledged the interaction (any callback type)."""
        return await self.wait_for(
            lambda: interaction if interaction.acknowledged else None, timeout=timeout,
            what=f"the bot to acknowledge interaction {interaction.id} ({interaction.name})",
            seen=lambda: f"  responses: {interaction.responses}",
        )  # fmt: skip

    def describe_messages(self, messages: list[SentMessage]) -> str:
        if not messages:
            return "  (no messages)"
        lines = []
        for m in messages[-20:]:
            author = self.users[m.author_id].username if m.author_id in self.users else m.author_id
            flags = f" flags={m.flags}" if m.flags else ""
            files = f" files={m.filenames}" if m.attachments else ""
            lines.append(f"  [{m.channel_id}] {m.id} {author}: {m.text()[:120]!r}{flags}{files}")
        return "\n".join(lines)

    # --- members acting (see acting.py) --------------------------------------------------------------

    async def slash(
        self, member: FakeMember, command: str, *, channel: FakeChannel, options: dict[str, Any] | None = None
    ) -> InteractionRecord:
        """A member runs ``/command`` ("animate", "quota set") in ``channel`` with ``options``."""
        return await self._actions.slash(member, command, channel=channel, options=options)

    async def message_command(self, member: FakeMember, name: str, *, message: SentMessage) -> InteractionRecord:
        return await self._actions.message_command(member, name, message=message)

    async def user_command(
        self, member: FakeMember, name: str, *, target: FakeMember, channel: FakeChannel
    ) -> InteractionRecord:
        return await self._actions.user_command(member, name, target=target, channel=channel)

    async def press_button(self, member: FakeMember, message: SentMessage, custom_id: str) -> InteractionRecord:
        return await self._actions.press_button(member, message, custom_id)

    async def select(
        self, member: FakeMember, message: SentMessage, custom_id: str, values: list[str]
    ) -> InteractionRecord:
        return await self._actions.select(member, message, custom_id, values)

    async def submit_modal(
        self, member: FakeMember, opened_by: InteractionRecord, values: dict[str, Any]
    ) -> InteractionRecord:
        return await self._actions.submit_modal(member, opened_by, values)

    async def member_opens_forum_post(
        self, member: FakeMember, forum: FakeChannel, name: str, content: str = "first post"
    ) -> FakeChannel:
        return await self._actions.member_opens_forum_post(member, forum, name, content)

    async def member_says(
        self, member: FakeMember, channel: FakeChannel, content: str = "", *, files: list[Upload] | None = None
    ) -> SentMessage:
        return await self._actions.member_says(member, channel, content, files=files)
