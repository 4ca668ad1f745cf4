"""`/stats` and `/leaderboard`."""

from __future__ import annotations

import asyncio
import io
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.models import Period, Scope
from bot.core.services.boards import Boards
from bot.core.services.identities import Identities
from bot.core.services.reviews import Reviews
from bot.discord._bot import InterviewBot
from bot.discord._context import PLATFORM, context_of
from bot.discord._render import leaderboard_embed, stats_embed, t
from bot.discord._topics import Topic
from bot.shared.charts import stats_chart


class Stats(commands.Cog):
    def __init__(
        self, bot: InterviewBot, *, identities: Identities, boards: Boards, reviews: Reviews
    ) -> None:
        self.bot = bot
        self.identities = identities
        self.boards = boards
        self.reviews = reviews

    @app_commands.command(name="stats", description="Accuracy and points by topic, streak")
    @app_commands.describe(member="Whose stats (default: yours)")
    async def stats(
        self, interaction: discord.Interaction, member: discord.User | None = None
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        user = ctx.user
        if member is not None and member.id != interaction.user.id:
            found = await self.identities.find_user(PLATFORM, str(member.id))
            if found is None:
                await interaction.response.send_message(
                    t(
                        ctx.lang,
                        f"{member.name} has not answered any question yet.",
                        f"{member.name} 还没有答过题。",
                    ),
                    ephemeral=True,
                )
                return
            user = found
        stats = await self.boards.stats(user, ctx.server_id)
        due = await self.reviews.reviews_due(user)
        embed = stats_embed(stats, ctx.lang, due)
        if not stats.by_topic:  # no chart of nothing: the embed says to try /question
            await interaction.response.send_message(embed=embed, ephemeral=True)
            return
        png = await asyncio.to_thread(stats_chart, stats, ctx.lang)
        embed.set_image(url="attachment://stats.png")
        await interaction.response.send_message(
            embed=embed, file=discord.File(io.BytesIO(png), "stats.png"), ephemeral=True
        )

    @app_commands.command(name="leaderboard", description="Top 10 with points, accuracy and streak")
    @app_commands.describe(
        scope="This server or everyone",
        period="This week, this month or all time",
        topic="Only this topic or area",
    )
    async def leaderboard(
        self,
        interaction: discord.Interaction,
        scope: Literal["server", "global"] = "server",
        period: Literal["week", "month", "all"] = "all",
        topic: Topic | None = None,
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        board_scope = Scope(scope) if ctx.server is not None else Scope.GLOBAL
        board = await self.boards.leaderboard(
            board_scope, Period(period), topic, ctx.server_id, ctx.user
        )
        await interaction.response.send_message(embed=leaderboard_embed(board, ctx.lang))


async def setup(bot: InterviewBot) -> None:
    services = bot.services
    await bot.add_cog(
        Stats(
            bot,
            identities=services.identities,
            boards=services.boards,
            reviews=services.reviews,
        )
    )
