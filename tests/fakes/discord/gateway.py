"""The fake gateway: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, RESUME with replay, dispatch.

JSON text frames only: discord.py asks for ``compress=zlib-stream`` but decompresses only binary frames,
so answering in text (as Discord does for clients that cannot decompress) is understood.

Sharding as Discord does it: IDENTIFY's ``"shard": [shard_id, num_shards]`` makes the session receive
only the events of guilds with ``(guild_id >> 22) % num_shards == shard_id``, and events without a guild
(DMs, USER_UPDATE) only on shard 0. Without ``"shard"`` the session is shard (0, 1): everything.

Two sessions identifying the same (shard_id, num_shards): the newest one receives that shard's events
from then on; the older one is *superseded* (its socket stays open but idle, and a RESUME of it is
answered with INVALID_SESSION, so a client that reconnects must IDENTIFY afresh). Real Discord lets the
newer one in too and invalidates the older one some time later; here that happens at once and quietly,
so two processes briefly holding one shard never both answer an interaction.

A client closing its socket with 1000 or 1001 ends its session, as on Discord (its shard's events are no
longer queued for it); any other disconnect keeps it resumable, its events queued for a RESUME. Note that
discord.py 2.7's ``close()`` reaches the wire as 4000 (its reader task closes the socket first), so a
stopped discord.py bot leaves a resumable session behind, as it would on Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .snowflakes import shard_of

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
MESSAGE_CONTENT = 1 << 15
AUTO_MODERATION_CONFIGURATION = 1 << 20

# Events gated by an intent; everything else (READY, INTERACTION_CREATE, ...) always flows.
EVENT_INTENTS = {
    "MESSAGE_CREATE": GUILD_MESSAGES,
    "MESSAGE_UPDATE": GUILD_MESSAGES,
    "MESSAGE_DELETE": GUILD_MESSAGES,
    "MESSAGE_REACTION_ADD": GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": GUILD_MESSAGE_REACTIONS,
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "THREAD_CREATE": GUILDS,
    "THREAD_UPDATE": GUILDS,
    "THREAD_MEMBERS_UPDATE": GUILDS,
    "CHANNEL_CREATE": GUILDS,
    "AUTO_MODERATION_RULE_CREATE": AUTO_MODERATION_CONFIGURATION,
    "AUTO_MODERATION_RULE_UPDATE": AUTO_MODERATION_CONFIGURATION,
    "AUTO_MODERATION_RULE_DELETE": AUTO_MODERATION_CONFIGURATION,
}

MAX_REPLAY = 1000

# Events whose guild is the payload's "id" rather than its "guild_id".
GUILD_OBJECT_EVENTS = {"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"}

Shard = tuple[int, int]  # (shard_id, num_shards)


class ShardRefused(ValueError):
    """IDENTIFY's shard cannot be accepted: ``code`` is the gateway close code (4010 or 4011)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def parse_shard(raw: Any, *, shards_required: int) -> Shard:
    """IDENTIFY's ``shard`` field (None when absent) checked like Discord: 4010 when malformed or out of
    range, 4011 when the bot must shard (too many guilds for ``num_shards``)."""
    if raw is None:
        shard: Shard = (0, 1)
    else:
        ok = (
            isinstance(raw, list) and len(raw) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in raw)
            and raw[1] >= 1 and 0 <= raw[0] < raw[1]
        )  # fmt: skip
        if not ok:
            raise ShardRefused(4010, "Invalid shard.")
        shard = (raw[0], raw[1])
    if shard[1] < shards_required:
        raise ShardRefused(4011, "Sharding required.")
    return shard


def event_guild_id(event: str, data: dict[str, Any]) -> int | None:
    """The guild an event belongs to, or None (a DM, the bot's own user)."""
    raw = data.get("id") if event in GUILD_OBJECT_EVENTS else data.get("guild_id")
    return None if raw is None else int(raw)


