"""The PostgreSQL connection pool: opening, migrations, units of work, errors.

Every store method is one unit of work: a single statement on a pooled connection (PostgreSQL
runs it as its own transaction: one round trip), or `transaction(work)` for several. A deadlock
or serialization failure between processes retries the unit of work; a database that cannot be
reached (down, restarting, out of disk or connections) raises `StorageUnavailable`, and nothing
of the unit of work is kept.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import asyncpg

from bot.core.errors import StorageUnavailable
from bot.core.ports import Clock
from bot.storage.db import StorageError

log = logging.getLogger(__name__)

T = TypeVar("T")
if TYPE_CHECKING:  # generic in the type stubs only
    from asyncpg.pool import PoolConnectionProxy

    Conn: TypeAlias = PoolConnectionProxy[asyncpg.Record]
else:
    Conn = asyncpg.pool.PoolConnectionProxy

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# The advisory lock that makes migrating one process at a time (any 64-bit number that no
# other code of this database uses; advisory locks are per database).
MIGRATION_LOCK = 0x64_6C_62_6F_74_6D_69  # "dlbotmi"
_RETRIES = 5  # a deadlock or serialization failure: run the unit of work again
CONNECT_TIMEOUT_S = 10.0

# The database cannot serve us now (not a bug in our SQL): down, shutting down or restarting,
# the connection lost, out of disk, memory or connections, a read-only standby.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.OperatorInterventionError,
    asyncpg.ReadOnlySQLTransactionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
)
_RETRYABLE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
# Opening: anything asyncpg says about the URL or the server is a one-line StorageError.
_CANNOT_OPEN: tuple[type[BaseException], ...] = (
    *_UNAVAILABLE,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    ValueError,
)
_CANNOT_MIGRATE: tuple[type[BaseException], ...] = (*_UNAVAILABLE, asyncpg.PostgresError)


def hide_password(text: str) -> str:
    """`text` with the password of any PostgreSQL URL in it replaced by `***`."""
    from bot.storage.location import redact  # (one rule for every message: location.py)

    return redact(text)


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every PostgreSQL migration shipped, in order."""
    found: list[tuple[int, str, str]] = []
    folder = resources.files("bot.storage.postgres") / "migrations"
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise StorageError(f"migrations must be numbered 0001, 0002, ... without gaps: {versions}")
    return found


_VERSIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
    " name text NOT NULL, applied_at timestamptz NOT NULL)"
)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection returned to the pool needs beyond asyncpg's own rollback of an open
    transaction: nothing. The default would run a reset query (unlock advisory locks, RESET
    ALL, ...) on every release, doubling the round trips of a one-statement operation; this
    store sets no session state and releases the one advisory lock it takes (`migrate`)."""


class PgDatabase:
    """An open, migrated PostgreSQL database behind a pool. `await PgDatabase.open(...)`."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], shown: str) -> None:
        self.pool = pool
        self.shown = shown  # the URL without its password, for messages

    @classmethod
    async def open(cls, url: str, clock: Clock, *, pool_size: int = 10) -> PgDatabase:
        """Connect (a pool of up to `pool_size` connections) and migrate. StorageError, with a
        one-line reason and never the password, when the database cannot be used."""
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        shown = hide_password(url)
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=pool_size,
                timeout=CONNECT_TIMEOUT_S,
                # jit off: every statement here is a short lookup, and a planner estimate
                # gone large (stale statistics) made one compile for 200 ms before 1 ms of work.
                server_settings={
                    "application_name": "dl-interview-bot",
                    "timezone": "UTC",
                    "jit": "off",
                },
                reset=_keep_session,
            )
        except _CANNOT_OPEN as exc:
            raise StorageError(f"cannot connect to {shown}: {hide_password(str(exc))}") from None
        db = cls(pool, shown)
        try:
            await db.migrate(clock)
        except _CANNOT_MIGRATE as exc:
            await pool.close()
            raise StorageError(f"cannot use the database {shown}: {exc}") from None
        except BaseException:
            await pool.close()
            raise
        return db

    async def migrate(self, clock: Clock) -> list[str]:
        """Apply the migrations newer than the database, each in one transaction with its
        version row; returns the names applied. Several processes starting at once take turns
        (an advisory lock), so each migration runs once."""
        shipped = migrations()
        applied: list[str] = []
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                await conn.execute(_VERSIONS_TABLE)
                current = int(
                    await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                )
                if current > len(shipped):
                    raise StorageError(
                        f"the database {self.shown} is at schema version {current}, newer than"
                        f" this code knows ({len(shipped)}); upgrade the bot"
                    )
                for version, name, sql in shipped[current:]:
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name, applied_at)"
                            " VALUES ($1, $2, $3)",
                            version,
                            name,
                            clock.now(),
                        )
                    log.info("applied migration %s", name)
                    applied.append(name)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        return applied

    async def schema_version(self) -> int:
        """The latest migration applied (0: none)."""
        value = await self.fetchval(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
            if await self.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            else "SELECT 0"
        )
        return int(value)

    async def _run(self, work: Callable[[Conn], Awaitable[T]], in_transaction: bool) -> T:
        for attempt in range(_RETRIES):
            try:
                async with self.pool.acquire() as conn:
                    if not in_transaction:
                        return await work(conn)
                    async with conn.transaction():
                        return await work(conn)
            except _RETRYABLE as exc:
                if attempt == _RETRIES - 1:
                    raise
                log.info("retrying after %s", type(exc).__name__)
                await asyncio.sleep(random.uniform(0.001, 0.01) * 2**attempt)
            except _UNAVAILABLE as exc:
                log.error("database unavailable: %s", hide_password(str(exc)))
                raise StorageUnavailable(hide_password(str(exc)) or type(exc).__name__) from exc
        raise AssertionError("unreachable")

    async def transaction(self, work: Callable[[Conn], Awaitable[T]]) -> T:
        """Run `work` in one transaction on a pooled connection: committed if it returns,
        rolled back if it raises (and run again after a deadlock)."""
        return await self._run(work, in_transaction=True)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """One statement (its own transaction), its rows."""

        async def work(conn: Conn) -> list[asyncpg.Record]:
            return list(await conn.fetch(sql, *args))

        return await self._run(work, in_transaction=False)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async def work(conn: Conn) -> asyncpg.Record | None:
            return await conn.fetchrow(sql, *args)

        return await self._run(work, in_transaction=False)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async def work(conn: Conn) -> Any:
            return await conn.fetchval(sql, *args)

        return await self._run(work, in_transaction=False)

    async def execute(self, sql: str, *args: Any) -> str:
        """One statement; its status ('UPDATE 1', ...)."""

        async def work(conn: Conn) -> str:
            return await conn.execute(sql, *args)

        return await self._run(work, in_transaction=False)

    async def executemany(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        async def work(conn: Conn) -> None:
            await conn.executemany(sql, args)

        await self._run(work, in_transaction=True)

    async def close(self) -> None:
        await self.pool.close()


def affected(status: str) -> int:
    """The row count of a command status ('UPDATE 1' -> 1, 'INSERT 0 3' -> 3)."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isascii() and tail.isdigit() else 0
