"""`python -m bot db copy SOURCE TARGET`: every table from one database into an empty one.

SOURCE and TARGET are each an SQLite file or a PostgreSQL URL (`BOT_DB`'s forms), typically an
SQLite file and a PostgreSQL database, either way (SQLite to SQLite and PostgreSQL to PostgreSQL
work too). The SOURCE is never changed: it is read as it is (an SQLite file opened read-only) and
must be a bot database at this code's schema (one that is older: start the bot on it once, or on a
copy of it, first). The TARGET is brought to this code's schema by its store's migrations (as the
bot does when it starts); then, on the target, in ONE
transaction: check that it holds no data, insert every table's rows (parents before children,
ids kept), and move the id sequences and the instance id counter past the copied ids. A failure
leaves none of the rows in the target (only the schema its migrations created). Rows are read and
written BATCH at a time: memory does not grow with the database. Afterwards the row counts of
every table and the leaderboard totals are read back from the target and compared with the
source.

Tables are matched by name and columns by name; values are converted by the target column's
type (SQLite keeps times as ISO-8601 text and booleans as 0/1, PostgreSQL may use
`timestamptz`, `boolean`, `jsonb`...).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from bot.core.ports import SystemClock
from bot.storage.db import BUSY_TIMEOUT_MS, Database, StorageError
from bot.storage.db import migrations as sqlite_migrations
from bot.storage.location import DbLocation, redact
from bot.storage.totals import read_with_pending

Row = tuple[Any, ...]
BATCH = 5000  # rows read and written at a time: memory stays bounded whatever the size
# Bookkeeping that is not data: each engine's own schema version, written by its migrations;
# SQLite's mark of the leaderboard totals and review cards applied (bot/storage/totals.py): the
# source's pending totals and cards are copied applied, and the target's mark is set past the
# copied attempts.
SKIPPED = frozenset({"schema_migrations", "schema_version", "sqlite_sequence", "totals_applied"})
# Rows the migrations themselves write into an empty database (not "data" for the emptiness
# check); copied over them.
SEEDED = frozenset({"id_counters"})
# The global all-time board: what `/leaderboard scope:global period:all` ranks.
BOARD = (
    "SELECT user_id, points, answered, correct FROM score_totals"
    " WHERE server_id = 0 AND topic = '*' AND period = 'all' ORDER BY user_id"
)
# Every board's sums (each server and the global one, each period), all topics together.
BOARD_SUMS = (
    "SELECT server_id, period, SUM(points), SUM(answered), SUM(correct) FROM score_totals"
    " WHERE topic = '*' GROUP BY server_id, period ORDER BY server_id, period"
)


class CopyRefused(StorageError):
    """The copy was not started (the target is not empty, the schemas differ...)."""


@dataclass(frozen=True, slots=True)
class CopyResult:
    counts: dict[str, int]  # rows per table, as copied and as read back from the target
    board_users: int  # users on the global all-time board (the same on both sides)
    board_points: int
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def data_rows(self) -> int:
        """Rows beyond what the migrations write into any new database."""
        return sum(n for table, n in self.counts.items() if table not in SEEDED)


class Side(Protocol):
    """One database seen by the copy: its tables and columns, rows in, rows out."""

    shown: str

    async def columns(self) -> dict[str, dict[str, str]]:
        """{table: {column: type}} in the order of the columns."""
        ...

    async def parents(self) -> dict[str, set[str]]:
        """{table: the tables its foreign keys point at}."""
        ...

    async def count(self, table: str) -> int: ...

    async def fetch(self, sql: str) -> list[Row]: ...

    def snapshot(self) -> AbstractAsyncContextManager[None]:
        """One read transaction: every `batches` inside it sees the same database."""
        ...

    def batches(self, table: str, cols: list[str]) -> AsyncIterator[list[Row]]:
        """The table's rows (those columns), BATCH at a time."""
        ...

    def writing(
        self, tables: dict[str, list[str]], empty: list[str]
    ) -> AbstractAsyncContextManager[None]:
        """One write transaction: refuse unless the `empty` tables are, clear the SEEDED rows
        of `tables`; at the end set sequences and counters past the ids, and commit (or roll
        everything back)."""
        ...

    async def insert(self, table: str, cols: list[str], rows: list[Row]) -> None:
        """Rows into the table, inside `writing`."""
        ...

    async def close(self) -> None: ...


