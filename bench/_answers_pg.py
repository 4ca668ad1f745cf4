"""`bench/answers.py --db postgres[=URL]`: answers/s on PostgreSQL, 1, 10 and 100 users at once.

Two sides in the same run, on the same database, alternating in blocks so that both see the
same machine and the same server:

- engine: `Answering.answer(instance, user, "A")` through `PostgresStore` (a pool of
  `--pool` connections, the bot's default BOT_DB_POOL_SIZE), each of `--concurrency` users
  answering its questions one after another, all users at once (asyncio tasks): the real path a
  button click takes, group-committed (the answers waiting share one transaction);
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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bot.app.wiring import wire_engine
from bot.checkers import TorchCheckers
from bot.core.bank import load_bank
from bot.core.models import Kind, User
from bot.core.ports import SystemClock
from bot.storage.location import redact
from bot.storage.postgres import open_postgres

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"
# A durable server for the bench (the tests' server runs with fsync=off).
DURABLE = "-c max_connections=300 -c shared_buffers=128MB -c fsync=on -c synchronous_commit=on"

LEVELS, ANSWERS, ROUNDS = [1, 10, 100], 600, 3  # users at once; answers per side and level

RAW_INSERT = (
    "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, answer, correct,"
    " points, created_at, question_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    " ON CONFLICT (instance_id, user_id) DO NOTHING"
)


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
    levels = list(getattr(args, "concurrency", LEVELS))
    answers = int(getattr(args, "answers", ANSWERS))
    rounds = int(getattr(args, "rounds", ROUNDS))
    pool = int(getattr(args, "pool", 10))
    clock = SystemClock()
    store = await open_postgres(url, clock, pool_size=pool)
    raw = await asyncpg.create_pool(url, min_size=pool, max_size=pool)
    try:
        if await store.db.fetchval("SELECT COUNT(*) FROM users"):
            raise SystemExit(f"{redact(url)} is not empty: give the bench a scratch database")
        checkers = TorchCheckers()
        bank = load_bank([FIXTURE_BANK], checkers.family_names())
        engine = wire_engine(store, bank, checkers, clock, random.Random(7))
        mcq = next(q for q in bank.questions.values() if q.kind is Kind.MCQ)
        people = [
            await engine.identities.user("discord", str(10_000 + i), f"user{i}")
            for i in range(max(levels))
        ]
        server = await engine.identities.server("discord", "1", "bench")
        posted = 0

        async def post() -> int:
            nonlocal posted
            posted += 1
            served = await engine.making.present(mcq)
            async with engine.postings.post(served, server.id, "42") as shown:  # as a reply
                shown.message_id = str(900_000 + posted)
            return shown.instance.id

        async def engine_answer(user: User, instance_id: int) -> None:
            await engine.answering.answer(instance_id, user, "A")

        async def raw_answer(user: User, instance_id: int) -> None:
            now = datetime.now(UTC)
            await raw.execute(
                RAW_INSERT, instance_id, user.id, server.id, mcq.topic, mcq.id, "A", True, 1,
                now, mcq.id,
            )  # fmt: skip

        version = await store.db.fetchval("SHOW server_version")
        settings = {
            name: await store.db.fetchval(f"SHOW {name}")
            for name in ("fsync", "synchronous_commit", "wal_sync_method")
        }
        print(
            f"machine: {platform.machine()} {platform.system()} {platform.release()},"
            f" {os.cpu_count()} CPU(s); Python {platform.python_version()}, PostgreSQL"
            f" {version} ({', '.join(f'{k}={v}' for k, v in settings.items())}) at"
            f" {redact(url)}; pools of {pool} connections"
        )
        writer = store._answers
        for users in levels:
            questions = max(rounds + 1, answers // users)
            # Two sets of posted questions: the engine answers one, the raw side inserts the
            # same rows for the other (both start empty: every answer is a first answer).
            mine = [await post() for _ in range(questions)]
            theirs = [await post() for _ in range(questions)]
            await engine.postings.flush()
            them = people[:users]
            await run_users(them, engine_answer, mine[:1])  # warm-up, not counted
            await run_users(them, raw_answer, theirs[:1])
            batches = writer.batches if writer else 0
            spent = {"engine": 0.0, "raw": 0.0}
            block = max(1, (questions - 1) // rounds)
            for start in range(1, questions, block):
                spent["engine"] += await run_users(them, engine_answer, mine[start : start + block])
                spent["raw"] += await run_users(them, raw_answer, theirs[start : start + block])
            n = (questions - 1) * users
            rate = {name: n / seconds for name, seconds in spent.items()}
            writer = store._answers
            commits = (writer.batches if writer else 0) - batches
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(
                f"{users:>3} user(s) at once, {n} answers per side: engine {rate['engine']:6.0f}"
                f" answers/s, raw {rate['raw']:6.0f} inserts/s (autocommit), ratio engine/raw"
                f" {rate['engine'] / rate['raw']:.2f} (goal >= 1.0); engine: {commits} commits,"
                f" {n / max(1, commits):.1f} answers each; load average {load}"
            )
            counted = await store.db.fetchval(
                "SELECT COUNT(*) FROM attempts WHERE instance_id = ANY($1::bigint[])", mine
            )
            inserted = await store.db.fetchval(
                "SELECT COUNT(*) FROM attempts WHERE instance_id = ANY($1::bigint[])", theirs
            )
            expected = questions * users
            assert counted == inserted == expected, (counted, inserted, expected)
        totals = await store.db.fetchval(
            "SELECT SUM(answered) FROM score_totals WHERE server_id = 0 AND topic = '*'"
            " AND period = 'all'"
        )
        engine_total = sum(max(rounds + 1, answers // u) * u for u in levels)
        assert totals == engine_total, (totals, engine_total)
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
