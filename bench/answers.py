"""Answers recorded per second through the engine, beside raw aiosqlite INSERT+COMMIT.

    .venv/bin/python bench/answers.py [--users 100] [--questions 20] [--rounds 5] [--dir DIR]
    .venv/bin/python bench/answers.py --db postgres[=URL] [--pool 10]   (bench/_answers_pg.py)

Both sides write to a real SQLite file in DIR (default bench/.data/answers) with the settings
the bot uses (WAL, synchronous=FULL: every answer is on disk before the user is told), one
answer at a time, in the same run, alternating in blocks so that both see the same machine:

- engine: `Answering.answer(instance, user, "A")` on posted multiple-choice questions (fixture
  bank, TorchCheckers) by many users: the real path a button click takes (read the instance,
  grade, look up the previous answer, the reward window and the review card, then one write
  transaction with the attempt, the leaderboard totals and the review card, then the counts);
- raw: `BEGIN IMMEDIATE; INSERT INTO attempts (...) ON CONFLICT DO NOTHING; COMMIT` of the same
  row through one aiosqlite connection with the same PRAGMAs.

Prints both rates, their ratio (goal >= 0.5), where the engine's time goes (per store call),
the PRAGMAs as read back, and the machine.

A third side, `proposed`, is a prototype of a shorter answer path (not the bot's code): the
same reads, grading, review and writes as `Answering.answer`, but the posted question from an
in-memory cache, one combined read for the previous answer, the reward window and the review
card, and the whole write transaction (with the new counts) in one trip to the database
thread. It writes the same rows (checked at the end) and shows what that change would buy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosqlite

from bot.app.wiring import wire_engine
from bot.checkers import TorchCheckers
from bot.core.bank import load_bank
from bot.core.boards import total_keys
from bot.core.engine import Engine, grade_choice
from bot.core.models import (
    AnswerOutcome,
    AttemptRecord,
    InstanceCounts,
    Kind,
    QuestionInstance,
    User,
    Verdict,
)
from bot.core.ports import SystemClock
from bot.core.review import rating_for, review_item
from bot.core.scoring import REWARD_WINDOW, points_for
from bot.storage.db import BUSY_TIMEOUT_MS, Database
from bot.storage.sqlite import SqliteStore, iso
from bot.storage.sqlite._attempts import _card

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"


class TimedStore:
    """The real store, with the time spent in each method added up (wall clock)."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)
        if not callable(method):
            return method

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        return timed

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


async def pragmas(conn: aiosqlite.Connection) -> tuple[str, str]:
    async with conn.execute("PRAGMA journal_mode") as cursor:
        journal = (await cursor.fetchone())[0]  # type: ignore[index]
    async with conn.execute("PRAGMA synchronous") as cursor:
        sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[(await cursor.fetchone())[0]]  # type: ignore[index]
    return str(journal), sync


async def setup_engine(
    path: Path, users: int, questions: int
) -> tuple[Engine, TimedStore, Database, list[QuestionInstance], list[User]]:
    db = await Database.open(path)
    store = TimedStore(SqliteStore(db))
    checkers = TorchCheckers()
    bank = load_bank([FIXTURE_BANK], checkers.family_names())
    assert bank.ok, bank.problems
    engine = wire_engine(store, bank, checkers, SystemClock(), random.Random(7))  # type: ignore[arg-type]
    mcq = next(q for q in bank.questions.values() if q.kind is Kind.MCQ)
    people = [
        await engine.identities.user("discord", str(10_000 + i), f"user{i}") for i in range(users)
    ]
    server = await engine.identities.server("discord", "1", "bench")
    instances = [
        await engine.postings.post(await engine.making.present(mcq), server.id, "42")
        for _ in range(questions)
    ]
    store.reset()
    return engine, store, db, instances, people


async def setup_raw(
    path: Path, users: int, questions: int
) -> tuple[aiosqlite.Connection, list[tuple[Any, ...]]]:
    """The same schema (the real migrations), users and instances, then a plain connection
    with the same PRAGMAs as `Database._configure`."""
    db = await Database.open(path)
    store = SqliteStore(db)
    people = [
        await store.get_or_create_user("discord", str(10_000 + i), f"user{i}") for i in range(users)
    ]
    server = await store.get_or_create_server("discord", "1", "bench")
    now = datetime.now(UTC)
    from bot.core.models import Difficulty, Localized, ServedQuestion

    served = ServedQuestion(
        ref="q",
        kind=Kind.MCQ,
        topic="backprop",
        difficulty=Difficulty.EASY,
        text=Localized(en="q", zh="q"),
    )
    instances = [
        await store.create_instance(served, server.id, "42", "en", now) for _ in range(questions)
    ]
    await db.close()
    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = FULL")
    await conn.execute("PRAGMA foreign_keys = ON")
    rows = [(i.id, u.id, server.id, "backprop", "q", "A", 1, 1) for i in instances for u in people]
    return conn, rows


