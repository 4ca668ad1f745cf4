"""The gateway WebSocket: HELLO, IDENTIFY/READY, heartbeats, RESUME, dispatch, compression.

Each accepted socket is a :class:`GatewayConnection` with its own outbound queue and
writer task (so dispatching is synchronous and strictly ordered) and its own
compression context. A :class:`GatewaySession` outlives connections: it owns the
sequence counter and the log of dispatched events that a RESUME replays.

Shards: an IDENTIFY may carry ``shard: [id, count]`` (discord.py's AutoShardedClient opens
one connection per shard). Each session then gets the guilds of its shard only (READY and
GUILD_CREATE), and every event about a guild goes to the newest session holding shard
``(guild_id >> 22) % count``; direct messages go to shard 0. A session without ``shard``
holds every guild.

Compression: discord.py asks for ``compress=zlib-stream`` (or ``zstd-stream`` when
the ``zstandard`` package is importable). For zlib-stream the server keeps ONE
``zlib.compressobj`` per connection and ends every message with ``Z_SYNC_FLUSH``,
so each binary frame ends in ``00 00 ff ff`` -- the marker discord.py's
``_ZlibDecompressionContext`` waits for before inflating its buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .models import Json
from .state import FakeState

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

GUILD_MEMBERS_INTENT = 1 << 1
GUILD_MESSAGES_INTENT = 1 << 9
DIRECT_MESSAGES_INTENT = 1 << 12


class _Compressor:
    """Per-connection transport compression, as requested in the query string."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self._zlib: Any = None
        self._zstd: Any = None
        if kind == "zlib-stream":
            self._zlib = zlib.compressobj()
        elif kind == "zstd-stream":
            # Only requested when discord.py itself could import zstandard.
            zstandard = importlib.import_module("zstandard")
            self._zstd = zstandard.ZstdCompressor().compressobj()
            self._flush_block = zstandard.COMPRESSOBJ_FLUSH_BLOCK
        elif kind is not None:
            raise ValueError(f"unsupported compress={kind!r}")

    def encode(self, text: str) -> str | bytes:
        raw = text.encode()
        if self._zlib is not None:
            return bytes(self._zlib.compress(raw) + self._zlib.flush(zlib.Z_SYNC_FLUSH))
        if self._zstd is not None:
            return bytes(self._zstd.compress(raw) + self._zstd.flush(self._flush_block))
        return text


@dataclass
class GatewaySession:
    """A gateway session (what RESUME refers to)."""

    id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    events: list[tuple[int, str, Json]] = field(default_factory=list)
    connection: GatewayConnection | None = None
    ready_seq: int = 0
    invalidated: bool = False

    def wants_members(self) -> bool:
        return bool(self.intents & GUILD_MEMBERS_INTENT)

    def holds(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives that guild's events (None: DMs, shard 0)."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return shard_of(guild_id, count) == shard_id


def shard_of(guild_id: int | None, count: int) -> int:
    """Discord's rule: a guild's events go to shard ``(guild_id >> 22) % count``; DMs to 0."""
    return 0 if guild_id is None else (guild_id >> 22) % count


# Events whose data is the guild itself (its id in ``id``), not something in a guild.
_GUILD_EVENTS = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})


def event_guild(name: str, data: Json) -> int | None:
    """The guild an event is about (None: not about a guild, e.g. a DM)."""
    raw = data.get("id") if name in _GUILD_EVENTS else data.get("guild_id")
    return int(raw) if raw is not None else None


def _valid_shard(shard: object) -> bool:
    """``[id, count]`` with ``0 <= id < count`` (Discord closes with 4010 otherwise)."""
    if not isinstance(shard, list) or len(shard) != 2:
        return False
    shard_id, count = shard
    ints = isinstance(shard_id, int) and isinstance(count, int)
    return ints and 0 <= shard_id < count


