"""Several bot processes on one PostgreSQL database: each store here is its own pool, as a
separate process would have, on the same database (`pg_url`).

The interleavings that matter are forced, not hoped for: a plain connection holds a lock the
way a process in the middle of its transaction would, the test waits (polling the server's lock
table, no sleeps) until the other process's statement is blocked on it, then lets go.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg
import pytest

from bot.core.errors import DuplicatePackQuestion
from bot.core.models import Period, Scope
from bot.storage.postgres import PostgresStore, open_postgres
from bot.storage.postgres._db import MIGRATION_LOCK, migrations
from tests.conftest import FakeClock
from tests.storage.contract._data import AT, DAY, attempt, posted, served, users

T = TypeVar("T")
WAIT_S = 60.0  # the longest a forced interleaving may take to set up (idle: milliseconds)


@pytest.fixture
async def two(pg_url: str, clock: FakeClock) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two processes' stores on one database (the first one migrates it)."""
    first = await open_postgres(pg_url, clock, pool_size=4)
    second = await open_postgres(pg_url, clock, pool_size=4)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def _blocked(admin: asyncpg.Connection, count: int) -> None:
    """Until `count` of the bot's connections wait for a lock (or WAIT_S: a failure)."""

    async def poll() -> None:
        while True:
            waiting = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'dl-interview-bot' AND wait_event_type = 'Lock'"
            )
            if waiting >= count:
                return
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), WAIT_S)


async def _blocked_or_done(admin: asyncpg.Connection, count: int, task: Awaitable[T]) -> None:
    """Until `count` bot connections wait for a lock, or `task` finished without waiting (the
    guarantee under test is gone: the assertions after this say how)."""
    waiting = asyncio.ensure_future(_blocked(admin, count))
    done, _ = await asyncio.wait({waiting, asyncio.ensure_future(task)}, timeout=WAIT_S,
                                 return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
    if waiting in done:
        waiting.result()  # raises if polling failed
    else:
        waiting.cancel()


async def test_one_answer_sent_by_two_processes_at_once_counts_once(
    two: tuple[PostgresStore, PostgresStore], pg_url: str
) -> None:
    """Process A has inserted the answer but not committed (held up on a leaderboard row);
    process B records the same user's answer to the same question meanwhile: B waits on A's
    row of the unique (question, user) key and, once A commits, inserts nothing."""
    a, b = two
    (ann,) = await users(a, "Ann")
    earlier = await posted(a)
    assert await a.record_attempt(attempt(earlier.id, ann.id, points=2))  # her totals exist
    question = await posted(a)
    admin = await asyncpg.connect(pg_url)
    try:
        holding = admin.transaction()
        await holding.start()
        await admin.execute(
            "SELECT * FROM score_totals WHERE server_id = 0 AND topic = '*' AND period = 'all'"
            " AND user_id = $1 FOR UPDATE",
            ann.id,
        )
        first = asyncio.ensure_future(a.record_attempt(attempt(question.id, ann.id, points=3)))
        await _blocked(admin, 1)  # A: its attempt row inserted, waiting for the totals row
        second = asyncio.ensure_future(b.record_attempt(attempt(question.id, ann.id, points=3)))
        await _blocked_or_done(admin, 2, second)  # B: waiting for A's uncommitted attempt
        await holding.rollback()
        assert await first is True
        assert await second is False
        rows = await admin.fetchval(
            "SELECT count(*) FROM attempts WHERE instance_id = $1", question.id
        )
    finally:
        await admin.close()
    assert rows == 1
    board = await b.leaderboard(Scope.GLOBAL, Period.ALL, None, None, ann.id, 5, AT)
    assert [(e.user_id, e.points, e.answered) for e in board.top] == [(ann.id, 5, 2)]


async def test_many_users_answering_through_two_processes_at_once_count_once_each(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    """Everyone's answer arrives at both processes at the same moment (an interaction
    delivered twice): each counts once, and the leaderboard agrees with the answers."""
    a, b = two
    people = await users(a, *(f"user{n}" for n in range(30)))
    question = await posted(a)
    results = await asyncio.gather(
        *(
            store.record_attempt(attempt(question.id, person.id, points=2))
            for person in people
            for store in (a, b)
        )
    )
    assert sum(results) == len(people)
    assert all(results[i] != results[i + 1] for i in range(0, len(results), 2))
    counts = await b.instance_counts(question.id)
    assert (counts.answered, counts.correct) == (len(people), len(people))
    board = await a.leaderboard(Scope.GLOBAL, Period.ALL, None, None, None, 100, AT)
    assert sorted(e.user_id for e in board.top) == sorted(p.id for p in people)
    assert {(e.points, e.answered) for e in board.top} == {(2, 1)}


async def test_two_processes_reserving_question_ids_at_once_never_share_one(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = two
    firsts = await asyncio.gather(*(s.reserve_instance_ids(16) for _ in range(25) for s in (a, b)))
    taken = [first + n for first in firsts for n in range(16)]
    assert len(set(taken)) == len(taken) == 50 * 16
    single = await posted(a)  # a question numbered by the store itself comes after them all
    assert single.id > max(taken)


async def test_a_streak_read_by_one_process_while_another_grows_it_is_locked_first(
    two: tuple[PostgresStore, PostgresStore], pg_url: str
) -> None:
    """Process A holds the streak's row (it has read it and is about to grow it); process B
    records a correct daily answer of the next day meanwhile. B must read the streak after A's
    write (FOR UPDATE waits), not before it (its write would then undo A's)."""
    a, b = two
    (ann,) = await users(a, "Ann")
    day = DAY
    before = await posted(a)
    assert await a.record_attempt(
        attempt(before.id, ann.id, at=AT - timedelta(days=1), streak_day=day - timedelta(days=1))
    )
    assert await a.streak(ann.id, None) == (1, 1)
    question = await posted(a)
    admin = await asyncpg.connect(pg_url)
    try:
        holding = admin.transaction()
        await holding.start()
        await admin.execute(
            "SELECT * FROM streaks WHERE user_id = $1 AND server_id = 0 FOR UPDATE", ann.id
        )
        later = attempt(
            question.id, ann.id, at=AT + timedelta(days=1), streak_day=day + timedelta(days=1)
        )
        grow = asyncio.ensure_future(b.record_attempt(later))
        await _blocked_or_done(admin, 1, grow)
        # A grows the streak to 5 days as of `day`, and commits.
        await admin.execute(
            "UPDATE streaks SET current = 5, best = 5, last_day = $2"
            " WHERE user_id = $1 AND server_id = 0",
            ann.id,
            day,
        )
        await holding.commit()
        assert await grow is True
    finally:
        await admin.close()
    assert await a.streak(ann.id, None) == (6, 6)


async def test_two_processes_storing_the_day_s_question_at_once_store_one(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = two
    scopes = [f"user:{n}" for n in range(12)]
    made = await asyncio.gather(
        *(
            store.create_daily(scope, DAY, served(f"q-{store is a}"), None, None, "en", AT)
            for scope in scopes
            for store in (a, b)
        )
    )
    for i in range(0, len(made), 2):
        assert made[i] == made[i + 1]  # both processes post the same question
    stored = {(q.id, q.ref) for q in made}
    assert len(stored) == len(scopes)
    for scope, question in zip(scopes, made[::2], strict=True):
        assert await b.daily_instance(scope, DAY) == question


async def test_only_one_of_two_processes_claims_the_day_or_saves_a_version(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = two
    (ann,) = await users(a, "Ann")
    server = await a.get_or_create_server("discord", "1", "Guild")
    await a.set_daily(server.id, "10", "09:00", ann.id)
    claims = await asyncio.gather(*(s.claim_daily(server.id, DAY) for s in (a, b) * 5))
    assert sorted(claims) == [False] * 9 + [True]
    interview = await a.create_interview(ann.id, None, "{}", AT)
    saves = await asyncio.gather(
        *(s.save_interview(interview, "active", f'{{"by": {n}}}', 0, AT)
          for n, s in enumerate((a, b) * 3))
    )  # fmt: skip
    assert sorted(saves) == [False] * 5 + [True]
    assert await b.get_interview(interview) == (f'{{"by": {saves.index(True)}}}', 1)


async def test_two_processes_importing_packs_with_one_question_id_store_one(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = two
    server = await a.get_or_create_server("discord", "1", "Guild")
    results = await asyncio.gather(
        *(
            s.add_pack(server.id, f"pack {n}", "yaml", 1, None, AT, [("shared-id", f"{n}")])
            for n, s in enumerate((a, b) * 3)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DuplicatePackQuestion)]
    assert len(refused) == 5 and len(results) == 6
    assert len(await b.packs(server.id)) == 1  # the refused ones stored nothing
    assert [len(bodies) for bodies in (await a.pack_bodies()).values()] == [1]


async def test_processes_starting_at_once_migrate_the_database_once(
    pg_url: str, clock: FakeClock
) -> None:
    """Process A is migrating (it holds the migration lock); two more start meanwhile: they
    wait for it, then find the schema current. Each migration is applied once."""
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        opening = [
            asyncio.ensure_future(open_postgres(pg_url, clock, pool_size=1)) for _ in range(2)
        ]

        async def waiting_for_the_lock() -> None:
            while True:
                blocked = await admin.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
                if blocked >= len(opening):
                    return
                await asyncio.sleep(0.005)

        gathered: asyncio.Future[Any] = asyncio.gather(*opening, return_exceptions=True)
        waiting: asyncio.Future[Any] = asyncio.ensure_future(waiting_for_the_lock())
        done, _ = await asyncio.wait(
            {waiting, gathered}, timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED
        )
        waiting.cancel()
        await admin.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        stores = await gathered
        versions = await admin.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await admin.close()
    opened = [s for s in stores if isinstance(s, PostgresStore)]
    for store in opened:
        await store.close()
    assert [type(s).__name__ for s in stores] == ["PostgresStore", "PostgresStore"]
    assert waiting in done  # they waited for the process that held the lock
    assert [row[0] for row in versions] == [v for v, _, _ in migrations()]


async def test_many_processes_starting_together_on_a_new_database_all_open_it(
    pg_url: str, clock: FakeClock
) -> None:
    stores = await asyncio.gather(
        *(open_postgres(pg_url, clock, pool_size=1) for _ in range(4)), return_exceptions=True
    )
    for store in stores:
        if isinstance(store, PostgresStore):
            await store.close()
    assert [type(s).__name__ for s in stores] == ["PostgresStore"] * 4, stores
