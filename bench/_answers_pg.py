"""`bench/answers.py --db postgres[=URL]`: answers per second on PostgreSQL, 100 users at once.

Two sides in the same run, on the same database, alternating in blocks so that both see the
same machine and the same server:

- engine: `Answering.answer(instance, user, "A")` through `PostgresStore` (a pool of
  `--pool` connections, the bot's default BOT_DB_POOL_SIZE), each of `--users` users answering
  its questions one after another, all users at once (asyncio tasks): the real path a button
  click takes;
- raw: the same attempt row by single-statement `INSERT ... ON CONFLICT DO NOTHING` through an
  asyncpg pool of the same size, in autocommit (PostgreSQL commits each statement: one round
  trip, one WAL flush per INSERT+COMMIT), by the same number of concurrent users.

Without a URL it starts a throw-away PostgreSQL server from the machine's binaries (the tests'
helper, tests/_postgres.py) with durable settings (fsync and synchronous_commit on, as a
production server): the figures then include a real WAL flush per commit, as SQLite's
`synchronous=FULL` does. With a URL the database must be empty (a scratch database: the bench
creates the tables and fills them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bot.app.wiring import wire_engine
from bot.checkers import TorchCheckers
from bot.core.bank import load_bank
from bot.core.models import Kind, QuestionInstance, User
from bot.core.ports import SystemClock
from bot.storage.location import redact
from bot.storage.postgres import open_postgres

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"
# A durable server for the bench (the tests' server runs with fsync=off).
DURABLE = "-c max_connections=300 -c shared_buffers=128MB -c fsync=on -c synchronous_commit=on"

USERS, QUESTIONS = 100, 20  # users at once, and the questions each answers (both sides)

RAW_INSERT = (
    "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, answer, correct,"
    " points, created_at, question_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    " ON CONFLICT (instance_id, user_id) DO NOTHING"
)


class TimedStore:
    """The real store, with the wall-clock time spent in each method added up (under
    concurrency: the time the callers waited, the pool included)."""

    def __init__(self, store: Any) -> None:
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


def temporary_server() -> tuple[Any, str]:
    """A durable throw-away server and the URL of an empty database on it."""
    import tests._postgres as helper

    helper._SERVER_OPTIONS = DURABLE  # read by PostgresServer.start
    server = helper.start_server()
    return server, server.create_database()


async def run_users(
    users: list[User], answer: Callable[[User, int], Awaitable[Any]], questions: list[int]
) -> float:
    """Every user answers `questions` one after another, all users at once; seconds."""

    async def one(user: User) -> None:
        for instance_id in questions:
            await answer(user, instance_id)

    started = time.perf_counter()
    await asyncio.gather(*(one(u) for u in users))
    return time.perf_counter() - started


async def measure(url: str, args: argparse.Namespace) -> None:
    # bench/answers.py's own flags may change; these have their defaults here.
    users = int(getattr(args, "users", USERS))
    questions = int(getattr(args, "questions", QUESTIONS))
    rounds = int(getattr(args, "rounds", 5))
    pool = int(getattr(args, "pool", 10))
    clock = SystemClock()
    store = await open_postgres(url, clock, pool_size=pool)
    raw = await asyncpg.create_pool(url, min_size=pool, max_size=pool)
    try:
        if await store.db.fetchval("SELECT COUNT(*) FROM users"):
            raise SystemExit(f"{redact(url)} is not empty: give the bench a scratch database")
        timed = TimedStore(store)
        checkers = TorchCheckers()
        bank = load_bank([FIXTURE_BANK], checkers.family_names())
        engine = wire_engine(timed, bank, checkers, clock, random.Random(7))  # type: ignore[arg-type]
        mcq = next(q for q in bank.questions.values() if q.kind is Kind.MCQ)
        people = [
            await engine.identities.user("discord", str(10_000 + i), f"user{i}")
            for i in range(users)
        ]
        server = await engine.identities.server("discord", "1", "bench")

        async def post() -> QuestionInstance:
            served = await engine.making.present(mcq)
            return await engine.postings.post(served, server.id, "42")

        # Two sets of posted questions: the engine answers one, the raw side inserts the
        # same rows for the other (both start empty: every answer is a first answer).
        mine = [(await post()).id for _ in range(questions)]
        theirs = [(await post()).id for _ in range(questions)]

        async def engine_answer(user: User, instance_id: int) -> None:
            await engine.answering.answer(instance_id, user, "A")

        async def raw_answer(user: User, instance_id: int) -> None:
            now = datetime.now(UTC)
            await raw.execute(
                RAW_INSERT, instance_id, user.id, server.id, mcq.topic, mcq.id, "A", True, 1,
                now, mcq.id,
            )  # fmt: skip

        warm = max(1, questions // 10)
        await run_users(people, engine_answer, mine[:warm])
        await run_users(people, raw_answer, theirs[:warm])
        timed.reset()
        spent = {"engine": 0.0, "raw": 0.0}
        block = max(1, (questions - warm) // rounds)
        for start in range(warm, questions, block):
            spent["engine"] += await run_users(people, engine_answer, mine[start : start + block])
            spent["raw"] += await run_users(people, raw_answer, theirs[start : start + block])
        n = (questions - warm) * users
        rate = {name: n / seconds for name, seconds in spent.items()}
        version = await store.db.fetchval("SHOW server_version")
        settings = {
            name: await store.db.fetchval(f"SHOW {name}")
            for name in ("fsync", "synchronous_commit", "wal_sync_method")
        }
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"machine: {platform.machine()} {platform.system()} {platform.release()},"
            f" {os.cpu_count()} CPU(s), load average {load}; Python"
            f" {platform.python_version()}, PostgreSQL {version}"
            f" ({', '.join(f'{k}={v}' for k, v in settings.items())}) at {redact(url)}"
        )
        print(
            f"answers: {n} per side ({users} users at once x {questions - warm}"
            f" questions each), pools of {pool} connections"
        )
        print(f"engine:  {rate['engine']:7.0f} answers/s")
        print(f"raw:     {rate['raw']:7.0f} inserts/s  (single-row INSERT, autocommit)")
        print(f"ratio engine/raw: {rate['engine'] / rate['raw']:.2f} (goal >= 0.5)")
        print("where the engine's time goes (summed over the concurrent users, per answer):")
        for name, seconds in sorted(timed.seconds.items(), key=lambda kv: -kv[1]):
            print(
                f"  {name:<22} {seconds / n * 1e3:6.3f} ms  ({timed.calls[name] / n:.1f} call(s))"
            )

        counted = await store.db.fetchval(
            "SELECT COUNT(*) FROM attempts WHERE instance_id = ANY($1::bigint[])", mine
        )
        inserted = await store.db.fetchval(
            "SELECT COUNT(*) FROM attempts WHERE instance_id = ANY($1::bigint[])", theirs
        )
        totals = await store.db.fetchval(
            "SELECT SUM(answered) FROM score_totals WHERE server_id = 0 AND topic = '*'"
            " AND period = 'all'"
        )
        expected = questions * users
        assert counted == inserted == expected, (counted, inserted, expected)
        assert totals == expected, (totals, expected)
        print("checked: every answer recorded once on both sides; the leaderboard totals agree")
        await engine.aclose()
    finally:
        await raw.close()
        await store.close()


def main(target: str, args: argparse.Namespace) -> None:
    """`target`: "postgres" (a temporary server) or "postgres=URL"."""
    url = target.partition("=")[2]
    server = None
    if not url:
        server, url = temporary_server()
    try:
        asyncio.run(measure(url, args))
    finally:
        if server is not None:
            server.stop()
