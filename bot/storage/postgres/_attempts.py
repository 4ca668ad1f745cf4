"""Answers (attempts), question keys, and the review cards an answer schedules.

Answers are group-committed (`bot.storage.group`): the answers waiting at a moment share one
transaction from the pool and one commit; their reads (previous answer, reward window, review
card) are one round trip per batch, then each answer is one statement: the attempt, and only if
that inserted a row, its leaderboard totals and review card. If the batch fails, each of its
answers is run again in its own transaction, so only the failing one fails. Two processes
recording the same user's answer to the same question at once: the second INSERT waits on the
first's unique key and inserts nothing, so the answer, its points and its card count once. A
correct daily answer also grows a streak, a read that decides a write: that locks the streak's
row (`extend_streak`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

import asyncpg

from bot.core.boards import total_keys
from bot.core.errors import StorageUnavailable
from bot.core.models import (
    AttemptRecord,
    HistoryEntry,
    InstanceCounts,
    Kind,
    ReviewCard,
    TopicStats,
)
from bot.core.ports import AnswerContext, AnswerDraft, Decide, RecordedAnswer
from bot.storage.group import Failed, GroupWriter, draft_of
from bot.storage.postgres._boards import extend_streak
from bot.storage.postgres._common import Area, read_utc, utc
from bot.storage.postgres._db import Conn

_RECORD = """
WITH ins AS (
    INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, question_key, answer,
                          correct, points, created_at)
    VALUES ($1::bigint, $2::bigint, $3::bigint, $4::text, $5::text, $6::text, $7::text,
            $8::boolean, $9::integer, $10::timestamptz)
    ON CONFLICT (instance_id, user_id) DO NOTHING
    RETURNING id
), totals AS (
    INSERT INTO score_totals AS t (server_id, topic, period, user_id, points, answered, correct)
    SELECT k.s, k.t, k.p, $2::bigint, $9::integer, 1, CASE WHEN $8::boolean THEN 1 ELSE 0 END
    FROM unnest($11::bigint[], $12::text[], $13::text[]) WITH ORDINALITY AS k(s, t, p, n)
    WHERE EXISTS (SELECT 1 FROM ins)
    ORDER BY k.n
    ON CONFLICT (server_id, topic, period, user_id) DO UPDATE
    SET points = t.points + excluded.points, answered = t.answered + excluded.answered,
        correct = t.correct + excluded.correct
), card AS (
    INSERT INTO review_cards AS c (user_id, item, topic, card, due, reviews, updated_at)
    SELECT $2::bigint, $14::text, $15::text, $16::text, $17::timestamptz, $18::integer,
           $10::timestamptz
    WHERE $14::text IS NOT NULL AND EXISTS (SELECT 1 FROM ins)
    ON CONFLICT (user_id, item) DO UPDATE
    SET topic = excluded.topic, card = excluded.card, due = excluded.due,
        reviews = excluded.reviews, updated_at = excluded.updated_at
)
SELECT count(*) FROM ins
"""


def _card(row: asyncpg.Record) -> ReviewCard:
    return ReviewCard(
        item=row["item"],
        topic=row["topic"],
        card=json.loads(row["card"]),
        due=read_utc(row["due"]),
        reviews=row["reviews"],
    )


def _record_args(attempt: AttemptRecord) -> tuple[object, ...]:
    at = utc(attempt.at)
    # Sorted: every process takes the totals' row locks in the same order (no deadlock).
    keys = sorted(total_keys(attempt.server_id, attempt.topic, at))
    card = attempt.review
    return (
        attempt.instance_id,
        attempt.user_id,
        attempt.server_id,
        attempt.topic,
        attempt.ref,
        attempt.question_key or attempt.ref,
        attempt.answer,
        attempt.correct,
        attempt.points,
        at,
        [s for s, _, _ in keys],
        [t for _, t, _ in keys],
        [p for _, _, p in keys],
        card.item if card else None,
        card.topic if card else None,
        json.dumps(card.card) if card else None,
        utc(card.due) if card else None,
        card.reviews if card else None,
    )


# The reads of a round of answers (distinct users) in one round trip: each one's previous
# answer, review card, and (a JSON list of [key, paid]) its keys answered in the window.
_CONTEXTS = """
SELECT d.n,
       (SELECT a.correct FROM attempts a
        WHERE a.instance_id = d.instance_id AND a.user_id = d.user_id) AS previous,
       (SELECT json_agg(json_build_array(a.question_key, a.points > 0))
        FROM attempts a JOIN unnest($6::integer[], $7::text[]) AS k(n, key)
             ON k.n = d.n AND a.question_key = k.key
        WHERE a.user_id = d.user_id AND a.created_at >= d.since) AS answered,
       c.item, c.topic, c.card, c.due, c.reviews
FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[])
     AS d(n, instance_id, user_id, since, item)
LEFT JOIN review_cards c ON c.user_id = d.user_id AND c.item = d.item
"""
_COUNTS = """
SELECT instance_id, count(*), count(*) FILTER (WHERE correct) FROM attempts
WHERE instance_id = ANY($1::bigint[]) GROUP BY instance_id
"""

Pending = tuple[AnswerDraft, Decide]


async def _record_batch(conn: Conn, batch: list[Pending]) -> list[RecordedAnswer | Failed]:
    """Answers in the caller's transaction: in rounds of distinct users (a user's second answer
    is decided on what their first wrote), each round one read of every context, the
    decisions, and the writes, users in id order (every process locks their rows in the same
    order); then the counts, one read. A `decide` that raises fails its answer alone."""
    decided: dict[int, tuple[AttemptRecord | None, bool | None, AnswerContext | None]] = {}
    failed: dict[int, Failed] = {}
    pending = sorted(range(len(batch)), key=lambda n: batch[n][0].user_id)
    while pending:
        round_: list[int] = []
        later: list[int] = []
        users: set[int] = set()
        for n in pending:
            (later if batch[n][0].user_id in users else round_).append(n)
            users.add(batch[n][0].user_id)
        drafts = [batch[n][0] for n in round_]
        key_of = [(n, key) for n, d in zip(round_, drafts, strict=True) for key in d.keys]
        rows = await conn.fetch(
            _CONTEXTS,
            round_,
            [d.instance_id for d in drafts],
            [d.user_id for d in drafts],
            [utc(d.since) for d in drafts],
            [d.item for d in drafts],
            [n for n, _ in key_of],
            [key for _, key in key_of],
        )
        by_n = {row["n"]: row for row in rows}
        for n in round_:
            draft, decide = batch[n]
            row = by_n[n]
            if row["previous"] is not None:
                decided[n] = (None, bool(row["previous"]), None)
                continue
            answered: dict[str, bool] = {}
            for key, paid in json.loads(row["answered"] or "[]"):
                answered[key] = answered.get(key, False) or bool(paid)
            context = AnswerContext(answered, _card(row) if row["item"] is not None else None)
            try:
                attempt = decide(context)
                if (attempt.instance_id, attempt.user_id) != (draft.instance_id, draft.user_id):
                    raise ValueError("decide() answered another question or user than the draft")
            except Exception as exc:  # nothing written for it: the transaction goes on
                failed[n] = Failed(exc)
                continue
            inserted = bool(await conn.fetchval(_RECORD, *_record_args(attempt)))
            if inserted and attempt.streak_day is not None and attempt.correct:
                await extend_streak(conn, attempt.user_id, attempt.server_id, attempt.streak_day)
            decided[n] = (attempt if inserted else None, None, context)
        pending = later
    instance_ids = sorted({draft.instance_id for draft, _ in batch})
    counts = {
        row[0]: InstanceCounts(answered=row[1], correct=row[2])
        for row in await conn.fetch(_COUNTS, instance_ids)
    }
    results: list[RecordedAnswer | Failed] = []
    for n, (draft, _) in enumerate(batch):
        if n in failed:
            results.append(failed[n])
            continue
        written, previous, read = decided[n]
        results.append(
            RecordedAnswer(
                attempt=written,
                previous=previous,
                context=read,
                counts=counts.get(draft.instance_id, InstanceCounts(answered=0, correct=0)),
            )
        )
    return results


class Attempts(Area):
    _answers: GroupWriter[Pending, RecordedAnswer] | None = None

    async def record_answer(self, draft: AnswerDraft, decide: Decide) -> RecordedAnswer:
        if self._answers is None:
            self._answers = GroupWriter(self._write_answers)
        return await self._answers.submit((draft, decide))

    async def _write_answers(self, batch: list[Pending]) -> list[RecordedAnswer | Failed]:
        """One transaction for the batch; if it fails (an answer's writes, say), each answer
        again in its own, so that only the failing one fails."""

        async def work(conn: Conn) -> list[RecordedAnswer | Failed]:
            return await _record_batch(conn, batch)

        try:
            return await self.db.transaction(work)
        except StorageUnavailable:
            raise
        except Exception:
            if len(batch) == 1:
                raise
        results: list[RecordedAnswer | Failed] = []
        for one in batch:
            try:
                results += await self._write_one(one)
            except StorageUnavailable:
                raise
            except Exception as exc:
                results.append(Failed(exc))
        return results

    async def _write_one(self, one: Pending) -> list[RecordedAnswer | Failed]:
        async def work(conn: Conn) -> list[RecordedAnswer | Failed]:
            return await _record_batch(conn, [one])

        return await self.db.transaction(work)

    async def close_answers(self) -> None:
        """Wait for the answers queued to be written (before the pool closes)."""
        if self._answers is not None:
            await self._answers.close()

    async def record_attempt(self, attempt: AttemptRecord) -> bool:
        recorded = await self.record_answer(draft_of(attempt), lambda _: attempt)
        return recorded.attempt is not None

    async def get_attempt_correct(self, instance_id: int, user_id: int) -> bool | None:
        value = await self.db.fetchval(
            "SELECT correct FROM attempts WHERE instance_id = $1 AND user_id = $2",
            instance_id,
            user_id,
        )
        return None if value is None else bool(value)

    async def instance_counts(self, instance_id: int) -> InstanceCounts:
        row = await self.db.fetchrow(
            "SELECT count(*), count(*) FILTER (WHERE correct) FROM attempts WHERE instance_id = $1",
            instance_id,
        )
        assert row is not None
        return InstanceCounts(answered=row[0], correct=row[1])

    async def recent_keys(self, user_id: int, since: datetime, limit: int) -> list[str]:
        rows = await self.db.fetch(
            "SELECT question_key FROM attempts WHERE user_id = $1 AND created_at >= $2"
            " AND question_key <> ref"  # generated: a written question's key is its ref
            " GROUP BY question_key ORDER BY MAX(created_at) DESC LIMIT $3",
            user_id,
            utc(since),
            limit,
        )
        return [row[0] for row in rows]

    async def unkeyed_refs(self) -> list[str]:
        rows = await self.db.fetch(
            "SELECT DISTINCT ref FROM attempts"
            " WHERE question_key = ref AND strpos(ref, ':') > 0"  # as attempts_unkeyed
            " ORDER BY ref"
        )
        return [row[0] for row in rows]

    async def set_question_keys(self, keys: Mapping[str, str]) -> None:
        if not keys:
            return
        refs = sorted(keys)
        await self.db.execute(
            "UPDATE attempts a SET question_key = k.key"
            " FROM unnest($1::text[], $2::text[]) AS k(ref, key)"
            " WHERE a.ref = k.ref AND a.question_key = a.ref AND strpos(a.ref, ':') > 0",
            refs,
            [keys[ref] for ref in refs],
        )

    async def keys_answered_since(
        self, user_id: int, keys: Sequence[str], since: datetime
    ) -> dict[str, bool]:
        if not keys:
            return {}
        rows = await self.db.fetch(
            "SELECT question_key, bool_or(points > 0) FROM attempts WHERE user_id = $1"
            " AND created_at >= $2 AND question_key = ANY($3::text[]) GROUP BY question_key",
            user_id,
            utc(since),
            list(keys),
        )
        return {row[0]: bool(row[1]) for row in rows}

    async def topic_stats(self, user_id: int, server_id: int | None) -> list[TopicStats]:
        rows = await self.db.fetch(
            "SELECT topic, count(*), count(*) FILTER (WHERE correct), COALESCE(sum(points), 0)"
            " FROM attempts WHERE user_id = $1 AND ($2::bigint IS NULL OR server_id = $2)"
            " GROUP BY topic ORDER BY topic",
            user_id,
            server_id,
        )
        return [TopicStats(topic=r[0], answered=r[1], correct=r[2], points=r[3]) for r in rows]

    async def recent_attempts(self, user_id: int, limit: int) -> list[HistoryEntry]:
        rows = await self.db.fetch(
            "SELECT a.created_at, a.ref, a.topic, i.kind, a.answer, a.correct, a.points"
            " FROM attempts a JOIN question_instances i ON i.id = a.instance_id"
            " WHERE a.user_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT $2",
            user_id,
            limit,
        )
        return [
            HistoryEntry(
                at=read_utc(r[0]),
                ref=r[1],
                topic=r[2],
                kind=Kind(r[3]),
                answer=r[4],
                correct=r[5],
                points=r[6],
            )
            for r in rows
        ]

    async def get_card(self, user_id: int, item: str) -> ReviewCard | None:
        row = await self.db.fetchrow(
            "SELECT * FROM review_cards WHERE user_id = $1 AND item = $2", user_id, item
        )
        return _card(row) if row else None

    async def due_cards(self, user_id: int, now: datetime, limit: int) -> list[ReviewCard]:
        """Cards due by `now`, most overdue first."""
        rows = await self.db.fetch(
            "SELECT * FROM review_cards WHERE user_id = $1 AND due <= $2 ORDER BY due, item"
            " LIMIT $3",
            user_id,
            utc(now),
            limit,
        )
        return [_card(row) for row in rows]

    async def count_due(self, user_id: int, now: datetime) -> int:
        value = await self.db.fetchval(
            "SELECT count(*) FROM review_cards WHERE user_id = $1 AND due <= $2",
            user_id,
            utc(now),
        )
        return int(value)
