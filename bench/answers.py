"""Answers recorded per second through the engine, beside raw aiosqlite INSERT+COMMIT.

    .venv/bin/python bench/answers.py [--concurrency 1,10,100] [--answers 600] [--rounds 3]
                                      [--pin same|apart] [--one-trip]
    .venv/bin/python bench/answers.py --db postgres[=URL] [--pool 10]   (bench/_answers_pg.py)

For each number of users answering at once, both sides write to a fresh SQLite file in DIR
(default bench/.data/answers) with the settings the bot uses (WAL, synchronous=FULL: every
answer is on disk before the user is told), in the same run, alternating in blocks so that both
see the same machine:

- engine: `Answering.answer(instance, user, "A")` on posted multiple-choice questions (fixture
  bank, TorchCheckers), each user answering its questions one after another, all users at once:
  the real path a button click takes (the posted question, grading, then `record_answer`: the
  previous answer and the reward window read, the attempt with its review rating written and
  the counts read, in one transaction shared with the answers waiting at that moment: the
  group commit). The leaderboard totals and the review cards are applied behind the answers
  (bot/storage/totals.py, bot/storage/cards.py: FSRS run over the ratings, the cards
  written): each engine block ends with a leaderboard read through the engine, inside the
  timed section, which applies every pending total and card first: the engine's time holds
  all of its work;
- raw: `BEGIN IMMEDIATE; INSERT INTO attempts (...) ON CONFLICT DO NOTHING; COMMIT` of the same
  row through one aiosqlite connection with the same PRAGMAs, the same number of tasks at once
  taking turns on the connection (one transaction at a time, as one connection allows).

An honest comparison: both sides have the same schema and indexes (the real migrations), the
same PRAGMAs (WAL, synchronous=FULL, read back and printed) and durability (a user hears of an
answer once its commit returned; the raw side commits each insert, as a single connection
must); the raw side does nothing but the insert.

Prints both rates and their ratio per concurrency (goal >= 1.0), the engine's commits (batches)
and largest batch, the PRAGMAs as read back, and the machine with its load.

`--pin` (Linux, a diagnostic): the event loop's thread on the first CPU the process may use, and
both sides' database threads on the same CPU (`same`) or on the second one (`apart`). Answers
one after another are a ping-pong between two threads, so what a hand-over costs, and it costs
the raw side three per insert against the engine's one, depends on where the scheduler put them.
`--one-trip` (SQLite): a third side, the raw transaction run in one trip to its connection's
thread (`raw_in_one_trip`): what one trip instead of three is worth, i.e. how much time the
engine has for everything it does beyond the insert before it falls behind raw.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import sqlite3
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosqlite

from bot.app.wiring import wire_engine
from bot.checkers import TorchCheckers
from bot.core.bank import load_bank
from bot.core.engine import Engine
from bot.core.models import Difficulty, Kind, Localized, ServedQuestion, User
from bot.core.ports import SystemClock
from bot.storage.db import BUSY_TIMEOUT_MS, Database
from bot.storage.sqlite import SqliteStore, iso

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"


async def pragmas(conn: aiosqlite.Connection) -> tuple[str, str]:
    (journal,) = next(iter(await conn.execute_fetchall("PRAGMA journal_mode")))
    (sync,) = next(iter(await conn.execute_fetchall("PRAGMA synchronous")))
    return str(journal), {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[sync]


async def setup_engine(
    path: Path, users: int, questions: int
) -> tuple[Engine, Database, list[int], list[User]]:
    db = await Database.open(path)
    checkers = TorchCheckers()
    bank = load_bank([FIXTURE_BANK], checkers.family_names())
    assert bank.ok, bank.problems
    engine = wire_engine(SqliteStore(db), bank, checkers, SystemClock(), random.Random(7))
    mcq = next(q for q in bank.questions.values() if q.kind is Kind.MCQ)
    people = [
        await engine.identities.user("discord", str(10_000 + i), f"user{i}") for i in range(users)
    ]
    server = await engine.identities.server("discord", "1", "bench")
    instances = []
    for n in range(questions):  # as a reply posts one: shown, with its message, then stored
        async with engine.postings.post(await engine.making.present(mcq), server.id, "42") as p:
            p.message_id = str(900_000 + n)
        instances.append(p.instance.id)
    await engine.postings.flush()
    async with db.read() as conn:  # an empty WAL to start from, as the raw side's (reopened)
        await conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    return engine, db, instances, people


async def setup_raw(
    path: Path, users: int, questions: int
) -> tuple[aiosqlite.Connection, list[list[tuple[Any, ...]]]]:
    """The same schema (the real migrations), users and instances, then a plain connection
    with the same PRAGMAs as `Database._configure`; each user's rows."""
    db = await Database.open(path)
    store = SqliteStore(db)
    people = [
        await store.get_or_create_user("discord", str(10_000 + i), f"user{i}") for i in range(users)
    ]
    server = await store.get_or_create_server("discord", "1", "bench")
    served = ServedQuestion(
        ref="q",
        kind=Kind.MCQ,
        topic="backprop",
        difficulty=Difficulty.EASY,
        text=Localized(en="q", zh="q"),
    )
    now = datetime.now(UTC)
    instances = [
        await store.create_instance(served, server.id, "42", "en", now) for _ in range(questions)
    ]
    await db.close()
    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = FULL")
    await conn.execute("PRAGMA foreign_keys = ON")
    rows = [
        [(i.id, u.id, server.id, "backprop", "q", "A", 1, 1) for i in instances] for u in people
    ]
    return conn, rows


