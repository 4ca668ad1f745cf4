"""Quiz rounds (migration 0007): rounds, their questions and each user's first answer."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import aiosqlite

from bot.core.models import Lang
from bot.core.quiz import QuizAnswer, QuizQuestion, QuizRound, QuizSettings, RoundStatus
from bot.storage.quiz_rows import (
    SELECT_ANSWER,
    SELECT_QUESTION,
    SELECT_ROUND,
    quiz_answer,
    quiz_question,
    quiz_round,
)
from bot.storage.sqlite._common import Area, iso, parse_iso

_ROUND, _QUESTION, _ANSWER = SELECT_ROUND, SELECT_QUESTION, SELECT_ANSWER


def _round(row: aiosqlite.Row) -> QuizRound:
    return quiz_round(row, parse_iso)


def _question(row: aiosqlite.Row) -> QuizQuestion:
    return quiz_question(row, parse_iso)


def _answer(row: aiosqlite.Row) -> QuizAnswer:
    return quiz_answer(row, parse_iso)


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
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO quiz_rounds (platform, channel_id, server_id, host_id, lang,"
                " settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (channel_id) WHERE status = 'running' DO NOTHING",
                (
                    platform,
                    channel_id,
                    server_id,
                    host_id,
                    lang,
                    settings.model_dump_json(),
                    iso(at),
                ),
            )
            created = cursor.rowcount == 1
            round_id = cursor.lastrowid if created else None
            await cursor.close()
            args: tuple[object, ...]
            if round_id is not None:
                query, args = f"{_ROUND} WHERE id = ?", (round_id,)
            else:
                query, args = f"{_ROUND} WHERE channel_id = ? AND status = 'running'", (channel_id,)
            async with conn.execute(query, args) as rows:
                row = await rows.fetchone()
        assert row is not None
        return _round(row), created

    async def get_quiz_round(self, round_id: int) -> QuizRound | None:
        return await self._one_round(f"{_ROUND} WHERE id = ?", (round_id,))

    async def running_quiz_round(self, channel_id: str) -> QuizRound | None:
        return await self._one_round(
            f"{_ROUND} WHERE channel_id = ? AND status = 'running'", (channel_id,)
        )

    async def running_quiz_rounds(self) -> list[QuizRound]:
        async with (
            self.db.read() as conn,
            conn.execute(f"{_ROUND} WHERE status = 'running' ORDER BY id") as cursor,
        ):
            return [_round(row) for row in await cursor.fetchall()]

    async def _one_round(self, query: str, args: tuple[object, ...]) -> QuizRound | None:
        async with self.db.read() as conn, conn.execute(query, args) as cursor:
            row = await cursor.fetchone()
        return _round(row) if row else None

    async def add_quiz_question(self, question: QuizQuestion) -> QuizQuestion:
        q = question
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO quiz_questions (round_id, idx, instance_id, ref, kind, difficulty,"
                " options, posted_at, deadline, message_id, revealed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (round_id, idx) DO NOTHING",
                (
                    q.round_id,
                    q.index,
                    q.instance_id,
                    q.ref,
                    q.kind.value,
                    q.difficulty.value,
                    q.options,
                    iso(q.posted_at),
                    iso(q.deadline),
                    q.message_id,
                    iso(q.revealed_at) if q.revealed_at else None,
                ),
            )
            added = cursor.rowcount == 1
            await cursor.close()
            if added:
                await conn.execute(
                    "UPDATE quiz_rounds SET current = MAX(current, ?) WHERE id = ?",
                    (q.index, q.round_id),
                )
            async with conn.execute(
                f"{_QUESTION} WHERE round_id = ? AND idx = ?", (q.round_id, q.index)
            ) as rows:
                row = await rows.fetchone()
        assert row is not None
        return _question(row)

    async def set_quiz_message(self, round_id: int, index: int, message_id: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE quiz_questions SET message_id = ? WHERE round_id = ? AND idx = ?",
                (message_id, round_id, index),
            )

    async def quiz_questions(self, round_id: int) -> list[QuizQuestion]:
        async with (
            self.db.read() as conn,
            conn.execute(f"{_QUESTION} WHERE round_id = ? ORDER BY idx", (round_id,)) as cursor,
        ):
            return [_question(row) for row in await cursor.fetchall()]

    async def quiz_question_by_instance(self, instance_id: int) -> QuizQuestion | None:
        async with (
            self.db.read() as conn,
            conn.execute(f"{_QUESTION} WHERE instance_id = ?", (instance_id,)) as cursor,
        ):
            row = await cursor.fetchone()
        return _question(row) if row else None

    async def add_quiz_answer(self, answer: QuizAnswer) -> bool:
        a = answer

        # Through the group commit: a round's lock-ins come in a burst, and share commits with
        # each other and with the answers they follow, instead of a commit each.
        def work(conn: sqlite3.Connection) -> bool:
            inserted: int = conn.execute(
                "INSERT INTO quiz_answers (round_id, idx, user_id, name, answer, choice,"
                " correct, points, answered_at, elapsed_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (round_id, idx, user_id) DO NOTHING",
                (
                    a.round_id,
                    a.index,
                    a.user_id,
                    a.name,
                    a.answer,
                    a.choice,
                    int(a.correct),
                    a.points,
                    iso(a.answered_at),
                    a.elapsed_ms,
                ),
            ).rowcount
            return inserted == 1

        try:
            return await self.db.group(work)
        except sqlite3.IntegrityError as exc:  # no such question: a bug of the caller
            raise KeyError(f"quiz {a.round_id} has no question {a.index}") from exc

    async def quiz_answers(self, round_id: int, index: int | None = None) -> list[QuizAnswer]:
        query, args = f"{_ANSWER} WHERE round_id = ?", [round_id]
        if index is not None:
            query += " AND idx = ?"
            args.append(index)
        query += " ORDER BY idx, answered_at, user_id"
        async with self.db.read() as conn, conn.execute(query, args) as cursor:
            return [_answer(row) for row in await cursor.fetchall()]

    async def reveal_quiz_question(self, round_id: int, index: int, at: datetime) -> bool:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE quiz_questions SET revealed_at = ?"
                " WHERE round_id = ? AND idx = ? AND revealed_at IS NULL",
                (iso(at), round_id, index),
            )
            changed = cursor.rowcount == 1
            await cursor.close()
        return changed

    async def end_quiz_round(self, round_id: int, status: RoundStatus, at: datetime) -> bool:
        if status is RoundStatus.RUNNING:
            raise ValueError("a round ends finished or stopped")
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE quiz_rounds SET status = ?, ended_at = ?"
                " WHERE id = ? AND status = 'running'",
                (status.value, iso(at), round_id),
            )
            changed = cursor.rowcount == 1
            await cursor.close()
        return changed
