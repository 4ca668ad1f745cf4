"""Answers (attempts), question keys, and the review cards an answer schedules."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from bot.core.models import (
    AttemptRecord,
    HistoryEntry,
    InstanceCounts,
    Kind,
    ReviewCard,
    TopicStats,
)
from bot.core.ports import AnswerContext, AnswerDraft, Decide, RecordedAnswer
from bot.storage.cards import card_of, save_card
from bot.storage.db import batch_memo
from bot.storage.group import draft_of
from bot.storage.sqlite._boards import extend_streak
from bot.storage.sqlite._common import Area, iso, parse_iso
from bot.storage.totals import apply_all

# The functions below run on the database's thread, inside a `Database.group` transaction.


def _insert(conn: sqlite3.Connection, attempt: AttemptRecord) -> bool:
    """The attempt, and only if it was not stored already, its streak (its leaderboard totals
    and its review card, from `review_rating`, are applied behind it: `bot.storage.totals`,
    `bot.storage.cards`). A card decided already (`review`: `record_attempt`) is written
    now, after the pending cards, which come before it."""
    inserted = conn.execute(
        "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, question_key,"
        " answer, correct, points, created_at, review_rating)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id, user_id) DO NOTHING",
        (
            attempt.instance_id,
            attempt.user_id,
            attempt.server_id,
            attempt.topic,
            attempt.ref,
            attempt.question_key or attempt.ref,
            attempt.answer,
            int(attempt.correct),
            attempt.points,
            iso(attempt.at),
            attempt.review_rating,
        ),
    ).rowcount  # 0 on a repeat
    if not inserted:
        return False
    if attempt.review is not None:
        apply_all(conn)
        save_card(conn, attempt.user_id, attempt.review, attempt.at)
    if attempt.streak_day is not None and attempt.correct:
        extend_streak(conn, attempt.user_id, attempt.server_id, attempt.streak_day)
    return True


# Whether the user answered the key since ?3 (and was paid for it): with the index
# attempts_user_key (user_id, question_key, points, created_at), a seek per points value
# that can pay nothing (0; none below), and the few paid attempts (a key pays once a window).
_REWARD_SQL = (
    "WITH keys (key) AS (VALUES {values}) SELECT key,"
    " EXISTS (SELECT 1 FROM attempts WHERE user_id = ?1 AND question_key = key"
    " AND points > 0 AND created_at >= ?2),"
    " EXISTS (SELECT 1 FROM attempts WHERE user_id = ?1 AND question_key = key"
    " AND points = 0 AND created_at >= ?2)"
    " OR EXISTS (SELECT 1 FROM attempts WHERE user_id = ?1 AND question_key = key"
    " AND points < 0 AND created_at >= ?2) FROM keys"
)


@functools.cache
def _reward_sql(count: int) -> str:
    """`_REWARD_SQL` for `count` keys (a question has one or two: made once each)."""
    return _REWARD_SQL.format(values=", ".join(f"(?{n})" for n in range(3, count + 3)))


def _answered_since(
    conn: sqlite3.Connection, user_id: int, keys: Sequence[str], since: str
) -> dict[str, bool]:
    """{key: paid} of the keys the user answered since `since` (`keys_answered_since`)."""
    if not keys:
        return {}
    rows = conn.execute(_reward_sql(len(keys)), (user_id, since, *keys))
    return {key: bool(paid) for key, paid, seen in rows if paid or seen}


# What an answer reads first, in one statement: the user's previous answer to the question
# and, once per question and batch (`_COUNTS`), the question's answers so far (a burst on one
# question would count them again for every answer). The review card is not read: it is
# applied behind the answer (`bot.storage.cards`).
_READ_SQL = (
    "SELECT (SELECT correct FROM attempts WHERE instance_id = ?1 AND user_id = ?2), counts.*"
    " FROM {counts} AS counts"
)
_COUNTS = "(SELECT COUNT(*), COALESCE(SUM(correct), 0) FROM attempts WHERE instance_id = ?1)"
_READ_WITH_COUNTS = _READ_SQL.format(counts=_COUNTS)
_READ_ALONE = _READ_SQL.format(counts="(SELECT NULL, NULL)")


def _answer(draft: AnswerDraft, decide: Decide) -> Callable[[sqlite3.Connection], RecordedAnswer]:
    """`record_answer` as a unit of work: reads, decision and writes under the write lock, so
    what was read still holds when the attempt is written."""

    def work(conn: sqlite3.Connection) -> RecordedAnswer:
        memo, key = batch_memo(), ("counts", draft.instance_id)
        counts: InstanceCounts | None = memo.get(key)
        row = conn.execute(
            _READ_ALONE if counts is not None else _READ_WITH_COUNTS,
            (draft.instance_id, draft.user_id),
        ).fetchone()
        if counts is None:
            counts = InstanceCounts(answered=row[1], correct=row[2])
        previous = None if row[0] is None else bool(row[0])
        attempt: AttemptRecord | None = None
        context: AnswerContext | None = None
        if previous is None:
            answered = _answered_since(conn, draft.user_id, draft.keys, iso(draft.since))
            context = AnswerContext(answered=answered, card=None, reviews_behind=True)
            attempt = decide(context)
            if (attempt.instance_id, attempt.user_id) != (draft.instance_id, draft.user_id):
                raise ValueError("decide() answered another question or user than the draft")
            if _insert(conn, attempt):
                counts = InstanceCounts(
                    answered=counts.answered + 1, correct=counts.correct + int(attempt.correct)
                )
            else:
                attempt = None
        memo[key] = counts  # with this answer: the next one on the question adds its own
        return RecordedAnswer(attempt=attempt, previous=previous, context=context, counts=counts)

    return work


class Attempts(Area):
    async def record_answer(self, draft: AnswerDraft, decide: Decide) -> RecordedAnswer:
        recorded = await self.db.group(_answer(draft, decide))
        if recorded.attempt is not None:
            self.db.totals.added()
        return recorded

    async def record_attempt(self, attempt: AttemptRecord) -> bool:
        recorded = await self.record_answer(draft_of(attempt), lambda _: attempt)
        return recorded.attempt is not None

    async def get_attempt_correct(self, instance_id: int, user_id: int) -> bool | None:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT correct FROM attempts WHERE instance_id = ? AND user_id = ?",
                (instance_id, user_id),
            )
        return next((bool(row[0]) for row in rows), None)

    async def instance_counts(self, instance_id: int) -> InstanceCounts:
        async with self.db.read() as conn:
            (row,) = await conn.execute_fetchall(
                "SELECT COUNT(*), COALESCE(SUM(correct), 0) FROM attempts WHERE instance_id = ?",
                (instance_id,),
            )
        return InstanceCounts(answered=row[0], correct=row[1])

    async def recent_keys(self, user_id: int, since: datetime, limit: int) -> list[str]:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT question_key FROM attempts WHERE user_id = ? AND created_at >= ?"
                " AND question_key <> ref"  # generated: a written question's key is its ref
                " GROUP BY question_key ORDER BY MAX(created_at) DESC LIMIT ?",
                (user_id, iso(since), limit),
            )
        return [row[0] for row in rows]

    async def unkeyed_refs(self) -> list[str]:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT DISTINCT ref FROM attempts"
                " WHERE question_key = ref AND instr(ref, ':') > 0"  # as attempts_unkeyed
            )
        return [row[0] for row in rows]

    async def set_question_keys(self, keys: Mapping[str, str]) -> None:
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE attempts SET question_key = ? WHERE ref = ?"
                " AND question_key = ref AND instr(ref, ':') > 0",
                [(key, ref) for ref, key in keys.items()],
            )

    async def keys_answered_since(
        self, user_id: int, keys: Sequence[str], since: datetime
    ) -> dict[str, bool]:
        async with self.db.read() as conn:  # the same SQL as in `record_answer`
            found: dict[str, bool] = await conn._execute(  # type: ignore[no-untyped-call]
                _answered_since, conn._conn, user_id, keys, iso(since)
            )
        return found

    async def topic_stats(self, user_id: int, server_id: int | None) -> list[TopicStats]:
        where = "user_id = ?" + (" AND server_id = ?" if server_id is not None else "")
        args: tuple[int, ...] = (user_id,) if server_id is None else (user_id, server_id)
        async with (
            self.db.read() as conn,
            conn.execute(
                f"SELECT topic, COUNT(*), SUM(correct), SUM(points) FROM attempts WHERE {where}"
                " GROUP BY topic ORDER BY topic",
                args,
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [TopicStats(topic=r[0], answered=r[1], correct=r[2], points=r[3]) for r in rows]

    async def recent_attempts(self, user_id: int, limit: int) -> list[HistoryEntry]:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT a.created_at, a.ref, a.topic, i.kind, a.answer, a.correct, a.points"
                " FROM attempts a JOIN question_instances i ON i.id = a.instance_id"
                " WHERE a.user_id = ? ORDER BY a.created_at DESC, a.id DESC LIMIT ?",
                (user_id, limit),
            )
        return [
            HistoryEntry(
                at=parse_iso(r[0]),
                ref=r[1],
                topic=r[2],
                kind=Kind(r[3]),
                answer=r[4],
                correct=bool(r[5]),
                points=r[6],
            )
            for r in rows
        ]

    async def get_card(self, user_id: int, item: str) -> ReviewCard | None:
        await self.db.totals.apply_for_read("review card")  # the latest answers' (cards.py)
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT * FROM review_cards WHERE user_id = ? AND item = ?", (user_id, item)
            )
        return next((card_of(row) for row in rows), None)

    async def due_cards(self, user_id: int, now: datetime, limit: int) -> list[ReviewCard]:
        """Cards due by `now`, most overdue first."""
        await self.db.totals.apply_for_read("review card")  # the latest answers' (cards.py)
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT * FROM review_cards WHERE user_id = ? AND due <= ? ORDER BY due, item"
                " LIMIT ?",
                (user_id, iso(now), limit),
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [card_of(row) for row in rows]

    async def count_due(self, user_id: int, now: datetime) -> int:
        await self.db.totals.apply_for_read("review card")  # the latest answers' (cards.py)
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT COUNT(*) FROM review_cards WHERE user_id = ? AND due <= ?",
                (user_id, iso(now)),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