RAW_INSERT = (
    "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, answer, correct,"
    " points, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (instance_id, user_id) DO NOTHING"
)


async def raw_insert(conn: aiosqlite.Connection, lock: asyncio.Lock, row: tuple[Any, ...]) -> None:
    async with lock:  # one transaction at a time on the connection
        await conn.execute("BEGIN IMMEDIATE")
        await conn.execute(RAW_INSERT, (*row, iso(datetime.now(UTC))))
        await conn.execute("COMMIT")


def _insert_transaction(conn: sqlite3.Connection, row: tuple[Any, ...]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(RAW_INSERT, (*row, iso(datetime.now(UTC))))
    conn.execute("COMMIT")


async def raw_in_one_trip(
    conn: aiosqlite.Connection, lock: asyncio.Lock, row: tuple[Any, ...]
) -> None:
    """`raw_insert`'s transaction in one trip to the connection's thread (`--one-trip`)."""
    async with lock:  # aiosqlite has no public "run this on the connection's thread"
        await conn._execute(_insert_transaction, conn._conn, row)  # type: ignore[no-untyped-call]


async def all_at_once(
    per_user: list[list[Callable[[], Awaitable[Any]]]],
    then: Callable[[], Awaitable[Any]] | None = None,
) -> float:
    """Each user's calls one after another, all users at once, then `then()`; seconds."""

    async def one(calls: list[Callable[[], Awaitable[Any]]]) -> None:
        for call in calls:
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(one(calls) for calls in per_user))
    if then is not None:
        await then()
    return time.perf_counter() - started


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine(folder: Path) -> str:
    usage = shutil.disk_usage(folder)
    return (
        f"{platform.machine()} {platform.system()} {platform.release()}, {os.cpu_count()} CPU(s);"
        f" Python {platform.python_version()}, SQLite {sqlite3.sqlite_version};"
        f" data on {folder} ({usage.free / 1e9:.0f} GB free)"
    )


async def rows_of(db: Database, sql: str) -> list[tuple[Any, ...]]:
    async with db.read() as conn:
        return [tuple(row) for row in await conn.execute_fetchall(sql, ())]


async def main(args: argparse.Namespace) -> None:
    folder = Path(args.dir)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    print(f"machine: {machine(folder)}")
    cpus = sorted(os.sched_getaffinity(0)) if args.pin else []  # before any pinning
    for level, users in enumerate(args.concurrency):
        for old in await asyncio.to_thread(lambda: list(folder.glob("*.sqlite3*"))):
            old.unlink()
        await run_level(args, folder, users, show_pragmas=level == 0, cpus=cpus)
    print(
        "checked: every answer recorded once on each side; the leaderboard totals and the"
        " review cards agree"
    )


