"""`python -m bot db copy SOURCE TARGET`: an SQLite file to an empty PostgreSQL database and back.

The databases are filled through the real engine (users answering in two servers and the
console, an interview, review cards, a pack, a daily question, a heartbeat), never by hand, and
every table is checked to hold rows, so a table the copy skipped would show up as a difference.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.app.wiring import wire_engine
from bot.checkers import TorchCheckers
from bot.core.bank import load_bank
from bot.core.engine import Engine, SelfRating
from bot.core.models import Kind, Period, Scope, User
from bot.core.quiz import QuizSettings
from bot.storage.db import Database
from bot.storage.sqlite import SqliteStore
from tests._postgres import PostgresServer
from tests.conftest import FIXTURE_BANK, FakeClock
from tests.core._quiz_harness import FakeTimer, Screen
from tests.core.test_pack_import import pack

ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def sqlite_engine(
    path: Path, checkers: TorchCheckers, clock: FakeClock
) -> AsyncIterator[Engine]:
    db = await Database.open(path)
    engine = wire_engine(
        SqliteStore(db, clock),
        load_bank([FIXTURE_BANK], checkers.family_names()),
        checkers,
        clock,
        random.Random(3),
        timer=FakeTimer(clock),  # quiz deadlines move with the test's clock
    )
    try:
        await engine.catalog.load_packs()
        yield engine
    finally:
        await engine.aclose()
        await db.close()


@asynccontextmanager
async def postgres_engine(
    url: str, checkers: TorchCheckers, clock: FakeClock
) -> AsyncIterator[Engine]:
    from bot.storage.postgres import open_postgres

    store = await open_postgres(url, clock, pool_size=2)
    engine = wire_engine(
        store,
        load_bank([FIXTURE_BANK], checkers.family_names()),
        checkers,
        clock,
        random.Random(3),
        timer=FakeTimer(clock),
    )
    try:
        await engine.catalog.load_packs()
        yield engine
    finally:
        await engine.aclose()
        await store.close()


async def answer(engine: Engine, user: User, server_id: int | None, right: bool) -> None:
    """One posted question of the fixture bank answered (multiple choice or numeric)."""
    served = await engine.making.serve(user, None)
    posted = await engine.postings.post(served, server_id, "c1" if server_id else None)
    if served.kind is Kind.OPEN:
        rating = SelfRating.GOOD if right else SelfRating.AGAIN
        await engine.answering.self_rate(posted.id, user, rating)
        return
    if served.family is not None and served.seed is not None:
        expected = engine.checkers.generate(served.family, served.seed).expected
        text = str(expected) if right else "-12345"
    else:
        question = engine.catalog.question(served.ref, server_id)
        assert question is not None and question.answer is not None
        text = question.answer if right else ("A" if question.answer != "A" else "B")
    await engine.answering.answer(posted.id, user, text)


async def fill(engine: Engine, clock: FakeClock) -> None:
    """A bot that has been used: every table gets rows, through the services."""
    clock.current = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    one = await engine.identities.server("discord", "101", "one")
    two = await engine.identities.server("discord", "202", "two")
    ann = await engine.identities.user("discord", "1", "ann")
    bob = await engine.identities.user("discord", "2", "bob")
    cat = await engine.identities.user("local", "cat", "cat")
    await engine.identities.set_language(bob, "zh")
    await engine.catalog.import_pack(one.id, "club.yaml", pack(1, 2), ann)
    await engine.dailies.set_daily(one.id, "c-daily", "09:00", ann)
    for day in (2, 3):
        clock.current = datetime(2026, 11, day, 9, 0, tzinfo=UTC)
        (due,) = await engine.dailies.due_dailies()
        posted = await engine.dailies.post_daily(due.server_id, due.channel_id)
        assert posted is not None
        served, instance = posted
        if served.family is not None and served.seed is not None:
            text = str(engine.checkers.generate(served.family, served.seed).expected)
        else:
            question = engine.catalog.question(served.ref, one.id)
            assert question is not None and question.answer is not None
            text = question.answer
        await engine.answering.answer(instance.id, ann, text)
        for i, (user, server) in enumerate([(ann, one), (bob, one), (bob, two), (cat, None)]):
            clock.advance(minutes=7)
            await answer(engine, user, server.id if server else None, right=(i + day) % 3 != 0)
    step = await engine.interviews.start(cat, [], questions=3, minutes=3)
    assert step.question is not None
    # A quiz round in a channel of server one: a question answered by two, then stopped.
    assert engine.quiz is not None
    screen = Screen()
    engine.quiz.attach(screen)
    started = await engine.quiz.start(ann, "c-quiz", QuizSettings(questions=3), "en", one.id)
    assert started.created
    question, served = screen.current
    for user in (ann, bob):
        await engine.quiz.answer(question.instance_id, user, "A")
    await engine.quiz.stop("c-quiz", ann, True)
    await engine.store.record_heartbeat('{"latency_ms": 41, "guilds": 2}', clock.now())
    await engine.postings.flush()


def sqlite_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order."""
    with sqlite3.connect(path) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        found = {}
        for table in tables:
            width = len(conn.execute(f'SELECT * FROM "{table}" LIMIT 0').description)
            order = ", ".join(str(i + 1) for i in range(width))
            found[table] = conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}').fetchall()
    return found


