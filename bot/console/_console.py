"""The local console: the engine's commands for one user in a terminal (or a pipe)."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.app.lazy_checkers import LazyCheckers
from bot.console._practice import Practice
from bot.core.engine import Engine, KindFilter, SelfRating, language_for, parse_generated_ref
from bot.core.errors import DomainError, UnknownQuestion
from bot.core.models import (
    LETTERS,
    AnswerOutcome,
    Difficulty,
    HistoryEntry,
    Kind,
    Lang,
    LanguagePref,
    Localized,
    Period,
    Scope,
    ServedQuestion,
    User,
    UserStats,
    Verdict,
)
from bot.core.topics import AREA_IDS, TOPIC_IDS
from bot.demos import DemoError, DemoParamsError, DemoRunner, demo_names, get_spec, parse_params
from bot.shared.calculator import CheckRequest, format_result, parse_words
from bot.shared.demo_texts import demo_error_text, progress_bar
from bot.shared.texts import (
    DIFFICULTY_NAMES,
    KIND_NAMES,
    error_text,
    grade_text,
    percent,
    points_en,
    points_note,
    points_text,
    rating_name,
    rating_prompt,
    topic_name,
)

log = logging.getLogger(__name__)

PLATFORM = "local"
QUIT_WORDS = ("quit", "exit")


class Terminal(Protocol):
    """Where the console reads lines and writes text (stdin/stdout, or a test's lists)."""

    async def read(self, prompt: str) -> str | None:
        """The next line without its newline; None at end of input (Ctrl-D, end of pipe)."""
        ...

    def write(self, text: str) -> None: ...


class CheckRunner(Protocol):
    def __call__(self, request: CheckRequest) -> dict[str, Any]:
        """The result of a check (see docs/numeric-checker.md); ValueError for a bad request."""
        ...


@dataclass(frozen=True, slots=True)
class _Command:
    run: Callable[[list[str]], Awaitable[None]]
    usage: str
    help: Localized


HELP_INTRO = Localized(
    en="Deep-learning interview practice, local console. Commands:",
    zh="深度学习面试练习（本地控制台）。可用命令：",
)


class Console:
    def __init__(
        self,
        engine: Engine,
        terminal: Terminal,
        user_name: str,
        locale: str | None = None,
        check: CheckRunner | None = None,
        demos: DemoRunner | None = None,
    ) -> None:
        self.engine = engine
        self.terminal = terminal
        self.user_name = user_name
        self.locale = locale
        self.check_runner = check
        self.demos = demos  # started on the first `demo` (see run_console)
        self._demos_started = False
        self._user: User | None = None
        self.practice = Practice(self)
        self.commands: dict[str, _Command] = {
            "question": _Command(
                self.cmd_question,
                "question [TOPIC] [concept|numeric|mcq|open|any] [easy|medium|hard] | question REF",
                Localized(en="ask me a question", zh="出一道题"),
            ),
            "interview": _Command(
                self.practice.cmd_interview,
                "interview start [TOPIC...] [questions=N] [minutes=M] | status | stop",
                Localized(en="a timed mock interview with a report", zh="限时模拟面试，附报告"),
            ),
            "review": _Command(
                self.practice.cmd_review,
                "review [COUNT]",
                Localized(en="questions due for spaced review", zh="到期需要复习的题目"),
            ),
            "daily": _Command(
                self.practice.cmd_daily,
                "daily",
                Localized(en="today's question (builds a streak)", zh="每日一题（累积连胜）"),
            ),
            "topics": _Command(
                self.cmd_topics,
                "topics",
                Localized(
                    en="topics, question counts and your accuracy", zh="主题、题量与你的正确率"
                ),
            ),
            "stats": _Command(
                self.cmd_stats,
                "stats [chart [FILE.png|FOLDER/] [--force]]",
                Localized(en="your points and accuracy by topic", zh="你在各主题的得分与正确率"),
            ),
            "history": _Command(
                self.cmd_history,
                "history [COUNT]",
                Localized(
                    en="your last answers, with references to ask again",
                    zh="你最近的作答记录（附题目编号，可再次作答）",
                ),
            ),
            "leaderboard": _Command(
                self.cmd_leaderboard,
                "leaderboard [week|month|all] [TOPIC]",
                Localized(en="top 10 on this machine", zh="本机排行榜前 10 名"),
            ),
            "check": _Command(
                self.cmd_check,
                "check FAMILY k=v ... [--answer A] | check --list",
                Localized(en="the numeric checker as a calculator", zh="数值题计算器"),
            ),
            "demo": _Command(
                self.cmd_demo,
                "demo gan|rnn|vanishing [k=v ...] [--out PATH]",
                Localized(
                    en="a mini demo, saved as a PNG (`demo` lists the parameters)",
                    zh="小演示，保存为 PNG（输入 `demo` 查看参数）",
                ),
            ),
            "language": _Command(
                self.cmd_language,
                "language auto|en|zh",
                Localized(en="reply language", zh="回复语言"),
            ),
            "help": _Command(self.cmd_help, "help", Localized(en="this list", zh="显示本帮助")),
            "quit": _Command(
                self.cmd_quit, "quit", Localized(en="leave (or Ctrl-D)", zh="退出（或 `Ctrl-D`）")
            ),
        }
        self.aliases = {"q": "question", "exit": "quit", "lb": "leaderboard", "?": "help"}
        self._running = True
        if isinstance(engine.checkers, LazyCheckers):
            engine.checkers.on_load = self._announce_checkers

    def _announce_checkers(self) -> None:
        """Called (from a worker thread) just before torch loads, for the first question or
        check that needs it."""
        self.say(
            Localized(
                en="Loading the numeric checker (first time only, a few seconds)…",
                zh="正在加载数值题计算器（仅第一次，需要几秒）……",
            )
        )

    def quits(self, line: str | None) -> bool:
        """Whether a line read at any prompt ends the session: end of input, `quit` or
        `exit` (never taken for an answer); the console stops after the current command."""
        if line is None or line.strip().lower() in QUIT_WORDS:
            self._running = False
            return True
        return False

    async def checkers_ready(self) -> None:
        """Load the numeric checkers now (in a worker thread) if they are not loaded yet: for
        commands whose engine calls ask for the family names on the event loop."""
        checkers = self.engine.checkers
        if isinstance(checkers, LazyCheckers) and not checkers.loaded:
            await asyncio.to_thread(checkers.get)

    # plumbing

    @property
    def user(self) -> User:
        assert self._user is not None, "run() sets the user first"
        return self._user

    @property
    def lang(self) -> Lang:
        return language_for(self.user.language, self.locale)

    def say(self, text: Localized | str) -> None:
        self.terminal.write(text if isinstance(text, str) else text.get(self.lang))

    async def run(self) -> None:
        """Read commands until `quit` or end of input."""
        self._user = await self.engine.identities.user(PLATFORM, self.user_name, self.user_name)
        self.say(
            Localized(
                en=f"Hello {self.user_name}! Type `help` for the commands, `quit` to leave.",
                zh=f"你好 {self.user_name}！输入 `help` 查看命令，`quit` 退出。",
            )
        )
        while self._running:
            line = await self.terminal.read("> ")
            if line is None:
                break
            await self.dispatch(line)
        self.say(Localized(en="Bye. Your scores are saved.", zh="再见，成绩已保存。"))

    async def dispatch(self, line: str) -> None:
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        if not words:
            return
        name = self.aliases.get(words[0].lower(), words[0].lower())
        command = self.commands.get(name)
        if command is None:
            self.say(
                Localized(
                    en=f"⚠️ Unknown command `{words[0]}`. Type `help` for the list.",
                    zh=f"⚠️ 未知命令 `{words[0]}`，输入 `help` 查看命令列表。",
                )
            )
            return
        try:
            await command.run(words[1:])
        except DomainError as exc:
            self.say(error_text(exc, self.lang))
        except Exception:  # the one fallback: log it, tell the user once, keep going
            log.exception("console command failed: %s", line)
            self.say(error_text(RuntimeError(), self.lang))

    # commands

    async def cmd_help(self, args: list[str]) -> None:
        lines = [HELP_INTRO.get(self.lang)]
        for command in self.commands.values():
            lines.append(f"  {command.usage:<52} {command.help.get(self.lang)}")
        self.say("\n".join(lines))

    async def cmd_quit(self, args: list[str]) -> None:
        self._running = False

    async def cmd_language(self, args: list[str]) -> None:
        choice = args[0].lower() if args else ""
        if choice not in ("auto", "en", "zh"):
            self.say(
                Localized(en="⚠️ Usage: language auto|en|zh", zh="⚠️ 用法：`language auto|en|zh`")
            )
            return
        pref: LanguagePref = "auto" if choice == "auto" else "en" if choice == "en" else "zh"
        self._user = await self.engine.identities.set_language(self.user, pref)
        self.say(Localized(en=f"Language: {choice}.", zh=f"语言已设为：{choice}。"))

    async def cmd_question(self, args: list[str]) -> None:
        if len(args) == 1 and self._is_reference(args[0]):
            await self._ask_reference(args[0])
            return
        chosen: dict[str, str] = {}  # "kind" / "difficulty" / "topic" -> the word given
        for word in (a.lower() for a in args):
            if word in KindFilter.__members__.values():
                slot = "kind"
            elif word in Difficulty.__members__.values():
                slot = "difficulty"
            elif word in AREA_IDS or word in TOPIC_IDS:
                slot = "topic"
            else:
                self.say(
                    Localized(
                        en=f"⚠️ `{word}` is not a topic, kind or difficulty. "
                        "Try `topics`, or: question cnn numeric hard "
                        "(or a reference, alone: question conv_macs:1790127)",
                        zh=f"⚠️ `{word}` 不是主题、题型或难度。可以先输入 `topics`，"
                        "或者：`question cnn numeric hard`（也可以只写题目编号："
                        "`question conv_macs:1790127`）",
                    )
                )
                return
            if slot in chosen and chosen[slot] != word:
                self.say(_conflict(slot, chosen[slot], word))
                return
            chosen[slot] = word
        kind = KindFilter(chosen["kind"]) if "kind" in chosen else KindFilter.ANY
        difficulty = Difficulty(chosen["difficulty"]) if "difficulty" in chosen else None
        served = await self.engine.making.serve(self.user, chosen.get("topic"), kind, difficulty)
        await self.ask(served)

    def _is_reference(self, word: str) -> bool:
        """A generated question's `FAMILY:SEED`, or a written question's id."""
        family, seed = parse_generated_ref(word)
        if family is not None and seed is not None:
            return True
        return ":" in word or self.engine.catalog.question(word) is not None

    async def _ask_reference(self, ref: str) -> None:
        """Ask the question that reference names again (shown after each question and in
        `history`)."""
        try:
            served = await self.engine.making.by_reference(ref)
        except UnknownQuestion:
            self.say(
                Localized(
                    en=f"⚠️ No question has the reference `{ref}`. A reference is FAMILY:SEED "
                    "(e.g. conv_macs:1790127) or a question id, as shown in brackets after "
                    "each question and in `history`.",
                    zh=f"⚠️ 没有编号为 `{ref}` 的题目。编号是 `FAMILY:SEED`（例如 "
                    "`conv_macs:1790127`）或题目编号，见每道题方括号中的最后一项及 `history`。",
                )
            )
            return
        await self.ask(served)

    async def ask(self, served: ServedQuestion) -> bool:
        """Post a question, show it and take the answer; False if input ended meanwhile."""
        instance = await self.engine.postings.post(served, lang=self.lang, served_to=self.user)
        self.show(served)
        await self.answer_instance(instance.id, served)
        return self._running

    async def answer_instance(self, instance_id: int, served: ServedQuestion) -> None:
        if served.kind is Kind.OPEN:
            await self._open_question(instance_id, served)
        else:
            await self._answer_loop(instance_id, served)

    def show(self, served: ServedQuestion) -> None:
        lang = self.lang
        header = " · ".join(
            [
                topic_name(served.topic, lang),
                KIND_NAMES[served.kind].get(lang),
                DIFFICULTY_NAMES[served.difficulty].get(lang),
                served.ref,
            ]
        )
        lines = [f"[{header}]", served.text.get(lang)]
        for index, choice in enumerate(served.choices):
            lines.append(f"  {LETTERS[index]}. {choice.get(lang)}")
        self.say("\n".join(lines))

    async def _answer_loop(self, instance_id: int, served: ServedQuestion) -> None:
        hint = (
            Localized(en="your answer (a letter), or `skip`", zh="你的答案（字母），或 `skip` 跳过")
            if served.kind is Kind.MCQ
            else Localized(en="your answer, or `skip`", zh="你的答案，或 `skip` 跳过")
        )
        self.say(hint)
        while True:
            line = await self.terminal.read("answer> ")
            if self.quits(line):
                return
            assert line is not None
            if line.strip().lower() in ("skip", "s", "跳过"):
                self.say(Localized(en="Skipped.", zh="已跳过。"))
                return
            if not line.strip():
                continue
            outcome = await self.engine.answering.answer(instance_id, self.user, line)
            self.show_outcome(outcome)
            if outcome.grade.verdict is not Verdict.UNREADABLE:
                return

    async def _open_question(self, instance_id: int, served: ServedQuestion) -> None:
        self.say(
            Localized(
                en="Think it through (or type your answer), "
                "then press Enter to see the model answer.",
                zh="先想一想（也可以写下你的答案），然后按回车查看参考答案。",
            )
        )
        if self.quits(await self.terminal.read("answer> ")):
            return
        question = self.engine.catalog.bank.get(served.ref)
        if question is not None and question.model_answer is not None:
            lang = self.lang
            lines = [
                Localized(en="Model answer:", zh="参考答案：").get(lang),
                question.model_answer.get(lang),
                Localized(en="Key points:", zh="要点：").get(lang),
                *(f"  • {point.get(lang)}" for point in question.key_points),
            ]
            self.say("\n".join(lines))
        ratings = "/".join(r.value for r in SelfRating)
        self.say(rating_prompt(self.lang))
        while True:
            line = await self.terminal.read("rating> ")
            if self.quits(line):
                return
            assert line is not None
            word = line.strip().lower()
            if word in ("skip", "s"):
                return
            if word in SelfRating.__members__.values():
                outcome = await self.engine.answering.self_rate(
                    instance_id, self.user, SelfRating(word)
                )
                self.show_outcome(outcome)
                return
            self.say(Localized(en=f"⚠️ Please answer {ratings}.", zh=f"⚠️ 请输入 {ratings}。"))

    def show_outcome(self, outcome: AnswerOutcome) -> None:
        lang = self.lang
        lines = [grade_text(outcome.grade).get(lang)]
        if outcome.grade.verdict is Verdict.UNREADABLE:
            lines.append(
                Localized(en="(no attempt used; try again)", zh="（不计入作答，请再试）").get(lang)
            )
            self.say("\n".join(lines))
            return
        if outcome.explanation is not None:
            lines.append(outcome.explanation.get(lang))
        if outcome.counted:
            if outcome.points or outcome.grade.correct:
                lines.append(points_note(outcome).get(lang))
        else:
            lines.append(
                Localized(
                    en="(you had already answered this question: only the first answer counts)",
                    zh="（你已经答过这道题：只有第一次作答计分）",
                ).get(lang)
            )
        self.say("\n".join(lines))

    async def cmd_topics(self, args: list[str]) -> None:
        lang = self.lang
        rows = await self.engine.boards.topics(self.user)
        numeric = numeric_topics(self.engine)
        lines = [
            Localized(
                en="topic · questions · your accuracy · numeric (🔢: has numeric questions)",
                zh="主题 · 题量 · 你的正确率 · 数值题（🔢：有数值计算题）",
            ).get(lang)
        ]
        for row in rows:
            mark = "🔢" if row.topic in numeric else ""
            lines.append(
                f"  {row.topic:<22} {topic_name(row.topic, lang):<28} {row.questions:>4}"
                f"   {percent(row.accuracy):>5} ({row.correct}/{row.answered})  {mark}".rstrip()
            )
        lines.append(
            Localized(
                en="Numeric questions: question TOPIC numeric (e.g. question cnn numeric).",
                zh="数值题：`question 主题 numeric`（例如 `question cnn numeric`）。",
            ).get(lang)
        )
        self.say("\n".join(lines))

    async def cmd_history(self, args: list[str]) -> None:
        if len(args) > 1 or (args and not (args[0].isdigit() and 1 <= int(args[0]) <= 25)):
            self.say(
                Localized(
                    en=f"⚠️ `{' '.join(args)}` is not a count: history [COUNT], COUNT from 1 to "
                    "25 (10 if not given).",
                    zh=f"⚠️ `{' '.join(args)}` 不是条数：`history [条数]`，条数为 1 到 25"
                    "（不填则为 10）。",
                )
            )
            return
        entries = await self.engine.boards.history(self.user, int(args[0]) if args else 10)
        self.say(history_text(entries, self.lang))

    async def cmd_stats(self, args: list[str]) -> None:
        lang = self.lang
        try:
            chart = parse_chart_words(args)
        except ValueError:
            self.say(
                Localized(
                    en=f"⚠️ `{' '.join(args)}` is not understood. Usage: stats [chart [FILE.png | "
                    "FOLDER/] [--force]]",
                    zh=f"⚠️ 无法理解 `{' '.join(args)}`。用法：`stats [chart [文件.png | 文件夹/] "
                    "[--force]]`",
                )
            )
            return
        stats = await self.engine.boards.stats(self.user)
        lines = [
            Localized(
                en=f"{self.user.name}: {points_en(stats.points)}, {stats.correct}/{stats.answered} "
                f"correct ({percent(stats.accuracy if stats.answered else None)}), "
                f"streak {stats.streak} (best {stats.best_streak})",
                zh=f"{self.user.name}：{stats.points} 分，答对 {stats.correct}/{stats.answered}"
                f"（{percent(stats.accuracy if stats.answered else None)}），"
                f"连续 {stats.streak} 天（最长 {stats.best_streak} 天）",
            ).get(lang)
        ]
        for row in stats.by_topic:
            lines.append(
                f"  {topic_name(row.topic, lang):<30} {points_text(row.points, lang):>10}"
                f"  {row.correct}/{row.answered} ({percent(row.accuracy)})"
            )
        if not stats.by_topic:
            lines.append(
                Localized(
                    en="No answers yet: try `question`.", zh="还没有作答记录：试试 `question`。"
                ).get(lang)
            )
        due = await self.engine.reviews.reviews_due(self.user)
        lines.append(Localized(en=f"Reviews due: {due}", zh=f"待复习：{due} 道").get(lang))
        if chart is not None and stats.by_topic:  # no answers: the sentence above, no picture
            lines.append(await self._save_chart(stats, chart))
        self.say("\n".join(lines))

    async def _save_chart(self, stats: UserStats, chart: ChartTarget) -> str:
        """Draw the stats chart and save it where `chart` says; the line that tells where
        (or why not). Never replaces a file unless asked to (`--force`)."""
        lang = self.lang
        from bot.shared.charts import stats_chart  # matplotlib: loaded when a chart is asked for

        png = await asyncio.to_thread(stats_chart, stats, lang)
        try:
            path = await asyncio.to_thread(chart.write, png)
        except FileExistsError as exc:
            return Localized(
                en=f"⚠️ {exc.filename} exists: give another name, or add --force to replace it.",
                zh=f"⚠️ {exc.filename} 已存在：请换一个文件名，或加上 `--force` 覆盖。",
            ).get(lang)
        except OSError as exc:
            where = exc.filename or chart.path
            return Localized(
                en=f"⚠️ Could not save the chart to {where}: {exc.strerror or exc}",
                zh=f"⚠️ 无法把图表保存到 {where}：{exc.strerror or exc}",
            ).get(lang)
        return Localized(en=f"Chart: {path}", zh=f"图表：{path}").get(lang)

    async def cmd_leaderboard(self, args: list[str]) -> None:
        period = Period.ALL
        topic: str | None = None
        for word in (a.lower() for a in args):
            if word in Period.__members__.values():
                period = Period(word)
            else:
                topic = word
        board = await self.engine.boards.leaderboard(Scope.GLOBAL, period, topic, user=self.user)
        lang = self.lang
        if not board.top:
            self.say(Localized(en="Nobody has points yet.", zh="还没有人得分。"))
            return
        name, points, accuracy = (
            ("name", "points", "accuracy") if lang == "en" else ("名字", "积分", "正确率")
        )
        lines = [f"{'#':>3}  {name:<20} {points:>6} {accuracy:>8}"]
        for entry in board.top:
            accuracy = percent(entry.accuracy)
            lines.append(f"{entry.rank:>3}  {entry.name[:20]:<20} {entry.points:>6} {accuracy:>8}")
        if board.me is not None and board.me not in board.top:
            lines.append(f"{board.me.rank:>3}  {board.me.name[:20]:<20} {board.me.points:>6}")
        self.say("\n".join(lines))

    async def cmd_check(self, args: list[str]) -> None:
        if self.check_runner is None:
            self.say(Localized(en="⚠️ The checker is not available.", zh="⚠️ 计算器不可用。"))
            return
        if not args or args[0] in ("--list", "list"):
            names = ", ".join(await asyncio.to_thread(self.engine.checkers.family_names))
            self.say(
                Localized(
                    en=f"Families: {names}\nUsage: check FAMILY k=v ... [--answer A] | "
                    "check FAMILY --seed N",
                    zh=f"题型族：{names}\n用法：`check FAMILY k=v ... [--answer A]` | "
                    "`check FAMILY --seed N`",
                )
            )
            return
        try:
            request = parse_words(args)
            result = await asyncio.to_thread(self.check_runner, request)
        except ValueError as exc:
            self.say(Localized(en=f"⚠️ {exc}", zh=f"⚠️ 请求有误：{exc}"))
            return
        self.say(format_result(result, self.lang, limit=20_000).replace("**", "").replace("`", ""))

    async def cmd_demo(self, args: list[str]) -> None:
        if self.demos is None:
            self.say(Localized(en="⚠️ Demos are not available.", zh="⚠️ 演示不可用。"))
            return
        if not args or args[0] in ("--list", "list"):
            self.say(demo_usage())
            return
        try:
            name, params, out = parse_demo_words(args)
        except DemoParamsError as exc:
            self.say(demo_error_text(exc, self.lang))
            return
        path = demo_output_path(name, out)
        try:
            if not self._demos_started:
                self.say(
                    Localized(
                        en="Starting the demo worker (first time only, a few seconds)…",
                        zh="正在启动演示进程（仅第一次，需要几秒）……",
                    )
                )
                await self.demos.start()
                self._demos_started = True
            result = await self.demos.run(
                f"{PLATFORM}:{self.user_name}", name, params, self._progress_printer()
            )
        except DemoError as exc:
            self.say(demo_error_text(exc, self.lang))
            return
        try:
            await asyncio.to_thread(_write_file, path, result.png)
        except OSError as exc:
            self.say(
                Localized(
                    en=f"⚠️ Could not save the PNG to {path}: {exc.strerror or exc}",
                    zh=f"⚠️ 无法把 PNG 保存到 {path}：{exc.strerror or exc}",
                )
            )
            return
        self.say(result.caption.get(self.lang) or result.caption.get("en", ""))
        self.say(Localized(en=f"Saved: {path}", zh=f"已保存：{path}"))

    def _progress_printer(self) -> Callable[[float], None]:
        """Print a progress bar now and at each update: redrawn in place on a terminal, one
        line per update in a pipe (or a transcript)."""
        redraw = bool(getattr(self.terminal, "interactive", False))
        shown = False

        def show(fraction: float) -> None:
            nonlocal shown
            prefix = "\x1b[1A\x1b[2K" if redraw and shown else ""  # cursor up, clear line
            self.terminal.write(f"{prefix}  {progress_bar(fraction)}")
            shown = True

        show(0.0)
        return show


_SLOT_NAMES = {
    "kind": Localized(en="kind", zh="题型"),
    "difficulty": Localized(en="difficulty", zh="难度"),
    "topic": Localized(en="topic", zh="主题"),
}


def _conflict(slot: str, first: str, second: str) -> Localized:
    name = _SLOT_NAMES[slot]
    return Localized(
        en=f"⚠️ `{first}` and `{second}` are both a {name.en}: give one {name.en} "
        f"(e.g. question {first}).",
        zh=f"⚠️ `{first}` 和 `{second}` 都是{name.zh}：只能选一个{name.zh}"
        f"（例如 `question {first}`）。",
    )


def numeric_topics(engine: Engine) -> set[str]:
    """The topics that have numeric (generated) questions."""
    return {q.topic for q in engine.catalog.bank.questions.values() if q.kind is Kind.NUMERIC}


def history_text(entries: list[HistoryEntry], lang: Lang) -> str:
    """`history`: when, reference, topic, answer, ✅/❌, points; one line each."""
    if not entries:
        return Localized(
            en="No answers yet: try `question`.", zh="还没有作答记录：试试 `question`。"
        ).get(lang)
    lines = [
        Localized(
            en="Your last answers (ask one again: question REF):",
            zh="你最近的作答（再答一次：`question 编号`）：",
        ).get(lang)
    ]
    for entry in entries:
        when = entry.at.strftime("%Y-%m-%d %H:%M")
        answer = entry.answer if len(entry.answer) <= 30 else entry.answer[:29] + "…"
        if entry.kind is Kind.OPEN:
            rated = rating_name(entry.answer, lang)
            answer = Localized(en=f"rated {rated}", zh=f"自评：{rated}").get(lang)
        points = points_en(entry.points) if lang == "en" else f"{entry.points} 分"
        mark = "✅" if entry.correct else "❌"
        lines.append(
            f"  {when}  {mark} {points:<9} {entry.ref}  ·  {topic_name(entry.topic, lang)}"
            f"  ·  {answer}"
        )
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ChartTarget:
    """Where `stats chart` saves: a file, or a folder (`DIR/` or an existing one) where the
    first free `stats.png`, `stats-2.png`... goes."""

    path: Path
    folder: bool
    force: bool

    def write(self, png: bytes) -> Path:
        """Write the PNG; the file written. FileExistsError rather than replace a file
        (unless `force`); OSError for a folder that cannot be made or written."""
        if self.folder or self.path.is_dir():
            _make_folder(self.path)
            number = 1
            while True:
                name = "stats.png" if number == 1 else f"stats-{number}.png"
                try:
                    return _write_new(self.path / name, png)
                except FileExistsError:
                    number += 1
        _make_folder(self.path.parent)
        if self.force:
            self.path.write_bytes(png)
            return self.path.absolute()
        return _write_new(self.path, png)


def _make_folder(path: Path) -> None:
    """mkdir -p; a file in the way is "not a directory" (mkdir would say it "exists")."""
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(part))
    path.mkdir(parents=True, exist_ok=True)


