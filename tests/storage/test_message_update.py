"""Setting a posted question's message id (just after it is posted: `set_instance_message`)
writes the row alone: no index holds the message id, as nothing reads by it. Measured in what
the database reports: SQLite's program for the UPDATE (the b-trees it opens for writing),
PostgreSQL's count of HOT updates (an update that adds no index entry) in the transaction."""

from __future__ import annotations

from pathlib import Path

from bot.storage.db import Database
from bot.storage.postgres import open_postgres
from tests.conftest import FakeClock
from tests.storage.contract._data import posted

SQLITE_UPDATE = "UPDATE question_instances SET message_id = ? WHERE id = ?"
POSTGRES_UPDATE = "UPDATE question_instances SET message_id = $1 WHERE id = $2"


async def test_sqlite_sets_a_message_id_in_the_table_alone(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        async with db.read() as conn:
            program = await conn.execute_fetchall(f"EXPLAIN {SQLITE_UPDATE}", ("1", 1))
    finally:
        await db.close()
    opened = [row[2] for row in program if row[1] == "OpenWrite"]  # (addr, opcode, p1=cursor)
    assert len(opened) == 1, opened  # the table; the index on message_id made it two


async def test_postgres_sets_a_message_id_as_a_hot_update(pg_url: str, clock: FakeClock) -> None:
    store = await open_postgres(pg_url, clock)
    try:
        server = await store.get_or_create_server("discord", "1", "S")
        made = await posted(store, server_id=server.id)
        async with store.db.pool.acquire() as conn, conn.transaction():
            await conn.execute(POSTGRES_UPDATE, "9001", made.id)
            hot = await conn.fetchval(
                "SELECT pg_stat_get_xact_tuples_hot_updated('question_instances'::regclass)"
            )
        assert hot == 1  # with the index on message_id: 0 (every index got a new entry)
        found = await store.get_instance(made.id)
        assert found is not None and found.message_id == "9001"
    finally:
        await store.close()
