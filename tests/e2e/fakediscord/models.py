"""Plain records for everything the fake server stores, and their Discord JSON shapes.

The ``payload()`` methods produce exactly the fields discord.py 2.x reads when it
builds its own objects (``User``, ``Member``, ``Role``, ``TextChannel``, ``Guild``,
``Message``, ``Attachment``); optional fields are filled with Discord's defaults.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import permissions as perms
from .snowflake import iso_now

Json = dict[str, Any]

EPHEMERAL = 1 << 6
LOADING = 1 << 7
COMPONENTS_V2 = 1 << 15


@dataclass
class UserRecord:
    """A Discord account (a human or the bot)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    def payload(self) -> Json:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class RoleRecord:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    managed: bool = False
    hoist: bool = False
    mentionable: bool = False

    def payload(self) -> Json:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "description": None,
            "flags": 0,
        }


@dataclass
class ChannelRecord:
    """A guild channel (text=0, category=4) or a DM channel (1)."""

    id: int
    name: str
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    permission_overwrites: list[Json] = field(default_factory=list)
    recipients: list[UserRecord] = field(default_factory=list)
    last_message_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> Json:
        if self.type == 1:
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "recipients": [u.payload() for u in self.recipients],
                "flags": 0,
            }
        data: Json = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id) if self.guild_id else None,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": copy.deepcopy(self.permission_overwrites),
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": self.nsfw,
            "flags": 0,
        }
        if self.type == 0:
            data.update(
                topic=self.topic,
                rate_limit_per_user=0,
                last_message_id=str(self.last_message_id) if self.last_message_id else None,
                default_thread_rate_limit_per_user=0,
            )
        return data