# The prototype of a shorter answer path ("proposed"): same reads and writes, fewer trips.

CONTEXT_SQL = """
    SELECT (SELECT correct FROM attempts WHERE instance_id = ?1 AND user_id = ?2) AS previous,
           EXISTS (SELECT 1 FROM attempts WHERE user_id = ?2 AND points > 0
                   AND created_at >= ?3 AND ref = ?4) AS rewarded,
           c.item, c.topic, c.card, c.due, c.reviews
    FROM (SELECT 1) LEFT JOIN review_cards c ON c.user_id = ?2 AND c.item = ?5
"""


def write_answer(conn: sqlite3.Connection, a: AttemptRecord) -> tuple[bool, InstanceCounts]:
    """SqliteStore.record_attempt + instance_counts as one function on the database thread."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        inserted = _insert(conn, a)
        counts = _counts(conn, a.instance_id)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return inserted, counts


def _counts(conn: sqlite3.Connection, instance_id: int) -> InstanceCounts:
    answered, correct = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(correct), 0) FROM attempts WHERE instance_id = ?",
        (instance_id,),
    ).fetchone()
    return InstanceCounts(answered=answered, correct=correct)


def _insert(conn: sqlite3.Connection, a: AttemptRecord) -> bool:
    """The writes of SqliteStore.record_attempt, in the caller's transaction."""
    inserted = bool(
        conn.execute(
            "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, answer,"
            " correct, points, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (instance_id, user_id) DO NOTHING RETURNING id",
            (
                a.instance_id,
                a.user_id,
                a.server_id,
                a.topic,
                a.ref,
                a.answer,
                int(a.correct),
                a.points,
                iso(a.at),
            ),
        ).fetchall()
    )
    if inserted:
        conn.executemany(
            "INSERT INTO score_totals (server_id, topic, period, user_id, points, answered,"
            " correct) VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT (server_id, topic, period,"
            " user_id) DO UPDATE SET points = points + excluded.points,"
            " answered = answered + 1, correct = correct + excluded.correct",
            [
                (s, t, p, a.user_id, a.points, int(a.correct))
                for s, t, p in total_keys(a.server_id, a.topic, a.at)
            ],
        )
        if a.review is not None:
            conn.execute(
                "INSERT INTO review_cards (user_id, item, topic, card, due, reviews,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, item) DO"
                " UPDATE SET topic = excluded.topic, card = excluded.card,"
                " due = excluded.due, reviews = excluded.reviews,"
                " updated_at = excluded.updated_at",
                (
                    a.user_id,
                    a.review.item,
                    a.review.topic,
                    json.dumps(a.review.card),
                    iso(a.review.due),
                    a.review.reviews,
                    iso(a.at),
                ),
            )
    return inserted


