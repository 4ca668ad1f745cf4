"""The caller's rank on a leaderboard costs what is ahead of them, not the whole board: a user
near the top of a board of thousands is ranked in a few index pages. Measured in work the
database reports, not in time: PostgreSQL's buffers touched (EXPLAIN ANALYZE), SQLite's
virtual-machine steps. The rank itself is the contract tests' business."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.core.boards import streak_alive_since
from bot.storage.db import Database
from bot.storage.postgres import open_postgres
from bot.storage.postgres._boards import _OWN_SQL
from bot.storage.sqlite._boards import _AHEAD_SQL
from tests.conftest import FakeClock
from tests.storage._costs import pages_of, steps_of
from tests.storage.contract._data import AT

PLAYERS = 5000  # on the global all-time board; user n has 2 * (PLAYERS - n) points
BOARD = (0, "*", "all")
ALIVE = streak_alive_since(AT)  # the streaks shown: last counted yesterday or later


async def test_postgres_ranks_the_top_player_in_a_few_pages(pg_url: str, clock: FakeClock) -> None:
    store = await open_postgres(pg_url, clock)
    try:
        async with store.db.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO users (id, platform, external_id, name, created_at)"
                " SELECT g, 'discord', g::text, 'u' || g, $1 FROM generate_series(1, $2) AS g",
                AT,
                PLAYERS,
            )
            await conn.execute(  # the board, and 17 others each player is on (as an answer's)
                "INSERT INTO score_totals (server_id, topic, period, user_id, points, answered,"
                " correct) SELECT 0, topic, 'all', g, 2 * ($1 - g), 10, 5"
                " FROM generate_series(1, $1) AS g, unnest($2::text[]) AS topic",
                PLAYERS,
                ["*", *(f"topic-{n}" for n in range(17))],
            )

        async def pages(user_id: int) -> tuple[int, bool]:
            explain = f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {_OWN_SQL}"
            return pages_of(await store.db.fetchval(explain, None, *BOARD, user_id, ALIVE))

        # Before and after autovacuum's visit (statistics, the visibility map): it may come any
        # time.
        for vacuumed in (False, True):
            if vacuumed:
                await store.db.execute("VACUUM ANALYZE score_totals")
            touched, jit = await pages(2)  # second on the board
            assert touched <= 40 and not jit, (vacuumed, touched, jit)
        # JIT stays off: a stale estimate must not cost a compilation (200 ms) for a lookup.
        assert await store.db.fetchval("SHOW jit") == "off"
        for user_id in (1, 2, PLAYERS):  # the rank itself: those ahead
            row = await store.db.fetchrow(_OWN_SQL, None, *BOARD, user_id, ALIVE)
            assert row is not None and row["ahead"] == user_id - 1
    finally:
        await store.close()


async def test_sqlite_ranks_the_top_player_in_a_few_steps(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO users (id, platform, external_id, name, created_at)"
                " VALUES (?, 'discord', ?, ?, ?)",
                [(n, str(n), f"u{n}", AT.isoformat()) for n in range(1, PLAYERS + 1)],
            )
            await conn.executemany(
                "INSERT INTO score_totals (server_id, topic, period, user_id, points, answered,"
                " correct) VALUES (0, '*', 'all', ?, ?, 10, 5)",
                [(n, 2 * (PLAYERS - n)) for n in range(1, PLAYERS + 1)],
            )

        def steps(conn: sqlite3.Connection) -> tuple[int, int]:
            row = (*BOARD, 2 * (PLAYERS - 2), 5, 10, 2)  # the second player's
            return steps_of(conn, lambda: int(conn.execute(_AHEAD_SQL, row).fetchone()[0]))

        async with db.read() as conn:
            counted, ahead = await conn._execute(steps, conn._conn)  # type: ignore[no-untyped-call]
    finally:
        await db.close()
    assert ahead == 1
    assert counted <= 300
