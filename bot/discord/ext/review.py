"""`/review`: the questions due for this user's spaced-repetition review, most overdue first."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.services.posting import Postings
from bot.core.services.reviews import Reviews
from bot.discord._bot import InterviewBot
from bot.discord._context import context_of
from bot.discord._render import question_embed, question_view, t


class Review(commands.Cog):
    def __init__(self, bot: InterviewBot, *, reviews: Reviews, postings: Postings) -> None:
        self.bot = bot
        self.reviews = reviews
        self.postings = postings

    @app_commands.command(name="review", description="Questions due for your review")
    @app_commands.describe(count="How many (1-10)")
    async def review(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 10] = 3
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        due = await self.reviews.due_reviews(ctx.user, count, ctx.server_id)
        if not due:
            await interaction.response.send_message(
                t(
                    ctx.lang,
                    "Nothing is due for review. Missed questions come back here when "
                    "it is time to see them again.",
                    "目前没有需要复习的题目。答错的题会在合适的时候回到这里。",
                ),
                ephemeral=True,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        for number, served in enumerate(due):
            instance = await self.postings.post(
                served, ctx.server_id, None, ctx.lang, served_to=ctx.user
            )
            embed = question_embed(served, ctx.lang)
            embed.title = f"🔁 {number + 1}/{len(due)} · {embed.title}"
            await interaction.followup.send(
                embed=embed,
                view=question_view(served, instance.id, ctx.lang),
                ephemeral=True,
            )


async def setup(bot: InterviewBot) -> None:
    services = bot.services
    await bot.add_cog(Review(bot, reviews=services.reviews, postings=services.postings))
