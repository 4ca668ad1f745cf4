"""`interview`: a timed mock interview in the console, with its report."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from bot.console._args import RATING_WORDS, ChartTarget, read_rating
from bot.console._asking import Asking
from bot.console._session import Session
from bot.core.interview import Interviews as InterviewService
from bot.core.interview import Report, Step
from bot.core.models import Kind, Lang, Localized
from bot.core.ports import Clock
from bot.core.services.answering import SelfRating
from bot.core.services.catalog import Catalog
from bot.core.services.making import Making
from bot.core.services.posting import Postings
from bot.shared.rubric_texts import coverage_note, suggested_prompt
from bot.shared.texts import (
    OUTCOME_NAMES,
    expired_text,
    hint_text,
    item_position,
    percent,
    rating_prompt,
    report_summary,
    review_title,
    timing_label,
    topic_name,
)

L = Localized


def _t(lang: Lang, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def _left(deadline: datetime, now: datetime) -> str:
    seconds = max(0, int((deadline - now).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Interviews:
    """`interview start|status|stop`, on top of the session's reading and writing."""

    def __init__(
        self,
        session: Session,
        asking: Asking,
        *,
        interviews: InterviewService,
        postings: Postings,
        catalog: Catalog,
        making: Making,
        clock: Clock,
    ) -> None:
        self.session = session
        self.asking = asking
        self.interviews = interviews
        self.postings = postings
        self.catalog = catalog
        self.making = making
        self.clock = clock

    async def remind(self) -> None:
        """At start-up: an interview left running (its clock did not stop) is named."""
        if await self.interviews.active(self.session.user) is None:
            return
        self.session.say(
            L(
                en="You have a mock interview in progress (its clock keeps running): "
                "`interview status` takes you back to it.",
                zh="你有一场模拟面试正在进行（计时不会停止）：输入 `interview status` 回到面试。",
            )
        )

    async def cmd_interview(self, args: list[str]) -> None:
        action = args[0].lower() if args else "status"
        if action == "start":
            await self._start(args[1:])
        elif action in ("status", "resume"):
            active = await self.interviews.active(self.session.user)
            if active is None:
                self.session.say(
                    L(
                        en="No interview running: `interview start [TOPIC...] [questions=8] "
                        "[minutes=3]`.",
                        zh="没有进行中的面试："
                        "`interview start [主题...] [questions=8] [minutes=3]`。",
                    )
                )
                return
            await self._drive(await self.interviews.status(active.id, self.session.user))
        elif action == "stop":
            active = await self.interviews.active(self.session.user)
            if active is None:
                self.session.say(L(en="No interview running.", zh="没有进行中的面试。"))
                return
            step = await self.interviews.stop(active.id, self.session.user)
            assert step.report is not None
            await self._report(step.report)
        else:
            self.session.say(
                L(
                    en="⚠️ Usage: interview start|status|stop",
                    zh="⚠️ 用法：`interview start|status|stop`",
                )
            )

    async def _start(self, words: list[str]) -> None:
        topics: list[str] = []
        options = {"questions": 8, "minutes": 3}
        given: set[str] = set()
        for word in words:
            key, sep, value = word.partition("=")
            if sep and key in options:
                if not (value.isascii() and value.isdigit()):
                    self.session.say(
                        L(en=f"⚠️ {key} must be a whole number.", zh=f"⚠️ {key} 必须是整数。")
                    )
                    return
                if key in given:
                    self.session.say(
                        L(
                            en=f"⚠️ {key} is given twice: give it once.",
                            zh=f"⚠️ {key} 给了两次：只能给一次。",
                        )
                    )
                    return
                given.add(key)
                options[key] = int(value)
            else:
                topics.extend(t for t in word.split(",") if t)
        step = await self.interviews.start(
            self.session.user,
            topics,
            options["questions"],
            options["minutes"],
            lang=self.session.lang,
        )
        planned, cap = step.interview.planned, step.interview.follow_up_cap
        self.session.say(
            L(
                en=f"Mock interview #{step.interview.id}: {planned} questions (+ a follow-up "
                f"after a miss, at most {cap}), {step.interview.minutes} min each. At the answer "
                "prompt: `hint` (costs a point of a scored question), `stop`, or `quit`/Ctrl-D "
                "to leave it for now (`interview status` comes back to it; its clock keeps "
                "running).",
                zh=f"模拟面试 #{step.interview.id}：共 {planned} 题（答错后追问一题，最多 "
                f"{cap} 道），每题 {step.interview.minutes} 分钟。作答时可输入 `hint`（计分题扣 "
                "1 分）、`stop`，或输入 `quit`/按 `Ctrl-D` 暂时离开"
                "（`interview status` 可回到面试；计时不会停止）。",
            )
        )
        await self._drive(step)

    async def _drive(self, step: Step) -> None:
        """Show each question and read answers until the interview ends or input does."""
        session = self.session
        shown = -1
        told: Step | None = None  # the step whose time-outs were said (an empty line keeps it)
        while True:
            if step is not told:
                told = step
                for expired in step.expired:
                    session.say(expired_text(expired))
            if step.report is not None:
                await self._report(step.report)
                return
            item, question = step.item, step.question
            if item is None or question is None:
                return
            if item.index != shown:
                shown = item.index
                self._header(step)
                self.asking.show(question)
            iid, index = step.interview.id, item.index
            line = await session.terminal.read(session.prompt("answer"))
            if session.quits(line):  # end of input or `quit`: never an answer
                self._paused()
                return
            assert line is not None
            word = line.strip().lower()
            if word in ("stop", "hint"):
                step = await self._command(word, iid, index, step)
                continue
            if question.kind is Kind.OPEN:
                answer = await self.asking.read_answer(line)  # more lines, to an empty one
                if answer is None:
                    self._paused()
                    return
                if not await self._still_open(iid, index):
                    # Its time ran out while they wrote: told so now (with the solution), not
                    # after a rating that would not count. Late, the rating is not used.
                    step = await self.interviews.self_rate(
                        iid, index, session.user, SelfRating.AGAIN
                    )
                    continue
                instance = await self.postings.instance(item.instance_id)
                found = self.catalog.question(instance.ref, instance.server_id)
                suggested, coverage = self.asking.reveal(found, answer)
                rating = await self._rating(suggested)
                if rating is None:
                    self._paused()
                    return
                step = await self.interviews.self_rate(iid, index, session.user, rating, coverage)
            elif not word:
                continue
            else:
                step = await self.interviews.answer(iid, index, session.user, line)
            if step.outcome is not None:
                self.asking.show_outcome(step.outcome)

    async def _still_open(self, interview_id: int, index: int) -> bool:
        """Whether question `index` still takes an answer (as saved: its deadline not past)."""
        interview, _ = await self.interviews.load(interview_id)
        current = interview.current
        return (
            interview.status == "active"
            and current is not None
            and current.index == index
            and self.clock.now() < current.deadline
        )

    def _header(self, step: Step) -> None:
        item = step.item
        assert item is not None
        left = _left(item.deadline, self.clock.now())
        position = item_position(step.interview, item)
        self.session.say(
            L(
                en=f"\n{position.en} · {left} left · `hint`, `stop`",
                zh=f"\n{position.zh} · 剩余 {left} · `hint` 提示，`stop` 结束",
            )
        )

    async def _command(self, word: str, iid: int, index: int, step: Step) -> Step:
        if word == "stop":
            return await self.interviews.stop(iid, self.session.user)
        hint, after = await self.interviews.hint(iid, index, self.session.user)
        self.session.say(hint_text(hint))
        if after.question is None and after.item is not None:
            after.question = await self.making.reshow(
                await self.postings.instance(after.item.instance_id)
            )
        return after

    def _paused(self) -> None:
        self.session.say(
            L(
                en="You left the interview: `interview status` takes you back to it (its "
                "clock keeps running).",
                zh="已离开面试：输入 `interview status` 可回到面试（计时不会停止）。",
            )
        )

    async def _rating(self, suggested: str | None = None) -> SelfRating | None:
        """The user's rating of an open answer; Enter takes the `suggested` one, if any."""
        self.session.say(rating_prompt(self.session.lang))
        if suggested is not None:
            self.session.say(suggested_prompt(suggested, self.session.lang))
        while True:
            line = await self.session.terminal.read(self.session.prompt("rating"))
            if self.session.quits(line):
                return None
            assert line is not None
            rating = read_rating(line.strip().lower() or (suggested or ""))
            if rating is not None:
                return rating
            self.session.say(RATING_WORDS)

    async def _report(self, report: Report) -> None:
        lang = self.session.lang
        stopped = report.status == "stopped"
        # plain strings, not Localized: Localized strips the indentation and spaces kept here
        lines = [
            _t(
                lang,
                f"Report{' (stopped early)' if stopped else ''}: ",
                f"面试报告{'（提前结束）' if stopped else ''}：",
            )
            + report_summary(report, lang)
        ]
        for score in report.by_topic:
            line = f"  {topic_name(score.topic, lang)}{_t(lang, ': ', '：')}"
            line += f"{score.correct}/{score.answered}"
            if score.answered:
                line += _t(lang, f" ({percent(score.accuracy)})", f"（{percent(score.accuracy)}）")
            if score.timed_out:
                line += _t(lang, f", {score.timed_out} timed out", f"，超时 {score.timed_out} 题")
            lines.append(line)
        for timing in report.times:
            taken = (
                "-"
                if timing.seconds is None
                else _t(lang, f"{timing.seconds:.0f}s", f"{timing.seconds:.0f} 秒")
            )
            outcome = OUTCOME_NAMES[timing.outcome].get(lang)
            label = timing_label(timing)
            lines.append(
                _t(
                    lang,
                    f"  {label.en}: {outcome}, {taken}",
                    f"  {label.zh}：{outcome}，{taken}",
                )
                + coverage_note(timing.coverage, lang)
            )
        if report.weakest:
            weakest = _t(lang, ", ", "，").join(topic_name(t, lang) for t in report.weakest[:3])
            lines.append(L(en=f"Weakest: {weakest}", zh=f"最薄弱：{weakest}").get(lang))
        for entry in report.review[:8]:
            due = entry.due.strftime("%Y-%m-%d %H:%M UTC")
            title = review_title(entry).get(lang)
            lines.append(_t(lang, f"  review {title}: {due}", f"  复习 {title}：{due}"))
        if not report.by_topic:  # nothing answered nor timed out: no chart to draw
            self.session.say("\n".join(lines))
            return
        # the first free interview-N.png, interview-N-2.png... here: never replaces a file
        target = ChartTarget(
            Path.cwd(), folder=True, force=False, stem=f"interview-{report.interview_id}"
        )
        from bot.shared.charts import report_chart  # matplotlib: loaded for the first report

        png = await asyncio.to_thread(report_chart, report, lang)
        try:
            path = await asyncio.to_thread(target.write, png)
            lines.append(L(en=f"Chart: {path}", zh=f"图表：{path}").get(lang))
        except OSError as exc:
            lines.append(
                L(
                    en=f"⚠️ Could not save the chart here: {exc.strerror or exc}",
                    zh=f"⚠️ 无法在此保存图表：{exc.strerror or exc}",
                ).get(lang)
            )
        self.session.say("\n".join(lines))
