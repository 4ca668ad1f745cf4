"""The PostgreSQL test server (tests/_postgres.py): a real server, a fresh database per test,
and a clear skip (or, under CI=true, a failure) on a machine without PostgreSQL 15."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg

from tests._postgres import PostgresServer, migrated_store, stop_orphans
from tests.conftest import FakeClock
from tests.storage.contract._data import posted, served, users

REPO = Path(__file__).resolve().parents[2]


async def test_each_test_gets_a_fresh_empty_database(pg_url: str) -> None:
    connection = await asyncpg.connect(pg_url)
    try:
        version = await connection.fetchval("SHOW server_version_num")
        tables = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
        await connection.execute("CREATE TABLE marker (n integer)")
    finally:
        await connection.close()
    assert int(version) >= 150000
    assert tables == 0


def test_two_databases_on_one_server_are_separate(pg_server: PostgresServer) -> None:
    first, second = pg_server.create_database(), pg_server.create_database()
    try:
        assert first != second
        assert first.startswith(f"postgresql://postgres@127.0.0.1:{pg_server.port}/")
    finally:
        pg_server.drop_database(first)
        pg_server.drop_database(second)


async def test_a_database_used_by_a_test_comes_back_as_new(pg_server: PostgresServer) -> None:
    """`pg_url` and `pg_store` hand a used database to the next test emptied: the same answers
    as a new one (no rows, ids from 1, the migrations' own rows back)."""
    clock = FakeClock()
    firsts = []
    for _ in range(2):
        async with migrated_store(pg_server, clock) as store:
            assert await store.find_user("discord", "ann") is None
            (ann,) = await users(store, "Ann")
            question = await posted(store, served())
            firsts.append((ann.id, question.id, await store.reserve_instance_ids(5)))
            assert await store.packs() == []
    assert firsts[0] == firsts[1] == (1, 1, 2)

    url = pg_server.create_database()
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("CREATE TABLE left_behind (n integer); CREATE SCHEMA extra")
    finally:
        await connection.close()
    pg_server.release_database(url)
    again = pg_server.create_database()
    connection = await asyncpg.connect(again)
    try:
        names = await connection.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
        )
        schemas = await connection.fetchval(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'extra'"
        )
    finally:
        await connection.close()
        pg_server.release_database(again)
    assert again == url  # the same database, emptied
    assert (names, schemas) == (0, 0)


def test_the_server_of_a_killed_test_session_is_stopped_by_the_next(
    pg_server: PostgresServer,
) -> None:
    """A test process killed outright (SIGKILL) cannot stop its server; the next session
    that starts one stops it and removes its folder."""
    session = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from tests._postgres import start_server;"
            " print(start_server().folder, flush=True); time.sleep(600)",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert session.stdout is not None
        folder = Path(session.stdout.readline().strip())
    finally:
        session.kill()
        session.wait()
    server_pid = int((folder / "data" / "postmaster.pid").read_text().split()[0])
    os.kill(server_pid, 0)  # still running: nobody stopped it
    stop_orphans(pg_server)
    assert not folder.exists()
    try:
        os.kill(server_pid, 0)
    except ProcessLookupError:
        pass
    else:  # pg_ctl -w returned after the server exited; a zombie at most remains
        state = Path(f"/proc/{server_pid}/stat").read_text().split()[2]
        assert state == "Z"


def _run_without_postgres(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    """Run a one-test pytest session that asks for `pg_url` on a machine where neither the PATH
    nor the fallback folder has the PostgreSQL binaries."""
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            from pathlib import Path

            import tests._postgres as server
            from tests._postgres import pg_server, pg_url  # noqa: F401

            server._FALLBACK_BIN = Path("/nonexistent/postgresql/bin")
            """
        )
    )
    (tmp_path / "test_needs_postgres.py").write_text("def test_it(pg_url):\n    pass\n")
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "PYTEST_XDIST_WORKER"}}
    env.update(PATH=str(tmp_path), PYTHONPATH=str(REPO))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_postgres_the_tests_skip_saying_how_to_install_it(tmp_path: Path) -> None:
    done = _run_without_postgres(tmp_path, ci=None)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "apt install postgresql-15" in done.stdout


def test_without_postgres_under_ci_the_tests_fail(tmp_path: Path) -> None:
    done = _run_without_postgres(tmp_path, ci="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 error" in done.stdout
    assert "PostgreSQL 15 is required" in done.stdout
