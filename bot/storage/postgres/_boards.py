"""Leaderboards: the totals kept with each attempt, streaks, resetting scores. The rules
(which totals, which period, how a streak grows) are the core's (`bot.core.boards`)."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from bot.core.boards import (
    GLOBAL_BOARD,
    TotalKey,
    next_streak,
    period_key,
    streak_alive_since,
    streak_server,
    topic_key,
    total_keys,
)
from bot.core.models import Leaderboard, LeaderboardEntry, Period, Scope
from bot.storage.postgres._common import Area, read_utc
from bot.storage.postgres._db import Conn

# $1: the server whose streaks show (NULL: the best of any), $2-$4: the board's key, $6: the
# oldest last day of a streak still current (`streak_alive_since`).
_BOARD_SQL = """
    SELECT t.user_id, u.name, t.points, t.answered, t.correct,
           COALESCE((SELECT MAX(s.current) FROM streaks s WHERE s.user_id = t.user_id
                     AND s.last_day >= $6::date AND ($1::bigint IS NULL OR s.server_id = $1)),
                    0) AS streak
    FROM score_totals t JOIN users u ON u.id = t.user_id
    WHERE t.server_id = $2 AND t.topic = $3 AND t.period = $4
"""
_TOP_SQL = _BOARD_SQL + " ORDER BY t.points DESC, t.correct DESC, t.answered, t.user_id LIMIT $5"
# The caller's row, ranked by counting the rows ahead of it in the board's order: four range
# counts over the index score_totals_rank (as SQLite's `_AHEAD_SQL`), each bounded by the rows
# really ahead. One count with the four cases OR-ed together is a filter over the whole board
# whatever the caller's rank, and its cost estimate can be large enough for JIT compilation.
# `LIMIT 1`: the caller's own row is unique (the primary key), which the planner does not know.
_SAME = "o.server_id = $2 AND o.topic = $3 AND o.period = $4"
_OWN_SQL = f"""
    WITH me AS ({_BOARD_SQL} AND t.user_id = $5 LIMIT 1)
    SELECT me.*,
           (SELECT count(*) FROM score_totals o WHERE {_SAME} AND o.points > me.points)
         + (SELECT count(*) FROM score_totals o WHERE {_SAME} AND o.points = me.points
            AND o.correct > me.correct)
         + (SELECT count(*) FROM score_totals o WHERE {_SAME} AND o.points = me.points
            AND o.correct = me.correct AND o.answered < me.answered)
         + (SELECT count(*) FROM score_totals o WHERE {_SAME} AND o.points = me.points
            AND o.correct = me.correct AND o.answered = me.answered AND o.user_id < me.user_id)
           AS ahead
    FROM me
"""


async def rebuild_totals(conn: Conn, user_ids: list[int]) -> None:
    """Recompute these users' totals from their attempts (after attempts were deleted)."""
    if not user_ids:
        return
    await conn.execute("DELETE FROM score_totals WHERE user_id = ANY($1::bigint[])", user_ids)
    rows = await conn.fetch(
        "SELECT user_id, server_id, topic, created_at, points, correct FROM attempts"
        " WHERE user_id = ANY($1::bigint[])",
        user_ids,
    )
    sums: dict[tuple[int, TotalKey], list[int]] = {}
    for row in rows:
        for key in total_keys(row["server_id"], row["topic"], read_utc(row["created_at"])):
            total = sums.setdefault((row["user_id"], key), [0, 0, 0])
            total[0] += row["points"]
            total[1] += 1
            total[2] += int(row["correct"])
    await conn.executemany(
        "INSERT INTO score_totals (server_id, topic, period, user_id, points, answered,"
        " correct) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [(s, t, p, user_id, *v) for (user_id, (s, t, p)), v in sorted(sums.items())],
    )


async def extend_streak(conn: Conn, user_id: int, server_id: int | None, day: date) -> None:
    """A correct daily answer on `day` (see `boards.next_streak`), inside the caller's
    transaction. The row is created if missing, then locked (FOR UPDATE) before it is read, so
    two processes growing one streak at once take turns and the second sees the first's day."""
    key = streak_server(server_id)
    await conn.execute(
        "INSERT INTO streaks (user_id, server_id) VALUES ($1, $2)"
        " ON CONFLICT (user_id, server_id) DO NOTHING",
        user_id,
        key,
    )
    row = await conn.fetchrow(
        "SELECT current, best, last_day FROM streaks WHERE user_id = $1 AND server_id = $2"
        " FOR UPDATE",
        user_id,
        key,
    )
    assert row is not None
    grown = next_streak(row["current"], row["best"], row["last_day"], day)
    if grown is None:
        return
    await conn.execute(
        "UPDATE streaks SET current = $3, best = $4, last_day = $5"
        " WHERE user_id = $1 AND server_id = $2",
        user_id,
        key,
        *grown,
        day,
    )


def _entry(rank: int, row: asyncpg.Record) -> LeaderboardEntry:
    return LeaderboardEntry(
        rank=rank,
        user_id=row["user_id"],
        name=row["name"],
        points=row["points"],
        answered=row["answered"],
        correct=row["correct"],
        streak=row["streak"],
    )


class Boards(Area):
    async def leaderboard(
        self,
        scope: Scope,
        period: Period,
        server_id: int | None,
        topic: str | None,
        user_id: int | None,
        limit: int,
        now: datetime,
    ) -> Leaderboard:
        """Top `limit` and the caller's row, from the totals kept with each attempt."""
        board = server_id if scope is Scope.SERVER and server_id is not None else GLOBAL_BOARD
        key = (board, topic_key(topic), period_key(period, now))
        streak_of = board if board != GLOBAL_BOARD else None
        alive = streak_alive_since(now)
        rows = await self.db.fetch(_TOP_SQL, streak_of, *key, limit, alive)
        top = [_entry(rank, row) for rank, row in enumerate(rows, start=1)]
        me = next((e for e in top if e.user_id == user_id), None)
        if me is None and user_id is not None:
            own = await self.db.fetchrow(_OWN_SQL, streak_of, *key, user_id, alive)
            if own is not None:
                me = _entry(own["ahead"] + 1, own)
        return Leaderboard(scope=scope, period=period, topic=topic, top=top, me=me)

    async def streak(self, user_id: int, server_id: int | None) -> tuple[int, int]:
        row = await self.db.fetchrow(
            "SELECT CASE WHEN last_day >= $3 THEN current ELSE 0 END, best FROM streaks"
            " WHERE user_id = $1 AND server_id = $2",
            user_id,
            streak_server(server_id),
            streak_alive_since(self.clock.now()),
        )
        return (row[0], row[1]) if row else (0, 0)

    async def reset_scores(self, server_id: int, user_id: int | None) -> int:
        async def reset(conn: Conn) -> int:
            # No attempt is recorded while the totals are rebuilt (an admin's rare action):
            # this lock waits for answers being written and holds new ones until the commit.
            await conn.execute("LOCK TABLE attempts IN SHARE ROW EXCLUSIVE MODE")
            deleted = await conn.fetch(
                "DELETE FROM attempts WHERE server_id = $1"
                " AND ($2::bigint IS NULL OR user_id = $2) RETURNING user_id",
                server_id,
                user_id,
            )
            await conn.execute(
                "DELETE FROM streaks WHERE server_id = $1 AND ($2::bigint IS NULL OR user_id = $2)",
                server_id,
                user_id,
            )
            await rebuild_totals(conn, sorted({row[0] for row in deleted}))
            return len(deleted)

        return await self.db.transaction(reset)
