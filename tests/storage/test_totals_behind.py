"""SQLite's leaderboard totals applied behind the answers (bot/storage/totals.py): every
answer counted exactly once, whenever its totals are applied: after a crash, by a read right
after the answer, by another process, across a reset, in a copy of the database."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.models import (
    AttemptRecord,
    Difficulty,
    Kind,
    Localized,
    Period,
    Scope,
    ServedQuestion,
)
from bot.storage.copy import copy_database
from bot.storage.db import Database
from bot.storage.location import DbLocation
from bot.storage.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
SERVED = ServedQuestion(
    ref="backprop-delta",
    kind=Kind.MCQ,
    topic="backprop",
    difficulty=Difficulty.EASY,
    text=Localized(en="q", zh="题"),
)

# Records answers through the store, then dies by SIGKILL before their totals are applied
# (the background apply is put off for the run: what a kill right after the commits leaves).
_CRASH = """
import asyncio, os, signal, sys
from datetime import UTC, datetime, timedelta
sys.path.insert(0, {root!r})
import bot.storage.totals as totals
from bot.core.models import AttemptRecord
from bot.storage.db import Database
from bot.storage.sqlite import SqliteStore
from tests.storage.test_totals_behind import SERVED

totals.DELAY_S = 3600.0
totals.FLUSH_AT = 10**9

async def main():
    db = await Database.open({path!r})
    store = SqliteStore(db)
    server = await store.get_or_create_server("discord", "9", "s")
    at = datetime.fromisoformat({at!r})
    for n in range({answers}):
        user = await store.get_or_create_user("discord", str(n % 3), f"u{{n % 3}}")
        instance = await store.create_instance(SERVED, server.id, "c", "en", at)
        await store.record_attempt(AttemptRecord(
            instance_id=instance.id, user_id=user.id, server_id=server.id if n % 2 else None,
            topic=("backprop", "gan_basics")[n % 2], ref=SERVED.ref, answer="A",
            correct=n % 3 != 0, points=n % 4, at=at + timedelta(days=n % 9)))
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


def answer_and_crash(path: Path, answers: int) -> None:
    script = _CRASH.format(root=str(ROOT), path=str(path), at=AT.isoformat(), answers=answers)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def pending(path: Path) -> int:
    [(n,)] = rows(
        path,
        "SELECT COUNT(*) FROM attempts WHERE id > (SELECT attempt_id FROM totals_applied)",
    )
    return int(n)


# The totals as the attempts give them, in SQL (independent of bot.storage.totals): the global
# and server boards, all topics and each topic, all time and each month.
_EXPECTED = """
WITH scoped AS (
    SELECT user_id, 0 AS server_id, topic, created_at, points, correct FROM attempts
    UNION ALL
    SELECT user_id, server_id, topic, created_at, points, correct FROM attempts
    WHERE server_id IS NOT NULL
), keyed AS (
    SELECT user_id, server_id, '*' AS topic, created_at, points, correct FROM scoped
    UNION ALL SELECT * FROM scoped
), periods AS (
    SELECT user_id, server_id, topic, 'all' AS period, points, correct FROM keyed
    UNION ALL
    SELECT user_id, server_id, topic, 'm' || strftime('%Y-%m', created_at), points, correct
    FROM keyed
)
SELECT server_id, topic, period, user_id, SUM(points), COUNT(*), SUM(correct) FROM periods
GROUP BY server_id, topic, period, user_id ORDER BY server_id, topic, period, user_id
"""
_STORED = (
    "SELECT server_id, topic, period, user_id, points, answered, correct FROM score_totals"
    " WHERE topic NOT LIKE 'area:%' AND period NOT LIKE 'w%'"
    " ORDER BY server_id, topic, period, user_id"
)


def totals_match_attempts(path: Path) -> bool:
    expected = rows(path, _EXPECTED)
    assert expected  # something to compare
    return rows(path, _STORED) == expected


