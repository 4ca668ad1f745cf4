"""Storage on a real SQLite file: migrations, exactly-once attempts, concurrency."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.errors import StorageUnavailable
from bot.core.models import AttemptRecord, Difficulty, Kind, Period, Scope, ServedQuestion
from bot.storage.db import Database, StorageError, migrations
from bot.storage.sqlite import SqliteStore
from bot.storage.totals import rebuild_totals

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def served(ref: str = "backprop-delta", topic: str = "backprop") -> ServedQuestion:
    from bot.core.models import Localized

    return ServedQuestion(
        ref=ref,
        kind=Kind.MCQ,
        topic=topic,
        difficulty=Difficulty.MEDIUM,
        text=Localized(en="q", zh="题"),
    )


def attempt(instance_id: int, user_id: int, correct: bool = True, points: int = 2) -> AttemptRecord:
    return AttemptRecord(
        instance_id=instance_id,
        user_id=user_id,
        server_id=None,
        topic="backprop",
        ref="backprop-delta",
        answer="B",
        correct=correct,
        points=points,
        at=AT,
    )


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


async def test_migrating_from_empty_creates_schema_and_sets_version(db_path: Path) -> None:
    assert not db_path.parent.exists()
    db = await Database.open(db_path)
    try:
        assert await db.user_version() == len(migrations()) >= 1
    finally:
        await db.close()
    assert {"users", "servers", "question_instances", "attempts", "streaks"} <= tables(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_migrating_twice_is_a_noop(db_path: Path) -> None:
    db = await Database.open(db_path)
    store = SqliteStore(db)
    user = await store.get_or_create_user("local", "ann", "Ann")
    schema_before = sqlite3.connect(db_path).execute("SELECT sql FROM sqlite_master").fetchall()
    assert await db.migrate() == []
    await db.close()
    db = await Database.open(db_path)  # a restart migrates again: nothing to do
    try:
        assert await db.migrate() == []
        assert await SqliteStore(db).get_user(user.id) == user
    finally:
        await db.close()
    schema_after = sqlite3.connect(db_path).execute("SELECT sql FROM sqlite_master").fetchall()
    assert schema_before == schema_after


async def test_a_database_newer_than_the_code_is_refused(db_path: Path) -> None:
    await (await Database.open(db_path)).close()  # create it
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(StorageError, match="newer than this code"):
        await Database.open(db_path)


async def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="cannot use the database"):
        await Database.open(path)


@pytest.mark.stores("sqlite", "postgres")
async def test_repeated_attempt_does_not_change_the_score(store: SqliteStore) -> None:
    user = await store.get_or_create_user("discord", "1", "ann")
    instance = await store.create_instance(served(), None, "c1", "en", AT)
    assert await store.record_attempt(attempt(instance.id, user.id)) is True
    # The same answer again, and a different (wrong) one: both are no-ops.
    assert await store.record_attempt(attempt(instance.id, user.id)) is False
    assert (
        await store.record_attempt(attempt(instance.id, user.id, correct=False, points=0)) is False
    )
    stats = await store.topic_stats(user.id, None)
    assert [(s.answered, s.correct, s.points) for s in stats] == [(1, 1, 2)]
    counts = await store.instance_counts(instance.id)
    assert (counts.answered, counts.correct) == (1, 1)
    assert await store.get_attempt_correct(instance.id, user.id) is True


@pytest.mark.stores("sqlite", "postgres")
async def test_fifty_concurrent_attempts_all_land_exactly_once(store: SqliteStore) -> None:
    users = [await store.get_or_create_user("discord", str(i), f"u{i}") for i in range(25)]
    instance = await store.create_instance(served(), None, "c1", "en", AT)
    # 50 tasks: every user answers twice at the same time; each user counts once.
    jobs = [store.record_attempt(attempt(instance.id, u.id)) for u in users for _ in range(2)]
    results = await asyncio.gather(*jobs)
    assert sum(results) == 25
    counts = await store.instance_counts(instance.id)
    assert counts.answered == 25
    # 50 distinct users on 50 instances at once: all 50 land.
    more = [await store.create_instance(served(), None, "c1", "en", AT) for _ in range(50)]
    results = await asyncio.gather(
        *(store.record_attempt(attempt(inst.id, users[i % 25].id)) for i, inst in enumerate(more))
    )
    assert all(results)
    total = 0
    for user in users:
        total += sum(s.answered for s in await store.topic_stats(user.id, None))
    assert total == 75


async def test_a_failed_transaction_leaves_nothing_behind(db: Database, store: SqliteStore) -> None:
    user = await store.get_or_create_user("discord", "1", "ann")
    instance = await store.create_instance(served(), None, "c1", "en", AT)
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO attempts (instance_id, user_id, topic, ref, answer, correct, points,"
                " created_at) VALUES (?, ?, 'backprop', 'r', 'B', 1, 2, 'now')",
                (instance.id, user.id),
            )
            # Half-way through: a second statement fails (unknown user: foreign key).
            await conn.execute(
                "INSERT INTO attempts (instance_id, user_id, topic, ref, answer, correct, points,"
                " created_at) VALUES (?, 999, 'backprop', 'r', 'B', 1, 2, 'now')",
                (instance.id,),
            )
    assert (await store.instance_counts(instance.id)).answered == 0
    assert await store.record_attempt(attempt(instance.id, user.id)) is True


@pytest.mark.stores("sqlite", "postgres")
async def test_users_keep_their_language_and_leaderboard_orders_ties(store: SqliteStore) -> None:
    ann = await store.get_or_create_user("discord", "1", "ann")
    bob = await store.get_or_create_user("discord", "2", "bob")
    cat = await store.get_or_create_user("discord", "3", "cat")
    assert (await store.set_language(bob.id, "zh")).language == "zh"
    assert (await store.get_or_create_user("discord", "2", "bob")).language == "zh"
    for user, correct in [(ann, True), (bob, True), (cat, False)]:
        instance = await store.create_instance(served(), None, "c1", "en", AT)
        await store.record_attempt(attempt(instance.id, user.id, correct, 2 if correct else 0))
    board = await store.leaderboard(Scope.GLOBAL, Period.ALL, None, None, cat.id, 2, AT)
    # ann and bob tie on everything: the older account (lower id) ranks first, every time.
    assert [(e.rank, e.name, e.points) for e in board.top] == [(1, "ann", 2), (2, "bob", 2)]
    assert board.me is not None and (board.me.rank, board.me.name) == (3, "cat")


async def test_upgrading_from_version_1_backfills_the_leaderboard_totals(db_path: Path) -> None:
    """Migration 0002 computes the totals in SQL; they must equal what the code computes."""
    first = migrations()[0][2]
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.executescript(f"BEGIN;\n{first}\nPRAGMA user_version = 1;\nCOMMIT;")
        conn.execute(
            "INSERT INTO users (platform, external_id, name, created_at) VALUES"
            " ('discord', '1', 'ann', 'x'), ('discord', '2', 'bob', 'x')"
        )
        conn.execute(
            "INSERT INTO servers (platform, external_id, name, created_at)"
            " VALUES ('discord', '9', 's', 'x')"
        )
        rows = [
            (1, 1, 1, "backprop", 1, 2, "2026-11-01T10:00:00.000000+00:00"),  # a Sunday
            (2, 1, None, "cnn_models", 0, 0, "2026-11-02T10:00:00.000000+00:00"),  # Monday
            (3, 2, 1, "wgan", 1, 3, "2026-10-31T23:59:59.000000+00:00"),
        ]
        for instance, user, server, topic, correct, points, at in rows:
            conn.execute(
                "INSERT INTO question_instances (id, ref, kind, topic, difficulty, server_id,"
                " created_at) VALUES (?, 'r', 'mcq', ?, 'easy', ?, ?)",
                (instance, topic, server, at),
            )
            conn.execute(
                "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, answer,"
                " correct, points, created_at) VALUES (?, ?, ?, ?, 'r', 'A', ?, ?, ?)",
                (instance, user, server, topic, correct, points, at),
            )
    db = await Database.open(db_path)  # migrates to the latest version
    try:
        async with (
            db.read() as conn,
            conn.execute(
                "SELECT * FROM score_totals ORDER BY server_id, topic, period, user_id"
            ) as cursor,
        ):
            migrated = [tuple(r) for r in await cursor.fetchall()]
        await db.group(lambda conn: rebuild_totals(conn, [1, 2]))
        async with (
            db.read() as conn,
            conn.execute(
                "SELECT * FROM score_totals ORDER BY server_id, topic, period, user_id"
            ) as cursor,
        ):
            rebuilt = [tuple(r) for r in await cursor.fetchall()]
    finally:
        await db.close()
    assert migrated == rebuilt
    assert (0, "*", "w2026-10-26", 1, 2, 1, 1) in migrated  # Sunday belongs to Monday's week
    assert (0, "area:gan", "m2026-10", 2, 3, 1, 1) in migrated
    assert (1, "*", "all", 1, 2, 1, 1) in migrated  # the server board has ann's server answer
    # ann: 18 keys (2 boards x 3 topic keys x 3 periods) + 9 (global only) - 2 shared
    # (global, all topics, all time / November); bob: 18.
    assert len(migrated) == 18 + 9 - 2 + 18


async def test_a_full_database_refuses_cleanly_and_recovers(
    db: Database, store: SqliteStore
) -> None:
    user = await store.get_or_create_user("discord", "1", "ann")
    instances = [await store.create_instance(served(), None, "c1", "en", AT) for _ in range(300)]
    async with db.read() as conn, conn.execute("PRAGMA page_count") as cursor:
        pages = (await cursor.fetchone())[0]  # type: ignore[index]
    async with db.read() as conn:
        await conn.execute(f"PRAGMA max_page_count = {pages}")  # the file cannot grow now
    recorded = 0
    with pytest.raises(StorageUnavailable, match="full"):
        for instance in instances:  # each answer also adds review cards and totals
            await store.record_attempt(attempt(instance.id, user.id))
            recorded += 1
    failed = instances[recorded]
    assert await store.get_attempt_correct(failed.id, user.id) is None  # not half-written
    stats = await store.topic_stats(user.id, None)
    assert sum(s.answered for s in stats) == recorded
    async with db.read() as conn:
        await conn.execute("PRAGMA max_page_count = 1073741823")  # space again
    assert await store.record_attempt(attempt(failed.id, user.id)) is True
