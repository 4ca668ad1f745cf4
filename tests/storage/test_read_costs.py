"""Reads that do not grow with history where they need not: a user who answered the same
question thousands of times in the reward window pays a few index seeks for the next answer's
reward window, and `/stats` reads the asking user's answers, not everyone's. Measured in work
the database reports, not in time: PostgreSQL's buffers touched (EXPLAIN ANALYZE), SQLite's
virtual-machine steps."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.core.scoring import REWARD_WINDOW
from bot.storage.db import Database
from bot.storage.postgres import open_postgres
from bot.storage.postgres._attempts import (
    _ANSWERED,
    _CONTEXTS,
    _TOPIC_STATS,
    _TOPIC_STATS_IN_SERVER,
)
from bot.storage.postgres._db import Conn
from bot.storage.sqlite import SqliteStore
from bot.storage.sqlite._attempts import _answered_since
from bot.storage.sqlite._common import iso
from tests.conftest import FakeClock
from tests.storage._costs import pages_of, steps_of
from tests.storage.contract._data import AT, posted, users

KEY = "backprop-delta"
HISTORY = 3000  # the user's earlier answers to KEY, all in the window; the first one paid
SINCE = AT - REWARD_WINDOW + timedelta(days=1)
FIRST_ID = 1_000_000  # the history's question ids


def _history(
    user_id: int, server_id: int
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """HISTORY posted questions and the user's answers to them, as rows: quicker than HISTORY
    answers through the store, and the reads do not care how the rows came."""
    ids = range(FIRST_ID, FIRST_ID + HISTORY)
    questions: list[tuple[object, ...]] = [
        (i, KEY, "mcq", "backprop", "medium", server_id, "en") for i in ids
    ]
    answers: list[tuple[object, ...]] = [
        (i, user_id, server_id, "backprop", KEY, KEY, "A", 10 if i == FIRST_ID else 0) for i in ids
    ]
    return questions, answers


async def _store_history(conn: Conn, user_id: int, server_id: int) -> None:
    """`_history` into a PostgreSQL database."""
    questions, answers = _history(user_id, server_id)
    await conn.executemany(
        "INSERT INTO question_instances (id, ref, kind, topic, difficulty, server_id,"
        " lang, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [(*row, AT) for row in questions],
    )
    await conn.executemany(
        "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref,"
        " question_key, answer, correct, points, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, true, $8, $9)",
        [(*row, AT) for row in answers],
    )


async def test_postgres_reads_a_reward_window_in_a_few_pages_whatever_the_history(
    pg_url: str, clock: FakeClock
) -> None:
    store = await open_postgres(pg_url, clock)
    try:
        (ann,) = await users(store, "Ann")
        server = await store.get_or_create_server("discord", "1", "S")
        fresh = await posted(store, server_id=server.id)
        async with store.db.pool.acquire() as conn:
            await _store_history(conn, ann.id, server.id)

        async def pages(sql: str, *args: object) -> int:
            explain = f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"
            return pages_of(await store.db.fetchval(explain, *args))[0]

        # Before and after the table's statistics exist (autovacuum may analyze it any time).
        for analyzed in (False, True):
            if analyzed:
                await store.db.execute("ANALYZE attempts")
            read = await pages(
                _CONTEXTS, [0], [fresh.id], [ann.id], [SINCE], [f"q:{KEY}"], [0], [KEY]
            )
            alone = await pages(_ANSWERED, ann.id, SINCE, [KEY, "other"])
            print("PAGES", analyzed, read, alone)
            assert read <= 20 and alone <= 20, (analyzed, read, alone)
        assert await store.keys_answered_since(ann.id, [KEY, "other"], SINCE) == {KEY: True}
    finally:
        await store.close()


async def test_sqlite_reads_a_reward_window_in_a_few_steps_whatever_the_history(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        store = SqliteStore(db)
        (ann,) = await users(store, "Ann")
        server = await store.get_or_create_server("discord", "1", "S")
        questions, answers = _history(ann.id, server.id)
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO question_instances (id, ref, kind, topic, difficulty, server_id,"
                " lang, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*row, iso(AT)) for row in questions],
            )
            await conn.executemany(
                "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref,"
                " question_key, answer, correct, points, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                [(*row, iso(AT)) for row in answers],
            )

        def steps(conn: sqlite3.Connection) -> tuple[int, dict[str, bool]]:
            return steps_of(conn, lambda: _answered_since(conn, ann.id, [KEY, "other"], iso(SINCE)))

        async with db.read() as conn:
            counted, found = await conn._execute(steps, conn._conn)  # type: ignore[no-untyped-call]
    finally:
        await db.close()
    assert found == {KEY: True}
    assert counted <= 300


async def test_postgres_topic_stats_read_the_user_s_answers_not_the_table(
    pg_url: str, clock: FakeClock
) -> None:
    """`/stats` on PostgreSQL, with the plan the server caches for a statement after five
    runs (generic: it does not know the arguments): a light user's few answers cost a few
    pages however many the others gave, and so do a heavy user's few in another server (not
    their whole history). (Here before
    statistics: with them, and one other user owning the whole table, a scan is right.)"""
    store = await open_postgres(pg_url, clock)
    try:
        ann, bob = await users(store, "Ann", "Bob")
        server = await store.get_or_create_server("discord", "1", "S")
        other = await store.get_or_create_server("discord", "2", "T")
        async with store.db.pool.acquire() as conn:
            await _store_history(conn, bob.id, server.id)  # Bob: the heavy user, in S
            await conn.execute("SET plan_cache_mode = force_generic_plan")
            try:
                for name, sql, args in (
                    ("everywhere", _TOPIC_STATS, f"({ann.id})"),
                    ("in_server", _TOPIC_STATS_IN_SERVER, f"({bob.id}, {other.id})"),
                ):
                    await conn.execute(f"PREPARE {name} AS {sql}")
                    explain = f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE {name} {args}"
                    touched, _ = pages_of(await conn.fetchval(explain))
                    assert touched <= 20, (name, touched)
            finally:
                await conn.execute("RESET plan_cache_mode")
                await conn.execute("DEALLOCATE ALL")
    finally:
        await store.close()
