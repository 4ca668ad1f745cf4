"""The local console: the core's commands for one user in a terminal (or a pipe).

This module only holds the command table, the command loop and the few commands about the
session itself; the commands live in sibling modules, each built on the shared
:class:`~bot.console._session.Session` and given, by name, the services it uses (the composition
root, bot/app/wiring.py `run_console`, hands them to the console)."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.app.lazy_checkers import LazyCheckers
from bot.console._asking import Asking
from bot.console._interview import Interviews
from bot.console._practice import Practice
from bot.console._quiz import ConsoleQuiz
from bot.console._session import PLATFORM, CheckRunner, Session, Terminal
from bot.console._stats import Stats
from bot.console._tools import Tools
from bot.core.errors import DomainError
from bot.core.interview import Interviews as InterviewService
from bot.core.models import LanguagePref, Localized
from bot.core.ports import Checkers, Clock
from bot.core.services.answering import Answering
from bot.core.services.boards import Boards
from bot.core.services.catalog import Catalog
from bot.core.services.daily import Dailies
from bot.core.services.identities import Identities
from bot.core.services.making import Making
from bot.core.services.posting import Postings
from bot.core.services.quiz import Quiz
from bot.core.services.reviews import Reviews
from bot.demos import DemoRunner
from bot.shared.texts import clip, error_text

log = logging.getLogger(__name__)
LONGEST_COMMAND = 2_000  # characters: a longer line at the `>` prompt is refused, not echoed

__all__ = ["CheckRunner", "Console", "Terminal"]


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
        terminal: Terminal,
        user_name: str,
        *,
        identities: Identities,
        catalog: Catalog,
        making: Making,
        postings: Postings,
        answering: Answering,
        reviews: Reviews,
        dailies: Dailies,
        boards: Boards,
        interviews: InterviewService,
        checkers: Checkers,
        quiz: Quiz | None = None,
        clock: Clock,
        locale: str | None = None,
        check: CheckRunner | None = None,
        demos: DemoRunner | None = None,
        database: str | None = None,
    ) -> None:
        self.identities = identities
        self.database = database  # shown at the start: BOT_DB is relative to the folder
        self.session = Session(terminal, user_name, locale)
        # Each command gets the services it uses, by name.
        self.asking = Asking(self.session, postings=postings, answering=answering, catalog=catalog)
        self.practice = Practice(
            self.session,
            self.asking,
            catalog=catalog,
            making=making,
            reviews=reviews,
            dailies=dailies,
            boards=boards,
            checkers=checkers,
        )
        self.interview = Interviews(
            self.session,
            self.asking,
            interviews=interviews,
            postings=postings,
            catalog=catalog,
            making=making,
            clock=clock,
        )
        self.stats = Stats(self.session, boards=boards, reviews=reviews, catalog=catalog)
        self.tools = Tools(self.session, check, demos, checkers=checkers)
        self.quiz = ConsoleQuiz(self.session, quiz=quiz)
        self.commands: dict[str, _Command] = {
            "question": _Command(
                self.practice.cmd_question,
                "question [TOPIC] [concept|numeric|mcq|open|any] [easy|medium|hard] | question REF",
                Localized(en="ask me a question", zh="出一道题"),
            ),
            "interview": _Command(
                self.interview.cmd_interview,
                "interview start [TOPIC...] [questions=N] [minutes=M] | status | stop",
                Localized(en="a timed mock interview with a report", zh="限时模拟面试，附报告"),
            ),
            "quiz": _Command(
                self.quiz.cmd_quiz,
                "quiz [TOPIC] [concept|numeric|any] [easy|medium|hard] [questions=N] [seconds=S]",
                Localized(
                    en="a timed quiz round: fast right answers score more",
                    zh="限时测验：答得又快又对得分更多",
                ),
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
                self.stats.cmd_topics,
                "topics",
                Localized(
                    en="topics, question counts and your accuracy", zh="主题、题量与你的正确率"
                ),
            ),
            "stats": _Command(
                self.stats.cmd_stats,
                "stats [chart [FILE.png|FOLDER/] [--force]]",
                Localized(en="your points and accuracy by topic", zh="你在各主题的得分与正确率"),
            ),
            "history": _Command(
                self.stats.cmd_history,
                "history [COUNT]",
                Localized(
                    en="your last answers, with references to ask again",
                    zh="你最近的作答记录（附题目编号，可再次作答）",
                ),
            ),
            "leaderboard": _Command(
                self.stats.cmd_leaderboard,
                "leaderboard [week|month|all] [TOPIC]",
                Localized(en="top 10 on this machine", zh="本机排行榜前 10 名"),
            ),
            "check": _Command(
                self.tools.cmd_check,
                "check FAMILY k=v ... [--answer A] | check --list",
                Localized(en="the numeric checker as a calculator", zh="数值题计算器"),
            ),
            "demo": _Command(
                self.tools.cmd_demo,
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
        if isinstance(checkers, LazyCheckers):
            checkers.on_load = self._announce_checkers

    def _announce_checkers(self) -> None:
        """Called (from a worker thread) just before torch loads, for the first question or
        check that needs it."""
        self.session.say(
            Localized(
                en="Loading the numeric checker (first time only, a few seconds)…",
                zh="正在加载数值题计算器（仅第一次，需要几秒）……",
            )
        )

    # the command loop

    async def run(self) -> None:
        """Read commands until `quit` or end of input."""
        session = self.session
        name = session.user_name
        session.user = await self.identities.user(PLATFORM, name, name)
        session.say(
            Localized(
                en=f"Hello {name}! Type `help` for the commands, `quit` to leave.",
                zh=f"你好 {name}！输入 `help` 查看命令，`quit` 退出。",
            )
        )
        if self.database is not None:
            session.say(
                Localized(
                    en=f"Your scores are kept in {self.database} (BOT_DB).",
                    zh=f"成绩保存在 {self.database}（`BOT_DB`）。",
                )
            )
        await self.interview.remind()
        while session.running:
            line, session.pending = session.pending, None
            if line is None:
                line = await session.terminal.read("> ")
            if line is None:
                break
            await self.dispatch(line)
        session.say(Localized(en="Bye. Your scores are saved.", zh="再见，成绩已保存。"))

    async def dispatch(self, line: str) -> None:
        if len(line) > LONGEST_COMMAND:  # pasted by mistake: not echoed back whole
            self.session.say(
                Localized(
                    en=f"⚠️ That line is {len(line):,} characters long: too long for a command"
                    " (commands are a few words; `help` lists them). Nothing was done.",
                    zh=f"⚠️ 这一行有 {len(line):,} 个字符，作为命令太长了（命令只有几个词，"
                    "输入 `help` 查看）。未做任何操作。",
                )
            )
            return
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        if not words:
            return
        name = self.aliases.get(words[0].lower(), words[0].lower())
        command = self.commands.get(name)
        if command is None:
            shown = clip(words[0], 41)
            self.session.say(
                Localized(
                    en=f"⚠️ Unknown command `{shown}`. Type `help` for the list.",
                    zh=f"⚠️ 未知命令 `{shown}`，输入 `help` 查看命令列表。",
                )
            )
            return
        try:
            await command.run(words[1:])
        except DomainError as exc:
            self.session.say(error_text(exc, self.session.lang))
        except Exception:  # the one fallback: log it, tell the user once, keep going
            log.exception("console command failed: %s", line)
            self.session.say(error_text(RuntimeError(), self.session.lang))

    # commands

    async def cmd_help(self, args: list[str]) -> None:
        lines = [HELP_INTRO.get(self.session.lang)]
        for command in self.commands.values():
            lines.append(f"  {command.usage:<52} {command.help.get(self.session.lang)}")
        self.session.say("\n".join(lines))

    async def cmd_quit(self, args: list[str]) -> None:
        self.session.running = False

    async def cmd_language(self, args: list[str]) -> None:
        choice = args[0].lower() if args else ""
        if choice not in ("auto", "en", "zh"):
            self.session.say(
                Localized(en="⚠️ Usage: language auto|en|zh", zh="⚠️ 用法：`language auto|en|zh`")
            )
            return
        pref: LanguagePref = "auto" if choice == "auto" else "en" if choice == "en" else "zh"
        self.session.user = await self.identities.set_language(self.session.user, pref)
        self.session.say(Localized(en=f"Language: {choice}.", zh=f"语言已设为：{choice}。"))
