"""Leaderboards: the totals kept behind the attempts (`bot.storage.totals`), streaks, resetting
scores. The rules
(which totals, which period, how a streak grows) are the core's (`bot.core.boards`)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import date, datetime

import aiosqlite

from bot.core.boards import (
    GLOBAL_BOARD,
    TotalKey,
    next_streak,
    period_key,
    streak_alive_since,
    streak_server,
    topic_key,
)
from bot.core.models import Leaderboard, LeaderboardEntry, Period, Scope
from bot.storage.sqlite._common import Area
from bot.storage.totals import apply_all, rebuild_totals

log = logging.getLogger(__name__)

_BOARD_SQL = """
    SELECT t.user_id, u.name, t.points, t.answered, t.correct,
           COALESCE((SELECT MAX(s.current) FROM streaks s WHERE s.user_id = t.user_id
                     AND s.last_day >= ? AND (? IS NULL OR s.server_id = ?)), 0) AS streak
    FROM score_totals t JOIN users u ON u.id = t.user_id
    WHERE t.server_id = ? AND t.topic = ? AND t.period = ?
"""


# Rows ahead of a user in the board's order: four index range counts (an OR of the same
# conditions makes SQLite merge row sets, 30x slower on a 20,000-row board).
_SAME = "server_id = ?1 AND topic = ?2 AND period = ?3"
_AHEAD_SQL = (
    f"SELECT (SELECT COUNT(*) FROM score_totals WHERE {_SAME} AND points > ?4)"
    f" + (SELECT COUNT(*) FROM score_totals WHERE {_SAME} AND points = ?4 AND correct > ?5)"
    f" + (SELECT COUNT(*) FROM score_totals WHERE {_SAME} AND points = ?4 AND correct = ?5"
    " AND answered < ?6)"
    f" + (SELECT COUNT(*) FROM score_totals WHERE {_SAME} AND points = ?4 AND correct = ?5"
    " AND answered = ?6 AND user_id < ?7)"
)


def extend_streak(conn: sqlite3.Connection, user_id: int, server_id: int | None, day: date) -> None:
    """A correct daily answer on `day` (see `boards.next_streak`); on the database's thread
    (`Database.group`), inside the caller's transaction."""
    key = streak_server(server_id)
    row = conn.execute(
        "SELECT current, best, last_day FROM streaks WHERE user_id = ? AND server_id = ?",
        (user_id, key),
    ).fetchone()
    current, best, last = (row[0], row[1], row[2]) if row else (0, 0, None)
    grown = next_streak(current, best, date.fromisoformat(last) if last else None, day)
    if grown is None:
        return
    conn.execute(
        "INSERT INTO streaks (user_id, server_id, current, best, last_day) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id, server_id) DO UPDATE SET current = excluded.current,"
        " best = excluded.best, last_day = excluded.last_day",
        (user_id, key, *grown, day.isoformat()),
    )


def _entry(rank: int, row: aiosqlite.Row) -> LeaderboardEntry:
    return LeaderboardEntry(
        rank=rank,
        user_id=row["user_id"],
        name=row["name"],
        points=row["points"],
        answered=row["answered"],
        correct=row["correct"],
        streak=row["streak"],
    )


async def _own_row(
    conn: aiosqlite.Connection,
    key: TotalKey,
    user_id: int,
    streak_of: int | None,
    alive: str,
) -> LeaderboardEntry | None:
    """The caller's row, ranked by counting the rows ahead of it in the board's order."""
    async with conn.execute(
        _BOARD_SQL + " AND t.user_id = ?", (alive, streak_of, streak_of, *key, user_id)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    async with conn.execute(
        _AHEAD_SQL,
        (*key, row["points"], row["correct"], row["answered"], user_id),
    ) as cursor:
        ahead = await cursor.fetchone()
    return _entry((ahead[0] if ahead else 0) + 1, row)


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
        """Top `limit` and the caller's row, from the totals (every answer recorded so far
        applied first, when the write lock can be had: else the totals as they are, a few
        answers behind, rather than no board)."""
        await self.db.totals.apply_for_read("leaderboard")
        board = server_id if scope is Scope.SERVER and server_id is not None else GLOBAL_BOARD
        key = (board, topic_key(topic), period_key(period, now))
        streak_of = board if board != GLOBAL_BOARD else None
        alive = streak_alive_since(now).isoformat()
        async with self.db.read() as conn:
            async with conn.execute(
                _BOARD_SQL + " ORDER BY t.points DESC, t.correct DESC, t.answered, t.user_id"
                " LIMIT ?",
                (alive, streak_of, streak_of, *key, limit),
            ) as cursor:
                rows = await cursor.fetchall()
            top = [_entry(rank, row) for rank, row in enumerate(rows, start=1)]
            me = next((e for e in top if e.user_id == user_id), None)
            if me is None and user_id is not None:
                me = await _own_row(conn, key, user_id, streak_of, alive)
        return Leaderboard(scope=scope, period=period, topic=topic, top=top, me=me)

    async def streak(self, user_id: int, server_id: int | None) -> tuple[int, int]:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT CASE WHEN last_day >= ? THEN current ELSE 0 END, best FROM streaks"
                " WHERE user_id = ? AND server_id = ?",
                (
                    streak_alive_since(self.clock.now()).isoformat(),
                    user_id,
                    streak_server(server_id),
                ),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return (row[0], row[1]) if row else (0, 0)

    async def reset_scores(self, server_id: int, user_id: int | None) -> int:
        return await self.db.group(_reset(server_id, user_id))


def _reset(server_id: int, user_id: int | None) -> Callable[[sqlite3.Connection], int]:
    """`reset_scores` as a unit of work (`Database.group`): the attempts and streaks of that
    server (and user) deleted, the totals of their users rebuilt; how many attempts."""

    def work(conn: sqlite3.Connection) -> int:
        apply_all(conn)  # the review cards of the attempts to delete first: they stay
        where, args = "server_id = ?", [server_id]
        if user_id is not None:
            where, args = where + " AND user_id = ?", [server_id, user_id]
        users = [
            row[0]
            for row in conn.execute(f"SELECT DISTINCT user_id FROM attempts WHERE {where}", args)
        ]
        deleted = conn.execute(f"DELETE FROM attempts WHERE {where}", args).rowcount
        conn.execute(f"DELETE FROM streaks WHERE {where}", args)
        rebuild_totals(conn, users)
        return deleted

    return work
