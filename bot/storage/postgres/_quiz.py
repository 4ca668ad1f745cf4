"""Quiz rounds (migration 0002): rounds, their questions and each user's first answer.

Several processes: a channel's one running round is a partial unique index (of two starts at
once, the second's INSERT waits for the first and inserts nothing), an answer's primary key
refuses a second one, and revealing or ending compares in the UPDATE itself."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from bot.core.models import Lang
from bot.core.quiz import QuizAnswer, QuizQuestion, QuizRound, QuizSettings, RoundStatus
from bot.storage.postgres._common import Area, read_utc, utc
from bot.storage.postgres._db import Conn, affected
from bot.storage.quiz_rows import (
    SELECT_ANSWER,
    SELECT_QUESTION,
    SELECT_ROUND,
    quiz_answer,
    quiz_question,
    quiz_round,
)

_ROUND, _QUESTION, _ANSWER = SELECT_ROUND, SELECT_QUESTION, SELECT_ANSWER


def _round(row: asyncpg.Record) -> QuizRound:
    return quiz_round(row, read_utc)


def _question(row: asyncpg.Record) -> QuizQuestion:
    return quiz_question(row, read_utc)


def _answer(row: asyncpg.Record) -> QuizAnswer:
    return quiz_answer(row, read_utc)


class Quiz(Area):
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
        async def create(conn: Conn) -> tuple[QuizRound, bool]:
            while True:  # READ COMMITTED: each statement sees what committed before it
                row = await conn.fetchrow(
                    "INSERT INTO quiz_rounds (platform, channel_id, server_id, host_id, lang,"
                    " settings, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    " ON CONFLICT (channel_id) WHERE status = 'running' DO NOTHING"
                    " RETURNING id, platform, channel_id, server_id, host_id, lang, settings,"
                    " status, current, created_at, ended_at",
                    platform,
                    channel_id,
                    server_id,
                    host_id,
                    lang,
                    settings.model_dump_json(),
                    utc(at),
                )
                if row is not None:
                    return _round(row), True
                running = await conn.fetchrow(
                    f"{_ROUND} WHERE channel_id = $1 AND status = 'running'", channel_id
                )
                if running is not None:  # else it ended between the two statements
                    return _round(running), False

        return await self.db.transaction(create)

    async def get_quiz_round(self, round_id: int) -> QuizRound | None:
        row = await self.db.fetchrow(f"{_ROUND} WHERE id = $1", round_id)
        return _round(row) if row else None

    async def running_quiz_round(self, channel_id: str) -> QuizRound | None:
        row = await self.db.fetchrow(
            f"{_ROUND} WHERE channel_id = $1 AND status = 'running'", channel_id
        )
        return _round(row) if row else None

    async def running_quiz_rounds(self) -> list[QuizRound]:
        rows = await self.db.fetch(f"{_ROUND} WHERE status = 'running' ORDER BY id")
        return [_round(row) for row in rows]

    async def add_quiz_question(self, question: QuizQuestion) -> QuizQuestion:
        q = question

        async def add(conn: Conn) -> QuizQuestion:
            added = await conn.fetchval(
                "INSERT INTO quiz_questions (round_id, idx, instance_id, ref, kind, difficulty,"
                " options, posted_at, deadline, message_id, revealed_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                " ON CONFLICT (round_id, idx) DO NOTHING RETURNING idx",
                q.round_id,
                q.index,
                q.instance_id,
                q.ref,
                q.kind.value,
                q.difficulty.value,
                q.options,
                utc(q.posted_at),
                utc(q.deadline),
                q.message_id,
                utc(q.revealed_at) if q.revealed_at else None,
            )
            if added is not None:
                await conn.execute(
                    "UPDATE quiz_rounds SET current = GREATEST(current, $1) WHERE id = $2",
                    q.index,
                    q.round_id,
                )
            row = await conn.fetchrow(
                f"{_QUESTION} WHERE round_id = $1 AND idx = $2", q.round_id, q.index
            )
            assert row is not None
            return _question(row)

        return await self.db.transaction(add)

    async def set_quiz_message(self, round_id: int, index: int, message_id: str) -> None:
        await self.db.execute(
            "UPDATE quiz_questions SET message_id = $1 WHERE round_id = $2 AND idx = $3",
            message_id,
            round_id,
            index,
        )

    async def quiz_questions(self, round_id: int) -> list[QuizQuestion]:
        rows = await self.db.fetch(f"{_QUESTION} WHERE round_id = $1 ORDER BY idx", round_id)
        return [_question(row) for row in rows]

    async def quiz_question_by_instance(self, instance_id: int) -> QuizQuestion | None:
        row = await self.db.fetchrow(f"{_QUESTION} WHERE instance_id = $1", instance_id)
        return _question(row) if row else None

    async def add_quiz_answer(self, answer: QuizAnswer) -> bool:
        a = answer
        try:
            status = await self.db.execute(
                "INSERT INTO quiz_answers (round_id, idx, user_id, name, answer, choice,"
                " correct, points, answered_at, elapsed_ms)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                " ON CONFLICT (round_id, idx, user_id) DO NOTHING",
                a.round_id,
                a.index,
                a.user_id,
                a.name,
                a.answer,
                a.choice,
                a.correct,
                a.points,
                utc(a.answered_at),
                a.elapsed_ms,
            )
        except asyncpg.ForeignKeyViolationError as exc:  # no such question: a caller's bug
            raise KeyError(f"quiz {a.round_id} has no question {a.index}") from exc
        return affected(status) == 1

    async def quiz_answers(self, round_id: int, index: int | None = None) -> list[QuizAnswer]:
        if index is None:
            rows = await self.db.fetch(
                f"{_ANSWER} WHERE round_id = $1 ORDER BY idx, answered_at, user_id", round_id
            )
        else:
            rows = await self.db.fetch(
                f"{_ANSWER} WHERE round_id = $1 AND idx = $2 ORDER BY answered_at, user_id",
                round_id,
                index,
            )
        return [_answer(row) for row in rows]

    async def reveal_quiz_question(self, round_id: int, index: int, at: datetime) -> bool:
        status = await self.db.execute(
            "UPDATE quiz_questions SET revealed_at = $1"
            " WHERE round_id = $2 AND idx = $3 AND revealed_at IS NULL",
            utc(at),
            round_id,
            index,
        )
        return affected(status) == 1

    async def end_quiz_round(self, round_id: int, status: RoundStatus, at: datetime) -> bool:
        if status is RoundStatus.RUNNING:
            raise ValueError("a round ends finished or stopped")
        result = await self.db.execute(
            "UPDATE quiz_rounds SET status = $1, ended_at = $2"
            " WHERE id = $3 AND status = 'running'",
            status.value,
            utc(at),
            round_id,
        )
        return affected(result) == 1
