"""`/language` and `/help`."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.models import Lang
from bot.core.services.identities import Identities
from bot.discord._bot import InterviewBot
from bot.discord._context import context_of
from bot.discord._i18n import description, reply_language
from bot.discord._render import DESCRIPTION_LIMIT, clip, t


def help_lines(tree: app_commands.CommandTree[Any], lang: Lang) -> list[str]:
    """One line per slash command (subcommands by their full name), generated from the command
    tree with the descriptions Discord shows, so a new command is listed without more work.
    Commands that need Manage Server come last and say so; `/help` itself ends the list."""
    lines: list[tuple[int, str]] = []
    for command in tree.walk_commands(type=discord.AppCommandType.chat_input):
        if not isinstance(command, app_commands.Command):
            continue  # a group: its subcommands are listed
        root = command.root_parent or command
        text = description(command.description, lang)
        manager = root.default_permissions is not None and root.default_permissions.value != 0
        if manager:
            text += t(lang, " (Manage Server)", "（需要“管理服务器”权限）")
        rank = 2 if command.qualified_name == "help" else 1 if manager else 0
        lines.append((rank, f"**/{command.qualified_name}** — {text}"))
    return [line for _, line in sorted(lines, key=lambda item: item[0])]


class Preferences(commands.Cog):
    def __init__(self, bot: InterviewBot, *, identities: Identities) -> None:
        self.bot = bot
        self.identities = identities

    @app_commands.command(name="language", description="Preferred reply language")
    @app_commands.describe(language="auto (your Discord language), en or zh")
    async def language(
        self, interaction: discord.Interaction, language: Literal["auto", "en", "zh"]
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        user = await self.identities.set_language(ctx.user, language)
        lang = reply_language(user, interaction)
        name = {
            "auto": ("auto (your Discord language)", "自动（跟随 Discord 的语言）"),
            "en": ("English", "英文"),
            "zh": ("Chinese", "中文"),
        }[language]
        await interaction.response.send_message(
            t(lang, f"Language set to {name[0]}.", f"语言已设为{name[1]}。"), ephemeral=True
        )

    @app_commands.command(name="help", description="What each command does")
    async def help(self, interaction: discord.Interaction) -> None:
        ctx = await context_of(self.bot, interaction)
        lines = help_lines(self.bot.tree, ctx.lang)
        embed = discord.Embed(
            title=t(ctx.lang, "Deep-learning interview practice", "深度学习面试练习"),
            description=clip("\n".join(lines), DESCRIPTION_LIMIT),
            colour=discord.Colour.blurple(),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: InterviewBot) -> None:
    await bot.add_cog(Preferences(bot, identities=bot.services.identities))