class Proposed:
    """Two trips: one combined read, one write transaction (with the counts)."""

    def __init__(self, engine: Engine, db: Database) -> None:
        self.engine, self.db = engine, db
        self.instances: dict[int, QuestionInstance] = {}  # posted questions do not change

    async def _on_db_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        # Database.transaction's lock, then one trip: aiosqlite has no public "run this on
        # the connection's thread", so the prototype uses its private _execute.
        async with self.db._lock:
            return await self.db._conn._execute(fn, self.db._conn._conn, *args)

    def _decide(
        self, instance: QuestionInstance, user: User, text: str, correct: bool, row: Any
    ) -> AttemptRecord:
        """Points and the review card from the context row (the engine's _record logic)."""
        now = self.engine.clock.now()
        seconds = max(0.0, (now - instance.created_at).total_seconds())
        rating = rating_for(instance.kind, correct, 0, seconds)
        points = points_for(instance.kind, instance.difficulty, correct, bool(row["rewarded"]), 0)
        item = review_item(instance.ref)
        card = self.engine.answering.reviewer.review(
            _card(row) if row["item"] is not None else None, item, instance.topic, rating, now
        )
        return AttemptRecord(
            instance_id=instance.id,
            user_id=user.id,
            server_id=instance.server_id,
            topic=instance.topic,
            ref=instance.ref,
            answer=text[:500],
            correct=correct,
            points=points,
            at=now,
            review=card,
        )

    def _context_args(self, instance: QuestionInstance, user: User) -> tuple[Any, ...]:
        since = iso(self.engine.clock.now() - REWARD_WINDOW)
        return (instance.id, user.id, since, instance.ref, review_item(instance.ref))

    async def answer(self, instance_id: int, user: User, text: str) -> AnswerOutcome:
        engine = self.engine
        instance = self.instances.get(instance_id) or await engine.postings.instance(instance_id)
        self.instances[instance_id] = instance
        question = engine.catalog.question(instance.ref, instance.server_id)
        assert question is not None and instance.kind is Kind.MCQ
        grade = grade_choice(question, text)
        if grade.verdict is Verdict.UNREADABLE:
            return AnswerOutcome(grade=grade, counted=False, points=0)
        previous, counted, points, counts = await self.record(instance, user, text, grade.correct)
        return AnswerOutcome(
            grade=grade,
            counted=counted,
            points=points,
            previous_correct=previous,
            explanation=question.explanation,
            counts=counts,
        )

    async def record(
        self, instance: QuestionInstance, user: User, text: str, correct: bool
    ) -> tuple[bool | None, bool, int, InstanceCounts]:
        async with self.db.read() as conn:
            (row,) = await conn.execute_fetchall(CONTEXT_SQL, self._context_args(instance, user))
        previous = None if row["previous"] is None else bool(row["previous"])
        if previous is not None:
            return previous, False, 0, await self.engine.store.instance_counts(instance.id)
        attempt = self._decide(instance, user, text, correct, row)
        counted, counts = await self._on_db_thread(write_answer, attempt)
        return previous, counted, attempt.points if counted else 0, counts


class ProposedOneTrip(Proposed):
    """One trip: the context read, the decision (points, fsrs) and the writes in one
    transaction on the database thread."""

    async def record(
        self, instance: QuestionInstance, user: User, text: str, correct: bool
    ) -> tuple[bool | None, bool, int, InstanceCounts]:
        def work(conn: sqlite3.Connection) -> tuple[bool | None, bool, int, InstanceCounts]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(CONTEXT_SQL, self._context_args(instance, user)).fetchone()
                previous = None if row["previous"] is None else bool(row["previous"])
                counted, points = False, 0
                if previous is None:
                    attempt = self._decide(instance, user, text, correct, row)
                    counted = _insert(conn, attempt)
                    points = attempt.points if counted else 0
                counts = _counts(conn, instance.id)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return previous, counted, points, counts

        result: tuple[bool | None, bool, int, InstanceCounts] = await self._on_db_thread(work)
        return result


async def raw_insert(conn: aiosqlite.Connection, row: tuple[Any, ...]) -> None:
    await conn.execute("BEGIN IMMEDIATE")
    await conn.execute(
        "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, answer, correct,"
        " points, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (instance_id, user_id) DO NOTHING",
        (*row, iso(datetime.now(UTC))),
    )
    await conn.execute("COMMIT")


async def timed_block(calls: list[Callable[[], Awaitable[Any]]]) -> float:
    started = time.perf_counter()
    for call in calls:
        await call()
    return time.perf_counter() - started


def machine(folder: Path) -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    usage = shutil.disk_usage(folder)
    return (
        f"{platform.machine()} {platform.system()} {platform.release()}, {os.cpu_count()} CPU(s),"
        f" load average {load}; Python {platform.python_version()}, SQLite"
        f" {sqlite3.sqlite_version}; data on {folder} ({usage.free / 1e9:.0f} GB free)"
    )


async def rows_of(db: Database, sql: str) -> list[tuple[Any, ...]]:
    async with db.read() as conn:
        return [tuple(row) for row in await conn.execute_fetchall(sql, ())]


async def main(args: argparse.Namespace) -> None:
    opened: list[Database] = []
    raw: list[aiosqlite.Connection] = []
    try:
        await measure(args, opened, raw)
    finally:  # aiosqlite's threads would keep the process alive after a failure
        for conn in raw:
            await conn.close()
        for database in opened:
            await database.close()


