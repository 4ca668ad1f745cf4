"""The store contract: every test here runs against every store in `STORES`.

A new storage engine (PostgreSQL, ...) joins by adding one factory to `STORES`; the tests stay
as they are. Each factory yields a fresh, empty store whose clock is the test's fake clock.
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


@asynccontextmanager
async def sqlite_store(folder: Path, clock: Clock) -> AsyncIterator[Store]:
    db = await Database.open(folder / "contract.sqlite3")
    try:
        yield SqliteStore(db, clock)
    finally:
        await db.close()


@asynccontextmanager
async def memory_store(folder: Path, clock: Clock) -> AsyncIterator[Store]:
    yield MemoryStore(clock)


STORES: dict[str, Callable[[Path, Clock], AbstractAsyncContextManager[Store]]] = {
    "sqlite": sqlite_store,
    "memory": memory_store,
}


@pytest.fixture(params=list(STORES))
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Store]:
    async with STORES[request.param](tmp_path, clock) as made:
        yield made
