"""A real PostgreSQL 15 server for the tests, started from the machine's binaries.

Fixtures (registered in tests/conftest.py, usable from any test):

- ``pg_server`` (session): one server per test process (each pytest-xdist worker starts its
  own), in a temporary folder owned by the ``postgres`` system user, on 127.0.0.1 and a free
  port; stopped (``pg_ctl -m fast stop``) and its folder removed at the end, also after a
  failure. Tuned for tests (``fsync=off``): never point it at data you want to keep.
- ``pg_url`` (function): a fresh, empty database on that server for this test, as a URL
  ``postgresql://postgres@127.0.0.1:PORT/test_N`` (trust authentication, no password); it is
  dropped after the test. Two pools opened on the same URL are two "processes" sharing one
  database. More databases in one test: ``pg_server.create_database()``.
- ``pg_store`` (function): a ``PostgresStore`` opened on ``pg_url`` with the test's clock; the
  ``store`` fixture returns it for a test marked ``stores(..., "postgres")``.

The binaries (``initdb``, ``pg_ctl``) are looked up on the PATH, then in
``/usr/lib/postgresql/15/bin``. initdb refuses to run as root, so as root the server runs as the
``postgres`` user (``runuser -u postgres --``). Without them the PostgreSQL tests skip with a
reason that says how to install PostgreSQL 15, except under ``CI=true``, where a missing server
is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
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
        """A new empty database; returns its URL."""
        name = f"test_{next(self._names)}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server() -> PostgresServer:
    """Start a server, or raise `PostgresUnavailable` (the machine has no PostgreSQL 15)."""
    server = PostgresServer()
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
        with contextlib.suppress(Exception):  # the server goes away at the end anyway
            pg_server.drop_database(url)


@pytest.fixture
async def pg_store(pg_url: str, clock: Clock) -> AsyncIterator[Store]:
    from bot.storage.postgres import open_postgres

    store = await open_postgres(pg_url, clock, pool_size=4)
    try:
        yield store
    finally:
        await store.close()
