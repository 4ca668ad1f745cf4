"""The test-facing driver: :class:`FakeDiscord`, the server plus its world, records and
waits. People acting in it are :class:`~.users.FakeUser` objects (``fake.user("alice")``).

Example::

    async with FakeDiscord(heartbeat_interval_ms=500) as fake:
        undo = patch_discord(fake.api_base, fake.gateway_url)
        async with running_client(bot, fake):
            alice = fake.user("alice")
            reply = await alice.slash("question", topic="cnn")
            await alice.click(reply, "reveal")
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Self, TypeVar

from aiohttp import web

from . import permissions as perms
from .endpoints import Endpoints
from .faults import Fault, FaultInjector
from .gateway import DIRECT_MESSAGES_INTENT, GUILD_MESSAGES_INTENT, GatewayServer, GatewaySession
from .interactions import DEFAULT_TIMEOUT, SentInteraction
from .models import (
    AttachmentRecord,
    ChannelRecord,
    GuildRecord,
    Json,
    MemberRecord,
    MessageRecord,
    RoleRecord,
    UserRecord,
)
from .responses import json_response
from .rest import RestApi
from .state import FakeState, RequestRecord
from .users import FakeUser

T = TypeVar("T")

MESSAGE_CONTENT_INTENT = 1 << 15
GUILD_MEMBERS_INTENT = 1 << 1


class FakeDiscord:
    """A local Discord (REST + gateway) for one bot, with a small default world.

    Default world (``default_world=True``): guild "Test Guild" with text channel
    ``#general``; users ``owner`` (guild owner), ``alice`` (role "Moderator", which
    has Manage Server) and ``bob`` (plain member); the bot is a member with a managed
    role. Use :meth:`add_guild`, :meth:`add_channel`, :meth:`add_role`,
    :meth:`add_user` for more.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "InterviewBot",
        heartbeat_interval_ms: int = 41_250,
        interaction_deadline: float | None = None,
        default_world: bool = True,
        host: str = "127.0.0.1",
        shards: int = 1,
    ) -> None:
        self.token = token
        self.host = host
        self.port = 0
        #: Seconds the bot has for its first callback before 404 Unknown interaction
        #: (Discord: 3); ``None`` disables the check.
        self.interaction_deadline = interaction_deadline
        self.state = FakeState()
        self.state.bot.username = bot_name
        self.state.application_name = bot_name
        self.state.recommended_shards = shards  # GET /gateway/bot's `shards`
        self.faults = FaultInjector()
        self.rest = RestApi(self.state, self.faults, token=token)
        Endpoints(self.state, gateway_url=lambda: self.gateway_url).register(self.rest)
        self.gateway = GatewayServer(
            self.state,
            token=token,
            heartbeat_interval_ms=heartbeat_interval_ms,
            url=lambda: self.gateway_url,
            guild_payloads=self._guild_payloads,
        )
        self.state.message_listeners.append(self._on_message_event)
        self._users: dict[str, FakeUser] = {}
        self._runner: web.AppRunner | None = None
        if default_world:
            self._build_default_world()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/v10/{tail:.*}", self.rest.handle)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.state.base_url = self.url
        return self

    async def close(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE`` / ``DISCORD_API_BASE``."""
        return f"{self.url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` / ``DISCORD_GATEWAY_URL``."""
        return f"ws://{self.host}:{self.port}/gateway"

    # -- the world -------------------------------------------------------------------------

    @property
    def bot(self) -> UserRecord:
        return self.state.bot

    @property
    def application_id(self) -> int:
        return self.state.application_id

    @property
    def guild(self) -> GuildRecord:
        """The first guild (the default one)."""
        if not self.state.guilds:
            raise AssertionError("no guilds; call add_guild() first")
        return next(iter(self.state.guilds.values()))

    @property
    def channel(self) -> ChannelRecord:
        """The first text channel of the default guild."""
        return self.guild.text_channels[0]

    def user(self, name: str) -> FakeUser:
        try:
            return self._users[name]
        except KeyError:
            raise KeyError(f"no user {name!r}; have {sorted(self._users)}") from None

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: FakeUser | None = None,
        channels: tuple[str, ...] = ("general",),
        locale: str = "en-US",
        bot_permissions: int = perms.DEFAULT_BOT,
        shard: tuple[int, int] | None = None,
    ) -> GuildRecord:
        """A guild (its GUILD_CREATE goes to the bot's session holding it); ``shard=(id,
        count)``: an id that Discord's rule ``(id >> 22) % count`` puts on that shard."""
        ids = self.state.ids
        owner_record = owner.record if owner else self.bot
        guild_id = ids.next() if shard is None else ids.next_on_shard(*shard)
        guild = GuildRecord(
            id=guild_id, name=name, owner_id=owner_record.id, preferred_locale=locale
        )
        guild.roles[guild.id] = RoleRecord(guild.id, "@everyone", perms.DEFAULT_EVERYONE)
        bot_role = RoleRecord(
            ids.next(), self.bot.username, bot_permissions, position=1, managed=True
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[self.bot.id] = MemberRecord(self.bot, guild.id, [bot_role.id])
        if owner is not None:
            guild.members[owner.id] = MemberRecord(owner.record, guild.id)
        for position, channel_name in enumerate(channels):
            channel = ChannelRecord(
                id=ids.next(), name=channel_name, guild_id=guild.id, position=position
            )
            guild.channels[channel.id] = channel
        self.state.guilds[guild.id] = guild
        if self.gateway.current is not None:
            self.gateway.dispatch(
                "GUILD_CREATE", guild.payload(include_all_members=self._members_intent())
            )
        return guild

    def add_channel(
        self,
        name: str,
        *,
        guild: GuildRecord | None = None,
        type: int = 0,
        parent: ChannelRecord | None = None,
        topic: str | None = None,
        overwrites: list[Json] | None = None,
        position: int | None = None,
    ) -> ChannelRecord:
        guild = guild or self.guild
        channel = ChannelRecord(
            id=self.state.ids.next(),
            name=name,
            type=type,
            guild_id=guild.id,
            position=len(guild.channels) if position is None else position,
            topic=topic,
            parent_id=parent.id if parent else None,
            permission_overwrites=list(overwrites or []),
        )
        guild.channels[channel.id] = channel
        if self.gateway.current is not None:
            self.gateway.dispatch("CHANNEL_CREATE", channel.payload())
        return channel

    def add_role(
        self, name: str, permissions: int, *, guild: GuildRecord | None = None
    ) -> RoleRecord:
        guild = guild or self.guild
        role = RoleRecord(self.state.ids.next(), name, permissions, position=len(guild.roles))
        guild.roles[role.id] = role
        if self.gateway.current is not None:
            self.gateway.dispatch(
                "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()}
            )
        return role

    def add_user(
        self,
        name: str,
        *,
        guilds: list[GuildRecord] | None = None,
        roles: tuple[str, ...] = (),
        locale: str = "en-US",
        global_name: str | None = None,
    ) -> FakeUser:
        """Create a user and make them a member of ``guilds`` (default: every guild)."""
        record = UserRecord(self.state.ids.next(), name, global_name=global_name)
        self.state.users[record.id] = record
        user = FakeUser(self, record, locale)
        self._users[name] = user
        for guild in guilds if guilds is not None else list(self.state.guilds.values()):
            member = MemberRecord(record, guild.id, [guild.role(r).id for r in roles])
            guild.members[record.id] = member
            if self.gateway.current is not None and self._members_intent():
                self.gateway.dispatch(
                    "GUILD_MEMBER_ADD", {**member.payload(), "guild_id": str(guild.id)}
                )
        return user

    def set_roles(
        self, user: FakeUser, roles: tuple[str, ...], *, guild: GuildRecord | None = None
    ) -> None:
        """Replace a member's roles (dispatches GUILD_MEMBER_UPDATE)."""
        guild = guild or self.guild
        member = user.member(guild)
        member.role_ids = [guild.role(r).id for r in roles]
        if self.gateway.current is not None:
            self.gateway.dispatch(
                "GUILD_MEMBER_UPDATE", {**member.payload(), "guild_id": str(guild.id)}
            )

    def seed_bot_message(
        self,
        content: str = "",
        *,
        components: list[Json] | None = None,
        embeds: list[Json] | None = None,
        where: ChannelRecord | None = None,
    ) -> MessageRecord:
        """Store a message "the bot posted earlier" (e.g. before a restart) without
        telling the bot -- the way to test persistent views."""
        channel = where or self.channel
        msg = MessageRecord(
            id=self.state.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=self.bot,
            source="seed",
            content=content,
            components=list(components or []),
            embeds=list(embeds or []),
        )
        self.state.messages[msg.id] = msg
        self.state.changed()
        return msg

    def _build_default_world(self) -> None:
        owner_record = UserRecord(self.state.ids.next(), "owner")
        self.state.users[owner_record.id] = owner_record
        owner = FakeUser(self, owner_record, "en-US")
        self._users["owner"] = owner
        self.add_guild("Test Guild", owner=owner)
        self.add_role("Moderator", perms.DEFAULT_MODERATOR)
        self.add_user("alice", roles=("Moderator",))
        self.add_user("bob")

    # -- records -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every REST request (method, path, route template, status, body)."""
        return self.state.requests

    @property
    def unknown_routes(self) -> list[RequestRecord]:
        return self.rest.unknown_routes

    @property
    def interactions(self) -> list[SentInteraction]:
        return list(self.state.interactions.values())

    @property
    def messages(self) -> list[MessageRecord]:
        """Every message ever created, oldest first (deleted ones have ``deleted``)."""
        return list(self.state.messages.values())

    def channel_messages(
        self, channel: ChannelRecord | None = None, *, include_ephemeral: bool = True
    ) -> list[MessageRecord]:
        channel = channel or self.channel
        return [
            m
            for m in self.state.channel_messages(channel.id)
            if not m.deleted and (include_ephemeral or not m.ephemeral)
        ]

    @property
    def attachments(self) -> list[AttachmentRecord]:
        """Every file the bot attached to a message (current versions of messages)."""
        return [a for m in self.messages if m.author.bot for a in m.attachments]

    @property
    def global_commands(self) -> list[Json]:
        return self.state.commands.global_commands

    def guild_commands(self, guild: GuildRecord | None = None) -> list[Json]:
        return self.state.commands.guild_commands.get((guild or self.guild).id, [])

    def unanswered_interactions(self) -> list[SentInteraction]:
        return [i for i in self.interactions if not i.acknowledged]

    def assert_clean(self, *, allow_error_statuses: bool = False) -> None:
        """No unknown routes, every interaction answered, no unexpected 4xx/5xx."""
        problems = []
        if self.unknown_routes:
            problems.append(f"unknown routes hit: {[str(r) for r in self.unknown_routes]}")
        if self.unanswered_interactions():
            problems.append(f"unanswered interactions: {self.unanswered_interactions()}")
        if not allow_error_statuses:
            bad = [str(r) for r in self.requests if r.status >= 400 and not r.fault]
            if bad:
                problems.append(f"error responses: {bad}")
        if problems:
            raise AssertionError("; ".join(problems))

    # -- faults --------------------------------------------------------------------------

    def fail_next(
        self,
        route: str,
        *,
        status: int = 429,
        times: int = 1,
        retry_after: float = 0.1,
        is_global: bool = False,
    ) -> Fault:
        """Shortcut for ``fake.faults.fail_next`` (see :class:`FaultInjector`)."""
        return self.faults.fail_next(
            route, status=status, times=times, retry_after=retry_after, is_global=is_global
        )

    # -- waiting -------------------------------------------------------------------------

    async def wait_until(
        self,
        check: Callable[[], T | None],
        *,
        within: float = DEFAULT_TIMEOUT,
        describe: str | Callable[[], str] = "",
    ) -> T:
        """Wait until ``check()`` returns something other than None (re-checked on every change)."""
        text = describe if callable(describe) else (lambda: str(describe or "condition not met"))
        return await self.state.wait_until(check, within=within, describe=text)

    async def wait_ready(self, within: float = DEFAULT_TIMEOUT) -> GatewaySession:
        """Wait until the bot identified and READY + every GUILD_CREATE went out on the wire."""

        def check() -> GatewaySession | None:
            session = self.gateway.current
            conn = session.connection if session else None
            if session and conn and session.ready_seq and conn.sent_seq >= session.ready_seq:
                return session
            return None

        return await self.wait_until(
            check,
            within=within,
            describe=lambda: (
                f"bot not ready after {within}s: {self.gateway.connection_count} connections, "
                f"{self.gateway.identify_count} identifies; "
                f"requests: {[str(r) for r in self.requests]}"
            ),
        )

    async def wait_shards_ready(
        self, shard_ids: range | list[int], count: int, within: float = DEFAULT_TIMEOUT
    ) -> dict[int, GatewaySession]:
        """Wait until each of ``shard_ids`` (of ``count``) has a session that identified with
        that shard and whose READY + GUILD_CREATEs went out on a live connection."""

        def ready(session: GatewaySession | None) -> bool:
            conn = session.connection if session else None
            return bool(
                session and conn and session.ready_seq and conn.sent_seq >= session.ready_seq
            )

        def check() -> dict[int, GatewaySession] | None:
            found = self.gateway.shard_sessions()
            wanted = {i: found.get(i) for i in shard_ids}
            if all(ready(s) and s is not None and s.shard == [i, count] for i, s in wanted.items()):
                return {i: s for i, s in wanted.items() if s is not None}
            return None

        return await self.wait_until(
            check,
            within=within,
            describe=lambda: (
                f"shards {list(shard_ids)} of {count} not all ready after {within}s: sessions "
                f"{[(s.shard, s.connection is not None) for s in self.gateway.sessions.values()]}"
            ),
        )

    async def wait_resumed(self, count: int = 1, within: float = DEFAULT_TIMEOUT) -> None:
        await self.wait_until(
            lambda: (
                True if self.gateway.resume_count >= count and self.gateway.connection else None
            ),
            within=within,
            describe=lambda: (
                f"expected {count} RESUMEs, saw {self.gateway.resume_count} "
                f"({self.gateway.identify_count} identifies, "
                f"{self.gateway.connection_count} connections)"
            ),
        )

    async def wait_identified(self, count: int = 1, within: float = DEFAULT_TIMEOUT) -> None:
        await self.wait_until(
            lambda: True if self.gateway.identify_count >= count else None,
            within=within,
            describe=lambda: f"expected {count} IDENTIFYs, saw {self.gateway.identify_count}",
        )

    async def wait_for_message(
        self,
        predicate: Callable[[MessageRecord], bool] | None = None,
        *,
        channel: ChannelRecord | None = None,
        within: float = DEFAULT_TIMEOUT,
    ) -> MessageRecord:
        """The newest live message (in ``channel`` if given) matching ``predicate``.

        Edits count: a message that is edited into a matching state is returned.
        """

        def check() -> MessageRecord | None:
            for msg in reversed(self.messages):
                if msg.deleted or (channel is not None and msg.channel_id != channel.id):
                    continue
                if predicate is None or predicate(msg):
                    return msg
            return None

        return await self.wait_until(
            check,
            within=within,
            describe=lambda: (
                f"no matching message within {within}s; messages: {self.messages[-10:]}"
            ),
        )

    async def wait_for_request(
        self, predicate: Callable[[RequestRecord], bool], *, within: float = DEFAULT_TIMEOUT
    ) -> RequestRecord:
        return await self.wait_until(
            lambda: next((r for r in self.requests if predicate(r)), None),
            within=within,
            describe=lambda: (
                f"no matching request within {within}s; saw {[str(r) for r in self.requests]}"
            ),
        )

    async def wait_for_commands(
        self, *names: str, guild: GuildRecord | None = None, within: float = DEFAULT_TIMEOUT
    ) -> list[Json]:
        """Wait until the bot synced (globally, or to ``guild``) commands including ``names``."""

        def check() -> list[Json] | None:
            pool = self.guild_commands(guild) if guild else self.global_commands
            have = {c["name"] for c in pool}
            synced = self.state.commands.sync_count > 0
            return pool if synced and set(names) <= have else None

        return await self.wait_until(
            check,
            within=within,
            describe=lambda: (
                f"commands {names} not synced; global={self.state.commands.names()} "
                f"guild={[c['name'] for c in self.guild_commands(guild)]}"
            ),
        )

    # -- plumbing ------------------------------------------------------------------------------

    def deliver(self, payload: Json, *, label: str, user: UserRecord) -> SentInteraction:
        """Register ``payload`` as an interaction and dispatch INTERACTION_CREATE."""
        sent = SentInteraction(
            state=self.state,
            payload=payload,
            label=label,
            user=user,
            deliver=lambda p: self.gateway.dispatch("INTERACTION_CREATE", p),
            deadline=self.interaction_deadline,
        )
        self.state.interactions[sent.id] = sent
        sent.redeliver()
        return sent

    def resolve_message(self, message: MessageRecord | SentInteraction | int) -> MessageRecord:
        if isinstance(message, SentInteraction):
            found = message.message
            if found is None:
                raise AssertionError(
                    f"{message.label} has no message (response type {message.response_type})"
                )
            return found
        if isinstance(message, int):
            msg = self.state.messages.get(message)
            if msg is None:
                raise AssertionError(f"no message {message}")
            return msg
        return message

    def _members_intent(self) -> bool:
        return bool(self.gateway.intents() & GUILD_MEMBERS_INTENT)

    def _guild_payloads(self, session: GatewaySession) -> list[Json]:
        return [
            g.payload(include_all_members=session.wants_members())
            for g in self.state.guilds.values()
            if session.holds(g.id)
        ]

    def _on_message_event(self, kind: str, msg: MessageRecord) -> None:
        """Mirror non-ephemeral messages to the bot as MESSAGE_* events, intents permitting."""
        session = self.gateway.current
        if session is None or msg.ephemeral:
            return
        intent = GUILD_MESSAGES_INTENT if msg.guild_id else DIRECT_MESSAGES_INTENT
        if not session.intents & intent:
            return
        if kind == "delete":
            data: Json = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
            self.gateway.dispatch("MESSAGE_DELETE", data)
            return
        data = msg.payload()
        member = self.state.member(msg.guild_id, msg.author.id) if msg.guild_id else None
        if member is not None:
            data["member"] = member.payload(with_user=False)
        if msg.author.id != self.bot.id and not session.intents & MESSAGE_CONTENT_INTENT:
            data.update(content="", embeds=[], attachments=[], components=[])
        self.gateway.dispatch("MESSAGE_CREATE" if kind == "create" else "MESSAGE_UPDATE", data)

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        record = self.state.cdn.get(int(request.match_info["attachment_id"]))
        if record is None or record.filename != request.match_info["filename"]:
            return json_response({"message": "404: Not Found", "code": 0}, 404)
        return web.Response(body=record.data, headers={"Content-Type": record.content_type})
