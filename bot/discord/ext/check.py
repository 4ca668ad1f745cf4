"""`/check`: the numeric checker of `numeric-families.md` as a calculator."""

from __future__ import annotations

import asyncio
import json
import shlex
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checkers import CheckRequestError, TorchCheckers
from bot.discord._bot import InterviewBot
from bot.discord._context import context_of
from bot.discord._render import clip, t


def parse_params(text: str) -> tuple[dict[str, Any], int | None]:
    """`k=v k2=[1,2] cell=lstm` -> params (values read as JSON where they parse); `seed=N`
    alone asks for the generated question N instead."""
    params: dict[str, Any] = {}
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise CheckRequestError(f"cannot read the parameters: {exc}") from None
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise CheckRequestError(f"parameters are written k=v, not {word!r}")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    seed = params.pop("seed", None)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise CheckRequestError(f"seed must be a whole number, not {seed!r}")
    return params, seed


class Check(commands.Cog):
    def __init__(self, bot: InterviewBot, checkers: TorchCheckers) -> None:
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
        async with self.bot.work():
            ctx = await context_of(self.bot, interaction)
            try:
                values, seed = parse_params(params)
                result = await asyncio.to_thread(
                    self.checkers.check, family, values, answer, seed=seed
                )
            except CheckRequestError as exc:
                await interaction.response.send_message(
                    t(ctx.lang, f"⚠️ {exc.message}", f"⚠️ 请求有误:{exc.message}"), ephemeral=True
                )
                return
            shown = " ".join(f"{k}={json.dumps(v)}" for k, v in result["params"].items())
            lines = [f"`{family} {clip(shown, 900)}`"]
            if "question" in result:
                lines.append(result["question"][ctx.lang])
            lines.append(
                t(ctx.lang, f"Expected: **{result['display']}**", f"答案:**{result['display']}**")
            )
            if answer is not None:
                lines.append(result["feedback_zh"] if ctx.lang == "zh" else result["feedback"])
            lines.append(result["solution"][ctx.lang])
            await interaction.response.send_message(clip("\n\n".join(lines)), ephemeral=True)

    @check.autocomplete("family")
    async def _family_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.strip().lower()
        names = [n for n in self.checkers.family_names() if needle in n]
        return [app_commands.Choice(name=n, value=n) for n in names[:25]]


async def setup(bot: InterviewBot) -> None:
    checkers = bot.engine.checkers
    if not isinstance(checkers, TorchCheckers):
        raise TypeError("/check needs the torch checkers")
    await bot.add_cog(Check(bot, checkers))
