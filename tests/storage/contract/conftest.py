"""The store contract: every test here runs against every store in `STORES`.

A new storage engine joins by adding one factory to `STORES`; the tests stay as they are. Each
factory yields a fresh, empty store whose clock is the test's fake clock; it may ask the test for
fixtures (`request.getfixturevalue`): SQLite a temporary folder, PostgreSQL a fresh database on
the test server (tests/_postgres.py; skipped without PostgreSQL 15, a failure under CI=true).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from bot.core.ports import Clock, Store
from bot.storage.db import Database
from bot.storage.memory import MemoryStore
from bot.storage.sqlite import SqliteStore
from tests._postgres import migrated_store


@asynccontextmanager
async def sqlite_store(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Store]:
    folder: Path = request.getfixturevalue("tmp_path")
    db = await Database.open(folder / "contract.sqlite3")
    try:
        yield SqliteStore(db, clock)
    finally:
        await db.close()


@asynccontextmanager
async def memory_store(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Store]:
    yield MemoryStore(clock)


@asynccontextmanager
async def postgres_store(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Store]:
    async with migrated_store(request.getfixturevalue("pg_server"), clock) as store:
        yield store


STORES: dict[str, Callable[[pytest.FixtureRequest, Clock], AbstractAsyncContextManager[Store]]] = {
    "sqlite": sqlite_store,
    "memory": memory_store,
    "postgres": postgres_store,
}


@pytest.fixture(params=list(STORES))
async def store(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Store]:
    async with STORES[request.param](request, clock) as made:
        yield made
