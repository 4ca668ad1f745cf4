"""`/demo gan|rnn|vanishing`: the mini demos, run off the event loop by the bot's DemoRunner.

One request: the runner accepts or refuses it at once. A refusal (cooldown, full queue, bad
parameters) is answered ephemerally, saying when to try again. An accepted request is deferred
in public; the reply is edited while the demo waits in the queue and about every quarter while
it runs ("Training the GAN… 50%"), and finally with the PNG and the caption in the user's
language. A timeout, a crash or a bug ends in an edited reply too: the "thinking…" reply is
never left behind.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.models import Lang
from bot.demos import (
    DemoError,
    DemoParams,
    DemoRunner,
    DemoRunnerClosed,
    GanParams,
    RnnParams,
    VanishingParams,
)
from bot.discord._bot import InterviewBot
from bot.discord._context import PLATFORM, context_of
from bot.discord._render import clip
from bot.shared.demo_texts import demo_error_text, progress_text, queued_text
from bot.shared.texts import SOMETHING_WRONG

log = logging.getLogger(__name__)


def field_bounds(model: type[DemoParams], name: str) -> tuple[int, int]:
    """The ``(ge, le)`` bounds of an integer field of a demo's parameter model.

    The slash-command options take their bounds from here, so Discord's client refuses
    out-of-range numbers before they reach the bot, with the same limits as the demos.
    """
    low: Any = None
    high: Any = None
    for item in model.model_fields[name].metadata:
        low = getattr(item, "ge", low)
        high = getattr(item, "le", high)
    if not isinstance(low, int) or not isinstance(high, int):
        raise TypeError(f"{model.__name__}.{name} has no integer bounds")
    return low, high


GAN_STEPS = field_bounds(GanParams, "steps")
RNN_STEPS = field_bounds(RnnParams, "T")
LAYERS = field_bounds(VanishingParams, "layers")
SEED = field_bounds(GanParams, "seed")

GanSteps = app_commands.Range[int, GAN_STEPS[0], GAN_STEPS[1]]
RnnSteps = app_commands.Range[int, RNN_STEPS[0], RNN_STEPS[1]]
Layers = app_commands.Range[int, LAYERS[0], LAYERS[1]]
Seed = app_commands.Range[int, SEED[0], SEED[1]]


def _given(**options: Any) -> dict[str, Any]:
    """The options the user set (the others keep the demo's defaults)."""
    return {key: value for key, value in options.items() if value is not None}


class Demos(
    commands.GroupCog,
    group_name="demo",
    group_description="Mini demos: a GAN training, RNN gradients, vanishing gradients",
):
    def __init__(self, bot: InterviewBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="gan", description="Train a tiny GAN on a 2-D toy distribution")
    @app_commands.describe(
        loss="Generator loss: minimax, nonsaturating (default) or wgan (WGAN-GP)",
        steps="Generator steps (default 1200; wgan allows fewer)",
        seed="Random seed (same seed, same picture)",
    )
    async def gan(
        self,
        interaction: discord.Interaction,
        loss: Literal["minimax", "nonsaturating", "wgan"] | None = None,
        steps: GanSteps | None = None,
        seed: Seed | None = None,
    ) -> None:
        await self._run(interaction, "gan", _given(loss=loss, steps=steps, seed=seed))

    @app_commands.command(
        name="rnn", description="How far back the gradient reaches: RNN, LSTM and GRU"
    )
    @app_commands.describe(
        cell="rnn, lstm, gru or all (default)",
        steps="Sequence length T (default 100)",
        seed="Random seed (same seed, same picture)",
    )
    async def rnn(
        self,
        interaction: discord.Interaction,
        cell: Literal["rnn", "lstm", "gru", "all"] | None = None,
        steps: RnnSteps | None = None,
        seed: Seed | None = None,
    ) -> None:
        await self._run(interaction, "rnn", _given(cell=cell, T=steps, seed=seed))

    @app_commands.command(name="vanishing", description="Gradient norm per layer of a deep MLP")
    @app_commands.describe(
        activation="sigmoid, tanh, relu or all (default)",
        layers="Number of layers (default 20)",
        seed="Random seed (same seed, same picture)",
    )
    async def vanishing(
        self,
        interaction: discord.Interaction,
        activation: Literal["sigmoid", "tanh", "relu", "all"] | None = None,
        layers: Layers | None = None,
        seed: Seed | None = None,
    ) -> None:
        await self._run(
            interaction, "vanishing", _given(activation=activation, layers=layers, seed=seed)
        )

    # one request, from the runner's verdict to the PNG

    async def _run(
        self, interaction: discord.Interaction, demo: str, params: dict[str, Any]
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        runner = self.bot.demos
        if runner is None or self.bot.closing:
            await interaction.response.send_message(
                demo_error_text(DemoRunnerClosed("no demo runner"), ctx.lang), ephemeral=True
            )
            return
        await self._serve(interaction, runner, demo, params, ctx.lang)

    async def _serve(
        self,
        interaction: discord.Interaction,
        runner: DemoRunner,
        demo: str,
        params: dict[str, Any],
        lang: Lang,
    ) -> None:
        waits: list[float] = []  # the estimated wait, if the runner queues the job
        deferred = asyncio.Event()

        async def on_progress(fraction: float) -> None:
            if fraction >= 1.0:
                return  # the result itself replaces the progress line
            await deferred.wait()
            await interaction.edit_original_response(content=progress_text(demo, fraction, lang))

        user_key = f"{PLATFORM}:{interaction.user.id}"
        run = runner.run(user_key, demo, params, on_progress, on_wait=waits.append)
        job = asyncio.create_task(run)
        try:
            # The runner refuses a request (bad parameters, cooldown, full queue) before its
            # first await, so one turn of the loop tells us its verdict: a refusal is answered
            # ephemerally instead of in a public "thinking…" reply (should a refusal ever come
            # later, it still ends up in the reply, below), and a job that has to wait for a
            # worker is in `waits`.
            await asyncio.sleep(0)
            if job.done():
                error = job.exception()
                if isinstance(error, DemoError):
                    await interaction.response.send_message(
                        demo_error_text(error, lang, time.time()), ephemeral=True
                    )
                    return
                job.result()  # not a refusal but a bug: the fallback handler reports it
            try:
                await interaction.response.defer(thinking=True)
            except discord.HTTPException as exc:  # expired or unknown: nobody is listening
                log.warning("could not defer /demo %s (%s); cancelling it", demo, exc)
                return
            if waits:  # told by the runner as it admitted the job (one turn of the loop)
                text = queued_text(demo, waits[0], lang, time.time())
                await self._edit(interaction, content=text)
            deferred.set()
            try:
                result = await job
            except DemoError as exc:
                log.info("/demo %s for %s ended: %s", demo, user_key, exc)
                await self._edit(interaction, content=demo_error_text(exc, lang, time.time()))
                return
            except Exception:
                log.exception("/demo %s for %s failed", demo, user_key)
                await self._edit(interaction, content=SOMETHING_WRONG.get(lang))
                return
            caption = result.caption.get(lang) or result.caption.get("en", "")
            png = discord.File(io.BytesIO(result.png), f"{demo}.png")
            if not await self._edit(interaction, content=clip(caption), attachments=[png]):
                await self._edit(interaction, content=SOMETHING_WRONG.get(lang))
        finally:
            if not job.done():
                job.cancel()  # the runner keeps the worker slot until the job really ends

    async def _edit(self, interaction: discord.Interaction, **fields: Any) -> bool:
        """Edit the deferred reply; log (rather than raise) if Discord refuses."""
        try:
            await interaction.edit_original_response(**fields)
        except discord.HTTPException as exc:
            log.warning("could not edit the /demo reply of %s: %s", interaction.id, exc)
            return False
        return True


async def setup(bot: InterviewBot) -> None:
    await bot.add_cog(Demos(bot))