# --- value conversion by the target column's type ---------------------------------------------


def _to_datetime(value: Any) -> Any:
    if isinstance(value, str):
        return datetime.fromisoformat(value).astimezone(UTC)
    return value


def _for_postgres(kind: str, value: Any) -> Any:
    if value is None:
        return None
    kind = kind.lower()
    if kind == "boolean":
        return bool(value)
    if kind.startswith("timestamp"):
        at = _to_datetime(value)
        if kind == "timestamp without time zone" and isinstance(at, datetime):
            return at.astimezone(UTC).replace(tzinfo=None)
        return at
    if kind == "date":
        return date.fromisoformat(value) if isinstance(value, str) else value
    if kind in ("integer", "bigint", "smallint"):
        return int(value)
    if kind in ("double precision", "real"):
        return float(value)
    if kind == "numeric":
        return Decimal(str(value))
    if kind in ("json", "jsonb"):
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "bytea":
        return bytes(value)
    if kind in ("text", "character varying", "character"):
        return value if isinstance(value, str) else str(value)
    return value


def _for_sqlite(kind: str, value: Any) -> Any:
    del kind  # SQLite's column types are affinities: the value decides
    if value is None or isinstance(value, str | int | float | bytes):
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")  # as SqliteStore's iso
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return str(value)


def _parents_first(tables: Iterable[str], parents: dict[str, set[str]]) -> list[str]:
    """The tables ordered so that each comes after the tables it refers to (by name within
    a level, so the order is stable)."""
    left = sorted(tables)
    ordered: list[str] = []
    placed: set[str] = set()
    while left:
        ready = [t for t in left if not (parents.get(t, set()) - {t}) - placed]
        if not ready:  # a cycle of foreign keys: keep the rest in name order
            ready = left
        for table in ready:
            ordered.append(table)
            placed.add(table)
        left = [t for t in left if t not in placed]
    return ordered


# --- SQLite -------------------------------------------------------------------------------------


