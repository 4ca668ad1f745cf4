"""`/check`: the numeric checker of `docs/numeric-checker.md` as a calculator."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import CheckRequestError
from bot.core.ports import Checkers
from bot.discord._bot import InterviewBot
from bot.discord._context import context_of
from bot.discord._render import t
from bot.shared.calculator import CalculatorError, format_result, parse_params


class Check(commands.Cog):
    def __init__(self, bot: InterviewBot, checkers: Checkers) -> None:
        self.bot = bot
        self.checkers = checkers

    @app_commands.command(name="check", description="The numeric checker as a calculator")
    @app_commands.describe(
        family="Question family (autocomplete)",
        params="Parameters as k=v, space-separated",
        answer="Your answer, to grade it",
    )
    async def check(
        self,
        interaction: discord.Interaction,
        family: str,
        params: str = "",
        answer: str | None = None,
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        try:
            values, seed = parse_params(params)
            result = await asyncio.to_thread(self.checkers.check, family, values, answer, seed=seed)
        except (CheckRequestError, CalculatorError) as exc:
            text = exc.text(ctx.lang)
            await interaction.response.send_message(
                t(ctx.lang, f"⚠️ {text}", f"⚠️ 请求有误：{text}"), ephemeral=True
            )
            return
        await interaction.response.send_message(format_result(result, ctx.lang), ephemeral=True)

    @check.autocomplete("family")
    async def _family_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.strip().lower()
        names = [n for n in self.checkers.family_names() if needle in n]
        return [app_commands.Choice(name=n, value=n) for n in names[:25]]


async def setup(bot: InterviewBot) -> None:
    await bot.add_cog(Check(bot, checkers=bot.services.checkers))
