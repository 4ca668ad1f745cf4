"""The SQLite connection: set-up (WAL, foreign keys, busy timeout), migrations, transactions.

One aiosqlite connection serves the whole process. aiosqlite runs every statement on one thread,
but an `await` between statements lets another task slip its own statements into an open
transaction; so every unit of work holds `_lock` for its whole duration (`transaction()` for
writes, `read()` for reads).

`group(work)` is the group commit (`bot.storage.group`): `work` is a plain function of the
sqlite3 connection, run on the database's thread; the works waiting at a moment run in one
trip to that thread, in one `BEGIN IMMEDIATE ... COMMIT` (one fsync), each in its own
SAVEPOINT, so one that raises is rolled back alone and its neighbours are kept.

`totals` applies the leaderboard totals and the review cards behind the answers
(`bot.storage.totals`, `bot.storage.cards`): on opening (what a crash left), in the background,
before they are read, on closing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.core.errors import StorageUnavailable
from bot.storage.group import Failed, GroupWriter
from bot.storage.totals import TotalsBehind

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[sqlite3.Connection], Any]

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 5000


_UNAVAILABLE = (
    "SQLITE_FULL",
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CANTOPEN",
)


def _unavailable(exc: sqlite3.Error) -> bool:
    """Whether an error is about the storage (disk, permissions, locks), not about the SQL."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(_UNAVAILABLE)


class StorageError(RuntimeError):
    """The database cannot be used (unwritable, corrupt, too new); the message says why."""


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration shipped in the package, in order."""
    found: list[tuple[int, str, str]] = []
    folder = resources.files("bot.storage") / "migrations"
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise StorageError(f"migrations must be numbered 0001, 0002, ... without gaps: {versions}")
    return found


class Database:
    """An open, migrated database. Build it with `await Database.open(path)`."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self.writer: GroupWriter[Work, Any] = GroupWriter(self._write_batch)
        self.totals = TotalsBehind(self)  # the totals and review cards, behind the answers

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        if str(path) != ":memory:":
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the folder for {path}: {exc}") from exc
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {path}: {exc}") from exc
        conn.row_factory = aiosqlite.Row
        db = cls(conn, path)
        try:
            await db._configure()
            await db.migrate()
            await db._apply_left_totals()
        except sqlite3.Error as exc:
            await conn.close()
            raise StorageError(f"cannot use the database {path}: {exc}") from exc
        except BaseException:
            await conn.close()
            raise
        return db

    async def _configure(self) -> None:
        await self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await self._conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit is on disk before we tell the user their answer counted.
        await self._conn.execute("PRAGMA synchronous = FULL")
        await self._conn.execute("PRAGMA foreign_keys = ON")

    async def _apply_left_totals(self) -> None:
        """The totals and cards of answers recorded before the last stop (a crash, say)."""
        try:
            await self.totals.apply()
        except (sqlite3.Error, StorageUnavailable) as exc:  # a read-only file: applied later
            log.warning("leaderboard totals and review cards not applied on opening: %s", exc)

    async def user_version(self) -> int:
        async with self._conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> list[str]:
        """Apply the migrations newer than the database; returns the names applied."""
        applied: list[str] = []
        async with self._lock:
            current = await self.user_version()
            shipped = migrations()
            if current > len(shipped):
                raise StorageError(
                    f"the database {self.path} is at schema version {current}, newer than this "
                    f"code knows ({len(shipped)}); upgrade the bot"
                )
            for version, name, sql in shipped[current:]:
                # One transaction per migration, with its version: all or nothing.
                script = f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
                try:
                    await self._conn.executescript(script)
                except BaseException:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise
                log.info("applied migration %s", name)
                applied.append(name)
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: committed if the block ends normally, else rolled back.

        A full disk, a read-only file or a lock held too long raises `StorageUnavailable`
        (nothing of the transaction is kept); other errors propagate as they are.
        """
        async with self._lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    await self._rollback()
                    raise
                try:
                    await self._conn.execute("COMMIT")
                except BaseException:
                    # A failed COMMIT (disk full, I/O error) can leave the transaction open.
                    await self._rollback()
                    raise
            except sqlite3.OperationalError as exc:
                if _unavailable(exc):
                    log.error("database write failed: %s", exc)
                    raise StorageUnavailable(str(exc)) from exc
                raise

    async def _rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                await self._conn.execute("ROLLBACK")
            except sqlite3.Error as exc:  # SQLite may already have rolled back on an I/O error
                log.warning("rollback failed: %s", exc)

    async def group(
        self, work: Callable[[sqlite3.Connection], T], *, background: bool = False
    ) -> T:
        """Run `work(connection)` on the database's thread in a write transaction shared with
        the other works waiting (see the module's docstring); its result once committed.
        `work` must not commit, roll back or keep the connection. What it raises is raised
        here (and only its own writes are undone); a full disk, a read-only file or a lock
        held too long fails the whole batch with `StorageUnavailable`. `background`: work
        nobody waits on (`GroupWriter.submit`)."""
        result: T = await self.writer.submit(work, background=background)
        return result

    async def _write_batch(self, works: list[Work]) -> Sequence[Any]:
        async with self._lock:
            try:
                # aiosqlite has no public "run this on the connection's thread".
                results: list[Any] = await self._conn._execute(  # type: ignore[no-untyped-call]
                    _run_batch, self._conn._conn, works
                )
            except sqlite3.OperationalError as exc:
                if _unavailable(exc):
                    log.error("database write failed: %s", exc)
                    raise StorageUnavailable(str(exc)) from exc
                raise
        return results

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Exclusive use of the connection for reads (no other task's statements in between)."""
        async with self._lock:
            yield self._conn

    async def check(self) -> None:
        """Raise StorageError unless the database answers and passes a quick integrity check."""
        try:
            async with self.read() as conn, conn.execute("PRAGMA quick_check") as cursor:
                row = await cursor.fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"database check failed: {exc}") from exc
        if row is None or row[0] != "ok":
            raise StorageError(f"database check failed: {row[0] if row else 'no answer'}")

    async def close(self) -> None:
        try:
            await self.totals.close()
        except Exception as exc:  # the next open applies them
            log.warning("leaderboard totals and review cards not applied on closing: %s", exc)
        await self.writer.close()
        async with self._lock:
            await self._conn.close()