def _write_new(path: Path, data: bytes) -> Path:
    with path.open("xb") as handle:  # never replaces a file
        handle.write(data)
    return path.absolute()


def parse_chart_words(args: list[str]) -> ChartTarget | None:
    """`[chart [PATH] [--force]]` -> where to save the chart (None: no chart); ValueError for
    anything else. A path ending in `/` is a folder; no path: the current folder."""
    if not args:
        return None
    if args[0].lower() != "chart":
        raise ValueError(args[0])
    rest = args[1:]
    force = "--force" in rest
    rest = [word for word in rest if word != "--force"]
    if len(rest) > 1 or (rest and rest[0].startswith("-")):
        raise ValueError(" ".join(rest))
    if not rest:
        return ChartTarget(Path.cwd(), folder=True, force=force)
    raw = rest[0]
    folder = raw.endswith(("/", os.sep))
    return ChartTarget(Path(raw).expanduser(), folder=folder, force=force)


#: Other names the console accepts for a demo's parameters (the Discord option names).
DEMO_ALIASES: dict[str, dict[str, str]] = {"rnn": {"steps": "T"}}


def parse_demo_words(words: list[str]) -> tuple[str, dict[str, str], Path | None]:
    """`NAME k=v ... [--out PATH]` -> the demo, its raw parameters and the output path.

    Keys are matched without regard to case (`t=50` is `T=50`); values stay strings for the
    demo's model to convert. The parameters are validated here, before any worker starts;
    :class:`DemoParamsError` says what is wrong.
    """
    name = words[0].lower()
    spec = get_spec(name)
    fields = {field.lower(): field for field in spec.params.model_fields}
    aliases = DEMO_ALIASES.get(name, {})
    params: dict[str, str] = {}
    out: Path | None = None
    rest = iter(words[1:])
    for word in rest:
        if word == "--out" or word.startswith("--out="):
            value = word.partition("=")[2] if "=" in word else next(rest, "")
            if not value:
                raise DemoParamsError("--out needs a file or folder: --out PATH")
            out = Path(value).expanduser()
            if value.endswith(("/", os.sep)):  # a folder, even one that does not exist yet
                out = out / f"demo-{name}.png"
            continue
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise DemoParamsError(f"parameters are written k=v, not {word!r}")
        key = aliases.get(key.lower(), fields.get(key.lower(), key))
        params[key] = value
    parse_params(spec.params, params, name)
    return name, params, out


def demo_output_path(name: str, out: Path | None) -> Path:
    """Where the PNG goes: `--out` (a file, or a folder for `demo-NAME.png`), else the
    current folder."""
    default = f"demo-{name}.png"
    if out is None:
        return Path.cwd() / default
    if out.is_dir():
        return (out / default).absolute()
    return out.absolute()


def demo_usage() -> str:
    """The demos and their parameters with defaults, e.g. `rnn  cell=all T=100 ...`."""
    lines = ["demo NAME [k=v ...] [--out PATH]"]
    for name in demo_names():
        fields = get_spec(name).params.model_fields
        defaults = " ".join(f"{key}={field.default}" for key, field in fields.items())
        lines.append(f"  {name:<10} {defaults}")
    return "\n".join(lines)


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
