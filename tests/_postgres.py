"""A real PostgreSQL 15 server for the tests, started from the machine's binaries.

Fixtures (registered in tests/conftest.py, usable from any test):

- ``pg_server`` (session): one server per test process (each pytest-xdist worker starts its
  own), in a temporary folder owned by the ``postgres`` system user, on 127.0.0.1 and a free
  port; stopped (``pg_ctl -m fast stop``) and its folder removed at the end, also after a
  failure. Tuned for tests (``fsync=off``): never point it at data you want to keep.
- ``pg_url`` (function): an empty database on that server for this test, as a URL
  ``postgresql://postgres@127.0.0.1:PORT/test_N`` (trust authentication, no password). Two
  pools opened on the same URL are two "processes" sharing one database. More databases in
  one test: ``pg_server.create_database()`` (and ``pg_server.release_database(url)``).
- ``pg_store`` (function): a ``PostgresStore`` (``open_postgres``, a pool of 4) with the test's
  clock, on a migrated database with nothing in it; closed after the test. The ``store``
  fixture returns it for a test marked ``stores(..., "postgres")``.

Creating a database costs 0.1-0.5 s on a busy machine, so a database a test is done with is
emptied and handed to the next test instead (``pg_url``: every schema dropped; ``pg_store``: every
row deleted, the migrations' own rows put back, every sequence restarted): as new, in
milliseconds. One that a test left a connection open to is dropped instead.

The binaries (``initdb``, ``pg_ctl``) are looked up on the PATH, then in
``/usr/lib/postgresql/15/bin``. initdb refuses to run as root, so as root the server runs as the
``postgres`` user (``runuser -u postgres --``). Without them the PostgreSQL tests skip with a
reason that says how to install PostgreSQL 15, except under ``CI=true``, where a missing server
is a failure.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest

from bot.core.ports import Clock, Store

REQUIRED_MAJOR = 15
INSTALL_HINT = (
    "PostgreSQL 15 is required for the PostgreSQL tests: install it (Debian/Ubuntu:"
    " `apt install postgresql-15`) so that `initdb` and `pg_ctl` are on the PATH or in"
    " /usr/lib/postgresql/15/bin"
)
_FALLBACK_BIN = Path("/usr/lib/postgresql/15/bin")
# Test settings: nothing here needs to survive a crash of the machine.
_SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    " -c max_connections=300 -c shared_buffers=32MB"
)

T = TypeVar("T")
_OWNER_FILE = "owner.pid"  # the test process that started the server in this folder


class PostgresUnavailable(Exception):
    """The machine cannot run a PostgreSQL 15 server for the tests (the message says why)."""


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None and (_FALLBACK_BIN / name).exists():
        found = str(_FALLBACK_BIN / name)
    if found is None:
        raise PostgresUnavailable(f"`{name}` not found. {INSTALL_HINT}")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_in_thread(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a private event loop in a short-lived thread, so that
    a sync fixture can talk to the server whether or not the test's loop exists."""
    box: dict[str, T | BaseException] = {}

    def target() -> None:
        async def main() -> T:
            return await make()

        try:
            box["value"] = asyncio.run(main())
        except BaseException as error:  # handed back to the caller below
            box["error"] = error

    thread = threading.Thread(target=target, name="pg-admin")
    thread.start()
    thread.join()
    if "error" in box:
        error = box["error"]
        assert isinstance(error, BaseException)
        raise error
    return box["value"]  # type: ignore[return-value]


