"""SQLite's leaderboard totals and review cards, applied behind the answers.

An answer's transaction writes its attempt (with its review rating, and its streak), not the
18 `score_totals` rows the attempt adds to (`bot.core.boards.total_keys`) nor its review card
(`bot.storage.cards`): over those tables' B-trees they are more pages to commit than the
attempt itself, and the card is an FSRS computation. `totals_applied` (migration 0008) holds
the id of the last attempt whose totals are in `score_totals` and whose rating is in its card;
`apply_pending` sums the totals of every later attempt, adds them, applies the ratings to the
cards in the attempts' order and moves the mark, in one transaction: each attempt is counted
and reviewed exactly once, whoever applies it and whenever (a process killed between an
answer's commit and the apply leaves the attempt after the mark: the next apply counts it; two
processes on one file take turns on the write lock).

When (`TotalsBehind`): in the background once `FLUSH_AT` answers are waiting, or `DELAY_S`
after the first; and before anything reads or rebuilds the totals or reads the cards
(`Database.totals.apply()`, `apply_for_read`: the leaderboards, /review, a reset), when the
database is opened (what a crash left) and when it is closed. A read right after an answer
includes it. The other stores (memory, PostgreSQL) write the totals and the card with the
attempt.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from bot.core.boards import TotalKey, total_keys
from bot.core.errors import StorageUnavailable
from bot.storage.cards import Rated, apply_cards, read_with_pending_cards
from bot.storage.times import parse_iso

if TYPE_CHECKING:
    from bot.storage.db import Database

log = logging.getLogger(__name__)

FLUSH_AT = 256  # answers waiting that start an apply at once
DELAY_S = 0.5  # at the latest this long after the first answer waiting
CHUNK = 20_000  # attempts applied per transaction (a backlog holds the write lock in turns)

Sums = dict[tuple[int, str, str, int], list[int]]  # (server, topic, period, user) -> p, a, c

_PENDING_SQL = (
    "SELECT EXISTS (SELECT 1 FROM attempts WHERE id > (SELECT attempt_id FROM totals_applied))"
)
_ADD_SQL = (
    "INSERT INTO score_totals (server_id, topic, period, user_id, points, answered, correct)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (server_id, topic, period, user_id) DO UPDATE"
    " SET points = points + excluded.points, answered = answered + excluded.answered,"
    " correct = correct + excluded.correct"
)


def sum_totals(rows: Iterable[tuple[int, int | None, str, str, int, int]]) -> Sums:
    """The totals of attempts (user, server, topic, created_at, points, correct), summed per
    row of `score_totals`."""
    sums: Sums = {}
    keys: dict[tuple[int | None, str, date], list[TotalKey]] = {}
    for user_id, server_id, topic, created_at, points, correct in rows:
        at = parse_iso(created_at)
        slot = (server_id, topic, at.date())  # the keys depend on the day only
        found = keys.get(slot)
        if found is None:
            found = keys[slot] = total_keys(server_id, topic, at)
        for server, topic_key, period in found:
            total = sums.get((server, topic_key, period, user_id))
            if total is None:
                sums[(server, topic_key, period, user_id)] = [points, 1, correct]
            else:
                total[0] += points
                total[1] += 1
                total[2] += correct
    return sums


Pending = tuple[Sums, list[Rated], int | None]


def pending(conn: sqlite3.Connection, after: int) -> Pending:
    """The summed totals and the review ratings (in order) of the next attempts after id
    `after` (at most CHUNK of them), and the last such attempt's id (None when there is
    none)."""
    rows = conn.execute(
        "SELECT a.id, a.user_id, a.server_id, a.topic, a.created_at, a.points, a.correct,"
        " u.id, a.ref, a.review_rating FROM attempts a LEFT JOIN users u ON u.id = a.user_id"
        " WHERE a.id > ? ORDER BY a.id LIMIT ?",
        (after, CHUNK),
    ).fetchall()
    if not rows:
        return {}, [], None
    # An attempt whose user row is gone (deleted by hand with foreign keys off) has no
    # leaderboard to add to, nor cards: skipped, the mark passes it (else every apply would
    # fail on it).
    kept = [row for row in rows if row[7] is not None]
    rated = [(r[1], r[8], r[3], r[4], r[9]) for r in kept if r[9] is not None]
    return sum_totals(row[1:7] for row in kept), rated, rows[-1][0]


def add_totals(conn: sqlite3.Connection, sums: Sums) -> None:
    conn.executemany(_ADD_SQL, [(*key, *values) for key, values in sums.items()])


def _mark(conn: sqlite3.Connection) -> int:
    (mark,) = conn.execute("SELECT attempt_id FROM totals_applied").fetchone()
    return int(mark)


def apply_pending(conn: sqlite3.Connection) -> bool:
    """Add the totals and apply the review cards (`bot.storage.cards`) of the next CHUNK
    attempts after the mark and move it past them, inside the caller's write transaction
    (`Database.group`); whether any was applied (more may be left: `apply_all`, or one
    transaction per chunk as `TotalsBehind` does)."""
    sums, rated, last = pending(conn, _mark(conn))
    if last is None:
        return False
    add_totals(conn, sums)
    apply_cards(conn, rated)
    conn.execute("UPDATE totals_applied SET attempt_id = ?", (last,))
    return True


def apply_chunk(conn: sqlite3.Connection) -> tuple[bool, bool]:
    """`apply_pending`, and whether more may be left (a whole chunk was applied: a backlog).
    Not looked for: what was recorded after an apply began (the answers that recorded it
    schedule their own); else an apply and one user answering would take turns, a
    transaction and a commit each, for every answer, and each apply would end with an
    empty transaction."""
    before = _mark(conn)
    if not apply_pending(conn):
        return False, False
    return True, _mark(conn) - before >= CHUNK  # ids grow: fewer apart, fewer than a chunk


def apply_all(conn: sqlite3.Connection) -> None:
    """Every pending total, inside the caller's transaction."""
    while apply_pending(conn):
        pass