_batch = threading.local()


def batch_memo() -> dict[Any, Any]:
    """For a work of `Database.group`, on the database's thread: a dict that lasts as long as
    its batch, for works to share what they read (a question's counts, say). A work that
    raises must not have changed it."""
    memo: dict[Any, Any] = _batch.memo
    return memo


def _run_batch(conn: sqlite3.Connection, works: list[Work]) -> list[Any]:
    """On the database's thread: every work in one transaction, each in a savepoint (a work
    alone: the transaction is its savepoint)."""
    _batch.memo = {}
    conn.execute("BEGIN IMMEDIATE")
    if len(works) == 1:
        return [_run_alone(conn, works[0])]
    try:
        results: list[Any] = []
        for work in works:
            conn.execute("SAVEPOINT one")
            try:
                results.append(work(conn))
            except Exception as exc:
                if not conn.in_transaction:  # SQLite rolled everything back (I/O, disk)
                    raise
                conn.execute("ROLLBACK TO one")
                conn.execute("RELEASE one")
                if isinstance(exc, sqlite3.OperationalError) and _unavailable(exc):
                    raise  # the storage, not this work: the batch fails as a whole
                results.append(Failed(exc))
            else:
                conn.execute("RELEASE one")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return results


def _run_alone(conn: sqlite3.Connection, work: Work) -> Any:
    """One work in the transaction `_run_batch` began: committed, or rolled back (a `Failed`
    if the work raised, as in a savepoint)."""
    try:
        result = work(conn)
    except Exception as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.OperationalError) and _unavailable(exc):
            raise  # the storage, not this work: as a batch fails as a whole
        return Failed(exc)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result
