"""The fake gateway: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, RESUME with replay, dispatch.

JSON text frames only: discord.py asks for ``compress=zlib-stream`` but decompresses only binary frames,
so answering in text (as Discord does for clients that cannot decompress) is understood.
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

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
MESSAGE_CONTENT = 1 << 15

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
}

MAX_REPLAY = 1000


@dataclass
class GatewaySession:
    id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    # Kept for RESUME; out of repr because INTERACTION_CREATE frames carry interaction tokens.
    sent: list[dict[str, Any]] = field(default_factory=list, repr=False)
    ws: web.WebSocketResponse | None = field(default=None, repr=False)

    def wants(self, event: str) -> bool:
        needed = EVENT_INTENTS.get(event)
        return needed is None or bool(self.intents & needed)


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
    ) -> None:
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

    # --- dispatching -------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any], *, transform: Any = None) -> None:
        """Send an event to every session that wants it; kept for replay when the socket is down.

        ``transform(session, data)`` may tailor the payload per session (content without the intent).
        """
        for session in list(self.sessions.values()):
            if not session.wants(event):
                continue
            payload = transform(session, data) if transform else data
            session.seq += 1
            frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": payload}
            session.sent.append(frame)
            del session.sent[:-MAX_REPLAY]
            if session.ws is not None and not session.ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await session.ws.send_str(json.dumps(frame))

    async def drop_connections(self, code: int = 4000) -> int:
        """Close every socket as a network failure would; sessions stay resumable. Returns how many."""
        sockets = list(self._sockets)
        for ws in sockets:
            await ws.close(code=code, message=b"dropped by test")
        self.connected.clear()
        return len(sockets)

    async def send_reconnect(self) -> None:
        """Op 7: Discord asks the client to reconnect and resume."""
        for ws in list(self._sockets):
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
            if session is not None and session.ws is ws:
                session.ws = None
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
        shard = data.get("shard")
        session = GatewaySession(id=secrets.token_hex(16), intents=int(data["intents"]), shard=shard, ws=ws)
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
        if session is None or not secrets.compare_digest(str(data.get("token", "")), self._token):
            # d=false: the session cannot be resumed, the client must IDENTIFY afresh.
            await ws.send_str(json.dumps({"op": INVALID_SESSION, "d": False}))
            return None
        if session.ws is not None and session.ws is not ws and not session.ws.closed:
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
