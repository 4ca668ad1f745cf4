"""`quiz [TOPIC] [questions=N] [seconds=S]`: a solo timed round in the console, with the
scoring and standings of a channel's round (the same service, bot/core/services/quiz.py).

The console is the round's presenter: the service posts each question, reveals it (at once
after the answer in a solo round, or when its time is up while the user is still typing) and
shows the standings through the methods below."""

from __future__ import annotations

import asyncio
import re

from bot.console import _quiz_texts as T
from bot.console._args import whole_number
from bot.console._session import Session
from bot.core.models import LETTERS, Difficulty, ServedQuestion
from bot.core.quiz import (
    QUESTIONS_DEFAULT,
    QUESTIONS_MAX,
    QUESTIONS_MIN,
    QuizKind,
    QuizQuestion,
    QuizRound,
    QuizSettings,
    Reveal,
    StandingRow,
)
from bot.core.services.quiz import AnswerCode, Quiz
from bot.shared.feedback import unreadable
from bot.shared.texts import DIFFICULTY_NAMES, topic_name

STOP_WORDS = ("stop", "停止")
# What an answer looks like (an option letter or a number): typed after the round ended, it is
# told "too late"; any other line is a command for the console.
_ANSWER = re.compile(r"[A-Za-z]|[-+0-9.,/%eE ]+")
NOT_QUIZ_KINDS = ("mcq", "open")


