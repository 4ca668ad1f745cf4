"""`/question` and `/topics`, and the buttons and modal of posted questions."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import UnknownQuestion, WrongKind
from bot.core.models import (
    AnswerOutcome,
    Difficulty,
    Kind,
    Lang,
    QuestionInstance,
    Verdict,
)
from bot.core.rubric import check_question
from bot.core.services.answering import Answering, SelfRating
from bot.core.services.boards import Boards
from bot.core.services.catalog import Catalog, KindFilter
from bot.core.services.making import Making
from bot.core.services.posting import Postings, Shown
from bot.core.topics import AREAS, TOPICS
from bot.discord._actions import ANSWER, OPEN_ANSWER, OPEN_SUBMIT, PICK, RATE, REVEAL, SUBMIT
from bot.discord._bot import InterviewBot
from bot.discord._context import Context, context_of
from bot.discord._live_counts import LiveCounts
from bot.discord._render import (
    answer_modal,
    checked_answer_reply,
    clip,
    model_answer_text,
    open_answer_modal,
    outcome_text,
    posted_question,
    question_embed,
    question_footer,
    question_view,
    rating_view,
    t,
)
from bot.discord._router import modal_values
from bot.discord._topics import Topic
from bot.shared.rubric_texts import BLANK_ANSWER
from bot.shared.texts import percent, topic_name

log = logging.getLogger(__name__)


def shown_ref(interaction: discord.Interaction) -> str | None:
    """The question the message of a click or modal shows (None: not a question message)."""
    shown = posted_question(interaction.message)
    return shown[0] if shown else None


class Questions(commands.Cog):
    def __init__(
        self,
        bot: InterviewBot,
        *,
        catalog: Catalog,
        making: Making,
        postings: Postings,
        answering: Answering,
        boards: Boards,
    ) -> None:
        self.bot = bot
        self.catalog = catalog
        self.making = making
        self.postings = postings
        self.answering = answering
        self.boards = boards
        self.live_counts = LiveCounts(bot)

    async def cog_unload(self) -> None:
        await self.live_counts.close()  # the counts not shown yet, before the bot disconnects

    @app_commands.command(name="question", description="Get a deep-learning interview question")
    @app_commands.describe(
        topic="Topic or area (autocomplete)",
        kind="concept (multiple choice or open), numeric, or any",
        difficulty="easy, medium or hard",
        private="Only you see the question",
    )
    async def question(
        self,
        interaction: discord.Interaction,
        topic: Topic | None = None,
        kind: Literal["concept", "numeric", "any"] = "any",
        difficulty: Literal["easy", "medium", "hard"] | None = None,
        private: bool = False,
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        served = await self.making.serve(
            ctx.user,
            topic,
            KindFilter(kind),
            Difficulty(difficulty) if difficulty else None,
            server_id=ctx.server_id,
        )
        channel = None if private else str(interaction.channel_id)
        # The reply goes first and the question is stored right after it (with the
        # message id): see Postings.post, and _shown for a process that dies between.
        async with self.postings.post(
            served, ctx.server_id, channel, ctx.lang, served_to=ctx.user
        ) as posting:
            callback = await interaction.response.send_message(
                embed=question_embed(served, ctx.lang),
                view=question_view(served, posting.instance.id, ctx.lang),
                ephemeral=private,
            )
            message_id = getattr(callback, "message_id", None)
            if message_id is not None and not private:
                posting.message_id = str(message_id)

    @app_commands.command(name="topics", description="Topics, question counts and your accuracy")
    async def topics(self, interaction: discord.Interaction) -> None:
        ctx = await context_of(self.bot, interaction)
        rows = await self.boards.topics(ctx.user)
        lines = []
        for area in AREAS:
            lines.append(f"**{area.name.get(ctx.lang)}**")
            for row in rows:
                if row.topic in {tp.id for tp in TOPICS if tp.area == area.id}:
                    lines.append(
                        f"`{row.topic}` {topic_name(row.topic, ctx.lang)} — "
                        + t(
                            ctx.lang,
                            f"{row.questions} questions · you: {percent(row.accuracy)}"
                            f" ({row.correct}/{row.answered})",
                            f"{row.questions} 题 · 你的正确率：{percent(row.accuracy)}"
                            f"（{row.correct}/{row.answered}）",
                        )
                    )
        embed = discord.Embed(
            title=t(ctx.lang, "Topics", "主题"),
            description=clip("\n".join(lines), 4096),
            colour=discord.Colour.blurple(),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # buttons and the modal (routed by custom_id; see _router.py)

    async def on_pick(
        self, interaction: discord.Interaction, instance_id: int, letter: str
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        shown = self._shown(interaction, ctx, Kind.MCQ, letter)
        outcome = await self.answering.answer(
            instance_id, ctx.user, letter, ref=shown_ref(interaction), shown=shown
        )
        await self._after_answer(interaction, instance_id, outcome, ctx.lang)

    async def _instance(
        self, interaction: discord.Interaction, instance_id: int, ctx: Context, kind: Kind
    ) -> QuestionInstance:
        """The posted question a button is on (restored from its message if its row was
        never written); UnknownQuestion if that id is another one, WrongKind if it is not a
        `kind` question."""
        instance = await self.postings.instance(instance_id, self._shown(interaction, ctx, kind))
        ref = shown_ref(interaction)
        if ref is not None and ref != instance.ref:
            raise UnknownQuestion(ref)
        if instance.kind is not kind:
            raise WrongKind(instance.ref, instance.kind.value)
        return instance

    def _shown(
        self,
        interaction: discord.Interaction,
        ctx: Context,
        kind: Kind,
        letter: str | None = None,
    ) -> Shown | None:
        """What the message of a click shows, for the postings to restore a question whose
        row was never written (the bot stopped between replying and storing it); None if the
        message does not say which question it is. The router has checked that the message
        carries the button; `kind` (and `letter`) is what the button expects."""
        message, shown = interaction.message, posted_question(interaction.message)
        if message is None or shown is None:
            return None
        ref, lang = shown
        private = message.flags.ephemeral
        return Shown(
            ref=ref,
            server_id=ctx.server_id,
            channel_id=None if private else str(interaction.channel_id),
            message_id=None if private else str(message.id),
            lang=lang,
            posted_at=message.created_at,
            kind=kind,
            letter=letter,
        )

    async def on_answer_button(self, interaction: discord.Interaction, instance_id: int) -> None:
        ctx = await context_of(self.bot, interaction)
        instance = await self._instance(interaction, instance_id, ctx, Kind.NUMERIC)
        previous = await self.answering.answered(instance_id, ctx.user)
        if previous is not None:
            marker = (Verdict.CORRECT if previous else Verdict.INCORRECT).marker
            await interaction.response.send_message(
                t(
                    ctx.lang,
                    f"You have already answered this question ({marker}); only your first "
                    "answer counts.",
                    f"你已经答过这道题（{marker}），只有第一次作答计分。",
                ),
                ephemeral=True,
            )
            return
        await interaction.response.send_modal(answer_modal(instance_id, ctx.lang, instance.ref))

    async def on_submit(self, interaction: discord.Interaction, instance_id: int) -> None:
        ctx = await context_of(self.bot, interaction)
        text = modal_values(interaction).get("answer", "")
        outcome = await self.answering.answer(
            instance_id, ctx.user, text, ref=shown_ref(interaction)
        )
        await self._after_answer(interaction, instance_id, outcome, ctx.lang)

    async def on_reveal(self, interaction: discord.Interaction, instance_id: int) -> None:
        ctx = await context_of(self.bot, interaction)
        instance = await self._instance(interaction, instance_id, ctx, Kind.OPEN)
        question = self.catalog.question(instance.ref, instance.server_id)
        if question is None or question.kind is not Kind.OPEN:
            raise UnknownQuestion(instance.ref)
        await interaction.response.send_message(
            model_answer_text(question, ctx.lang),
            view=rating_view(instance_id, ctx.lang),
            ephemeral=True,
        )

    async def on_open_answer(self, interaction: discord.Interaction, instance_id: int) -> None:
        """The Answer button of an open question: a paragraph modal."""
        ctx = await context_of(self.bot, interaction)
        instance = await self._instance(interaction, instance_id, ctx, Kind.OPEN)
        await interaction.response.send_modal(
            open_answer_modal(instance_id, ctx.lang, instance.ref)
        )

    async def on_open_submit(self, interaction: discord.Interaction, instance_id: int) -> None:
        """A typed open answer: checked against the key points (a few milliseconds, pure
        Python), then the breakdown, the model answer and the rating buttons, the suggested
        one marked; the rating the user clicks is the one recorded (`on_rate`)."""
        ctx = await context_of(self.bot, interaction)
        instance = await self._instance(interaction, instance_id, ctx, Kind.OPEN)
        question = self.catalog.question(instance.ref, instance.server_id)
        if question is None or question.kind is not Kind.OPEN:
            raise UnknownQuestion(instance.ref)
        text = modal_values(interaction).get("answer", "")
        if not text.strip():  # spaces only: nothing to check, nothing rated
            await interaction.response.send_message(BLANK_ANSWER.get(ctx.lang), ephemeral=True)
            return
        result = check_question(question, text)
        content, embed = checked_answer_reply(question, result, ctx.lang)
        suggested = result.suggested if result is not None else None
        await interaction.response.send_message(
            content,
            embed=embed,
            view=rating_view(instance_id, ctx.lang, suggested),
            ephemeral=True,
        )

    async def on_rate(
        self, interaction: discord.Interaction, instance_id: int, rating: SelfRating
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        outcome = await self.answering.self_rate(instance_id, ctx.user, rating)
        # Replace the rating buttons with the verdict (in the ephemeral message).
        await interaction.response.edit_message(content=outcome_text(outcome, ctx.lang), view=None)
        if outcome.counted:
            await self._refresh_posted(await self.postings.instance(instance_id), outcome)

    async def _after_answer(
        self,
        interaction: discord.Interaction,
        instance_id: int,
        outcome: AnswerOutcome,
        lang: Lang,
    ) -> None:
        """Tell the user (the answer is durable by now), then bring the live count on the
        question up to date. In a channel that is one REST call on the answer's path: the
        ephemeral ✅/❌ is the interaction callback, and the count is edited off it, coalesced
        (LiveCounts). A private question is only seen by its user, so its message is updated
        by the callback itself and the feedback follows."""
        feedback = outcome_text(outcome, lang)
        message = interaction.message
        if not outcome.counted or outcome.counts is None or message is None or not message.embeds:
            await interaction.response.send_message(feedback, ephemeral=True)
            return
        shown = posted_question(message)
        if shown is None:
            instance = await self.postings.instance(instance_id)
            shown = (instance.ref, instance.lang)
        footer = question_footer(shown[0], outcome.counts, shown[1])
        if message.flags.ephemeral or interaction.channel_id is None:
            embed = message.embeds[0]
            embed.set_footer(text=footer)
            await interaction.response.edit_message(embed=embed)
            await interaction.followup.send(feedback, ephemeral=True)
            return
        await interaction.response.send_message(feedback, ephemeral=True)
        self.live_counts.update(
            interaction.channel_id, message.id, outcome.counts, footer, message.embeds[0]
        )

    async def _refresh_posted(self, instance: QuestionInstance, outcome: AnswerOutcome) -> None:
        """The live count of a question posted in a channel (not for private ones), by the
        coalescing editor (which fetches the message's embed first)."""
        if instance.channel_id is None or instance.message_id is None or outcome.counts is None:
            return
        self.live_counts.update(
            int(instance.channel_id),
            int(instance.message_id),
            outcome.counts,
            question_footer(instance.ref, outcome.counts, instance.lang),
        )


async def setup(bot: InterviewBot) -> None:
    services = bot.services
    cog = Questions(
        bot,
        catalog=services.catalog,
        making=services.making,
        postings=services.postings,
        answering=services.answering,
        boards=services.boards,
    )
    await bot.add_cog(cog)
    # Each only from the message that carries it (the modal: the message of its button).
    bot.router.on(PICK, cog.on_pick)
    bot.router.on(ANSWER, cog.on_answer_button)
    bot.router.on(SUBMIT, cog.on_submit)
    bot.router.on(REVEAL, cog.on_reveal)
    bot.router.on(OPEN_ANSWER, cog.on_open_answer)
    bot.router.on(OPEN_SUBMIT, cog.on_open_submit)
    bot.router.on(RATE, cog.on_rate)