class PostgresServer:
    """One throw-away PostgreSQL server (see the module docstring)."""

    def __init__(self) -> None:
        self.initdb = _binary("initdb")
        self.pg_ctl = _binary("pg_ctl")
        version = subprocess.run(
            [self.pg_ctl, "--version"], capture_output=True, text=True, check=True
        ).stdout
        match = re.search(r"(\d+)(?:\.\d+)?", version)
        if match is None or int(match.group(1)) < REQUIRED_MAJOR:
            raise PostgresUnavailable(f"found {version.strip()!r}. {INSTALL_HINT}")
        self._as_postgres: list[str] = []
        self._owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            try:
                self._owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root and there is no `postgres` system user. {INSTALL_HINT}"
                ) from None
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PostgresUnavailable("running as root and `runuser` is not on the PATH")
            self._as_postgres = [runuser, "-u", "postgres", "--"]
        self.folder = Path(tempfile.mkdtemp(prefix="pg-test-"))
        self.data = self.folder / "data"
        self.log = self.folder / "log"
        self.port = 0
        self._names = itertools.count(1)
        self._started = False
        self._empty: list[str] = []  # emptied databases, for the next `create_database`
        self._migrated: list[str] = []  # migrated databases, emptied, for the next `pg_store`
        self._seed: dict[str, str] | None = None  # table -> JSON rows the migrations insert

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self._as_postgres, *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({done.returncode}):\n{done.stdout}\n"
                f"{done.stderr}\n{log[-4000:]}"
            )

    def start(self) -> None:
        (self.folder / _OWNER_FILE).write_text(str(os.getpid()))
        if self._owner is not None:
            os.chown(self.folder, self._owner.pw_uid, self._owner.pw_gid)
        self._run(
            self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip
        last: Exception | None = None
        for _ in range(3):  # the free port may be taken between the probe and the bind
            self.port = _free_port()
            options = f"-h {self.host} -p {self.port} -k {self.folder} {_SERVER_OPTIONS}"
            try:
                self._run(
                    self.pg_ctl, "-D", str(self.data), "-o", options,
                    "-l", str(self.log), "-w", "-t", "60", "start",
                )  # fmt: skip
            except RuntimeError as error:
                last = error
                continue
            self._started = True
            return
        raise RuntimeError(f"the PostgreSQL test server did not start: {last}")

    def stop(self) -> None:
        try:
            if self._started:
                self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")
                self._started = False
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def _admin(self, statement: str) -> None:
        async def run() -> None:
            connection = await asyncpg.connect(self.url("postgres"))
            try:
                await connection.execute(statement)
            finally:
                await connection.close()

        _run_in_thread(run)

    def create_database(self) -> str:
        """An empty database (a new one, or one a finished test used, emptied); its URL."""
        if self._empty:
            return self._empty.pop()
        name = f"test_{next(self._names)}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def release_database(self, url: str) -> None:
        """A test is done with the database at `url` (from `create_database`): emptied for the
        next test (every schema dropped, `public` made again), or dropped if a connection to it
        is still open."""

        async def empty(conn: asyncpg.Connection) -> None:
            schemas = await conn.fetch(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'"
                " AND nspname <> 'information_schema'"
            )
            drops = "; ".join(f'DROP SCHEMA "{row[0]}" CASCADE' for row in schemas)
            await conn.execute(f"{drops}; CREATE SCHEMA public")

        if self._reuse(url, empty):
            self._empty.append(url)

    def take_migrated(self) -> str | None:
        """A database a finished test had migrated, emptied again (`release_migrated`)."""
        return self._migrated.pop() if self._migrated else None

    def note_seed(self, url: str) -> None:
        """Remember the rows the migrations put in a database (`url`: just migrated, unused),
        to restore them when `release_migrated` empties one."""
        if self._seed is not None:
            return

        async def snapshot() -> dict[str, str]:
            conn = await asyncpg.connect(url)
            try:
                seed: dict[str, str] = {}
                for table in await _tables(conn):
                    rows = await conn.fetchval(f'SELECT json_agg(t) FROM "{table}" t')
                    if rows is not None:
                        seed[table] = rows
                return seed
            finally:
                await conn.close()

        self._seed = _run_in_thread(snapshot)

    def release_migrated(self, url: str) -> None:
        """A test is done with a migrated database: its rows deleted, the migrations' rows put
        back, every sequence restarted; as new for the next test (or dropped if a connection
        to it is still open)."""
        seed = self._seed or {}

        async def reset(conn: asyncpg.Connection) -> None:
            tables = await _tables(conn)
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")  # no FK checks
                await conn.execute("; ".join(f'DELETE FROM "{table}"' for table in tables))
                for table, rows in seed.items():
                    await conn.execute(
                        f'INSERT INTO "{table}" SELECT * FROM'
                        f' json_populate_recordset(NULL::"{table}", $1::json)',
                        rows,
                    )
                await conn.execute(
                    "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s"
                )

        if self._reuse(url, reset):
            self._migrated.append(url)

    def _reuse(self, url: str, prepare: Callable[[asyncpg.Connection], Awaitable[None]]) -> bool:
        """Prepare the database for another test; False (and it is dropped) if a connection to
        it is still open or the preparation failed."""

        async def run() -> bool:
            conn = await asyncpg.connect(url)
            try:
                others = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                if others:
                    return False
                await prepare(conn)
                return True
            finally:
                await conn.close()

        try:
            reused = _run_in_thread(run)
        except Exception:
            reused = False
        if not reused:
            self.drop_database(url)
        return reused


async def _tables(conn: asyncpg.Connection) -> list[str]:
    """The tables of a migrated database, the migrations' own record excepted."""
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        " AND tablename <> 'schema_migrations' ORDER BY tablename"
    )
    return [row[0] for row in rows]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def stop_orphans(server: PostgresServer) -> None:
    """Stop the servers of test sessions that were killed before they could stop them (their
    folder names a test process that no longer exists), and remove their folders."""
    for folder in Path(tempfile.gettempdir()).glob("pg-test-*"):
        try:
            pid = int((folder / _OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # starting right now, or not ours
        if _alive(pid):
            continue
        if (folder / "data" / "postmaster.pid").exists():
            subprocess.run(
                [*server._as_postgres, server.pg_ctl, "-D", str(folder / "data"), "-m",
                 "immediate", "-w", "stop"],
                capture_output=True, check=False, timeout=60,
            )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def start_server() -> PostgresServer:
    """Start a server, or raise `PostgresUnavailable` (the machine has no PostgreSQL 15)."""
    server = PostgresServer()
    stop_orphans(server)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


def _required() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        server = start_server()
    except PostgresUnavailable as missing:
        if _required():
            pytest.fail(f"CI=true: {missing}", pytrace=False)
        pytest.skip(str(missing))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    url = pg_server.create_database()
    try:
        yield url
    finally:
        pg_server.release_database(url)


@asynccontextmanager
async def migrated_store(server: PostgresServer, clock: Clock) -> AsyncIterator[Store]:
    """A `PostgresStore` on a migrated, empty database of `server` (what `pg_store` gives)."""
    from bot.storage.postgres import open_postgres

    url = server.take_migrated()
    fresh = url is None
    if url is None:
        url = server.create_database()
    try:
        store = await open_postgres(url, clock, pool_size=4)
    except BaseException:
        server.drop_database(url)
        raise
    if fresh:
        server.note_seed(url)
    try:
        yield store
    finally:
        await store.close()
        server.release_migrated(url)


@pytest.fixture
async def pg_store(pg_server: PostgresServer, clock: Clock) -> AsyncIterator[Store]:
    async with migrated_store(pg_server, clock) as store:
        yield store