class GatewayConnection:
    """One WebSocket connection and its ordered, compressed writer."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self.query = dict(request.query)
        self.compressor = _Compressor(self.query.get("compress"))
        self.session: GatewaySession | None = None
        self.sent_seq = 0
        self.frames_sent = 0
        self.closed_with: int | None = None
        self._queue: asyncio.Queue[Json | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name="fake-gateway-writer")

    @property
    def compression(self) -> str | None:
        return self.compressor.kind

    def send(self, payload: Json) -> None:
        self._queue.put_nowait(payload)

    async def _write_loop(self) -> None:
        while True:
            payload = await self._queue.get()
            if payload is None or self.ws.closed:
                return
            frame = self.compressor.encode(json.dumps(payload, separators=(",", ":")))
            try:
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return
            self.frames_sent += 1
            if payload.get("s"):
                self.sent_seq = payload["s"]

    async def close(self, code: int, message: str = "") -> None:
        self.closed_with = code
        self._queue.put_nowait(None)
        await self._writer
        await self.ws.close(code=code, message=message.encode())

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a network failure)."""
        self._queue.put_nowait(None)
        self.closed_with = -1
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def stop_writer(self) -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


class GatewayServer:
    """Serves ``/gateway`` and lets tests dispatch events and break connections.

    Counters tests can assert on: ``identify_count``, ``resume_count``,
    ``heartbeat_count``, ``connection_count`` and ``connections`` (each with its
    query string and ``compression``).
    """

    def __init__(
        self,
        state: FakeState,
        *,
        token: str,
        heartbeat_interval_ms: int,
        url: Callable[[], str],
        guild_payloads: Callable[[GatewaySession], list[Json]],
    ) -> None:
        self._state = state
        self._token = token
        self._url = url
        self._guild_payloads = guild_payloads
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.ack_heartbeats = True
        self.sessions: dict[str, GatewaySession] = {}
        self.current: GatewaySession | None = None
        self.connections: list[GatewayConnection] = []
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeat_count = 0
        self.received: list[Json] = []
        self.presence_updates: list[Json] = []

    @property
    def connection_count(self) -> int:
        return len(self.connections)

    @property
    def connection(self) -> GatewayConnection | None:
        return self.current.connection if self.current else None

    # -- the WebSocket endpoint ----------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        if request.query.get("encoding", "json") != "json":
            await ws.close(code=4002, message=b"only encoding=json is supported")
            return ws
        try:
            conn = GatewayConnection(request, ws)
        except (ValueError, ImportError) as exc:
            await ws.close(code=4002, message=str(exc).encode())
            return ws
        self.connections.append(conn)
        self._state.changed()
        conn.send(
            {
                "op": HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake"]},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    raw = msg.data if isinstance(msg.data, str) else msg.data.decode()
                    await self._on_payload(conn, json.loads(raw))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            await conn.stop_writer()
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            self._state.changed()
        return ws

    async def _on_payload(self, conn: GatewayConnection, payload: Json) -> None:
        self.received.append(payload)
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            self.heartbeat_count += 1
            if self.ack_heartbeats:
                conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif op == REQUEST_MEMBERS:
            self._request_members(conn, data or {})
        elif op == PRESENCE:
            self.presence_updates.append(data or {})
        self._state.changed()

    async def _identify(self, conn: GatewayConnection, data: Json) -> None:
        if data.get("token") != self._token:
            await conn.close(4004, "Authentication failed.")
            return
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        shard = data.get("shard")
        if shard is not None and not _valid_shard(shard):
            await conn.close(4010, "Invalid shard.")
            return
        session = GatewaySession(
            id=uuid.uuid4().hex,
            intents=int(data.get("intents", 0)),
            shard=None if shard is None else [int(shard[0]), int(shard[1])],
        )
        self.sessions[session.id] = session
        self.current = session
        self._attach(conn, session)
        self.identify_count += 1
        self._state.identifies += 1
        ready = {
            "v": 10,
            "user": {
                **self._state.bot.payload(),
                "verified": True,
                "mfa_enabled": False,
                "email": None,
            },
            "guilds": [
                {"id": str(g), "unavailable": True} for g in self._state.guilds if session.holds(g)
            ],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._url(),
            "shard": session.shard or [0, 1],
            "application": {"id": str(self._state.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": ["local"],
            "guild_join_requests": [],
            "_trace": ["fake-discord"],
        }
        self.dispatch("READY", ready, session=session)
        for guild in self._guild_payloads(session):
            self.dispatch("GUILD_CREATE", guild, session=session)
        session.ready_seq = session.seq

    async def _resume(self, conn: GatewayConnection, data: Json) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") != self._token or session is None or session.invalidated:
            conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        old = session.connection
        if old is not None and old is not conn:
            await old.close(4000, "Session resumed elsewhere.")
        self._attach(conn, session)
        self.current = session
        self.resume_count += 1
        last = int(data.get("seq") or 0)
        for seq, name, event in session.events:
            if seq > last:
                conn.send({"op": DISPATCH, "t": name, "s": seq, "d": event})
        self.dispatch("RESUMED", {"_trace": ["fake-discord"]}, session=session)

    def _request_members(self, conn: GatewayConnection, data: Json) -> None:
        guild = self._state.guilds.get(int(data.get("guild_id", 0)))
        if guild is None or conn.session is None:
            return
        query = str(data.get("query") or "").lower()
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [
            m.payload()
            for m in guild.members.values()
            if (not wanted or m.user.id in wanted) and m.user.username.lower().startswith(query)
        ]
        chunk: Json = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        self.dispatch("GUILD_MEMBERS_CHUNK", chunk, session=conn.session)

    @staticmethod
    def _attach(conn: GatewayConnection, session: GatewaySession) -> None:
        conn.session = session
        session.connection = conn

    # -- for the driver and tests ---------------------------------------------------------

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The newest valid session whose shard holds that guild (None: DMs, shard 0)."""
        for session in reversed(list(self.sessions.values())):
            if not session.invalidated and session.holds(guild_id):
                return session
        return None

    def shard_sessions(self) -> dict[int, GatewaySession]:
        """Shard id -> its newest valid session (sessions that identified with a shard)."""
        found: dict[int, GatewaySession] = {}
        for session in self.sessions.values():
            if session.shard is not None and not session.invalidated:
                found[session.shard[0]] = session
        return found

    def dispatch(self, name: str, data: Json, *, session: GatewaySession | None = None) -> int:
        """Send a DISPATCH event to the bot (buffered for RESUME if it is offline): to
        ``session``, else to the session holding the shard of the guild the event is about.

        An event for a shard no session ever held is dropped (that shard's READY will carry
        the guild), except an interaction, which nobody could answer: AssertionError."""
        if session is None and self.sessions:
            session = self.session_for(event_guild(name, data))
            if session is None:
                guild = event_guild(name, data)
                if name == "INTERACTION_CREATE":
                    raise AssertionError(
                        f"cannot dispatch {name}: no gateway session holds the shard of guild"
                        f" {guild}"
                    )
                return 0
        if session is None:
            raise AssertionError(f"cannot dispatch {name}: the bot never identified on the gateway")
        session.seq += 1
        session.events.append((session.seq, name, data))
        if session.connection is not None:
            session.connection.send({"op": DISPATCH, "t": name, "s": session.seq, "d": data})
        return session.seq

    def intents(self) -> int:
        return self.current.intents if self.current else 0

    async def drop(self, code: int | None = 4000) -> None:
        """Break the bot's connection: close with ``code`` (resumable by default),
        or with ``code=None`` cut the TCP stream without a close frame."""
        conn = self.connection
        if conn is None:
            raise AssertionError("no live gateway connection to drop")
        if code is None:
            conn.abort()
        else:
            await conn.close(code, "Fake Discord dropped the connection.")

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes and RESUMEs."""
        conn = self.connection
        if conn is None:
            raise AssertionError("no live gateway connection")
        conn.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9; with ``resumable=False`` the bot must IDENTIFY again."""
        conn = self.connection
        if conn is None or self.current is None:
            raise AssertionError("no live gateway connection")
        if not resumable:
            self.current.invalidated = True
        conn.send({"op": INVALID_SESSION, "d": resumable, "s": None, "t": None})

    async def close_all(self) -> None:
        for conn in self.connections:
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await conn.close(1001, "Fake Discord shutting down.")
