"""`/quiz start|stop|status`: a live quiz round for everyone in a channel (issue #17).

The core runs the rounds (`bot.core.services.quiz.Quiz`: the rounds live in the database, one
scheduler holds every deadline); this cog is its Discord presenter: it posts each question,
edits it at the reveal (buttons disabled, the answer, the counts, who was right and first) and
posts the standings with a chart. Buttons and the Answer modal carry the question instance in
their custom_id, so a question posted before a restart still takes answers until its reveal.

Public messages are in the round's language: the host's `/language` choice, else the server's
preferred locale, else the host's Discord language. Replies to clicks are ephemeral, in each
user's language, and say nothing of right or wrong before the reveal.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import NoQuestionFound
from bot.core.models import Difficulty, Lang, Localized, ServedQuestion, User
from bot.core.quiz import (
    QUESTIONS_DEFAULT,
    QUESTIONS_MAX,
    QUESTIONS_MIN,
    SECONDS_DEFAULT,
    SECONDS_MAX,
    SECONDS_MIN,
    QuizKind,
    QuizQuestion,
    QuizRound,
    QuizSettings,
    Reveal,
    StandingRow,
)
from bot.core.services.catalog import Catalog
from bot.core.services.identities import language_for
from bot.core.services.quiz import AnswerCode, Quiz, StopCode
from bot.discord._bot import InterviewBot
from bot.discord._context import PLATFORM, can_manage_server, context_of
from bot.discord._quiz import (
    QZ_ANSWER,
    QZ_PICK,
    QZ_SUBMIT,
    STANDINGS_FILE,
    already_running_text,
    answer_modal,
    answered_text,
    capped_text,
    no_round_text,
    not_allowed_text,
    question_embed,
    question_view,
    reveal_embed,
    standings_embed,
    started_text,
    status_text,
    stopped_text,
)
from bot.discord._render import posted_question, t
from bot.discord._router import modal_values
from bot.discord._topics import Topic
from bot.shared.charts import quiz_standings_chart

log = logging.getLogger(__name__)
RESUME_WAIT_S = 60.0  # at most, a click before a sharded bot resumed its rounds waits


def public_language(user: User, interaction: discord.Interaction, fallback: Lang) -> Lang:
    """The language of a round's public messages: the host's `/language` choice, else the
    server's preferred locale, else the host's own (`fallback`)."""
    if user.language != "auto":
        return user.language
    if interaction.guild_locale is not None:
        return language_for("auto", str(interaction.guild_locale))
    return fallback


#: What a round needs in its channel: to see it, post questions, their embeds, the chart.
NEEDED = (
    ("view_channel", Localized(en="View Channel", zh="查看频道")),
    ("send_messages", Localized(en="Send Messages", zh="发送消息")),
    ("embed_links", Localized(en="Embed Links", zh="嵌入链接")),
    ("attach_files", Localized(en="Attach Files", zh="附加文件")),
)


def missing_permissions(permissions: discord.Permissions) -> list[Localized]:
    """The permissions the bot lacks in the channel for a round (Discord sends them)."""
    return [name for flag, name in NEEDED if not getattr(permissions, flag)]


def cannot_post_text(missing: list[Localized], lang: Lang) -> str:
    names = t(lang, ", ", "、").join(name.get(lang) for name in missing)
    return t(
        lang,
        f"⚠️ I cannot run a quiz in this channel: I need the {names} "
        + ("permission" if len(missing) == 1 else "permissions")
        + " here.",
        f"⚠️ 我无法在这个频道进行抢答：需要这里的“{names}”权限。",
    )


class DiscordPresenter:
    """What the quiz service asks of Discord: post, reveal, end (`QuizPresenter`)."""

    def __init__(self, bot: InterviewBot) -> None:
        self.bot = bot

    def _channel(self, round_: QuizRound) -> discord.PartialMessageable:
        return self.bot.get_partial_messageable(int(round_.channel_id))

    async def ask(self, round: QuizRound, question: QuizQuestion, served: ServedQuestion) -> str:
        message = await self._channel(round).send(
            embed=question_embed(round, question, served),
            view=question_view(question, served, round.lang),
        )
        return str(message.id)

    async def revealed(self, round: QuizRound, reveal: Reveal) -> None:
        embed = reveal_embed(round, reveal)
        view = question_view(reveal.question, reveal.served, round.lang, reveal.expected or "")
        channel = self._channel(round)
        try:
            if reveal.question.message_id is None:  # never shown: the reveal stands alone
                await channel.send(embed=embed, view=view)
            else:
                await channel.get_partial_message(int(reveal.question.message_id)).edit(
                    embed=embed, view=view
                )
        except discord.HTTPException as exc:
            log.warning(
                "quiz %s: could not show the reveal of Q%d: %s", round.id, reveal.index + 1, exc
            )

    async def ended(self, round: QuizRound, standings: list[StandingRow]) -> None:
        files: list[discord.File] = []
        if standings:
            png = await asyncio.to_thread(quiz_standings_chart, standings, round.lang)
            files.append(discord.File(io.BytesIO(png), STANDINGS_FILE))
        try:
            await self._channel(round).send(
                embed=standings_embed(round, standings, chart=bool(files)), files=files
            )
        except discord.HTTPException as exc:
            log.warning("quiz %s: could not post the standings: %s", round.id, exc)


class QuizRounds(
    commands.GroupCog, group_name="quiz", group_description="A live quiz round for the channel"
):
    def __init__(self, bot: InterviewBot, *, quiz: Quiz | None, catalog: Catalog) -> None:
        self.bot = bot
        self.quiz = quiz  # None: the database has no quiz rounds
        self.catalog = catalog  # whether a round would have questions, before it starts
        self._resuming: asyncio.Task[None] | None = None  # a sharded bot's, until ready
        super().__init__()

    async def cog_load(self) -> None:
        if self.quiz is None:
            return
        self.quiz.attach(DiscordPresenter(self.bot))
        if self.bot.shard_plan is None:
            # After login, before the gateway connects: a click on a question posted before
            # the restart finds its round running. (Posting and editing need only REST.)
            await self._resume()
        else:
            # Which rounds are this process's is known from its servers' channels, once its
            # shards are connected; a click that comes first waits for it (`_answer`).
            self._resuming = asyncio.create_task(self._resume_when_ready(), name="quiz-resume")

    async def cog_unload(self) -> None:
        if self._resuming is not None:
            self._resuming.cancel()
            await asyncio.gather(self._resuming, return_exceptions=True)

    async def _resume_when_ready(self) -> None:
        await self.bot.wait_until_ready()
        await self._resume()

    async def _resume(self) -> None:
        """Carry on the rounds the database has running that this process runs (a question
        whose time passed while the bot was away is revealed at once)."""
        assert self.quiz is not None
        try:
            rounds = await self.quiz.resume(self._owns)
        except Exception:
            log.exception("could not resume the running quiz rounds")
            return
        if rounds:
            log.info("resumed %d quiz round(s)", len(rounds))

    def _owns(self, round_: QuizRound) -> bool:
        """Whether this process runs that round: a Discord round (not the console's) and, with
        shards, in a channel of a server of this process's shards."""
        if round_.platform != PLATFORM:
            return False
        if self.bot.shard_plan is None:
            return True
        channel = self.bot.get_channel(int(round_.channel_id))
        guild = getattr(channel, "guild", None)
        return guild is not None and self.bot.owns_guild(guild.id)

    async def _unavailable(self, interaction: discord.Interaction, lang: Lang) -> None:
        await interaction.response.send_message(
            t(
                lang,
                "Quiz rounds are not available with this database.",
                "当前数据库不支持抢答。",
            ),
            ephemeral=True,
        )

    @app_commands.command(name="start", description="Start a quiz round in this channel")
    @app_commands.describe(
        topic="Topic or area (autocomplete)",
        questions="How many questions (3-30, default 10)",
        seconds="Seconds per question (10-120, default 20)",
        kind="concept (multiple choice), numeric, or any",
        difficulty="easy, medium or hard",
    )
    async def start(
        self,
        interaction: discord.Interaction,
        topic: Topic | None = None,
        questions: app_commands.Range[int, QUESTIONS_MIN, QUESTIONS_MAX] = QUESTIONS_DEFAULT,
        seconds: app_commands.Range[int, SECONDS_MIN, SECONDS_MAX] = SECONDS_DEFAULT,
        kind: Literal["concept", "numeric", "any"] = "any",
        difficulty: Literal["easy", "medium", "hard"] | None = None,
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        if self.quiz is None:
            await self._unavailable(interaction, ctx.lang)
            return
        missing = missing_permissions(interaction.app_permissions)
        if missing:
            await interaction.response.send_message(
                cannot_post_text(missing, ctx.lang), ephemeral=True
            )
            return
        channel = str(interaction.channel_id)
        running = await self.quiz.status(channel)
        if running is not None and running.round.running:
            await interaction.response.send_message(
                already_running_text(
                    running.round, running.question, ctx.lang, interaction.guild_id
                ),
                ephemeral=True,
            )
            return
        settings = QuizSettings(
            topic=topic,
            questions=questions,
            seconds=seconds,
            kind=QuizKind(kind),
            difficulty=Difficulty(difficulty) if difficulty else None,
        )
        if not self.catalog.candidates(
            topic, settings.kind.kinds, settings.difficulty, ctx.server_id
        ):  # told privately, before the public "thinking…" below
            raise NoQuestionFound(topic, kind, difficulty)
        lang = public_language(ctx.user, interaction, ctx.lang)
        # Public "thinking…" first: it becomes the announcement, above the first question.
        await interaction.response.defer(thinking=True)
        started = await self.quiz.start(ctx.user, channel, settings, lang, ctx.server_id)
        if started.created:
            text = started_text(started.round, interaction.user.display_name, lang)
            if started.asked is not None:  # fewer questions match than were asked for
                has = started.round.settings.questions
                text = f"{text}\n{capped_text(started.asked, has, lang)}"
        else:  # another start won the race for this channel
            text = already_running_text(
                started.round, started.question, ctx.lang, interaction.guild_id
            )
        await interaction.edit_original_response(content=text)

    @app_commands.command(name="stop", description="End the quiz round now, with the standings")
    async def stop(self, interaction: discord.Interaction) -> None:
        ctx = await context_of(self.bot, interaction)
        if self.quiz is None:
            await self._unavailable(interaction, ctx.lang)
            return
        channel = str(interaction.channel_id)
        manager = can_manage_server(interaction)
        running = await self.quiz.status(channel)
        if running is None or not running.round.running:
            await interaction.response.send_message(no_round_text(ctx.lang), ephemeral=True)
            return
        if running.round.host_id != ctx.user.id and not manager:
            await interaction.response.send_message(not_allowed_text(ctx.lang), ephemeral=True)
            return
        await interaction.response.defer(thinking=True)  # the standings take a chart
        stopped = await self.quiz.stop(channel, ctx.user, manager)  # checks again, server-side
        if stopped.code is StopCode.STOPPED and stopped.round is not None:
            text = stopped_text(stopped.round, stopped.round.lang)
        elif stopped.code is StopCode.NOT_ALLOWED:
            text = not_allowed_text(ctx.lang)
        else:
            text = no_round_text(ctx.lang)
        await interaction.edit_original_response(content=text)

    @app_commands.command(name="status", description="Where the quiz round of this channel is")
    async def status(self, interaction: discord.Interaction) -> None:
        ctx = await context_of(self.bot, interaction)
        if self.quiz is None:
            await self._unavailable(interaction, ctx.lang)
            return
        status = await self.quiz.status(str(interaction.channel_id))
        text = (
            status_text(status, ctx.lang)
            if status is not None and status.round.running
            else no_round_text(ctx.lang)
        )
        await interaction.response.send_message(text, ephemeral=True)

    # buttons and the modal (routed by custom_id, see _router.py)

    async def on_pick(
        self, interaction: discord.Interaction, instance_id: int, letter: str
    ) -> None:
        await self._answer(interaction, instance_id, letter)

    async def on_answer_button(self, interaction: discord.Interaction, instance_id: int) -> None:
        ctx = await context_of(self.bot, interaction)
        shown = posted_question(interaction.message)
        ref = shown[0] if shown else t(ctx.lang, "quiz", "抢答")
        await interaction.response.send_modal(answer_modal(instance_id, ctx.lang, ref))

    async def on_submit(self, interaction: discord.Interaction, instance_id: int) -> None:
        await self._answer(interaction, instance_id, modal_values(interaction).get("answer", ""))

    async def _answer(self, interaction: discord.Interaction, instance_id: int, text: str) -> None:
        ctx = await context_of(self.bot, interaction)
        if self.quiz is None:
            await self._unavailable(interaction, ctx.lang)
            return
        answered = await self.quiz.answer(instance_id, ctx.user, text)
        resuming = self._resuming
        if answered.code is AnswerCode.NO_ROUND and resuming is not None and not resuming.done():
            # A sharded bot that has not resumed its rounds yet (it does once its shards are
            # connected): the reply is deferred, so the wait is not held to Discord's 3 s for
            # a first reply (a loaded machine may need more), and the answer asked again.
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.wait({resuming}, timeout=RESUME_WAIT_S)
            answered = await self.quiz.answer(instance_id, ctx.user, text)
            await interaction.edit_original_response(
                content=answered_text(answered, text, ctx.lang)
            )
            return
        await interaction.response.send_message(
            answered_text(answered, text, ctx.lang), ephemeral=True
        )


async def setup(bot: InterviewBot) -> None:
    cog = QuizRounds(bot, quiz=bot.services.quiz, catalog=bot.services.catalog)
    await bot.add_cog(cog)
    bot.router.on(QZ_PICK, cog.on_pick)
    bot.router.on(QZ_ANSWER, cog.on_answer_button)
    bot.router.on(QZ_SUBMIT, cog.on_submit)
