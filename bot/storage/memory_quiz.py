"""The `QuizStore` role in memory (a part of `MemoryStore`), as SQLite keeps it (migration
0007): the same contract (tests/storage/contract/test_quiz.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.models import Lang
from bot.core.quiz import QuizAnswer, QuizQuestion, QuizRound, QuizSettings, RoundStatus


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: the core works in UTC only")
    return at.astimezone(UTC)


@dataclass
class _Quizzes:
    rounds: dict[int, QuizRound] = field(default_factory=dict)
    questions: dict[tuple[int, int], QuizQuestion] = field(default_factory=dict)
    answers: dict[tuple[int, int, int], QuizAnswer] = field(default_factory=dict)


class MemoryQuiz:
    """Quiz rounds, their questions and answers, in dicts."""

    __quizzes: _Quizzes | None = None

    @property
    def _quizzes(self) -> _Quizzes:
        if self.__quizzes is None:
            self.__quizzes = _Quizzes()
        return self.__quizzes

    async def create_quiz_round(
        self,
        platform: str,
        channel_id: str,
        server_id: int | None,
        host_id: int,
        lang: Lang,
        settings: QuizSettings,
        at: datetime,
    ) -> tuple[QuizRound, bool]:
        running = await self.running_quiz_round(channel_id)
        if running is not None:
            return running, False
        made = QuizRound(
            id=len(self._quizzes.rounds) + 1,
            platform=platform,
            channel_id=channel_id,
            server_id=server_id,
            host_id=host_id,
            lang=lang,
            settings=settings,
            created_at=_utc(at),
        )
        self._quizzes.rounds[made.id] = made
        return made, True

    async def get_quiz_round(self, round_id: int) -> QuizRound | None:
        return self._quizzes.rounds.get(round_id)

    async def running_quiz_round(self, channel_id: str) -> QuizRound | None:
        for found in self._quizzes.rounds.values():
            if found.channel_id == channel_id and found.running:
                return found
        return None

    async def running_quiz_rounds(self) -> list[QuizRound]:
        return [r for _, r in sorted(self._quizzes.rounds.items()) if r.running]

    async def add_quiz_question(self, question: QuizQuestion) -> QuizQuestion:
        key = (question.round_id, question.index)
        stored = self._quizzes.questions.get(key)
        if stored is not None:
            return stored
        if question.round_id not in self._quizzes.rounds:
            raise KeyError(f"no quiz round {question.round_id}")
        if any(q.instance_id == question.instance_id for q in self._quizzes.questions.values()):
            raise ValueError(f"question instance {question.instance_id} is in a round already")
        question = question.model_copy(
            update={"posted_at": _utc(question.posted_at), "deadline": _utc(question.deadline)}
        )
        self._quizzes.questions[key] = question
        owner = self._quizzes.rounds[question.round_id]
        current = max(owner.current, question.index)
        self._quizzes.rounds[owner.id] = owner.model_copy(update={"current": current})
        return question

    async def set_quiz_message(self, round_id: int, index: int, message_id: str) -> None:
        stored = self._quizzes.questions.get((round_id, index))
        if stored is not None:
            update = {"message_id": message_id}
            self._quizzes.questions[(round_id, index)] = stored.model_copy(update=update)

    async def quiz_questions(self, round_id: int) -> list[QuizQuestion]:
        found = [q for (r, _), q in self._quizzes.questions.items() if r == round_id]
        return sorted(found, key=lambda q: q.index)

    async def quiz_question_by_instance(self, instance_id: int) -> QuizQuestion | None:
        for question in self._quizzes.questions.values():
            if question.instance_id == instance_id:
                return question
        return None

    async def add_quiz_answer(self, answer: QuizAnswer) -> bool:
        if (answer.round_id, answer.index) not in self._quizzes.questions:
            raise KeyError(f"quiz {answer.round_id} has no question {answer.index}")
        key = (answer.round_id, answer.index, answer.user_id)
        if key in self._quizzes.answers:
            return False
        at = _utc(answer.answered_at)
        self._quizzes.answers[key] = answer.model_copy(update={"answered_at": at})
        return True

    async def quiz_answers(self, round_id: int, index: int | None = None) -> list[QuizAnswer]:
        found = [
            a
            for (r, i, _), a in self._quizzes.answers.items()
            if r == round_id and (index is None or i == index)
        ]
        return sorted(found, key=lambda a: (a.index, a.answered_at, a.user_id))

    async def reveal_quiz_question(self, round_id: int, index: int, at: datetime) -> bool:
        stored = self._quizzes.questions.get((round_id, index))
        if stored is None or stored.revealed_at is not None:
            return False
        update = {"revealed_at": _utc(at)}
        self._quizzes.questions[(round_id, index)] = stored.model_copy(update=update)
        return True

    async def end_quiz_round(self, round_id: int, status: RoundStatus, at: datetime) -> bool:
        if status is RoundStatus.RUNNING:
            raise ValueError("a round ends finished or stopped")
        stored = self._quizzes.rounds.get(round_id)
        if stored is None or not stored.running:
            return False
        update = {"status": status, "ended_at": _utc(at)}
        self._quizzes.rounds[round_id] = stored.model_copy(update=update)
        return True