async def test_answers_killed_before_their_totals_are_counted_once_when_reopened(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    answer_and_crash(path, 40)
    assert pending(path) == 40  # the kill left every answer's totals to apply
    assert not totals_match_attempts(path)
    for _ in range(2):  # opened twice: applied once
        db = await Database.open(path)
        try:
            assert pending(path) == 0  # on opening, before anything reads them
            assert totals_match_attempts(path)
        finally:
            await db.close()
    assert totals_match_attempts(path)
    # A second crash on top of the first: still each answer once.
    answer_and_crash(path, 7)
    assert pending(path) == 7
    db = await Database.open(path)
    await db.close()
    assert totals_match_attempts(path)


def answer_at(n: int, user_id: int, instance_id: int, server_id: int | None) -> AttemptRecord:
    return AttemptRecord(
        instance_id=instance_id,
        user_id=user_id,
        server_id=server_id,
        topic="backprop",
        ref=SERVED.ref,
        answer="A",
        correct=True,
        points=n,
        at=AT,
    )


async def answer(store: SqliteStore, user_id: int, server_id: int | None, points: int) -> None:
    instance = await store.create_instance(SERVED, server_id, "c", "en", AT)
    assert await store.record_attempt(answer_at(points, user_id, instance.id, server_id))


async def global_points(store: SqliteStore, user_id: int) -> int | None:
    board = await store.leaderboard(Scope.GLOBAL, Period.ALL, None, None, user_id, 10, AT)
    return board.me.points if board.me else None


async def test_a_leaderboard_read_right_after_an_answer_counts_it_here_and_elsewhere(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    db, other = await Database.open(path), await Database.open(path)  # two processes, say
    try:
        store, elsewhere = SqliteStore(db), SqliteStore(other)
        ann = await store.get_or_create_user("discord", "1", "ann")
        await answer(store, ann.id, None, 3)
        assert pending(path) == 1  # behind the answer (the background apply comes later)
        assert await global_points(elsewhere, ann.id) == 3  # another connection applies it
        await answer(store, ann.id, None, 2)
        assert await global_points(store, ann.id) == 5
        assert await global_points(elsewhere, ann.id) == 5
        assert pending(path) == 0
    finally:
        await db.close()
        await other.close()
    assert totals_match_attempts(path)


async def test_the_totals_are_applied_in_the_background_without_a_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        ann = await store.get_or_create_user("discord", "1", "ann")
        await answer(store, ann.id, None, 1)
        for _ in range(400):  # DELAY_S (0.5 s) after the answer; 20 s allowed
            if not pending(path):
                break
            await asyncio.sleep(0.05)
        assert pending(path) == 0
        assert db.totals.applies == 1
        assert totals_match_attempts(path)
    finally:
        await db.close()


async def test_a_reset_with_answers_pending_counts_the_others_once(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        one = await store.get_or_create_server("discord", "1", "one")
        two = await store.get_or_create_server("discord", "2", "two")
        ann = await store.get_or_create_user("discord", "1", "ann")
        bob = await store.get_or_create_user("discord", "2", "bob")
        for user, server, points in [(ann, one, 1), (ann, two, 2), (bob, one, 4), (bob, two, 8)]:
            await answer(store, user.id, server.id, points)
        assert pending(path) == 4
        assert await store.reset_scores(one.id, None) == 2
        assert pending(path) == 0
        assert totals_match_attempts(path)
        assert await global_points(store, ann.id) == 2
        assert await global_points(store, bob.id) == 8
    finally:
        await db.close()
    db = await Database.open(path)  # nothing left to count again
    await db.close()
    assert totals_match_attempts(path)


async def test_a_new_answer_after_the_last_ones_were_reset_is_counted(tmp_path: Path) -> None:
    """SQLite numbers an attempt after the largest id left: after a reset deleted the last
    attempts, their ids come again (at or below the mark of the totals applied)."""
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        one = await store.get_or_create_server("discord", "1", "one")
        ann = await store.get_or_create_user("discord", "1", "ann")
        for points in (1, 2, 3):
            await answer(store, ann.id, one.id, points)
        assert await global_points(store, ann.id) == 6
        await store.reset_scores(one.id, None)
        assert await global_points(store, ann.id) is None
        await answer(store, ann.id, one.id, 5)
        assert rows(path, "SELECT id FROM attempts") == [(1,)]  # the first id again
        assert await global_points(store, ann.id) == 5
    finally:
        await db.close()
    assert totals_match_attempts(path)


async def stored_totals(location: DbLocation) -> list[tuple[object, ...]]:
    if location.path is not None:
        return rows(location.path, _STORED)
    import asyncpg

    conn = await asyncpg.connect(location.url)
    try:
        return [tuple(r) for r in await conn.fetch(_STORED)]
    finally:
        await conn.close()


@pytest.mark.parametrize("target", ["sqlite", "postgres"])
async def test_db_copy_of_a_source_with_totals_pending_copies_them_applied(
    tmp_path: Path, target: str, request: pytest.FixtureRequest
) -> None:
    source = tmp_path / "source.sqlite3"
    answer_and_crash(source, 30)
    before = pending(source), source.read_bytes()
    if target == "sqlite":
        there = DbLocation(path=tmp_path / "copy.sqlite3")
    else:
        there = DbLocation(url=request.getfixturevalue("pg_url"))
    result = await copy_database(DbLocation(path=source), there)
    assert result.counts["attempts"] == 30
    assert (pending(source), source.read_bytes()) == before  # the source: unchanged
    copied = await stored_totals(there)
    db = await Database.open(source)  # the source's own totals, applied
    await db.close()
    assert totals_match_attempts(source)
    assert copied == rows(source, _STORED)
    if there.path is not None:
        assert pending(there.path) == 0
        db = await Database.open(there.path)  # nothing counted again on opening
        try:
            assert totals_match_attempts(there.path)
            store = SqliteStore(db)  # and a new answer on the copy is counted
            user = await store.get_or_create_user("discord", "0", "u0")
            was = await global_points(store, user.id)
            await answer(store, user.id, None, 7)
            assert await global_points(store, user.id) == (was or 0) + 7
        finally:
            await db.close()


async def test_an_apply_of_less_than_a_chunk_is_one_transaction(tmp_path: Path) -> None:
    """Fewer pending than a chunk: one transaction, no second one to find nothing (nor, with
    one user answering meanwhile, one more per answer: those schedule their own apply)."""
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        ann = await store.get_or_create_user("discord", "1", "ann")
        for points in (1, 2, 3):
            await answer(store, ann.id, None, points)
        batches = db.writer.batches
        await db.totals.apply()
        assert db.writer.batches == batches + 1 and db.totals.applies == 1
        assert pending(path) == 0 and totals_match_attempts(path)
    finally:
        await db.close()
