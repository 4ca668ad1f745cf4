"""Discord permission bits and the two-step permission computation Discord documents.

Only the bits the fake cares about are named; everything else is still carried
through as plain integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
CHANGE_NICKNAME = 1 << 26
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38

ALL_PERMISSIONS = (1 << 53) - 1

#: What a fresh server grants @everyone (the subset that matters for a text bot).
DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

#: What the bot's managed role gets from a typical invite link.
DEFAULT_BOT = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

#: What the default "Moderator" role adds on top of @everyone.
DEFAULT_MODERATOR = MANAGE_GUILD | MANAGE_MESSAGES | MANAGE_ROLES | MANAGE_CHANNELS


def base_permissions(
    *,
    is_owner: bool,
    everyone: int,
    role_permissions: Iterable[int],
) -> int:
    """Guild-level permissions: @everyone OR every role; owner and admins get all."""
    if is_owner:
        return ALL_PERMISSIONS
    perms = everyone
    for value in role_permissions:
        perms |= value
    if perms & ADMINISTRATOR:
        return ALL_PERMISSIONS
    return perms


def apply_overwrites(
    base: int,
    *,
    guild_id: int,
    member_id: int,
    member_role_ids: Iterable[int],
    overwrites: Iterable[Mapping[str, Any]],
) -> int:
    """Channel-level permissions from guild-level ones (Discord's documented order)."""
    if base & ADMINISTRATOR or base == ALL_PERMISSIONS:
        return ALL_PERMISSIONS
    by_id = {int(o["id"]): o for o in overwrites}
    perms = base
    everyone = by_id.get(guild_id)
    if everyone is not None:
        perms &= ~int(everyone.get("deny", 0))
        perms |= int(everyone.get("allow", 0))
    allow = deny = 0
    for role_id in member_role_ids:
        role_ow = by_id.get(role_id)
        if role_ow is not None and int(role_ow.get("type", 0)) == 0:
            allow |= int(role_ow.get("allow", 0))
            deny |= int(role_ow.get("deny", 0))
    perms = (perms & ~deny) | allow
    member_ow = by_id.get(member_id)
    if member_ow is not None and int(member_ow.get("type", 1)) == 1:
        perms &= ~int(member_ow.get("deny", 0))
        perms |= int(member_ow.get("allow", 0))
    if not perms & VIEW_CHANNEL:
        return 0
    return perms
