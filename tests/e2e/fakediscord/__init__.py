"""A fake Discord (REST + gateway) that a real discord.py client talks to over sockets.

Quick start::

    async with FakeDiscord(heartbeat_interval_ms=500) as fake:
        undo = patch_discord(fake.api_base, fake.gateway_url)
        try:
            async with running_client(my_bot, fake):
                reply = await fake.user("alice").slash("ping")
                assert reply.message.content == "pong"
        finally:
            undo()

Modules: :mod:`.driver` (FakeDiscord), :mod:`.users` (FakeUser), :mod:`.interactions`
(SentInteraction, payload building), :mod:`.gateway`, :mod:`.rest` + :mod:`.endpoints`,
:mod:`.faults`, :mod:`.validation`, :mod:`.models`, :mod:`.state`, :mod:`.patch`,
:mod:`.client`.
"""

from .client import running_client
from .driver import FakeDiscord
from .faults import Fault
from .interactions import SentInteraction, Upload
from .models import (
    AttachmentRecord,
    ChannelRecord,
    GuildRecord,
    MessageRecord,
    RoleRecord,
    UserRecord,
)
from .patch import patch_discord
from .state import CallbackRecord, RequestRecord
from .users import FakeUser

__all__ = [
    "AttachmentRecord",
    "CallbackRecord",
    "ChannelRecord",
    "FakeDiscord",
    "FakeUser",
    "Fault",
    "GuildRecord",
    "MessageRecord",
    "RequestRecord",
    "RoleRecord",
    "SentInteraction",
    "Upload",
    "UserRecord",
    "patch_discord",
    "running_client",
]
