"""Who is asking, where, and in which language: resolved once per interaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.core.models import Lang, Server, User
from bot.discord._i18n import reply_language

if TYPE_CHECKING:
    from bot.discord._bot import InterviewBot

PLATFORM = "discord"


@dataclass(frozen=True, slots=True)
class Context:
    user: User
    lang: Lang
    server: Server | None

    @property
    def server_id(self) -> int | None:
        return self.server.id if self.server else None


async def context_of(bot: InterviewBot, interaction: discord.Interaction) -> Context:
    user = await bot.services.identities.user(
        PLATFORM, str(interaction.user.id), interaction.user.name
    )
    server = None
    if interaction.guild_id is not None:
        name = interaction.guild.name if interaction.guild else ""
        server = await bot.services.identities.server(PLATFORM, str(interaction.guild_id), name)
    return Context(user=user, lang=reply_language(user, interaction), server=server)


def can_manage_server(interaction: discord.Interaction) -> bool:
    """Manage Server, checked on our side from the permissions Discord sent for the member."""
    permissions = interaction.permissions
    return interaction.guild_id is not None and (
        permissions.manage_guild or permissions.administrator
    )


async def refuse_without_manage_server(interaction: discord.Interaction, ctx: Context) -> bool:
    """Tell the user (once, ephemerally) that this needs Manage Server; True if refused."""
    if can_manage_server(interaction) and ctx.server is not None:
        return False
    text = (
        "⚠️ 需要“管理服务器”权限才能执行此操作。"
        if ctx.lang == "zh"
        else "⚠️ You need the Manage Server permission for this."
    )
    await interaction.response.send_message(text, ephemeral=True)
    return True