async def measure(
    args: argparse.Namespace, opened: list[Database], raw: list[aiosqlite.Connection]
) -> None:
    folder = Path(args.dir)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    for old in await asyncio.to_thread(lambda: list(folder.glob("*.sqlite3*"))):
        old.unlink()
    engine, store, db, instances, people = await setup_engine(
        folder / "engine.sqlite3", args.users, args.questions
    )
    opened.append(db)
    prototypes: dict[str, Proposed] = {}
    databases = [db]
    for name, kind in (("proposed", Proposed), ("one trip", ProposedOneTrip)):
        p_engine, _, p_db, _, _ = await setup_engine(
            folder / f"{name.replace(' ', '')}.sqlite3", args.users, args.questions
        )
        prototypes[name] = kind(p_engine, p_db)
        databases.append(p_db)
        opened.append(p_db)
    conn, rows = await setup_raw(folder / "raw.sqlite3", args.users, args.questions)
    raw.append(conn)
    print(f"machine: {machine(folder)}")
    for name, c in (("engine", db._conn), ("raw", conn)):
        journal, sync = await pragmas(c)
        print(f"{name + ' connection:':<19} journal_mode={journal}, synchronous={sync}")

    # The same (instance id, user) pairs on every side: the set-ups create the same ids.
    pairs = [(i.id, u) for i in instances for u in people]
    sides: dict[str, list[Callable[[], Awaitable[Any]]]] = {
        "engine": [(lambda i=i, u=u: engine.answering.answer(i, u, "A")) for i, u in pairs],
        **{
            name: [(lambda i=i, u=u, p=proto: p.answer(i, u, "A")) for i, u in pairs]
            for name, proto in prototypes.items()
        },
        "raw": [(lambda r=r: raw_insert(conn, r)) for r in rows],
    }
    # Warm-up (caches, first pages), not counted.
    warm = max(1, len(rows) // 20)
    for calls in sides.values():
        await timed_block(calls[:warm])
    store.reset()
    n = len(rows) - warm
    block = max(1, n // args.rounds)
    spent = dict.fromkeys(sides, 0.0)
    for start in range(warm, len(rows), block):
        for name, calls in sides.items():
            spent[name] += await timed_block(calls[start : start + block])
    rate = {name: n / seconds for name, seconds in spent.items()}
    print(
        f"answers: {n} per side ({args.users} users x {args.questions} posted questions),"
        " one at a time"
    )
    for name in sides:
        what = "inserts" if name == "raw" else "answers"
        print(f"{name + ':':<10}{rate[name]:7.0f} {what}/s  ({spent[name] / n * 1e3:.2f} ms each)")
    print(f"ratio engine/raw: {rate['engine'] / rate['raw']:.2f} (goal >= 0.5)")
    for name in prototypes:
        print(f"ratio {name}/raw: {rate[name] / rate['raw']:.2f} (prototype, not the bot's code)")
    print("where the engine's time goes (per answer):")
    accounted = 0.0
    for name, seconds in sorted(store.seconds.items(), key=lambda kv: -kv[1]):
        accounted += seconds
        print(f"  {name:<22} {seconds / n * 1e3:6.3f} ms  ({store.calls[name] / n:.0f} call(s))")
    outside = (spent["engine"] - accounted) / n * 1e3
    print(f"  {'outside the store':<22} {outside:6.3f} ms  (grading, fsrs, models, event loop)")

    for sql in (
        "SELECT instance_id, user_id, correct, points FROM attempts ORDER BY 1, 2",
        "SELECT * FROM score_totals ORDER BY 1, 2, 3, 4",
    ):
        expected = await rows_of(db, sql)
        for other in databases[1:]:
            assert expected and await rows_of(other, sql) == expected, (other.path, sql)
    (raw_count,) = await conn.execute_fetchall("SELECT COUNT(*) FROM attempts", ())
    assert raw_count[0] == len(rows)
    print("checked: every answer path wrote the same attempts and leaderboard totals")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", default=str(ROOT / "bench" / ".data" / "answers"))
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite (default), or postgres[=URL]: the engine beside raw asyncpg INSERTs,"
        " --users at once (without a URL: a temporary server; see bench/_answers_pg.py)",
    )
    parser.add_argument(
        "--pool", type=int, default=10, help="PostgreSQL: connections per side (BOT_DB_POOL_SIZE)"
    )
    parsed = parser.parse_args()
    if parsed.db.startswith("postgres"):
        from bench._answers_pg import main as postgres_main

        postgres_main(parsed.db, parsed)
    else:
        asyncio.run(main(parsed))
