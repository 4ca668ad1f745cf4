"""Leaderboard latency on a big generated database, beside the same query without its index.

    .venv/bin/python bench/leaderboard.py [--attempts 1000000] [--users 20000] [--servers 200]

Builds (once; reused if present) a SQLite file with that many attempts spread over the last
year, the leaderboard totals back-filled by migration 0002's own SQL, then times the real
`SqliteStore.leaderboard` (top 10 + the caller's rank) for every scope x period (and a topic),
and the same SQL with `NOT INDEXED` as the baseline, in the same run. Goal: p50 < 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.boards import period_key, streak_alive_since, topic_key
from bot.core.models import Period, Scope
from bot.core.topics import TOPICS
from bot.storage.db import Database, migrations
from bot.storage.sqlite import SqliteStore
from bot.storage.sqlite._boards import _AHEAD_SQL, _BOARD_SQL

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def build(path: Path, attempts: int, users: int, servers: int, seed: int = 1) -> None:
    """Users, servers, one instance per attempt, attempts, then the totals back-fill."""
    rng = random.Random(seed)
    asyncio.run(_create(path))  # the real migrations
    backfill = migrations()[1][2].split("-- Back-fill", 1)[1].split("\n", 1)[1]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = WAL")
    stamp = NOW.isoformat()
    conn.executemany(
        "INSERT INTO users (id, platform, external_id, name, created_at)"
        " VALUES (?, 'discord', ?, ?, ?)",
        [(u, str(u), f"user{u}", stamp) for u in range(1, users + 1)],
    )
    conn.executemany(
        "INSERT INTO servers (id, platform, external_id, name, created_at)"
        " VALUES (?, 'discord', ?, ?, ?)",
        [(s, str(s), f"server{s}", stamp) for s in range(1, servers + 1)],
    )
    # Each user mostly plays in one or two servers; activity is skewed (a few very active).
    home = {u: rng.randrange(1, servers + 1) for u in range(1, users + 1)}
    topics = [t.id for t in TOPICS]
    weights = [1 / (rank**0.8) for rank in range(1, users + 1)]
    chunk = 100_000
    for start in range(0, attempts, chunk):
        size = min(chunk, attempts - start)
        who = rng.choices(range(1, users + 1), weights=weights, k=size)
        instances, rows = [], []
        for offset, user in enumerate(who):
            instance = start + offset + 1
            server = home[user] if rng.random() < 0.8 else rng.randrange(1, servers + 1)
            topic = rng.choice(topics)
            at = (NOW - timedelta(seconds=rng.randrange(365 * 86400))).isoformat(
                timespec="microseconds"
            )
            correct = int(rng.random() < 0.6)
            points = correct * rng.choice((1, 2, 3))
            instances.append((instance, topic, server, at))
            rows.append((instance, user, server, topic, correct, points, at))
        conn.executemany(
            "INSERT INTO question_instances (id, ref, kind, topic, difficulty, server_id,"
            " created_at) VALUES (?, 'r', 'mcq', ?, 'easy', ?, ?)",
            instances,
        )
        conn.executemany(
            "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, answer, correct,"
            " points, created_at) VALUES (?, ?, ?, ?, 'r', 'A', ?, ?, ?)",
            rows,
        )
        conn.commit()
        print(f"  {start + size:>9,} attempts", file=sys.stderr)
    print("  back-filling the totals (migration 0002's SQL)...", file=sys.stderr)
    conn.execute(backfill)
    # Every attempt's totals are in (bot/storage/totals.py: not to be applied again on opening).
    conn.execute("UPDATE totals_applied SET attempt_id = (SELECT MAX(id) FROM attempts)")
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


async def _create(path: Path) -> None:
    db = await Database.open(path)
    await db.close()


def _since(period: Period) -> str | None:
    """The first day of the period containing NOW, as stored timestamps start."""
    key = period_key(period, NOW)
    if key == "all":
        return None
    return f"{key[1:]}-01" if key.startswith("m") else key[1:]


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def measure(path: Path, runs: int) -> list[tuple[str, float, float, float | None]]:
    db = await Database.open(path)
    store = SqliteStore(db)
    rng = random.Random(2)
    results = []
    try:
        async with db.read() as conn:
            async with conn.execute("SELECT COUNT(*) FROM users") as cursor:
                users = (await cursor.fetchone())[0]  # type: ignore[index]
            async with conn.execute(
                "SELECT server_id FROM attempts GROUP BY server_id ORDER BY COUNT(*) DESC LIMIT 1"
            ) as cursor:
                busiest = (await cursor.fetchone())[0]  # type: ignore[index]
        cases = [
            (scope, period, topic)
            for scope in (Scope.SERVER, Scope.GLOBAL)
            for period in (Period.WEEK, Period.MONTH, Period.ALL)
            for topic in (None, "cnn")
        ]
        for scope, period, topic in cases:
            indexed, baseline = [], []
            server = busiest if scope is Scope.SERVER else None
            for _ in range(runs):
                user = rng.randrange(1, users + 1)
                started = time.perf_counter()
                await store.leaderboard(scope, period, server, topic, user, 10, NOW)
                indexed.append(time.perf_counter() - started)
            for _ in range(max(3, runs // 10)):
                user = rng.randrange(1, users + 1)
                started = time.perf_counter()
                await _baseline(db, scope, period, server, topic, user)
                baseline.append(time.perf_counter() - started)
            raw: list[float] = []
            if topic is None:
                since = _since(period)
                for _ in range(3):
                    started = time.perf_counter()
                    await from_attempts(db, server, since)
                    raw.append(time.perf_counter() - started)
            name = f"{scope.value:<6} {period.value:<5} {topic or 'all topics'}"
            results.append((name, p50(indexed), p50(baseline), p50(raw) if raw else None))
    finally:
        await db.close()
    return results


async def _baseline(
    db: Database, scope: Scope, period: Period, server: int | None, topic: str | None, user: int
) -> None:
    """The same two statements, with the board's index switched off: the totals' primary
    key (INDEXED BY) still finds the board, but it must be sorted to find the top and ranks."""
    board = server if scope is Scope.SERVER and server is not None else 0
    key = (board, topic_key(topic), period_key(period, NOW))
    streak = board if board else None
    alive = streak_alive_since(NOW).isoformat()
    pk = "INDEXED BY sqlite_autoindex_score_totals_1"
    sql = _BOARD_SQL.replace("FROM score_totals t", f"FROM score_totals t {pk}")
    async with db.read() as conn:
        async with conn.execute(
            sql + " ORDER BY t.points DESC, t.correct DESC, t.answered, t.user_id LIMIT 10",
            (alive, streak, streak, *key),
        ) as cursor:
            await cursor.fetchall()
        mine_args = (alive, streak, streak, *key, user)
        async with conn.execute(sql + " AND t.user_id = ?", mine_args) as cursor:
            mine = await cursor.fetchone()
        if mine is not None:
            ahead = _AHEAD_SQL.replace("FROM score_totals", f"FROM score_totals {pk}")
            async with conn.execute(
                ahead, (*key, mine["points"], mine["correct"], mine["answered"], user)
            ) as cursor:
                await cursor.fetchall()


async def from_attempts(db: Database, server: int | None, since: str | None) -> None:
    """What a board costs without the totals table at all: an aggregate over attempts."""
    where: list[str] = ["1 = 1"]
    args: list[int | str] = []
    if server is not None:
        where.append("server_id = ?")
        args.append(server)
    if since is not None:
        where.append("created_at >= ?")
        args.append(since)
    async with (
        db.read() as conn,
        conn.execute(
            f"SELECT user_id, SUM(points) AS p, SUM(correct) AS c, COUNT(*) AS n FROM attempts"
            f" WHERE {' AND '.join(where)} GROUP BY user_id ORDER BY p DESC, c DESC, n, user_id"
            " LIMIT 10",
            args,
        ) as cursor,
    ):
        await cursor.fetchall()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--db", type=Path, default=Path("bench/.data/leaderboard.sqlite3"))
    args = parser.parse_args()
    path: Path = args.db
    tag = f"{args.attempts}-{args.users}-{args.servers}"
    path = path.with_name(f"{path.stem}-{tag}{path.suffix}")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"building {path} ...", file=sys.stderr)
        started = time.perf_counter()
        build(path, args.attempts, args.users, args.servers)
        print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with sqlite3.connect(path) as conn:
        totals = conn.execute("SELECT COUNT(*) FROM score_totals").fetchone()[0]
    results = asyncio.run(measure(path, args.runs))
    print(
        f"\nleaderboard p50 (top 10 + caller's rank), {args.attempts:,} attempts, "
        f"{args.users:,} users, {args.servers} servers, {totals:,} total rows; "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'board':<26} {'indexed':>9} {'no index':>9} {'ratio':>6} {'attempts':>9}  goal < 10 ms"
    )
    worst = 0.0
    for name, indexed, baseline, raw in results:
        worst = max(worst, indexed)
        verdict = "ok" if indexed < 10 else "SLOW"
        scan = f"{raw:>7.0f}ms" if raw is not None else f"{'-':>9}"
        print(
            f"{name:<26} {indexed:>7.2f}ms {baseline:>7.2f}ms {baseline / indexed:>5.0f}x"
            f" {scan}  {verdict}"
        )
    print(
        "indexed: the bot's query (top 10 + the caller's rank); no index: the same SQL forced"
        " onto the totals' primary key; attempts: top 10 aggregated from the attempts table."
    )
    print(f"worst indexed p50: {worst:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