class SqliteSide:
    """An SQLite file through the standard library (a one-shot command: blocking is fine)."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.shown = str(path)
        where = f"{path.absolute().as_uri()}?mode=ro" if read_only else str(path)
        self.conn = sqlite3.connect(where, isolation_level=None, uri=read_only)
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    @staticmethod
    def check_path(path: Path, *, create: bool) -> None:
        if not create and not path.is_file():
            raise CopyRefused(f"no SQLite database at {path}")
        if create and path.exists() and not path.is_file():
            raise CopyRefused(f"{path} exists and is not a file")

    @classmethod
    async def open(cls, path: Path, *, create: bool) -> SqliteSide:
        """The target (`create`): brought to this code's schema. The source: read-only, as
        it is; CopyRefused unless it is a bot database at this code's schema."""
        cls.check_path(path, create=create)
        if create:
            db = await Database.open(path)  # this code's schema (migrates an older file)
            await db.close()
            return cls(path)
        side = cls(path, read_only=True)
        try:
            version = int(side.conn.execute("PRAGMA user_version").fetchone()[0])
            tables = side.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError:  # "file is not a database"
            side.conn.close()
            raise CopyRefused(f"{path} is not an SQLite database") from None
        if not tables:
            version = 0  # an empty (0-byte) file
        refusal = _schema_refusal(str(path), version, max(v for v, _, _ in sqlite_migrations()))
        if refusal is not None:
            side.conn.close()
            raise refusal
        return side

    async def columns(self) -> dict[str, dict[str, str]]:
        names = [
            str(r[0])
            for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        found: dict[str, dict[str, str]] = {}
        for table in names:
            found[table] = {
                str(r[1]): str(r[2]).lower()
                for r in self.conn.execute(f'PRAGMA table_info("{table}")')
            }
        return found

    async def parents(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for table in await self.columns():
            found[table] = {
                str(r[2]) for r in self.conn.execute(f'PRAGMA foreign_key_list("{table}")')
            }
        return found

    async def count(self, table: str) -> int:
        return int(self.conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])

    async def fetch(self, sql: str) -> list[Row]:
        return [tuple(r) for r in self.conn.execute(sql)]

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        self.conn.execute("BEGIN")  # one read transaction: one snapshot of every table
        try:
            read_with_pending(self.conn)  # a bot may not have applied them yet
            yield
        finally:
            self.conn.execute("COMMIT")

    async def batches(self, table: str, cols: list[str]) -> AsyncIterator[list[Row]]:
        cursor = self.conn.execute(_select(table, cols))
        while rows := cursor.fetchmany(BATCH):
            yield [tuple(r) for r in rows]

    @asynccontextmanager
    async def writing(self, tables: dict[str, list[str]], empty: list[str]) -> AsyncIterator[None]:
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            _refuse_data({t: await self.count(t) for t in empty}, self)
            for table in SEEDED & set(tables):
                self.conn.execute(f'DELETE FROM "{table}"')
            yield
            # This schema numbers instances from id_counters (migration 0004): never hand out
            # an instance id that was copied (and keep a block the source had reserved).
            self.conn.execute(
                "INSERT INTO id_counters (name, next_id) SELECT 'question_instances',"
                " COALESCE(MAX(id), 0) + 1 FROM question_instances WHERE true"
                " ON CONFLICT (name) DO UPDATE SET next_id ="
                " MAX(id_counters.next_id, excluded.next_id)"
            )
            # The copied totals count every copied attempt (the source's pending ones too).
            self.conn.execute(
                "UPDATE totals_applied SET attempt_id = (SELECT COALESCE(MAX(id), 0) FROM attempts)"
            )
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    async def insert(self, table: str, cols: list[str], rows: list[Row]) -> None:
        marks = ", ".join("?" for _ in cols)
        self.conn.executemany(
            f'INSERT INTO "{table}" ({_names(cols)}) VALUES ({marks})',
            ([_for_sqlite("", v) for v in row] for row in rows),
        )

    async def close(self) -> None:
        self.conn.close()


# --- PostgreSQL ---------------------------------------------------------------------------------


class PostgresSide:
    """A PostgreSQL database through one asyncpg connection (default codecs: json as text)."""

    def __init__(self, conn: Any, shown: str) -> None:
        self.conn = conn
        self.shown = shown
        self.types: dict[str, dict[str, str]] = {}

    @classmethod
    async def open(cls, url: str, *, target: bool = True) -> PostgresSide:
        """The target: brought to this code's schema. The source: as it is; CopyRefused
        unless it is a bot database at this code's schema."""
        import asyncpg

        from bot.storage.postgres import open_postgres
        from bot.storage.postgres._db import migrations as postgres_migrations

        if target:
            store = await open_postgres(url, SystemClock(), pool_size=1)  # this code's schema
            await store.close()
        try:
            conn = await asyncpg.connect(url)
        except (OSError, asyncpg.PostgresError) as exc:
            raise StorageError(f"cannot connect to {redact(url)}: {redact(str(exc))}") from exc
        side = cls(conn, redact(url))
        if not target:
            version = 0
            if await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
                version = int(
                    await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                )
            latest = max(v for v, _, _ in postgres_migrations())
            refusal = _schema_refusal(side.shown, version, latest)
            if refusal is not None:
                await side.close()
                raise refusal
        return side

    async def columns(self) -> dict[str, dict[str, str]]:
        rows = await self.conn.fetch(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
            " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
            " AND t.table_name = c.table_name"
            " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
            " ORDER BY c.table_name, c.ordinal_position"
        )
        found: dict[str, dict[str, str]] = {}
        for r in rows:
            found.setdefault(r["table_name"], {})[r["column_name"]] = r["data_type"]
        return found

    async def parents(self) -> dict[str, set[str]]:
        rows = await self.conn.fetch(
            "SELECT cl.relname AS child, pa.relname AS parent FROM pg_constraint co"
            " JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_class pa ON pa.oid = co.confrelid"
            " WHERE co.contype = 'f' AND cl.relnamespace = current_schema()::regnamespace"
        )
        found: dict[str, set[str]] = {}
        for r in rows:
            found.setdefault(r["child"], set()).add(r["parent"])
        return found

    async def count(self, table: str) -> int:
        return int(await self.conn.fetchval(f'SELECT COUNT(*) FROM "{table}"'))

    async def fetch(self, sql: str) -> list[Row]:
        return [tuple(r) for r in await self.conn.fetch(sql)]

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        async with self.conn.transaction(isolation="repeatable_read", readonly=True):
            yield

    async def batches(self, table: str, cols: list[str]) -> AsyncIterator[list[Row]]:
        cursor = await self.conn.cursor(_select(table, cols))
        while rows := await cursor.fetch(BATCH):
            yield [tuple(r) for r in rows]

    @asynccontextmanager
    async def writing(self, tables: dict[str, list[str]], empty: list[str]) -> AsyncIterator[None]:
        self.types = await self.columns()
        async with self.conn.transaction():
            # Nobody writes meanwhile (the check and the copy see the same, empty tables).
            listed = ", ".join(f'"{t}"' for t in [*empty, *tables])
            await self.conn.execute(f"LOCK TABLE {listed} IN SHARE ROW EXCLUSIVE MODE")
            _refuse_data({t: await self.count(t) for t in empty}, self)
            for table in SEEDED & set(tables):
                await self.conn.execute(f'DELETE FROM "{table}"')
            yield
            await self._sequences_past_ids(tables)

    async def insert(self, table: str, cols: list[str], rows: list[Row]) -> None:
        kinds = [self.types[table][c] for c in cols]
        records = [
            tuple(_for_postgres(k, v) for k, v in zip(kinds, row, strict=True)) for row in rows
        ]
        if records:
            await self.conn.copy_records_to_table(table, records=records, columns=cols)

    async def _sequences_past_ids(self, tables: dict[str, list[str]]) -> None:
        """Every serial / identity column's sequence continues after the largest copied id;
        the instance id counter (if this schema has one) too."""
        for table, cols in tables.items():
            for col in cols:
                sequence = await self.conn.fetchval(
                    "SELECT pg_get_serial_sequence($1, $2)", f'"{table}"', col
                )
                if sequence is None:
                    continue
                top = await self.conn.fetchval(f'SELECT MAX("{col}") FROM "{table}"')
                if top is None:
                    await self.conn.execute("SELECT setval($1, 1, false)", sequence)
                else:
                    await self.conn.execute("SELECT setval($1, $2, true)", sequence, int(top))
        if "id_counters" in tables and "question_instances" in tables:
            await self.conn.execute(
                "INSERT INTO id_counters (name, next_id) SELECT 'question_instances',"
                " COALESCE(MAX(id), 0) + 1 FROM question_instances"
                " ON CONFLICT (name) DO UPDATE SET next_id ="
                " GREATEST(id_counters.next_id, excluded.next_id)"
            )

    async def close(self) -> None:
        await self.conn.close()


def _names(cols: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in cols)


def _select(table: str, cols: Sequence[str]) -> str:
    return f'SELECT {_names(cols)} FROM "{table}"'


def _schema_refusal(where: str, version: int, latest: int) -> CopyRefused | None:
    """Why a SOURCE at schema `version` is not copied (this code's is `latest`), or None.
    db copy never changes its SOURCE, so it does not migrate one."""
    if version == 0:
        return CopyRefused(f"{where} is not a bot database (it has no bot schema): nothing to copy")
    if version < latest:
        return CopyRefused(
            f"{where} is at schema version {version}, older than this bot's {latest}: start"
            " the bot on it once (or on a copy of it) to bring it up to date, then copy that;"
            " db copy never changes its SOURCE"
        )
    if version > latest:
        return CopyRefused(
            f"{where} is at schema version {version}, newer than this bot's {latest}: copy it"
            " with the newer bot"
        )
    return None


def _refuse_data(counts: dict[str, int], side: Side) -> None:
    full = {t: n for t, n in counts.items() if n}
    if full:
        some = ", ".join(f"{t} {n:,} {plural(n, 'row')}" for t, n in sorted(full.items())[:4])
        more = len(full) - 4
        tail = f" and {more} more {plural(more, 'table')}" if more > 0 else ""
        raise CopyRefused(
            f"refusing to copy into {side.shown}: it is not empty ({some}{tail});"
            " db copy fills an empty database only"
        )


def plural(count: int, noun: str) -> str:
    """`noun` for one, `noun`s for any other count."""
    return noun if count == 1 else f"{noun}s"


async def open_side(location: DbLocation, *, target: bool) -> Side:
    if location.url is not None:
        return await PostgresSide.open(location.url, target=target)
    assert location.path is not None
    return await SqliteSide.open(location.path, create=target)


async def _boards(side: Side) -> tuple[list[Row], list[Row]]:
    """The global all-time board, and the sums of every board."""
    board = [tuple(int(v) for v in row) for row in await side.fetch(BOARD)]
    sums = [
        (int(server), str(period), *(int(v) for v in totals))
        for server, period, *totals in await side.fetch(BOARD_SUMS)
    ]
    return board, sums


async def copy_database(source: DbLocation, target: DbLocation) -> CopyResult:
    """Copy every table of `source` into the empty `target` (see the module docstring).
    StorageError (CopyRefused before anything is written) with a one-line reason."""
    if source == target or (
        source.path is not None
        and target.path is not None
        and target.path.exists()
        and source.path.resolve() == target.path.resolve()
    ):
        raise CopyRefused("SOURCE and TARGET are the same database")
    import asyncpg

    started = time.perf_counter()
    try:
        src = await open_side(source, target=False)
        try:
            dst = await open_side(target, target=True)
            try:
                return await _copy(src, dst, started)
            finally:
                await dst.close()
        finally:
            await src.close()
    except (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # A row the target cannot take (its transaction rolled back: nothing was written).
        first = redact(str(exc)).splitlines()[0] if str(exc) else type(exc).__name__
        raise StorageError(f"the copy failed and nothing was written: {first}") from exc


async def _copy(src: Side, dst: Side, started: float) -> CopyResult:
    theirs, ours = await src.columns(), await dst.columns()
    tables: dict[str, list[str]] = {}
    for table, cols in theirs.items():
        if table in SKIPPED:
            continue
        if table not in ours:
            if await src.count(table):
                raise CopyRefused(
                    f"{dst.shown} has no table {table!r} for the rows of {src.shown}: are both"
                    " at this version of the bot?"
                )
            continue
        missing = [c for c in cols if c not in ours[table]]
        if missing:
            raise CopyRefused(
                f"{dst.shown}: table {table!r} has no column(s) {', '.join(missing)} of {src.shown}"
            )
        tables[table] = list(cols)
    order = _parents_first(tables, {**await src.parents(), **await dst.parents()})
    tables = {t: tables[t] for t in order}
    # Every table of the target holds no data (a table only it has, too).
    empty = [t for t in ours if t not in SKIPPED and t not in SEEDED]
    counts = dict.fromkeys(tables, 0)
    async with src.snapshot(), dst.writing(tables, empty):
        for table, names in tables.items():
            async for batch in src.batches(table, names):
                await dst.insert(table, names, batch)
                counts[table] += len(batch)
    # Read back: the target holds what was read, and ranks users as the source does.
    for table, expected in counts.items():
        found = await dst.count(table)
        if found != expected:
            raise StorageError(
                f"check failed: {dst.shown} has {found:,} rows in {table}, the source {expected:,}"
            )
    board, sums = await _boards(src)
    if await _boards(dst) != (board, sums):
        raise StorageError(f"check failed: the leaderboard totals of {dst.shown} differ")
    return CopyResult(
        counts=counts,
        board_users=len(board),
        board_points=sum(row[1] for row in board),
        seconds=time.perf_counter() - started,
    )