class ConsoleQuiz:
    """The `quiz` command and the presenter of its round."""

    def __init__(self, session: Session, *, quiz: Quiz | None) -> None:
        self.session = session
        self.quiz = quiz
        self._changed = asyncio.Condition()
        self._question: QuizQuestion | None = None
        self._ended = True
        self._stopping = False  # the user ended the round (not the clock)
        self._asked = 0  # the number of questions asked for (a round may have fewer)

    # the presenter (called by the quiz service)

    async def ask(
        self, round: QuizRound, question: QuizQuestion, served: ServedQuestion
    ) -> str | None:
        lang = self.session.lang
        header = " · ".join(
            [
                T.heading(question.index, round.settings.questions, round.settings.seconds).get(
                    lang
                ),
                topic_name(served.topic, lang),
                DIFFICULTY_NAMES[served.difficulty].get(lang),
                served.ref,
            ]
        )
        lines = [f"[{header}]", served.text.get(lang)]
        if question.index == 0:
            lines[:0] = [
                T.started(round.settings.questions, round.settings.seconds).get(lang),
                T.ANSWER_HINT.get(lang),
            ]
            if round.settings.questions < self._asked:  # fewer questions match
                lines.insert(0, T.capped(self._asked, round.settings.questions).get(lang))
        lines += [f"  {LETTERS[i]}. {choice.get(lang)}" for i, choice in enumerate(served.choices)]
        self.session.say("\n".join(lines))
        async with self._changed:
            self._question = question
            self._changed.notify_all()
        return None  # no message to edit: the reveal is printed below

    async def revealed(self, round: QuizRound, reveal: Reveal) -> None:
        self.session.say(T.reveal_text(reveal, self.session.lang, stopped=self._stopping))

    async def ended(self, round: QuizRound, standings: list[StandingRow]) -> None:
        self.session.say(T.standings_text(standings, self.session.lang))
        async with self._changed:
            self._ended = True
            self._changed.notify_all()

    # the command

    async def cmd_quiz(self, args: list[str]) -> None:
        if self.quiz is None:  # a store without quiz rounds
            self.session.say(T.NO_ROUND)
            return
        if args and args[0].lower() in ("stop", "status", "停止"):  # as `/quiz stop|status`
            self.session.say(T.NOT_IN_ROUND)  # a round runs at its own prompt, never here
            return
        settings = self._settings(args)
        if settings is None:
            return
        quiz, user = self.quiz, self.session.user
        channel = f"{user.platform}:{user.id}"
        quiz.attach(self)
        self._ended, self._question, self._stopping = False, None, False
        self._asked = settings.questions
        begun = await quiz.start(user, channel, settings, self.session.lang)
        if not begun.created:  # left running by a console that was killed: end it, say so
            stopped = await quiz.stop(channel, user, can_manage=True)
            self.session.say(T.LEFT_OPEN)
            if stopped.standings:
                self.session.say(T.standings_text(stopped.standings, self.session.lang))
            self._ended, self._question = False, None
            begun = await quiz.start(user, channel, settings, self.session.lang)
        await self._play(quiz, channel)

    async def _play(self, quiz: Quiz, channel: str) -> None:
        user, lang = self.session.user, self.session.lang
        while not self._ended:
            line = await self.session.terminal.read(self.session.prompt("quiz"))
            # The line answers the question on screen when it arrives: a read begun while an
            # earlier question was open (its time ran out meanwhile) answers the next one.
            question = self._question
            assert question is not None
            if self.session.quits(line) or (line or "").strip().lower() in STOP_WORDS:
                self._stopping = True
                await quiz.stop(channel, user, can_manage=True)
                return
            assert line is not None
            if self._ended and line.strip():  # the round ended (its time) while they typed
                if _ANSWER.fullmatch(line.strip()):
                    self.session.say(T.TOO_LATE)
                else:  # a command for the console's prompt, not lost
                    self.session.pending = line
                continue
            if not line.strip() or self._ended:
                continue
            said = await quiz.answer(question.instance_id, user, line.strip())
            if said.code is AnswerCode.LOCKED_IN:
                await self._moved_on(question)  # a solo round reveals it at once
            elif said.code is AnswerCode.UNREADABLE:
                told = unreadable(said.expected_form).get(lang)
                gap = "" if lang == "zh" else " "
                self.session.say(f"{told}{gap}{T.TRY_AGAIN.get(lang)}")
            elif said.code is AnswerCode.TOO_LATE:
                self.session.say(T.TOO_LATE)
            elif said.code is AnswerCode.ALREADY_ANSWERED:
                self.session.say(T.ALREADY)
            else:
                self.session.say(T.NO_ROUND)
                return

    async def _moved_on(self, question: QuizQuestion) -> None:
        """Wait until the service has revealed `question` and asked the next (or ended)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._ended or self._question is not question)

    def _settings(self, args: list[str]) -> QuizSettings | None:
        options: dict[str, int] = {}
        words: dict[str, str] = {}
        for word in args:
            key, sep, value = word.partition("=")
            key = key.lower()
            if sep:
                if key not in ("questions", "seconds"):
                    self.session.say(T.USAGE)
                    return None
                if key in options:
                    self.session.say(T.twice(key))
                    return None
                number = whole_number(value)
                options[key] = -1 if number is None else number
                continue
            if word.lower() in NOT_QUIZ_KINDS:  # `question`'s kinds, not a quiz's
                self.session.say(T.not_a_quiz_kind(word.lower()))
                return None
            slot = _slot(word.lower())
            if slot in words:
                self.session.say(T.USAGE)
                return None
            words[slot] = word.lower() if slot != "topic" else word
        asked = options.get("questions", QUESTIONS_DEFAULT)
        if not QUESTIONS_MIN <= asked <= QUESTIONS_MAX:  # (a round may have fewer: the service)
            self.session.say(T.bounds("questions"))
            return None
        try:
            return QuizSettings(
                topic=words.get("topic"),
                kind=QuizKind(words.get("kind", QuizKind.ANY.value)),
                difficulty=Difficulty(words["difficulty"]) if "difficulty" in words else None,
                solo=True,
                **options,
            )
        except ValueError as error:  # pydantic's: out of bounds
            bad = "questions" if "questions" in str(error) else "seconds"
            self.session.say(T.bounds(bad))
            return None


def _slot(word: str) -> str:
    if word in QuizKind.__members__.values():
        return "kind"
    if word in Difficulty.__members__.values():
        return "difficulty"
    return "topic"
