"""`/interview start|stop|status`: a mock interview in one ephemeral message that evolves.

Every button carries the interview id and the question index, so a click works after a
restart; a click on a question that is over shows where the interview is now. A sweeper settles
questions whose time ran out and, while the user's last interaction is still usable (15 min),
shows the next question without waiting for a click.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.core.interview import Interviews, Report, StaleSave, Step
from bot.core.models import LETTERS, Kind, Lang
from bot.core.rubric import check_question
from bot.core.services.answering import SelfRating
from bot.core.services.catalog import Catalog
from bot.core.services.making import Making
from bot.core.services.posting import Postings
from bot.discord._bot import InterviewBot
from bot.discord._context import context_of
from bot.discord._render import (
    RATING_LABELS,
    answer_modal_for,
    checked_answer_reply,
    clip,
    model_answer_text,
    open_answer_modal_for,
    outcome_text,
    question_embed,
    ref_text,
    t,
)
from bot.discord._router import Action, an_id, an_id_or_zero, modal_values, one_of, stopped
from bot.discord._topics import Topics
from bot.shared.charts import report_chart
from bot.shared.rubric_texts import BLANK_ANSWER, coverage_note
from bot.shared.texts import (
    OUTCOME_NAMES,
    expired_text,
    hint_text,
    item_label,
    item_position,
    percent,
    report_summary,
    review_title,
    timing_label,
    topic_name,
)

# The buttons and the modal of an interview question, each taken only from the message that
# carries it (the modal: the message of its button). `_AT`: the interview, the question's place.
_AT = (an_id, an_id_or_zero)
IV_PICK = Action("ivpick", (*_AT, one_of(LETTERS)))
IV_ANSWER = Action("ivans", _AT)
IV_SUBMIT = Action("ivsub", _AT, shown=IV_ANSWER)
IV_SHOW = Action("ivshow", _AT)
IV_OPEN = Action("ivopen", _AT)  # an open question's Answer button: a paragraph modal
IV_OPEN_SUBMIT = Action("ivosub", _AT, shown=IV_OPEN)
IV_RATE = Action("ivrate", (*_AT, one_of(SelfRating)))
IV_HINT = Action("ivhint", _AT)
IV_STOP = Action("ivstop", (an_id,))

log = logging.getLogger(__name__)
T = TypeVar("T")

TOKEN_LIFETIME_S = 14 * 60  # an interaction token works for 15 minutes
SWEEP_SECONDS = 5.0


def _stamp(moment: datetime) -> str:
    return f"<t:{int(moment.timestamp())}:R>"


def report_embed(report: Report, lang: Lang) -> discord.Embed:
    title = t(lang, "Interview report", "面试报告")
    if report.status == "stopped":
        title += t(lang, " (stopped early)", "（提前结束）")
    lines = [report_summary(report, lang, bold=True)]
    for score in report.by_topic:
        name = topic_name(score.topic, lang)
        line = t(lang, f"• {name}: ", f"• {name}：") + f"{score.correct}/{score.answered}"
        if score.answered:
            line += t(lang, f" ({percent(score.accuracy)})", f"（{percent(score.accuracy)}）")
        if score.timed_out:
            line += t(lang, f", {score.timed_out} timed out", f"，超时 {score.timed_out} 题")
        lines.append(line)
    sep = t(lang, ", ", "，")
    unit = t(lang, "s", " 秒")
    times = sep.join(
        f"{timing_label(x).get(lang)} {'—' if x.seconds is None else f'{x.seconds:.0f}{unit}'} "
        f"{OUTCOME_NAMES[x.outcome].get(lang)}{coverage_note(x.coverage, lang)}"
        for x in report.times
    )
    lines.append(t(lang, f"Time per question: {times}", f"每题用时：{times}"))
    if report.weakest:
        weakest = sep.join(topic_name(x, lang) for x in report.weakest[:3])
        lines.append(t(lang, f"Weakest: {weakest}", f"最薄弱：{weakest}"))
    if report.review:
        due = "\n".join(f"• {review_title(e).get(lang)} {_stamp(e.due)}" for e in report.review[:6])
        lines.append(t(lang, f"Scheduled for review:\n{due}", f"已安排复习：\n{due}"))
    embed = discord.Embed(
        title=title, description=clip("\n".join(lines), 4000), colour=discord.Colour.purple()
    )
    if report.by_topic:  # the chart `render` attaches (none when nothing was answered)
        embed.set_image(url="attachment://report.png")
    return embed


def interview_embed(step: Step, lang: Lang) -> discord.Embed:
    """The open question as the interview shows it: its place, time left and interview."""
    assert step.item is not None and step.question is not None
    embed = question_embed(step.question, lang)
    position = item_position(step.interview, step.item).get(lang)
    embed.title = clip(f"{position} · {embed.title or ''}", 256)
    deadline = _stamp(step.item.deadline)
    embed.add_field(
        name=t(lang, "Time", "时间"), value=t(lang, f"ends {deadline}", f"{deadline}截止")
    )
    number = step.interview.id
    embed.set_footer(
        text=f"{ref_text(step.question.ref, lang)} · "
        + t(lang, f"interview #{number}", f"面试 #{number}")
    )
    return embed


def _stop_button(iid: int, lang: Lang) -> discord.ui.Button[discord.ui.View]:
    return discord.ui.Button(
        label=t(lang, "Stop", "结束"),
        style=discord.ButtonStyle.danger,
        row=1,
        custom_id=IV_STOP.id(iid),
    )


def step_view(step: Step, lang: Lang) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    item, question = step.item, step.question
    iid = step.interview.id
    if item is None or question is None or step.interview.status != "active":
        return stopped(view)
    if question.kind is Kind.MCQ:
        for index in range(len(question.choices)):
            view.add_item(
                discord.ui.Button(
                    label=LETTERS[index],
                    custom_id=IV_PICK.id(iid, item.index, LETTERS[index]),
                )
            )
    elif question.kind is Kind.NUMERIC:
        view.add_item(
            discord.ui.Button(
                label=t(lang, "Answer", "作答"),
                style=discord.ButtonStyle.primary,
                custom_id=IV_ANSWER.id(iid, item.index),
            )
        )
    else:
        view.add_item(
            discord.ui.Button(
                label=t(lang, "Answer", "作答"),
                style=discord.ButtonStyle.primary,
                custom_id=IV_OPEN.id(iid, item.index),
            )
        )
        view.add_item(
            discord.ui.Button(
                label=t(lang, "Show model answer", "查看参考答案"),
                style=discord.ButtonStyle.secondary,
                custom_id=IV_SHOW.id(iid, item.index),
            )
        )
    hint = (  # open questions earn no points, so their hint costs nothing
        t(lang, "Hint", "提示")
        if question.kind is Kind.OPEN
        else t(lang, "Hint (−1 pt)", "提示（−1 分）")
    )
    view.add_item(
        discord.ui.Button(
            label=hint,
            emoji="💡",
            row=1,
            custom_id=IV_HINT.id(iid, item.index),
        )
    )
    view.add_item(_stop_button(iid, lang))
    return stopped(view)


def rating_view_for(step: Step, lang: Lang, suggested: str | None = None) -> discord.ui.View:
    """Again/Hard/Good/Easy; the `suggested` one (a checked typed answer) stands out."""
    view = discord.ui.View(timeout=None)
    assert step.item is not None
    for rating, label in RATING_LABELS.items():
        text = label.get(lang)
        style = discord.ButtonStyle.secondary
        if rating.value == suggested:
            style = discord.ButtonStyle.success
            text = t(lang, f"{text} (suggested)", f"{text}（建议）")
        view.add_item(
            discord.ui.Button(
                label=text,
                style=style,
                custom_id=IV_RATE.id(step.interview.id, step.item.index, rating),
            )
        )
    view.add_item(_stop_button(step.interview.id, lang))  # the interview goes on meanwhile
    return stopped(view)


class MockInterview(
    commands.GroupCog, group_name="interview", group_description="A mock interview"
):
    def __init__(
        self,
        bot: InterviewBot,
        *,
        interviews: Interviews,
        postings: Postings,
        catalog: Catalog,
        making: Making,
    ) -> None:
        self.bot = bot
        self.interviews = interviews
        self.postings = postings
        self.catalog = catalog
        self.making = making
        self.live: dict[int, tuple[discord.Interaction, float]] = {}  # id -> last interaction
        super().__init__()

    async def cog_load(self) -> None:
        self.sweeper.start()

    async def cog_unload(self) -> None:
        self.sweeper.cancel()

    # rendering

    async def render(
        self, step: Step, lang: Lang, note: str | None = None
    ) -> tuple[list[discord.Embed], discord.ui.View, list[discord.File]]:
        embeds: list[discord.Embed] = []
        header: list[str] = []
        if note:
            header.append(note)
        if step.outcome is not None:
            header.append(outcome_text(step.outcome, lang))
        for expired in step.expired:
            header.append(expired_text(expired).get(lang))
        if header:
            embeds.append(discord.Embed(description=clip("\n\n".join(header), 4000)))
        files: list[discord.File] = []
        if step.report is not None:
            embeds.append(report_embed(step.report, lang))
            if step.report.by_topic:  # nothing answered nor timed out: no chart to draw
                png = await asyncio.to_thread(report_chart, step.report, lang)
                files.append(discord.File(io.BytesIO(png), "report.png"))
        elif step.item is not None and step.question is not None:
            embeds.append(interview_embed(step, lang))
        return embeds[-10:], step_view(step, lang), files

    async def show(
        self,
        interaction: discord.Interaction,
        step: Step,
        lang: Lang,
        note: str | None = None,
        update: bool = True,
    ) -> None:
        embeds, view, files = await self.render(step, lang, note)
        if update and interaction.message is not None:
            await interaction.response.edit_message(
                content=None, embeds=embeds, view=view, attachments=files
            )
        else:
            await interaction.response.send_message(
                embeds=embeds, view=view, files=files, ephemeral=True
            )
        if step.interview.status == "active":
            self.live[step.interview.id] = (interaction, time.monotonic() + TOKEN_LIFETIME_S)
        else:
            self.live.pop(step.interview.id, None)

    # commands

    @app_commands.command(name="start", description="Start a mock interview")
    @app_commands.describe(
        topics="Topics or areas, comma-separated (default: all)",
        questions="How many questions (3-20)",
        minutes="Minutes per question (1-10)",
    )
    async def start(
        self,
        interaction: discord.Interaction,
        topics: Topics | None = None,
        questions: app_commands.Range[int, 3, 20] = 8,
        minutes: app_commands.Range[int, 1, 10] = 3,
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        step = await self.interviews.start(
            ctx.user, topics or [], questions, minutes, ctx.server_id, ctx.lang
        )
        await self.show(interaction, step, ctx.lang, update=False)

    @app_commands.command(name="stop", description="End your interview now, with a report")
    async def stop(self, interaction: discord.Interaction) -> None:
        ctx = await context_of(self.bot, interaction)
        active = await self.interviews.active(ctx.user)
        if active is None:
            await interaction.response.send_message(
                t(ctx.lang, "You have no interview running.", "你没有进行中的面试。"),
                ephemeral=True,
            )
            return
        live = self.live.get(active.id)
        step = await self.interviews.stop(active.id, ctx.user)
        if live is not None and live[1] >= time.monotonic() and await self._settle(live[0], step):
            # The interview's message now holds the report, its buttons gone: say where.
            self.live.pop(active.id, None)
            await interaction.response.send_message(
                t(
                    ctx.lang,
                    "🛑 Interview stopped: its report is in the interview's message.",
                    "🛑 面试已结束：报告在面试的消息里。",
                ),
                ephemeral=True,
            )
            return
        await self.show(interaction, step, ctx.lang, update=False)

    async def _settle(self, interaction: discord.Interaction, step: Step) -> bool:
        """Show `step` in the interview's message (the last one its user acted on), as a
        timeout does; False if Discord refuses (the message is gone, or its token expired)."""
        try:
            embeds, view, files = await self.render(step, step.interview.lang)
            await interaction.edit_original_response(embeds=embeds, view=view, attachments=files)
        except discord.HTTPException as exc:
            log.info("interview %s: could not update its message: %s", step.interview.id, exc)
            return False
        return True

    @app_commands.command(name="status", description="Where you are in your interview")
    async def status(self, interaction: discord.Interaction) -> None:
        ctx = await context_of(self.bot, interaction)
        active = await self.interviews.active(ctx.user)
        if active is None:
            await interaction.response.send_message(
                t(
                    ctx.lang,
                    "You have no interview running: `/interview start`.",
                    "你没有进行中的面试：使用 `/interview start` 开始。",
                ),
                ephemeral=True,
            )
            return
        step = await self.interviews.status(active.id, ctx.user)
        await self.show(interaction, step, ctx.lang, update=False)

    # buttons and the modal

    async def on_pick(
        self, interaction: discord.Interaction, iid: int, index: int, letter: str
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        step = await self._retrying(lambda: self.interviews.answer(iid, index, ctx.user, letter))
        await self.show(interaction, step, ctx.lang)

    async def on_answer_button(
        self, interaction: discord.Interaction, iid: int, index: int
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        step = await self.interviews.status(iid, ctx.user, index)
        if step.item is None or step.item.index != index:
            await self.show(interaction, step, ctx.lang)
            return
        label = item_label(step.interview, step.item).get(ctx.lang)
        await interaction.response.send_modal(
            answer_modal_for(IV_SUBMIT.id(iid, index), ctx.lang, label)
        )

    async def on_submit(self, interaction: discord.Interaction, iid: int, index: int) -> None:
        ctx = await context_of(self.bot, interaction)
        text = modal_values(interaction).get("answer", "")
        step = await self._retrying(lambda: self.interviews.answer(iid, index, ctx.user, text))
        await self.show(interaction, step, ctx.lang)

    async def on_show(self, interaction: discord.Interaction, iid: int, index: int) -> None:
        ctx = await context_of(self.bot, interaction)
        step = await self.interviews.status(iid, ctx.user, index)
        if step.item is None or step.item.index != index or step.question is None:
            await self.show(interaction, step, ctx.lang)
            return
        instance = await self.postings.instance(step.item.instance_id)
        question = self.catalog.question(instance.ref, instance.server_id)
        if question is None:
            await self.show(interaction, step, ctx.lang)
            return
        answer = discord.Embed(description=model_answer_text(question, ctx.lang))
        await interaction.response.edit_message(
            embeds=[interview_embed(step, ctx.lang), answer], view=rating_view_for(step, ctx.lang)
        )

    async def on_open_answer(self, interaction: discord.Interaction, iid: int, index: int) -> None:
        ctx = await context_of(self.bot, interaction)
        step = await self.interviews.status(iid, ctx.user, index)
        if step.item is None or step.item.index != index:
            await self.show(interaction, step, ctx.lang)
            return
        label = item_label(step.interview, step.item).get(ctx.lang)
        await interaction.response.send_modal(
            open_answer_modal_for(IV_OPEN_SUBMIT.id(iid, index), ctx.lang, label)
        )

    async def on_open_submit(self, interaction: discord.Interaction, iid: int, index: int) -> None:
        """A typed answer to an open interview question: checked against its key points, shown
        with the model answer; the rating buttons (the suggested one marked) record it."""
        ctx = await context_of(self.bot, interaction)
        step = await self.interviews.status(iid, ctx.user, index)
        if step.item is None or step.item.index != index or step.question is None:
            ended = step.interview.status != "active"  # stopped while the answer was typed
            note = t(
                ctx.lang,
                "⚠️ Not recorded: this interview has ended.",
                "⚠️ 未记录：这场面试已经结束。",
            )
            await self.show(interaction, step, ctx.lang, note=note if ended else None)
            return
        instance = await self.postings.instance(step.item.instance_id)
        question = self.catalog.question(instance.ref, instance.server_id)
        if question is None:
            await self.show(interaction, step, ctx.lang)
            return
        text = modal_values(interaction).get("answer", "")
        if not text.strip():  # spaces only: the question stays open, with a word why
            await self.show(interaction, step, ctx.lang, note=BLANK_ANSWER.get(ctx.lang))
            return
        result = check_question(question, text)
        if result is not None:
            coverage = result.coverage
            await self._retrying(
                lambda: self.interviews.note_coverage(iid, index, ctx.user, coverage)
            )
        content, answer = checked_answer_reply(question, result, ctx.lang)
        breakdown = discord.Embed(description=content)
        suggested = result.suggested if result is not None else None
        await interaction.response.edit_message(
            embeds=[interview_embed(step, ctx.lang), breakdown, answer],
            view=rating_view_for(step, ctx.lang, suggested),
        )

    async def on_rate(
        self, interaction: discord.Interaction, iid: int, index: int, rating: SelfRating
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        step = await self._retrying(lambda: self.interviews.self_rate(iid, index, ctx.user, rating))
        await self.show(interaction, step, ctx.lang)

    async def on_hint(self, interaction: discord.Interaction, iid: int, index: int) -> None:
        ctx = await context_of(self.bot, interaction)
        hint, step = await self._retrying(lambda: self.interviews.hint(iid, index, ctx.user))
        if step.question is None and step.item is not None:
            step.question = await self.making.reshow(
                await self.postings.instance(step.item.instance_id)
            )
        await self.show(interaction, step, ctx.lang, note=hint_text(hint).get(ctx.lang))

    async def on_stop(self, interaction: discord.Interaction, iid: int) -> None:
        ctx = await context_of(self.bot, interaction)
        step = await self._retrying(lambda: self.interviews.stop(iid, ctx.user))
        await self.show(interaction, step, ctx.lang)

    async def _retrying(self, action: Callable[[], Awaitable[T]]) -> T:
        """Run an event; if another event saved the interview at the same time, rerun it on
        the fresh state once (e.g. the sweeper settled a timeout during a click)."""
        try:
            return await action()
        except StaleSave:
            return await action()

    # timeouts

    @tasks.loop(seconds=SWEEP_SECONDS)
    async def sweeper(self) -> None:
        # A sharded bot's processes each settle the interviews of their own shards' servers
        # (direct messages: shard 0), so no two processes settle the same timeout.
        for iid in await self.interviews.active_ids(self.bot.owns_server):
            try:
                step = await self.interviews.tick(iid)
            except StaleSave:
                continue
            except Exception:
                log.exception("interview %s: sweep failed", iid)
                continue
            if step is None:
                continue
            live = self.live.get(iid)
            if live is None or live[1] < time.monotonic():
                continue
            await self._settle(live[0], step)
            if step.interview.status != "active":
                self.live.pop(iid, None)

    @sweeper.before_loop
    async def _before_sweep(self) -> None:
        await self.bot.wait_until_ready()


async def setup(bot: InterviewBot) -> None:
    services = bot.services
    cog = MockInterview(
        bot,
        interviews=services.interviews,
        postings=services.postings,
        catalog=services.catalog,
        making=services.making,
    )
    await bot.add_cog(cog)
    bot.router.on(IV_PICK, cog.on_pick)
    bot.router.on(IV_ANSWER, cog.on_answer_button)
    bot.router.on(IV_SUBMIT, cog.on_submit)
    bot.router.on(IV_SHOW, cog.on_show)
    bot.router.on(IV_OPEN, cog.on_open_answer)
    bot.router.on(IV_OPEN_SUBMIT, cog.on_open_submit)
    bot.router.on(IV_RATE, cog.on_rate)
    bot.router.on(IV_HINT, cog.on_hint)
    bot.router.on(IV_STOP, cog.on_stop)
