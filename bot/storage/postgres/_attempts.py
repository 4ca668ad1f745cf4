"""Answers (attempts), question keys, and the review cards an answer schedules.

Answers are group-committed (`bot.storage.group`): the answers waiting at a moment form a batch
(up to WRITERS batches in flight at once), written in rounds of distinct users, each round two
round trips whatever its size: one read of every answer's context (previous answer, reward
window, review card), then one statement, its own transaction and commit, writing every
attempt and, only for those it inserted, their leaderboard totals and review cards. If that
statement fails, the answers not done are run again alone, so only the failing one fails. Two
processes recording the same user's answer to the same question at once: the second INSERT
waits on the first's unique key and inserts nothing, so the answer, its points and its card
count once. A correct daily answer also grows a streak, a read that decides a write: it runs
in its own transaction that locks the streak's row (`extend_streak`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
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
from bot.storage.postgres._db import Conn, PgDatabase

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


def _reward(user: str, key: str, since: str) -> str:
    """The reward window of one key, two columns: whether the user answered the key since
    `since` and was paid for it, and whether they answered it for nothing. With the index
    attempts_user_key (user_id, question_key, points, created_at; migration 0004): a seek per
    points value that pays nothing (0; below it), and the few paid attempts (a key pays once a
    window), not a walk through every attempt the user made at the key. Each is the first row
    in the index's order, which only the index gives without reading them all: an EXISTS may
    be planned as one hashed scan of all the user's attempts, and a bare LIMIT 1 as a table
    scan expected to stop early (where the user's attempts are most of the table). In the
    select list, where the planner keeps them per key (the caller keeps the keys with either)."""

    def exists(points: str) -> str:
        return (
            f"((SELECT true FROM attempts a WHERE a.user_id = {user} AND a.question_key = {key}"
            f" AND a.points {points} AND a.created_at >= {since}"
            " ORDER BY a.points, a.created_at LIMIT 1) IS NOT NULL)"
        )

    return f"{exists('> 0')}, {exists('= 0')} OR {exists('< 0')}"


# The reads of a round of answers (distinct users) in one round trip: each one's previous
# answer, review card, and (a JSON list of [key, paid, seen]) its keys' reward windows.
_CONTEXTS = f"""
SELECT d.n,
       (SELECT a.correct FROM attempts a
        WHERE a.instance_id = d.instance_id AND a.user_id = d.user_id) AS previous,
       (SELECT json_agg(json_build_array(k.key, {_reward("d.user_id", "k.key", "d.since")}))
        FROM unnest($6::integer[], $7::text[]) AS k(n, key) WHERE k.n = d.n) AS answered,
       c.item, c.topic, c.card, c.due, c.reviews
FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[])
     AS d(n, instance_id, user_id, since, item)