@dataclass
class MemberRecord:
    """A user's membership in one guild."""

    user: UserRecord
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    def payload(self, *, with_user: bool = True) -> Json:
        data: Json = {
            "roles": [str(r) for r in self.role_ids],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass
class GuildRecord:
    """A guild with its roles, channels and members."""

    id: int
    name: str
    owner_id: int
    preferred_locale: str = "en-US"
    roles: dict[int, RoleRecord] = field(default_factory=dict)
    channels: dict[int, ChannelRecord] = field(default_factory=dict)
    members: dict[int, MemberRecord] = field(default_factory=dict)
    joined_at: str = field(default_factory=iso_now)

    @property
    def everyone(self) -> RoleRecord:
        return self.roles[self.id]

    def channel(self, name_or_id: str | int) -> ChannelRecord:
        """Look a channel up by id or by name (with or without a leading ``#``)."""
        for ch in self.channels.values():
            if ch.id == name_or_id or ch.name == str(name_or_id).lstrip("#"):
                return ch
        names = ", ".join(c.name for c in self.channels.values())
        raise KeyError(f"guild {self.name!r} has no channel {name_or_id!r} (has: {names})")

    def role(self, name_or_id: str | int) -> RoleRecord:
        for role in self.roles.values():
            if role.id == name_or_id or role.name == name_or_id:
                return role
        raise KeyError(f"guild {self.name!r} has no role {name_or_id!r}")

    @property
    def text_channels(self) -> list[ChannelRecord]:
        return [c for c in self.channels.values() if c.type == 0]

    def guild_permissions(self, user_id: int) -> int:
        member = self.members[user_id]
        return perms.base_permissions(
            is_owner=user_id == self.owner_id,
            everyone=self.everyone.permissions,
            role_permissions=(
                self.roles[r].permissions for r in member.role_ids if r in self.roles
            ),
        )

    def channel_permissions(self, user_id: int, channel_id: int) -> int:
        member = self.members[user_id]
        channel = self.channels[channel_id]
        overwrites = list(channel.permission_overwrites)
        if channel.parent_id and not overwrites and channel.parent_id in self.channels:
            overwrites = list(self.channels[channel.parent_id].permission_overwrites)
        return perms.apply_overwrites(
            self.guild_permissions(user_id),
            guild_id=self.id,
            member_id=user_id,
            member_role_ids=member.role_ids,
            overwrites=overwrites,
        )

    def payload(self, *, include_all_members: bool) -> Json:
        """The GUILD_CREATE payload (a full, available guild)."""
        members = [m.payload() for m in self.members.values() if include_all_members or m.user.bot]
        text = self.text_channels
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "system_channel_id": str(text[0].id) if text else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "preferred_locale": self.preferred_locale,
            "features": [],
            "max_members": 500000,
            "max_presences": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "application_id": None,
            "incidents_data": None,
            "joined_at": self.joined_at,
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [c.payload() for c in self.channels.values()],
            "threads": [],
            "members": members,
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@dataclass
class AttachmentRecord:
    """A file uploaded with a message (or by a user for an attachment option)."""

    id: int
    filename: str
    data: bytes
    url: str
    content_type: str = "application/octet-stream"
    description: str | None = None
    ephemeral: bool = False

    @property
    def size(self) -> int:
        return len(self.data)

    def payload(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass
class MessageRecord:
    """A stored message, updated in place on edits (old versions go to ``history``).

    ``source`` says how it was created: ``"callback"`` (interaction response),
    ``"followup"``, ``"channel"`` (``POST /channels/{id}/messages``) or ``"user"``.
    """

    id: int
    channel_id: int
    guild_id: int | None
    author: UserRecord
    source: str
    content: str = ""
    embeds: list[Json] = field(default_factory=list)
    components: list[Json] = field(default_factory=list)
    attachments: list[AttachmentRecord] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    tts: bool = False
    interaction_id: int | None = None
    interaction_metadata: Json | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    deleted: bool = False
    history: list[Json] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True for the placeholder of a deferred ("thinking…") response."""
        return bool(self.flags & LOADING)

    @property
    def edits(self) -> int:
        return len(self.history)

    @property
    def text(self) -> str:
        """Content plus every embed's title, description, field and footer text."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title", ""), embed.get("description", "")]
            for f in embed.get("fields", []):
                parts += [f.get("name", ""), f.get("value", "")]
            parts.append((embed.get("footer") or {}).get("text", ""))
            parts.append((embed.get("author") or {}).get("name", ""))
        parts += [str(c.get("content", "")) for c in iter_components(self.components)]
        return "\n".join(p for p in parts if p)

    def components_by_custom_id(self) -> dict[str, Json]:
        return {c["custom_id"]: c for c in iter_components(self.components) if "custom_id" in c}

    @property
    def custom_ids(self) -> list[str]:
        return list(self.components_by_custom_id())

    def attachment(self, filename: str) -> AttachmentRecord:
        for a in self.attachments:
            if a.filename == filename:
                return a
        have = [a.filename for a in self.attachments]
        raise KeyError(f"message {self.id} has no attachment {filename!r} (has {have})")

    def payload(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": self.tts,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [a.payload() for a in self.attachments],
            "embeds": copy.deepcopy(self.embeds),
            "components": copy.deepcopy(self.components),
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = copy.deepcopy(self.interaction_metadata)
        return data

    def snapshot(self) -> Json:
        """The current version, as stored in ``history`` before an edit."""
        snap = self.payload()
        snap["attachments"] = [a.filename for a in self.attachments]
        return snap

    def __repr__(self) -> str:
        flags = " ephemeral" if self.ephemeral else ""
        flags += " loading" if self.loading else ""
        flags += " deleted" if self.deleted else ""
        text = self.text.replace("\n", " | ")
        if len(text) > 80:
            text = text[:77] + "..."
        files = f" files={[a.filename for a in self.attachments]}" if self.attachments else ""
        ids = f" custom_ids={self.custom_ids}" if self.components else ""
        return (
            f"<Message {self.id} #{self.channel_id} by {self.author.username} via {self.source}"
            f"{flags} {text!r}{files}{ids}>"
        )


def iter_components(components: list[Json]) -> Iterator[Json]:
    """Every component, depth first, through rows, containers, sections and labels."""
    for comp in components:
        yield comp
        yield from iter_components(comp.get("components", []))
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, dict):
                yield from iter_components([child])