@dataclass
class GatewaySession:
    id: str
    intents: int
    shard: Shard  # (0, 1) when IDENTIFY named no shard
    shard_given: bool = False  # READY echoes the shard only when IDENTIFY sent one
    seq: int = 0
    superseded: bool = False  # a newer session identified the same shard (see the module docstring)
    ended: bool = False  # the client closed with 1000/1001: not resumable, receives nothing
    # Kept for RESUME; out of repr because INTERACTION_CREATE frames carry interaction tokens.
    sent: list[dict[str, Any]] = field(default_factory=list, repr=False)
    ws: web.WebSocketResponse | None = field(default=None, repr=False)

    def wants(self, event: str) -> bool:
        needed = EVENT_INTENTS.get(event)
        return needed is None or bool(self.intents & needed)

    @property
    def active(self) -> bool:
        """Still entitled to its shard's events (sent live, or queued for a RESUME)."""
        return not (self.superseded or self.ended)

    @property
    def live(self) -> bool:
        return self.ws is not None and not self.ws.closed

    def owns(self, guild_id: int | None) -> bool:
        shard_id, num_shards = self.shard
        return shard_id == 0 if guild_id is None else shard_of(guild_id, num_shards) == shard_id


class FakeGateway:
    def __init__(
        self,
        *,
        token: str,
        ready_payload: Callable[[GatewaySession], dict[str, Any]],
        guild_payloads: Callable[[GatewaySession], list[dict[str, Any]]],
        members_chunk: Callable[[int], list[dict[str, Any]]],
        on_change: Callable[[], Awaitable[None]],
        heartbeat_interval_ms: int = 41250,
        shards_required: int = 1,
    ) -> None:
        self.shards_required = shards_required  # IDENTIFY with fewer shards (or none) is closed with 4011
        self._on_change = on_change  # lets fake.wait_for see identifies, resumes and disconnects
        self._token = token
        self._ready_payload = ready_payload
        self._guild_payloads = guild_payloads
        self._members_chunk = members_chunk
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[str, GatewaySession] = {}
        self.identifies = 0
        self.resumes = 0
        self.rejected_tokens = 0
        self.heartbeats = 0
        self.connected = asyncio.Event()  # set while at least one identified socket is open
        self._sockets: set[web.WebSocketResponse] = set()
        self._closed_by_us: set[web.WebSocketResponse] = set()

    # --- observing shards ----------------------------------------------------------------------------

    def connected_shards(self) -> set[Shard]:
        """The shards held right now by an open, identified socket (not superseded)."""
        return {s.shard for s in self.sessions.values() if s.active and s.live}

    def recipients(self, event: str, data: dict[str, Any]) -> list[GatewaySession]:
        """The sessions an event goes to: the active sessions owning its guild's shard (intents aside)."""
        guild_id = event_guild_id(event, data)
        return [s for s in self.sessions.values() if s.active and s.owns(guild_id)]

    # --- dispatching -------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any], *, transform: Any = None) -> list[GatewaySession]:
        """Send an event to the sessions of its guild's shard that want it; kept for replay when the
        socket is down. Returns those sessions.

        ``transform(session, data)`` may tailor the payload per session (content without the intent).
        """
        targets = [s for s in self.recipients(event, data) if s.wants(event)]
        for session in targets:
            payload = transform(session, data) if transform else data
            session.seq += 1
            frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": payload}
            session.sent.append(frame)
            del session.sent[:-MAX_REPLAY]
            if session.ws is not None and not session.ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await session.ws.send_str(json.dumps(frame))
        return targets

    def _sockets_of(self, shard: Shard | None) -> list[web.WebSocketResponse]:
        if shard is None:
            return list(self._sockets)
        return [s.ws for s in self.sessions.values() if s.shard == tuple(shard) and s.ws is not None and s.live]

    async def drop_connections(self, code: int = 4000, *, shard: Shard | None = None) -> int:
        """Close every socket (or only those holding ``shard``) as a network failure would; sessions stay
        resumable. Returns how many."""
        sockets = self._sockets_of(shard)
        for ws in sockets:
            self._closed_by_us.add(ws)
            await ws.close(code=code, message=b"dropped by test")
        if not any(s.live for s in self.sessions.values()):
            self.connected.clear()
        return len(sockets)

    async def send_reconnect(self, *, shard: Shard | None = None) -> None:
        """Op 7: Discord asks the client (every socket, or those holding ``shard``) to reconnect and resume."""
        for ws in self._sockets_of(shard):
            await ws.send_str(json.dumps({"op": RECONNECT, "d": None}))

    async def _notify(self) -> None:
        await self._on_change()

    # --- the socket ----------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        if request.query.get("encoding", "json") != "json":
            await ws.close(code=4002, message=b"Only encoding=json is spoken here.")
            return ws
        self._sockets.add(ws)
        session: GatewaySession | None = None
        try:
            await ws.send_str(json.dumps({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                try:
                    frame = json.loads(msg.data)
                    op = frame["op"]
                except (ValueError, KeyError, TypeError):
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                session = await self._on_frame(ws, session, op, frame.get("d"))
        finally:
            self._sockets.discard(ws)
            closed_by_client = ws not in self._closed_by_us
            self._closed_by_us.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
                if closed_by_client and ws.close_code in (1000, 1001):
                    session.ended = True  # Discord: a clean close invalidates the session
            if not any(s.ws is not None for s in self.sessions.values()):
                self.connected.clear()
            await self._notify()
        return ws

    async def _on_frame(
        self, ws: web.WebSocketResponse, session: GatewaySession | None, op: int, data: Any
    ) -> GatewaySession | None:
        if op == HEARTBEAT:
            self.heartbeats += 1
            await ws.send_str(json.dumps({"op": HEARTBEAT_ACK}))
            return session
        if op == IDENTIFY:
            if session is not None:
                await ws.close(code=4005, message=b"Already authenticated.")
                return session
            return await self._identify(ws, data or {})
        if op == RESUME:
            return await self._resume(ws, data or {})
        if session is None:
            await ws.close(code=4003, message=b"Not authenticated.")
            return None
        if op == REQUEST_MEMBERS:
            guild_id = int(data["guild_id"])
            members = self._members_chunk(guild_id)
            chunk = {"guild_id": str(guild_id), "members": members, "chunk_index": 0, "chunk_count": 1,
                     "not_found": [], "nonce": data.get("nonce")}  # fmt: skip
            await self._send_to(session, "GUILD_MEMBERS_CHUNK", chunk)
            return session
        if op == PRESENCE:
            return session
        await ws.close(code=4001, message=b"Unknown opcode.")
        return session

    async def _send_to(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(frame)
        del session.sent[:-MAX_REPLAY]
        if session.ws is not None and not session.ws.closed:
            await session.ws.send_str(json.dumps(frame))

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> GatewaySession | None:
        if not secrets.compare_digest(str(data.get("token", "")), self._token):
            self.rejected_tokens += 1
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        if "intents" not in data:
            await ws.close(code=4013, message=b"Invalid intent(s).")
            return None
        try:
            shard = parse_shard(data.get("shard"), shards_required=self.shards_required)
        except ShardRefused as refused:
            await ws.close(code=refused.code, message=str(refused).encode())
            return None
        for older in self.sessions.values():
            if older.shard == shard and older.active:
                older.superseded = True
        session = GatewaySession(
            id=secrets.token_hex(16), intents=int(data["intents"]), shard=shard,
            shard_given=data.get("shard") is not None, ws=ws,
        )  # fmt: skip
        self.sessions[session.id] = session
        self.identifies += 1
        await self._send_to(session, "READY", self._ready_payload(session))
        for guild in self._guild_payloads(session):
            await self._send_to(session, "GUILD_CREATE", guild)
        self.connected.set()
        await self._notify()
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> GatewaySession | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or not session.active or not secrets.compare_digest(str(data.get("token", "")), self._token):
            # d=false: the session cannot be resumed, the client must IDENTIFY afresh.
            await ws.send_str(json.dumps({"op": INVALID_SESSION, "d": False}))
            return None
        if session.ws is not None and session.ws is not ws and not session.ws.closed:
            self._closed_by_us.add(session.ws)
            await session.ws.close(code=4000)
        session.ws = ws
        after = int(data.get("seq") or 0)
        for frame in session.sent:
            if frame["s"] > after:
                await ws.send_str(json.dumps(frame))
        await self._send_to(session, "RESUMED", {})
        self.resumes += 1
        self.connected.set()
        await self._notify()
        return session