async def postgres_counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        tables = [
            r[0]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        ]
        return {t: int(await conn.fetchval(f'SELECT COUNT(*) FROM "{t}"')) for t in tables}
    finally:
        await conn.close()


def db_copy(source: object, target: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "db", "copy", str(source), str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    out = (done.stdout + done.stderr).strip()
    assert "Traceback" not in out, out
    assert len(out.splitlines()) == 1, out
    return out


async def views(engine: Engine) -> dict[str, object]:
    """What users see, through the services: boards, stats, history, reviews, the interview,
    the daily setting, the pack's questions."""
    found: dict[str, object] = {}
    users = [await engine.identities.user(p, e) for p, e in (("discord", "1"), ("discord", "2"))]
    cat = await engine.identities.user("local", "cat")
    servers = [await engine.identities.server("discord", s) for s in ("101", "202")]
    for scope, server in [(Scope.GLOBAL, None), (Scope.SERVER, servers[0].id)]:
        for period in (Period.ALL, Period.WEEK):
            board = await engine.boards.leaderboard(scope, period, None, server, users[0])
            found[f"board {scope} {period}"] = [
                (e.rank, e.name, e.points, e.answered, e.correct, e.streak) for e in board.top
            ]
    for user in [*users, cat]:
        stats = await engine.boards.stats(user, servers[0].id)
        found[f"stats {user.name}"] = (stats.by_topic, stats.streak, stats.best_streak)
        found[f"history {user.name}"] = [
            (h.at, h.ref, h.answer, h.correct, h.points)
            for h in await engine.boards.history(user, 25)
        ]
        found[f"reviews {user.name}"] = await engine.reviews.reviews_due(user)
        found[f"language {user.name}"] = user.language
    active = await engine.interviews.active(cat)
    assert active is not None
    found["interview"] = active
    found["daily"] = [
        (d.channel_id, d.time_utc, d.last_day) for d in await engine.store.daily_settings()
    ]
    found["pack"] = sorted(engine.catalog.server_banks[servers[0].id].questions)
    return found


async def new_question_id(engine: Engine) -> int:
    """A question posted on the copy: its id follows the copied ones, and an answer counts."""
    user = await engine.identities.user("discord", "3", "dan")
    served = await engine.making.serve(user, None)
    posted = await engine.postings.post(served, None, "c9")
    await engine.postings.flush()
    assert (await engine.answering.answer(posted.id, user, "A")).counted in (True, False)
    assert await engine.answering.answered(posted.id, user) is not None
    return posted.id


def assert_every_table_has_rows(rows: dict[str, list[tuple[object, ...]]]) -> None:
    empty = [t for t, r in rows.items() if not r]
    assert empty == [], f"the filled database leaves tables empty: {empty}"


async def test_sqlite_to_postgres_and_back_keeps_every_row(
    tmp_path: Path, pg_url: str, checkers: TorchCheckers, clock: FakeClock
) -> None:
    source, back = tmp_path / "source.sqlite3", tmp_path / "back.sqlite3"
    async with sqlite_engine(source, checkers, clock) as engine:
        await fill(engine, clock)
        seen = await views(engine)
    before = sqlite_rows(source)
    assert_every_table_has_rows(before)

    done = db_copy(source, pg_url)
    line = one_line(done)
    assert done.returncode == 0, line
    assert line.startswith("copied ") and "checked on the target" in line
    assert f"attempts {len(before['attempts']):,}" in line
    counts = await postgres_counts(pg_url)
    for table, rows in before.items():
        if table == "totals_applied":  # SQLite's own bookkeeping (bot/storage/totals.py)
            continue
        assert counts.get(table, 0) == len(rows), table  # (an empty one may be SQLite's only)

    # The PostgreSQL copy is the same bot: same boards, stats, history, reviews, interview.
    async with postgres_engine(pg_url, checkers, clock) as engine:
        assert await views(engine) == seen

    done = db_copy(pg_url, back)
    assert done.returncode == 0, one_line(done)
    assert sqlite_rows(back) == before  # every table, every row, every value

    # New questions on each copy take ids after the copied ones (no collision).
    top = max(r[0] for r in before["question_instances"])
    async with postgres_engine(pg_url, checkers, clock) as engine:
        assert await new_question_id(engine) > top
    async with sqlite_engine(back, checkers, clock) as engine:
        assert await new_question_id(engine) > top


async def test_postgres_filled_by_the_engine_copies_to_sqlite(
    tmp_path: Path, pg_url: str, checkers: TorchCheckers, clock: FakeClock
) -> None:
    async with postgres_engine(pg_url, checkers, clock) as engine:
        await fill(engine, clock)
        seen = await views(engine)
    counts = await postgres_counts(pg_url)
    target = tmp_path / "copy" / "bot.sqlite3"
    done = db_copy(pg_url, target)
    assert done.returncode == 0, one_line(done)
    copied = sqlite_rows(target)
    assert_every_table_has_rows(copied)
    for table, rows in copied.items():
        if table == "totals_applied":  # SQLite's own: every copied attempt's totals applied
            assert rows == [(1, max(r[0] for r in copied["attempts"]))]
            continue
        assert len(rows) == counts.get(table, 0), table
    async with sqlite_engine(target, checkers, clock) as engine:
        assert await views(engine) == seen
        top = max(r[0] for r in copied["question_instances"])
        assert await new_question_id(engine) > top


async def test_a_target_with_data_is_refused_and_left_alone(
    tmp_path: Path, pg_url: str, checkers: TorchCheckers, clock: FakeClock
) -> None:
    source = tmp_path / "source.sqlite3"
    async with sqlite_engine(source, checkers, clock) as engine:
        await fill(engine, clock)
    assert db_copy(source, pg_url).returncode == 0
    counts = await postgres_counts(pg_url)

    again = db_copy(source, pg_url)  # into the now non-empty PostgreSQL database
    line = one_line(again)
    assert again.returncode == 1
    assert line.startswith("db copy: refusing to copy into postgresql://") and "not empty" in line
    assert await postgres_counts(pg_url) == counts

    other = tmp_path / "other.sqlite3"
    async with sqlite_engine(other, checkers, clock) as engine:
        await engine.identities.user("local", "zed", "zed")
    line = one_line(back := db_copy(pg_url, other))
    assert back.returncode == 1 and "users 1 row)" in line
    assert len(sqlite_rows(other)["users"]) == 1


async def test_a_copy_that_fails_midway_leaves_the_target_empty(
    tmp_path: Path, pg_url: str, checkers: TorchCheckers, clock: FakeClock
) -> None:
    """One transaction: PostgreSQL refuses a NUL character in text, which SQLite keeps; a
    review card (copied after users, questions and answers) carrying one fails the copy, and
    nothing of it stays."""
    source = tmp_path / "source.sqlite3"
    async with sqlite_engine(source, checkers, clock) as engine:
        await fill(engine, clock)
    with sqlite3.connect(source) as conn:
        conn.execute("UPDATE review_cards SET topic = ? WHERE rowid = 1", ("bad\x00topic",))
    done = db_copy(source, pg_url)
    line = one_line(done)
    assert done.returncode == 1 and line.startswith("db copy: ")
    counts = await postgres_counts(pg_url)
    assert counts["users"] == 0
    assert {t: n for t, n in counts.items() if n} == {
        "schema_migrations": counts["schema_migrations"],
        "id_counters": 1,  # as the migrations left it
    }


@pytest.mark.parametrize(
    ("source", "target", "says"),
    [
        ("{tmp}/missing.sqlite3", "{tmp}/t.sqlite3", "no SQLite database at"),
        ("{tmp}/t.sqlite3", "mysql://u:hunter2@h/d", "mysql:// is not supported"),
        ("{tmp}/t.sqlite3", "postgresql://u:hunter2@h:5x/d", "port must be a number"),
        ("{tmp}/t.sqlite3", "{tmp}/t.sqlite3", "the same database"),
    ],
)
async def test_bad_arguments_are_one_line(
    tmp_path: Path, source: str, target: str, says: str
) -> None:
    await (await Database.open(tmp_path / "t.sqlite3")).close()
    done = db_copy(source.format(tmp=tmp_path), target.format(tmp=tmp_path))
    line = one_line(done)
    assert done.returncode == 1 and says in line and "hunter2" not in line


async def test_tables_larger_than_a_batch_are_copied_whole(
    tmp_path: Path,
    pg_url: str,
    checkers: TorchCheckers,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows go BATCH at a time (bounded memory): with batches of 2, every table spans several
    and the round trip is still row-for-row the same."""
    from bot.storage import copy
    from bot.storage.location import parse_location

    monkeypatch.setattr(copy, "BATCH", 2)
    source, back = tmp_path / "source.sqlite3", tmp_path / "back.sqlite3"
    async with sqlite_engine(source, checkers, clock) as engine:
        await fill(engine, clock)
    before = sqlite_rows(source)
    assert max(len(rows) for rows in before.values()) > 2
    there = await copy.copy_database(parse_location(str(source)), parse_location(pg_url))
    assert there.counts == {t: len(r) for t, r in before.items() if t in there.counts}
    await copy.copy_database(parse_location(pg_url), parse_location(str(back)))
    assert sqlite_rows(back) == before


async def test_one_postgres_database_to_another(
    tmp_path: Path,
    pg_url: str,
    pg_server: PostgresServer,
    checkers: TorchCheckers,
    clock: FakeClock,
) -> None:
    """(Moving to another server: the same command, PostgreSQL on both sides.)"""
    source = tmp_path / "source.sqlite3"
    async with sqlite_engine(source, checkers, clock) as engine:
        await fill(engine, clock)
    assert db_copy(source, pg_url).returncode == 0
    other = pg_server.create_database()
    try:
        done = db_copy(pg_url, other)
        assert done.returncode == 0, one_line(done)
        assert await postgres_counts(other) == await postgres_counts(pg_url)
    finally:
        pg_server.drop_database(other)
