"""`/language` and `/help`."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord._bot import InterviewBot
from bot.discord._context import context_of
from bot.discord._i18n import reply_language
from bot.discord._render import t

HELP: list[tuple[str, str, str]] = [
    (
        "/question",
        "A question: multiple choice, open, or numeric (computed answer key).",
        "出一道题:选择题、问答题或计算题(答案由程序计算)。",
    ),
    ("/topics", "Topics with question counts and your accuracy.", "各主题的题量和你的正确率。"),
    (
        "/stats",
        "Your points and accuracy by topic, and your streak.",
        "你在各主题的得分、正确率和连续天数。",
    ),
    (
        "/leaderboard",
        "Top 10 of this server or everyone; week, month or all time.",
        "本服务器或全局前 10 名;按周、月或全部时间。",
    ),
    (
        "/check",
        "The numeric checker as a calculator: family, k=v parameters, your answer.",
        "数值题计算器:题型族、k=v 参数、你的答案。",
    ),
    (
        "/language",
        "Reply in English or Chinese (auto follows your Discord language).",
        "用中文或英文回复(auto 跟随 Discord 语言)。",
    ),
    (
        "/admin reset",
        "Reset this server's scores (Manage Server).",
        "重置本服务器分数(需要管理服务器权限)。",
    ),
    (
        "/admin import",
        "Add a YAML question pack for this server (Manage Server).",
        "为本服务器导入 YAML 题库(需要管理服务器权限)。",
    ),
    ("/help", "This list.", "显示本帮助。"),
]


class Preferences(commands.Cog):
    def __init__(self, bot: InterviewBot) -> None:
        self.bot = bot

    @app_commands.command(name="language", description="Preferred reply language")
    @app_commands.describe(language="auto (your Discord language), en or zh")
    async def language(
        self, interaction: discord.Interaction, language: Literal["auto", "en", "zh"]
    ) -> None:
        async with self.bot.work():
            ctx = await context_of(self.bot, interaction)
            user = await self.bot.engine.set_language(ctx.user, language)
            lang = reply_language(user, interaction)
            await interaction.response.send_message(
                t(lang, f"Language set to {language}.", f"语言已设为 {language}。"),
                ephemeral=True,
            )

    @app_commands.command(name="help", description="What each command does")
    async def help(self, interaction: discord.Interaction) -> None:
        async with self.bot.work():
            ctx = await context_of(self.bot, interaction)
            lines = [f"**{name}** — {t(ctx.lang, en, zh)}" for name, en, zh in HELP]
            embed = discord.Embed(
                title=t(ctx.lang, "Deep-learning interview practice", "深度学习面试练习"),
                description="\n".join(lines),
                colour=discord.Colour.blurple(),
            )
            await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: InterviewBot) -> None:
    await bot.add_cog(Preferences(bot))
