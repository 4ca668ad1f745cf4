"""Quiz rows read as the core's models, for both SQL stores: the SQLite and PostgreSQL quiz
tables have the same columns (tests/storage/test_postgres_store.py checks), and differ only in
how a time comes back (ISO text in SQLite, timestamptz in PostgreSQL): `when` reads one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from bot.core.models import Difficulty, Kind, Lang
from bot.core.quiz import QuizAnswer, QuizQuestion, QuizRound, QuizSettings, RoundStatus

SELECT_ROUND = (
    "SELECT id, platform, channel_id, server_id, host_id, lang, settings, status, current,"
    " created_at, ended_at FROM quiz_rounds"
)
SELECT_QUESTION = (
    "SELECT round_id, idx, instance_id, ref, kind, difficulty, options, posted_at, deadline,"
    " message_id, revealed_at FROM quiz_questions"
)
SELECT_ANSWER = (
    "SELECT round_id, idx, user_id, name, answer, choice, correct, points, answered_at,"
    " elapsed_ms FROM quiz_answers"
)

When = Callable[[Any], datetime]


class Row(Protocol):
    """An aiosqlite.Row or an asyncpg.Record: read by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


def quiz_round(row: Row, when: When) -> QuizRound:
    lang: Lang = "zh" if row["lang"] == "zh" else "en"
    return QuizRound(
        id=row["id"],
        platform=row["platform"],
        channel_id=row["channel_id"],
        server_id=row["server_id"],
        host_id=row["host_id"],
        lang=lang,
        settings=QuizSettings.model_validate_json(row["settings"]),
        status=RoundStatus(row["status"]),
        current=row["current"],
        created_at=when(row["created_at"]),
        ended_at=when(row["ended_at"]) if row["ended_at"] else None,
    )


def quiz_question(row: Row, when: When) -> QuizQuestion:
    return QuizQuestion(
        round_id=row["round_id"],
        index=row["idx"],
        instance_id=row["instance_id"],
        ref=row["ref"],
        kind=Kind(row["kind"]),
        difficulty=Difficulty(row["difficulty"]),
        options=row["options"],
        posted_at=when(row["posted_at"]),
        deadline=when(row["deadline"]),
        message_id=row["message_id"],
        revealed_at=when(row["revealed_at"]) if row["revealed_at"] else None,
    )


def quiz_answer(row: Row, when: When) -> QuizAnswer:
    return QuizAnswer(
        round_id=row["round_id"],
        index=row["idx"],
        user_id=row["user_id"],
        name=row["name"],
        answer=row["answer"],
        choice=row["choice"],
        correct=bool(row["correct"]),
        points=row["points"],
        answered_at=when(row["answered_at"]),
        elapsed_ms=row["elapsed_ms"],
    )
