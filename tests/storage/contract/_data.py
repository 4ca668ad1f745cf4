"""Small builders the contract tests share."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.core.models import (
    AttemptRecord,
    Difficulty,
    Kind,
    Localized,
    QuestionInstance,
    ServedQuestion,
    User,
)
from bot.core.ports import Store
from bot.core.quiz import QuizAnswer, QuizQuestion

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
DAY = AT.date()


def served(
    ref: str = "backprop-delta",
    topic: str = "backprop",
    kind: Kind = Kind.MCQ,
    question_id: str | None = None,
) -> ServedQuestion:
    return ServedQuestion(
        ref=ref,
        kind=kind,
        topic=topic,
        difficulty=Difficulty.MEDIUM,
        text=Localized(en="q", zh="题"),
        question_id=question_id,
    )


def attempt(
    instance_id: int,
    user_id: int,
    *,
    correct: bool = True,
    points: int = 2,
    at: datetime = AT,
    server_id: int | None = None,
    topic: str = "backprop",
    ref: str = "backprop-delta",
    key: str | None = None,
    streak_day: date | None = None,
    answer: str = "B",
) -> AttemptRecord:
    return AttemptRecord(
        instance_id=instance_id,
        user_id=user_id,
        server_id=server_id,
        topic=topic,
        ref=ref,
        answer=answer,
        correct=correct,
        points=points,
        at=at,
        question_key=key,
        streak_day=streak_day,
    )


def days(n: float) -> timedelta:
    return timedelta(days=n)


async def users(store: Store, *names: str) -> list[User]:
    return [await store.get_or_create_user("discord", name.lower(), name) for name in names]


async def posted(
    store: Store,
    question: ServedQuestion | None = None,
    server_id: int | None = None,
    at: datetime = AT,
) -> QuestionInstance:
    return await store.create_instance(question or served(), server_id, "42", "en", at)


def quiz_question(round_id: int, index: int, instance_id: int, **changes: object) -> QuizQuestion:
    """A quiz round's question (quiz store contract, group commit tests)."""
    made = QuizQuestion(
        round_id=round_id,
        index=index,
        instance_id=instance_id,
        ref="backprop-delta",
        kind=Kind.MCQ,
        difficulty=Difficulty.MEDIUM,
        options=4,
        posted_at=AT,
        deadline=AT + timedelta(seconds=20),
    )
    return made.model_copy(update=changes)


def quiz_answer(round_id: int, index: int, user_id: int, ms: int, **changes: object) -> QuizAnswer:
    """A lock-in `ms` after the question was posted."""
    made = QuizAnswer(
        round_id=round_id,
        index=index,
        user_id=user_id,
        name=f"user{user_id}",
        answer="B",
        choice="B",
        correct=True,
        points=4,
        answered_at=AT + timedelta(milliseconds=ms),
        elapsed_ms=ms,
    )
    return made.model_copy(update=changes)