def read_with_pending(conn: sqlite3.Connection) -> None:
    """For a connection that reads but must not write (`db copy`'s source): from now on its
    `score_totals` and `review_cards` are temporary copies with the pending totals and cards
    applied (the file is unchanged)."""
    sums, rated, last = pending(conn, _mark(conn))
    if last is None:
        return
    conn.execute(
        "CREATE TEMP TABLE score_totals (server_id INTEGER NOT NULL, topic TEXT NOT NULL,"
        " period TEXT NOT NULL, user_id INTEGER NOT NULL, points INTEGER NOT NULL,"
        " answered INTEGER NOT NULL, correct INTEGER NOT NULL,"
        " PRIMARY KEY (server_id, topic, period, user_id)) WITHOUT ROWID"
    )
    cols = "server_id, topic, period, user_id, points, answered, correct"
    conn.execute(f"INSERT INTO temp.score_totals ({cols}) SELECT {cols} FROM main.score_totals")
    read_with_pending_cards(conn)
    while last is not None:
        add_totals(conn, sums)  # the temporary tables: the temp schema is searched first
        apply_cards(conn, rated)
        sums, rated, last = pending(conn, last)


def rebuild_totals(conn: sqlite3.Connection, user_ids: list[int]) -> None:
    """Recompute these users' totals from their attempts (after attempts were deleted),
    inside the caller's write transaction; the pending totals are applied first (so that none
    is counted twice)."""
    apply_all(conn)
    for user_id in user_ids:
        conn.execute("DELETE FROM score_totals WHERE user_id = ?", (user_id,))
        rows = conn.execute(
            "SELECT user_id, server_id, topic, created_at, points, correct FROM attempts"
            " WHERE user_id = ?",
            (user_id,),
        ).fetchall()
        add_totals(conn, sum_totals(rows))


class TotalsBehind:
    """When the pending totals of one `Database` are applied (see the module's docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._waiting = 0  # answers recorded here since the last apply started
        self._timer: asyncio.TimerHandle | None = None
        self._flush: asyncio.Task[None] | None = None
        self.applies = 0  # transactions that applied something (for tests and benches)
        self._closed = False  # once closing, an answer finishing late schedules nothing

    def added(self, count: int = 1) -> None:
        """`count` answers were recorded (committed): apply their totals soon."""
        self._waiting += count
        if self._closed:
            return  # `close` applies what is left
        if self._flush is not None:
            return  # it looks again when it is done
        if self._waiting >= FLUSH_AT:
            self._start()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(DELAY_S, self._start)

    def _start(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._flush is None:
            self._flush = asyncio.get_running_loop().create_task(self._background())

    async def _background(self) -> None:
        try:
            await self._apply()
        except Exception as exc:  # the next answer, read, open or close applies them
            log.warning("leaderboard totals and review cards not applied yet: %s", exc)
            return  # not again until then (a full disk: no warning every DELAY_S)
        finally:
            self._flush = None
        if self._waiting:
            self.added(0)

    async def _apply(self) -> None:
        if self._timer is not None:  # what it would apply is applied now
            self._timer.cancel()
            self._timer = None
        waiting, self._waiting = self._waiting, 0
        try:  # one transaction per chunk: a backlog (a crash's) takes the write lock in turns
            more = True
            while more:
                applied, more = await self._db.group(apply_chunk, background=True)
                self.applies += applied
        except BaseException:
            self._waiting += waiting
            raise

    async def apply(self) -> None:
        """Every pending total applied (answers recorded by another process or before a
        crash included), once committed."""
        if not self._waiting:
            async with self._db.read() as conn:
                rows = await conn.execute_fetchall(_PENDING_SQL)
            if not next(iter(rows))[0]:
                return
        await self._apply()

    async def apply_for_read(self, what: str) -> None:
        """`apply()` before a read of the totals or the review cards, when the write lock can
        be had: else (another process's long write, a read-only file, a full disk) the read
        shows them as they are, a few answers behind, rather than failing; `what` names the
        read in the warning."""
        try:
            await self.apply()
        except (StorageUnavailable, sqlite3.Error) as exc:
            log.warning("%s read without the latest answers applied: %s", what, exc)

    async def close(self) -> None:
        """Apply what is pending; nothing scheduled is left."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._flush is not None:
            await asyncio.gather(self._flush, return_exceptions=True)
        await self.apply()