LEFT JOIN review_cards c ON c.user_id = d.user_id AND c.item = d.item
"""
# `keys_answered_since`: the same reads of one user's keys.
_ANSWERED = f"SELECT k.key, {_reward('$1', 'k.key', '$2')} FROM unnest($3::text[]) AS k(key)"
_COUNTS = """
SELECT instance_id, count(*), count(*) FILTER (WHERE correct) FROM attempts
WHERE instance_id = ANY($1::bigint[]) GROUP BY instance_id
"""

# The writes of a round of answers (distinct users, so no row is touched twice) in one
# statement, its own transaction: the attempts, and for those inserted (not answered already),
# their leaderboard totals (locked in user, key order: no deadlock between processes) and
# review cards; then which were inserted, and the counts of their questions before it.
_WRITE = """
WITH a AS (
    SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[],
                         $6::text[], $7::text[], $8::text[], $9::boolean[], $10::integer[],
                         $11::timestamptz[])
    AS a(n, instance_id, user_id, server_id, topic, ref, question_key, answer, correct,
         points, created_at)
), ins AS (
    INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, question_key, answer,
                          correct, points, created_at)
    SELECT instance_id, user_id, server_id, topic, ref, question_key, answer, correct, points,
           created_at
    FROM a ORDER BY user_id
    ON CONFLICT (instance_id, user_id) DO NOTHING
    RETURNING instance_id, user_id
), won AS (
    SELECT a.* FROM a JOIN ins USING (instance_id, user_id)
), totals AS (
    INSERT INTO score_totals AS t (server_id, topic, period, user_id, points, answered, correct)
    SELECT k.s, k.t, k.p, won.user_id, won.points, 1, CASE WHEN won.correct THEN 1 ELSE 0 END
    FROM unnest($12::integer[], $13::bigint[], $14::text[], $15::text[]) AS k(n, s, t, p)
    JOIN won ON won.n = k.n
    ORDER BY won.user_id, k.s, k.t, k.p
    ON CONFLICT (server_id, topic, period, user_id) DO UPDATE
    SET points = t.points + excluded.points, answered = t.answered + excluded.answered,
        correct = t.correct + excluded.correct
), cards AS (
    INSERT INTO review_cards AS c (user_id, item, topic, card, due, reviews, updated_at)
    SELECT won.user_id, r.item, r.topic, r.card, r.due, r.reviews, won.created_at
    FROM unnest($16::integer[], $17::text[], $18::text[], $19::text[], $20::timestamptz[],
                $21::integer[]) AS r(n, item, topic, card, due, reviews)
    JOIN won ON won.n = r.n
    ORDER BY won.user_id
    ON CONFLICT (user_id, item) DO UPDATE
    SET topic = excluded.topic, card = excluded.card, due = excluded.due,
        reviews = excluded.reviews, updated_at = excluded.updated_at
)
SELECT true AS won, n::bigint AS n, 0::bigint AS answered, 0::bigint AS correct FROM won
UNION ALL
SELECT false, instance_id, count(*), count(*) FILTER (WHERE correct) FROM attempts
WHERE instance_id = ANY($2::bigint[]) GROUP BY instance_id
"""

# A user's answers by topic, everywhere or in one server: two statements, not one with
# `($2 IS NULL OR server_id = $2)`, whose plan cached for the statement (generic, after five
# runs) could use neither index and walked the whole table.
_TOPIC_STATS = """
SELECT topic, count(*), count(*) FILTER (WHERE correct), COALESCE(sum(points), 0)
FROM attempts WHERE user_id = $1 GROUP BY topic ORDER BY topic
"""
_TOPIC_STATS_IN_SERVER = _TOPIC_STATS.replace("user_id = $1", "user_id = $1 AND server_id = $2")

Pending = tuple[AnswerDraft, Decide]
WRITERS = 4  # batches written at once (each holds a pooled connection per statement)


def _write_args(round_: list[tuple[int, AttemptRecord]]) -> list[list[object]]:
    columns: list[list[object]] = [[] for _ in range(21)]
    for n, attempt in round_:
        at = utc(attempt.at)
        row: tuple[object, ...] = (
            n,
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
        )
        for column, value in zip(columns[:11], row, strict=True):
            column.append(value)
        for key in sorted(total_keys(attempt.server_id, attempt.topic, at)):
            for column, part in zip(columns[11:15], (n, *key), strict=True):
                column.append(part)
        card = attempt.review
        if card is not None:
            values = (n, card.item, card.topic, json.dumps(card.card), utc(card.due), card.reviews)
            for column, part in zip(columns[15:], values, strict=True):
                column.append(part)
    return columns


Settled = dict[int, tuple[AttemptRecord | None, bool | None, AnswerContext | None]]


async def _record_batch(
    db: PgDatabase, batch: list[Pending], settled: Settled | None = None
) -> list[RecordedAnswer | Failed]:
    """Answers in rounds of distinct users (a user's second answer is decided on what their
    first wrote): per round, one read of every context, the decisions, and one statement
    writing them all (a correct daily answer, which grows a streak, in its own transaction with
    it). A `decide` that raises fails its answer alone. `settled`: filled with the answers
    done (written, or answered before), for the caller to know them if this raises."""
    decided: Settled = {} if settled is None else settled
    failed: dict[int, Failed] = {}
    counts: dict[int, InstanceCounts] = {}
    pending = list(range(len(batch)))
    while pending:
        round_: list[int] = []
        later: list[int] = []
        users: set[int] = set()
        for n in pending:
            (later if batch[n][0].user_id in users else round_).append(n)
            users.add(batch[n][0].user_id)
        drafts = [batch[n][0] for n in round_]
        key_of = [(n, key) for n, d in zip(round_, drafts, strict=True) for key in d.keys]
        rows = await db.fetch(
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
        writes: list[tuple[int, AttemptRecord, AnswerContext]] = []
        for n in round_:
            draft, decide = batch[n]
            row = by_n[n]
            if row["previous"] is not None:
                decided[n] = (None, bool(row["previous"]), None)
                continue
            answered = {
                key: bool(paid)
                for key, paid, seen in json.loads(row["answered"] or "[]")
                if paid or seen
            }
            context = AnswerContext(answered, _card(row) if row["item"] is not None else None)
            try:
                attempt = decide(context)
                if (attempt.instance_id, attempt.user_id) != (draft.instance_id, draft.user_id):
                    raise ValueError("decide() answered another question or user than the draft")
            except Exception as exc:  # nothing written for it
                failed[n] = Failed(exc)
                continue
            if attempt.streak_day is not None and attempt.correct:
                inserted = await _record_with_streak(db, attempt)
                decided[n] = (attempt if inserted else None, None, context)
            else:
                writes.append((n, attempt, context))
        if writes:
            won: set[int] = set()
            for row in await db.fetch(_WRITE, *_write_args([(n, a) for n, a, _ in writes])):
                if row["won"]:
                    won.add(row["n"])
                else:
                    counts[row["n"]] = InstanceCounts(answered=row[2], correct=row[3])
            for n, attempt, context in writes:
                if n in won:  # the counts read missed the rows of this statement
                    seen = counts.get(attempt.instance_id, InstanceCounts(answered=0, correct=0))
                    counts[attempt.instance_id] = InstanceCounts(
                        answered=seen.answered + 1, correct=seen.correct + int(attempt.correct)
                    )
                # else another delivery of the same answer won (another process)
                decided[n] = (attempt if n in won else None, None, context)
        pending = later
    missing = sorted({d.instance_id for d, _ in batch} - counts.keys())
    if missing:  # answered before, streaks: their counts now
        for row in await db.fetch(_COUNTS, missing):
            counts[row[0]] = InstanceCounts(answered=row[1], correct=row[2])
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


async def _record_with_streak(db: PgDatabase, attempt: AttemptRecord) -> bool:
    """A correct daily answer: the attempt and its streak (a read that decides a write,
    `extend_streak` locks the row) in one transaction; whether it was inserted."""
    args = _record_args(attempt)
    day = attempt.streak_day
    assert day is not None

    async def with_streak(conn: Conn) -> bool:
        inserted = bool(await conn.fetchval(_RECORD, *args))
        if inserted:
            await extend_streak(conn, attempt.user_id, attempt.server_id, day)
        return inserted

    return await db.transaction(with_streak)


class Attempts(Area):
    _answers: GroupWriter[Pending, RecordedAnswer] | None = None
    _batches_active = 0  # answer batches being written now (up to WRITERS at once)
    _batches_done = 0  # answer batches written since the store opened

    async def record_answer(self, draft: AnswerDraft, decide: Decide) -> RecordedAnswer:
        if self._answers is None:
            self._answers = GroupWriter(self._write_answers, writers=WRITERS)
        return await self._answers.submit((draft, decide))

    async def _write_answers(self, batch: list[Pending]) -> list[RecordedAnswer | Failed]:
        """`_write_batch`, and the counts it reports read again after its commit when another
        batch was written meanwhile: each batch reads the counts in its own transaction,
        which misses the answers of a batch committing at the same time, so the last one
        to commit would tell a question's count short by those (and its message would show
        it) for good."""
        started = self._batches_done
        self._batches_active += 1
        try:
            results = await self._write_batch(batch)
        finally:
            overlapped = self._batches_active > 1 or self._batches_done != started
            self._batches_active -= 1
            self._batches_done += 1
        if not overlapped:
            return results
        instances = sorted({draft.instance_id for draft, _ in batch})
        now = {
            row[0]: InstanceCounts(answered=row[1], correct=row[2])
            for row in await self.db.fetch(_COUNTS, instances)
        }
        return [
            r if isinstance(r, Failed) else replace(r, counts=now.get(d.instance_id, r.counts))
            for r, (d, _) in zip(results, batch, strict=True)
        ]

    async def _write_batch(self, batch: list[Pending]) -> list[RecordedAnswer | Failed]:
        """The batch's rounds; if a statement fails (an answer's writes, say), each answer
        not done yet again alone, so that only the failing one fails."""
        settled: Settled = {}
        try:
            return await _record_batch(self.db, batch, settled)
        except StorageUnavailable:
            raise
        except Exception:
            if len(batch) == 1:
                raise
        results: list[RecordedAnswer | Failed] = []
        for n, one in enumerate(batch):
            try:
                if n in settled:  # done before the failure: its counts now
                    written, previous, read = settled[n]
                    counts = await self.instance_counts(one[0].instance_id)
                    results.append(RecordedAnswer(written, previous, read, counts))
                else:
                    results += await _record_batch(self.db, [one])
            except StorageUnavailable:
                raise
            except Exception as exc:
                results.append(Failed(exc))
        return results

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
        rows = await self.db.fetch(_ANSWERED, user_id, utc(since), list(keys))
        return {key: bool(paid) for key, paid, seen in rows if paid or seen}

    async def topic_stats(self, user_id: int, server_id: int | None) -> list[TopicStats]:
        if server_id is None:
            rows = await self.db.fetch(_TOPIC_STATS, user_id)
        else:
            rows = await self.db.fetch(_TOPIC_STATS_IN_SERVER, user_id, server_id)
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