async def run_level(
    args: argparse.Namespace, folder: Path, users: int, show_pragmas: bool, cpus: list[int]
) -> None:
    """Both sides with `users` users answering at once, on fresh databases; `cpus`: those the
    process may use (`--pin`)."""
    questions = max(args.rounds + 1, args.answers // users)
    engine, db, posted, people = await setup_engine(folder / "engine.sqlite3", users, questions)
    conn, rows = await setup_raw(folder / "raw.sqlite3", users, questions)
    trip: aiosqlite.Connection | None = None
    if args.one_trip:
        trip, _ = await setup_raw(folder / "one-trip.sqlite3", users, questions)
    try:
        if show_pragmas:
            for name, c in (("engine", db._conn), ("raw", conn)):
                journal, sync = await pragmas(c)
                print(f"{name + ' connection:':<19} journal_mode={journal}, synchronous={sync}")
        if args.pin:
            await pin(args.pin, cpus, db._conn, conn, *([trip] if trip else []))
        lock = asyncio.Lock()
        answering = engine.answering

        async def board() -> None:  # the pending leaderboard totals applied, then read
            await engine.boards.leaderboard()

        def engine_calls(start: int, stop: int) -> list[list[Callable[[], Awaitable[Any]]]]:
            return [
                [partial(answering.answer, i, u, "A") for i in posted[start:stop]] for u in people
            ]

        def raw_calls(start: int, stop: int) -> list[list[Callable[[], Awaitable[Any]]]]:
            return [[partial(raw_insert, conn, lock, r) for r in mine[start:stop]] for mine in rows]

        def trip_calls(start: int, stop: int) -> list[list[Callable[[], Awaitable[Any]]]]:
            assert trip is not None
            return [
                [partial(raw_in_one_trip, trip, lock, r) for r in mine[start:stop]] for mine in rows
            ]

        # Warm-up (caches, first pages), not counted; then blocks in turn.
        await all_at_once(engine_calls(0, 1), board)
        await all_at_once(raw_calls(0, 1))
        if trip is not None:
            await all_at_once(trip_calls(0, 1))
        batches = db.writer.batches
        spent = {"engine": 0.0, "raw": 0.0, "trip": 0.0}
        block = max(1, (questions - 1) // args.rounds)
        for start in range(1, questions, block):
            spent["engine"] += await all_at_once(engine_calls(start, start + block), board)
            spent["raw"] += await all_at_once(raw_calls(start, start + block))
            if trip is not None:
                spent["trip"] += await all_at_once(trip_calls(start, start + block))
        n = (questions - 1) * users
        rate = {name: n / seconds for name, seconds in spent.items() if seconds}
        commits = db.writer.batches - batches
        print(
            f"{users:>3} user(s) at once, {n} answers per side: engine {rate['engine']:6.0f}"
            f" answers/s, raw {rate['raw']:6.0f} inserts/s, ratio engine/raw"
            f" {rate['engine'] / rate['raw']:.2f} (goal >= 1.0); engine: {commits} commits,"
            f" {n / commits:.1f} answers each (largest {db.writer.largest});"
            f" load average {load()}"
        )
        if trip is not None:
            budget = ""
            if users == 1:  # one answer at a time: time per answer is 1 / rate
                budget = (
                    f": the engine may spend {1e6 / rate['raw'] - 1e6 / rate['trip']:.0f} us"
                    " an answer beyond the insert and still keep up with raw; it spends"
                    f" {1e6 / rate['engine'] - 1e6 / rate['trip']:.0f} us"
                )
            print(
                f"    raw in one trip: {rate['trip']:6.0f} inserts/s, ratio one-trip/raw"
                f" {rate['trip'] / rate['raw']:.2f}{budget}"
            )
        attempts = await rows_of(db, "SELECT COUNT(*) FROM attempts")
        totals = await rows_of(
            db,
            "SELECT SUM(answered) FROM score_totals WHERE server_id = 0 AND topic = '*'"
            " AND period = 'all'",
        )
        (raw_count,) = next(iter(await conn.execute_fetchall("SELECT COUNT(*) FROM attempts")))
        expected = questions * users
        assert attempts[0][0] == totals[0][0] == raw_count == expected, (attempts, totals)
        if trip is not None:
            (trip_count,) = next(iter(await trip.execute_fetchall("SELECT COUNT(*) FROM attempts")))
            assert trip_count == expected, trip_count
        reviews = await rows_of(db, "SELECT SUM(reviews), COUNT(*) FROM review_cards")
        assert reviews[0] == (expected, users), reviews  # one card each, every answer in it
    finally:
        if args.pin:  # the next level's threads are new; this one may run anywhere again
            os.sched_setaffinity(threading.get_native_id(), cpus)
        await conn.close()
        if trip is not None:
            await trip.close()
        await engine.aclose()
        await db.close()


async def pin(how: str, cpus: list[int], *conns: aiosqlite.Connection) -> None:
    """`--pin`: this thread (the event loop's) on the first of `cpus`, the connections'
    threads on the same one or on the second."""
    if how == "apart" and len(cpus) < 2:
        raise SystemExit("--pin apart needs two CPUs")
    loop_cpu, db_cpu = cpus[0], cpus[0] if how == "same" else cpus[1]

    def here(cpu: int) -> None:
        os.sched_setaffinity(threading.get_native_id(), {cpu})

    here(loop_cpu)
    for c in conns:  # aiosqlite has no public "run this on the connection's thread"
        await c._execute(here, db_cpu)  # type: ignore[no-untyped-call]
    print(f"pinned: event loop on CPU {loop_cpu}, database threads on CPU {db_cpu}")


def concurrency(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--concurrency", type=concurrency, default=[1, 10, 100], help="users at once: 1,10,100"
    )
    parser.add_argument("--answers", type=int, default=600, help="answers per side and run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=str(ROOT / "bench" / ".data" / "answers"))
    parser.add_argument(
        "--one-trip",
        action="store_true",
        help="SQLite: a third side, the raw transaction in one trip to the database thread",
    )
    parser.add_argument(
        "--pin",
        choices=("same", "apart"),
        help="SQLite, Linux: the database threads on the event loop's CPU, or on another",
    )
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite (default), or postgres[=URL]: the engine beside raw asyncpg INSERTs"
        " (without a URL: a temporary server; see bench/_answers_pg.py)",
    )
    parser.add_argument(
        "--pool", type=int, default=10, help="PostgreSQL: connections per side (BOT_DB_POOL_SIZE)"
    )
    parsed = parser.parse_args()
    if parsed.db.startswith("postgres") and (parsed.pin or parsed.one_trip):
        parser.error("--pin and --one-trip are for SQLite (its database threads)")
    if parsed.db.startswith("postgres"):
        from bench._answers_pg import main as postgres_main

        postgres_main(parsed.db, parsed)
    else:
        asyncio.run(main(parsed))
