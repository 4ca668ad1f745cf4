"""The PostgreSQL store beyond the shared contract: opening, migrations, an unreachable server,
and the URL's password, which no message or log line shows."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg
import pytest

from bot.core.errors import StorageUnavailable
from bot.storage.db import Database, StorageError
from bot.storage.postgres import hide_password, migrations, open_postgres, reset_identities
from tests._postgres import PostgresServer, start_server
from tests.conftest import FakeClock
from tests.storage.contract._data import users

SECRET = "s3cret-Pa55"


def test_the_password_of_a_url_is_hidden() -> None:
    assert (
        hide_password(f"cannot connect to postgresql://bot:{SECRET}@db:5432/bot")
        == "cannot connect to postgresql://bot:***@db:5432/bot"
    )
    assert hide_password(f"postgres://db/bot?user=bot&password={SECRET}&x=1") == (
        "postgres://db/bot?user=bot&password=***&x=1"
    )


async def test_a_server_that_does_not_answer_is_one_line_without_the_password(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StorageError) as refused:
        await open_postgres(f"postgresql://bot:{SECRET}@127.0.0.1:1/bot", clock)
    message = str(refused.value)
    assert message.startswith("cannot connect to postgresql://bot:***@127.0.0.1:1/bot")
    assert "\n" not in message
    assert SECRET not in message and SECRET not in caplog.text


async def test_a_server_gone_away_makes_writes_unavailable_not_a_crash(
    pg_server: PostgresServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Its own server, stopped under a running store: the store says the storage is
    unavailable (the user is asked to try again), and shows no password."""
    own = await asyncio.to_thread(start_server)
    try:
        url = (await asyncio.to_thread(own.create_database)).replace(
            "postgres@",
            f"postgres:{SECRET}@",  # trust authentication ignores it
        )
        store = await open_postgres(url, clock, pool_size=2)
        try:
            (ann,) = await users(store, "Ann")
            await asyncio.to_thread(own.stop)
            with pytest.raises(StorageUnavailable) as down:
                await store.set_language(ann.id, "zh")
        finally:
            await store.close()
    finally:
        await asyncio.to_thread(own.stop)
    assert SECRET not in str(down.value) and SECRET not in caplog.text


async def test_a_database_newer_than_the_code_is_refused(pg_url: str, clock: FakeClock) -> None:
    store = await open_postgres(pg_url, clock)
    await store.close()
    connection = await asyncpg.connect(pg_url)
    try:
        await connection.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'x', now())"
        )
    finally:
        await connection.close()
    with pytest.raises(StorageError, match="schema version 99, newer than this code knows"):
        await open_postgres(pg_url, clock)


async def test_each_migration_is_recorded_with_the_clock_s_time(
    pg_url: str, clock: FakeClock
) -> None:
    store = await open_postgres(pg_url, clock)
    try:
        rows = await store.db.fetch(
            "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
        )
        assert await store.db.schema_version() == len(migrations())
    finally:
        await store.close()
    assert [(r[0], r[1], r[2]) for r in rows] == [(v, n, clock.now()) for v, n, _ in migrations()]
    again = await open_postgres(pg_url, clock)  # nothing left to apply
    try:
        assert await again.db.migrate(clock) == []
    finally:
        await again.close()


async def test_rows_copied_in_with_their_ids_then_new_ones_get_new_ids(
    pg_url: str, clock: FakeClock
) -> None:
    """What `db copy` does: rows inserted with explicit ids, then `reset_identities`."""
    store = await open_postgres(pg_url, clock)
    try:
        await store.db.execute(
            "INSERT INTO users (id, platform, external_id, name, created_at)"
            " VALUES (41, 'discord', 'copied', 'Copied', $1)",
            clock.now(),
        )
        await store.db.transaction(reset_identities)
        (ann,) = await users(store, "Ann")
    finally:
        await store.close()
    assert ann.id == 42


async def test_both_engines_have_the_same_tables_and_columns(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    """A schema change is a migration for each engine: the same tables and columns, so that
    every store keeps the same rows and `db copy` moves them table by table."""
    sqlite = await Database.open(tmp_path / "bot.sqlite3")
    try:
        async with sqlite.read() as conn:
            names = await conn.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            )
            on_sqlite: dict[str, set[str]] = {}
            for (table,) in names:
                columns = await conn.execute_fetchall(f'PRAGMA table_info("{table}")')
                on_sqlite[table] = {column[1] for column in columns}
    finally:
        await sqlite.close()
    # SQLite's own: which attempts' totals were applied (bot/storage/totals.py); not copied.
    del on_sqlite["totals_applied"]
    store = await open_postgres(pg_url, clock)
    try:
        rows = await store.db.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'"
        )
    finally:
        await store.close()
    on_postgres: dict[str, set[str]] = {}
    for row in rows:
        on_postgres.setdefault(row[0], set()).add(row[1])
    assert on_postgres == on_sqlite
