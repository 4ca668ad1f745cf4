"""`PostgresStore`: the core's `Store` port over PostgreSQL (asyncpg), one module per area like
`bot.storage.sqlite`, for several bot processes sharing one database.

Use::

    store = await open_postgres("postgresql://bot:secret@db:5432/bot", clock, pool_size=10)
    ...
    await store.close()

`open_postgres` connects a pool of up to `pool_size` connections and applies the migrations
(bot/storage/postgres/migrations/NNNN_*.sql, each in one transaction, the version recorded in
`schema_migrations`, one process at a time under an advisory lock). It raises
`bot.storage.db.StorageError` with a one-line reason, never the URL's password, when the
database cannot be used.

Guarantees with several processes on one database:
- an answer counts once: `attempts` is unique per (question instance, user) and the attempt,
  its leaderboard totals and its review card are one statement, `INSERT ... ON CONFLICT DO
  NOTHING` first (one round trip per answer);
- reads that decide a write lock what they read (a streak's row `FOR UPDATE`; `reset_scores`
  locks `attempts` against new answers), or let a unique key decide (a day's daily question,
  a server's pack question ids, users and servers), or compare in the UPDATE itself
  (`claim_daily`, `save_interview`);
- question instance ids come from the shared counter `id_counters` (blocks reserved by one
  atomic UPDATE, as in SQLite), the other ids from identity columns (`reset_identities` after
  copying rows in with their ids);
- every time stored is the injected clock's (or the caller's), never the server's now().

The tables and columns are SQLite's (migrations 0001-0006) with PostgreSQL types (timestamptz,
date, boolean), so a database can be copied table by table.
"""

from __future__ import annotations

from bot.core.ports import Clock
from bot.storage.postgres._attempts import Attempts
from bot.storage.postgres._boards import Boards
from bot.storage.postgres._dailies import Dailies
from bot.storage.postgres._db import Conn, PgDatabase, hide_password, migrations
from bot.storage.postgres._heartbeats import Heartbeats
from bot.storage.postgres._interviews import Interviews
from bot.storage.postgres._packs import Packs
from bot.storage.postgres._questions import Questions
from bot.storage.postgres._quiz import Quiz
from bot.storage.postgres._users import Users

__all__ = [
    "IDENTITY_TABLES",
    "PgDatabase",
    "PostgresStore",
    "hide_password",
    "migrations",
    "open_postgres",
    "reset_identities",
]

# Tables whose `id` is an identity column: after rows were inserted with explicit ids (a copy
# from SQLite), `reset_identities` moves each one's counter past the largest id.
IDENTITY_TABLES = ("users", "servers", "attempts", "interviews", "question_packs", "quiz_rounds")


class PostgresStore(
    Users, Questions, Attempts, Boards, Interviews, Dailies, Packs, Heartbeats, Quiz
):
    """Every area over one `PgDatabase` (a pool); quiz rounds too (the `QuizStore` role)."""

    def __init__(self, db: PgDatabase, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def close(self) -> None:
        """Close the pool (waits for the answers and posts queued and the connections in
        use)."""
        await self.close_answers()
        await self.close_posted()
        await self.db.close()


async def open_postgres(url: str, clock: Clock, *, pool_size: int = 10) -> PostgresStore:
    """The store on the database at `url` (`postgresql://user:password@host:port/db`),
    migrated; a pool of up to `pool_size` connections. Close it with `await store.close()`."""
    return PostgresStore(await PgDatabase.open(url, clock, pool_size=pool_size), clock)


async def reset_identities(conn: Conn) -> None:
    """Move each identity column's counter past the largest id in its table (after rows were
    copied in with their ids), so that the next row inserted gets a new id."""
    for table in IDENTITY_TABLES:
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )
