"""The fake Discord "world": guilds, users, messages, commands and every record tests read.

Everything lives in one :class:`FakeState` owned by the server. Every mutation calls
:meth:`FakeState.changed`, which wakes whoever is waiting in :meth:`FakeState.wait_until`,
so tests await events instead of sleeping.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .models import (
    EPHEMERAL,
    LOADING,
    AttachmentRecord,
    ChannelRecord,
    GuildRecord,
    Json,
    MemberRecord,
    MessageRecord,
    UserRecord,
)
from .snowflake import SnowflakeFactory, iso_now

if TYPE_CHECKING:
    from .interactions import SentInteraction

T = TypeVar("T")

MessageListener = Callable[[str, MessageRecord], None]

#: Upper bound between two evaluations of a ``wait_until`` condition.
RECHECK_INTERVAL = 0.02


@dataclass
class RequestRecord:
    """One REST request the client made, as the server saw and answered it."""

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    status: int
    body: Any = None
    fault: bool = False
    at: float = field(default_factory=time.monotonic)

    def __str__(self) -> str:
        tag = " (injected)" if self.fault else ""
        return f"{self.method} {self.path} -> {self.status}{tag}"


@dataclass
class CallbackRecord:
    """One ``POST /interactions/{id}/{token}/callback`` attempt (accepted or rejected)."""

    type: int
    data: Json
    status: int
    error: Json | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def accepted(self) -> bool:
        return self.status < 300


class CommandRegistry:
    """Application commands the bot synced, globally and per guild.

    Ids are stable per ``(name, type)`` across re-syncs, like on Discord.
    """

    def __init__(self, ids: SnowflakeFactory, application_id: int) -> None:
        self._ids = ids
        self._application_id = application_id
        self.global_commands: list[Json] = []
        self.guild_commands: dict[int, list[Json]] = {}
        self.sync_count = 0
        self._known_ids: dict[tuple[int | None, str, int], int] = {}

    def replace(self, guild_id: int | None, commands: list[Json]) -> list[Json]:
        """Bulk overwrite (what ``CommandTree.sync`` does); returns the stored list."""
        stored: list[Json] = []
        for cmd in commands:
            item = copy.deepcopy(cmd)
            key = (guild_id, item["name"], int(item.get("type", 1)))
            cmd_id = self._known_ids.setdefault(key, self._ids.next())
            item.update(
                id=str(cmd_id),
                application_id=str(self._application_id),
                version=str(self._ids.next()),
                type=int(item.get("type", 1)),
            )
            item.setdefault("description", "")
            perms = item.get("default_member_permissions")
            # discord.py sends an int; Discord stores and returns a string.
            item["default_member_permissions"] = None if perms is None else str(perms)
            item.setdefault("nsfw", False)
            if guild_id is not None:
                item["guild_id"] = str(guild_id)
            stored.append(item)
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        self.sync_count += 1
        return copy.deepcopy(stored)

    def find(self, name: str, guild_id: int | None, type: int = 1) -> Json | None:
        """The definition a user in ``guild_id`` would invoke (guild ones shadow global)."""
        pools = [self.guild_commands.get(guild_id, [])] if guild_id is not None else []
        pools.append(self.global_commands)
        for pool in pools:
            for cmd in pool:
                if cmd["name"] == name and int(cmd.get("type", 1)) == type:
                    return cmd
        return None

    def names(self, guild_id: int | None = None) -> list[str]:
        pool = self.global_commands + (self.guild_commands.get(guild_id, []) if guild_id else [])
        return [c["name"] for c in pool]


class FakeState:
    """All data of the fake server plus the change notification used for waiting."""

    def __init__(self, *, base_url: str = "") -> None:
        self.ids = SnowflakeFactory()
        self.base_url = base_url
        self.bot = UserRecord(id=self.ids.next(), username="bot", bot=True)
        self.application_id = self.bot.id
        self.application_name = "bot"
        #: What ``GET /gateway/bot`` recommends as ``shards`` (discord.py's AutoShardedClient
        #: asks it when it is given no shard_count), and IDENTIFYs so far (session_start_limit).
        self.recommended_shards = 1
        self.identifies = 0
        self.users: dict[int, UserRecord] = {self.bot.id: self.bot}
        self.guilds: dict[int, GuildRecord] = {}
        self.dm_channels: dict[int, ChannelRecord] = {}
        self.messages: dict[int, MessageRecord] = {}
        self.cdn: dict[int, AttachmentRecord] = {}
        self.commands = CommandRegistry(self.ids, self.application_id)
        self.requests: list[RequestRecord] = []
        self.interactions: dict[int, SentInteraction] = {}
        self.message_listeners: list[MessageListener] = []
        self._event = asyncio.Event()

    # -- waiting ---------------------------------------------------------------------

    def changed(self) -> None:
        """Wake every waiter so it re-checks its condition."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(
        self,
        check: Callable[[], T | None],
        *,
        within: float,
        describe: Callable[[], str],
    ) -> T:
        """Return ``check()``'s first non-None result.

        ``check`` runs again on every change to the fake's state, and at least every
        ``RECHECK_INTERVAL`` seconds so conditions on the bot's side (its cache, its
        own counters) are noticed promptly too. Raises ``AssertionError(describe())``
        if nothing comes within ``within`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(describe())
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), min(remaining, RECHECK_INTERVAL))
            except TimeoutError:
                pass

    # -- lookups ---------------------------------------------------------------------

    def channel(self, channel_id: int) -> ChannelRecord | None:
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
        return self.dm_channels.get(channel_id)

    def member(self, guild_id: int, user_id: int) -> MemberRecord | None:
        guild = self.guilds.get(guild_id)
        return guild.members.get(user_id) if guild else None

    def interaction_by_token(self, token: str) -> SentInteraction | None:
        for record in self.interactions.values():
            if record.token == token:
                return record
        return None

    def channel_messages(self, channel_id: int) -> list[MessageRecord]:
        return [m for m in self.messages.values() if m.channel_id == channel_id]

    # -- mutations -------------------------------------------------------------------

    def store_attachment(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        description: str | None = None,
        ephemeral: bool = False,
    ) -> AttachmentRecord:
        """Keep the bytes and give them a CDN URL served by the fake."""
        att_id = self.ids.next()
        url = f"{self.base_url}/attachments/{channel_id}/{att_id}/{filename}"
        record = AttachmentRecord(
            id=att_id,
            filename=filename,
            data=data,
            url=url,
            content_type=content_type,
            description=description,
            ephemeral=ephemeral,
        )
        self.cdn[att_id] = record
        return record

    def add_message(self, message: MessageRecord) -> MessageRecord:
        self.messages[message.id] = message
        channel = self.channel(message.channel_id)
        if channel is not None:
            channel.last_message_id = message.id
        self._emit("create", message)
        return message

    def edit_message(
        self, message: MessageRecord, data: Json, attachments: list[AttachmentRecord] | None
    ) -> None:
        """Apply an edit body; keys absent from ``data`` are left as they were."""
        message.history.append(message.snapshot())
        if "content" in data:
            message.content = data["content"] or ""
        if "embeds" in data:
            message.embeds = copy.deepcopy(data["embeds"] or [])
        if "components" in data:
            message.components = copy.deepcopy(data["components"] or [])
        if "flags" in data and data["flags"] is not None:
            keep = message.flags & EPHEMERAL
            message.flags = int(data["flags"]) | keep
        if attachments is not None:
            message.attachments = attachments
        message.flags &= ~LOADING
        message.edited_timestamp = iso_now()
        self._emit("update", message)

    def delete_message(self, message: MessageRecord) -> None:
        message.deleted = True
        self._emit("delete", message)

    def _emit(self, kind: str, message: MessageRecord) -> None:
        for listener in self.message_listeners:
            listener(kind, message)
        self.changed()
