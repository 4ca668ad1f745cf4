"""`python -m bot health`, run as Docker runs it: a subprocess, one line out, exit 0 or 1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage.db import Database, migrations
from bot.storage.sqlite import SqliteStore
from tests.e2e.fakediscord import FakeDiscord
from tests.e2e.test_process import bot_env

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def health(db: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot health` with BOT_DB=db, from a folder without a .env."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        cwd=next(folder for folder in db.parents if folder.is_dir()),
        env=clean_env(BOT_DB=str(db), **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single line the command printed (stdout or stderr), never a traceback."""
    out = (done.stdout + done.stderr).strip()
    assert "Traceback" not in out, out
    assert len(out.splitlines()) == 1, out
    return out


async def make_db(path: Path, heartbeat_at: datetime | None = None) -> None:
    db = await Database.open(path)
    try:
        if heartbeat_at is not None:
            value = json.dumps({"latency_ms": 42.0, "guilds": 3, "pid": 1})
            await SqliteStore(db).record_heartbeat(value, heartbeat_at)
    finally:
        await db.close()


async def test_healthy_with_a_fresh_heartbeat(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    await make_db(db, datetime.now(UTC) - timedelta(seconds=5))
    done = health(db)
    line = one_line(done)
    assert done.returncode == 0, line
    assert line.startswith("ok: ") and "latency 42 ms" in line and "3 guild(s)" in line
    assert done.stderr == ""


async def test_stale_heartbeat_is_unhealthy_past_the_configured_age(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    await make_db(db, datetime.now(UTC) - timedelta(seconds=300))
    done = health(db)  # default BOT_HEALTH_MAX_AGE: 120 s
    line = one_line(done)
    assert done.returncode == 1
    assert line.startswith("unhealthy: ") and "older than BOT_HEALTH_MAX_AGE=120 s" in line
    # The threshold is the setting: the same heartbeat is fresh enough under a looser one.
    assert health(db, BOT_HEALTH_MAX_AGE="600").returncode == 0


async def test_no_heartbeat_yet_is_unhealthy(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    await make_db(db)
    done = health(db)
    assert done.returncode == 1
    assert "no gateway heartbeat yet" in one_line(done)


def test_missing_database_is_unhealthy_and_not_created(tmp_path: Path) -> None:
    db = tmp_path / "data" / "bot.sqlite3"
    done = health(db)
    assert done.returncode == 1
    assert one_line(done) == f"unhealthy: no database at {db}"
    assert not db.exists() and not db.parent.exists()  # the probe never creates anything


def test_a_file_that_is_not_a_database_is_unhealthy(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    db.write_bytes(os.urandom(8192))
    done = health(db)
    assert done.returncode == 1
    assert "file is not a database" in one_line(done)


async def test_a_corrupt_page_is_unhealthy(tmp_path: Path) -> None:
    """A real database whose table pages were overwritten: `quick_check` catches it even
    though the header (and so PRAGMA user_version) still reads fine."""
    db = tmp_path / "bot.sqlite3"
    await make_db(db, datetime.now(UTC))
    assert health(db).returncode == 0
    with closing(sqlite3.connect(db)) as conn:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with db.open("r+b") as raw:
        for number in range(2, pages, 2):  # every other page after the first: b-tree garbage
            raw.seek(number * page + 16)
            raw.write(b"\xa5" * (page - 32))
    done = health(db)
    line = one_line(done)
    assert done.returncode == 1
    assert line.startswith("unhealthy: ") and ("corrupt" in line or "malformed" in line), line


@pytest.mark.parametrize("version", [2, 99])
async def test_a_schema_other_than_the_latest_is_unhealthy(tmp_path: Path, version: int) -> None:
    db = tmp_path / "bot.sqlite3"
    await make_db(db, datetime.now(UTC))
    with closing(sqlite3.connect(db)) as conn:
        conn.execute(f"PRAGMA user_version = {version}")
    done = health(db)
    line = one_line(done)
    assert done.returncode == 1
    assert f"schema version {version}" in line
    assert ("upgrade the bot" in line) == (version > len(migrations()))


def test_a_bad_setting_is_one_line_and_exit_1(tmp_path: Path) -> None:
    done = health(tmp_path / "bot.sqlite3", BOT_HEALTH_MAX_AGE="soon")
    assert done.returncode == 1  # not 2: Docker reserves 2 in health checks
    assert one_line(done).startswith("configuration: BOT_HEALTH_MAX_AGE")


def heartbeat_time(db: Path) -> str | None:
    with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT updated_at FROM health").fetchone()
    return row[0] if row else None


@pytest.mark.timeout(90)
async def test_the_running_bot_keeps_health_green_and_it_goes_stale_after_stop(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    log = tmp_path / "bot.log"
    env = bot_env(fake_discord, db) | {"BOT_HEARTBEAT_EVERY": "0.2", "BOT_LOG_LEVEL": "INFO"}
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdout=sink, stderr=sink
        )
    try:
        await fake_discord.wait_ready(within=60)
        deadline = time.monotonic() + 30
        while (done := await asyncio.to_thread(health, db)).returncode != 0:
            assert time.monotonic() < deadline, (one_line(done), log.read_text()[-3000:])
            await asyncio.sleep(0.2)
        assert one_line(done).startswith("ok: ")
        first = heartbeat_time(db)
        # It keeps beating while connected (every 0.2 s; polled, so load cannot fail it).
        deadline = time.monotonic() + 30
        while heartbeat_time(db) == first:
            assert time.monotonic() < deadline, "the heartbeat stopped"
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0, log.read_text()[-3000:]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    await asyncio.sleep(0.5)
    stale = await asyncio.to_thread(health, db, BOT_HEALTH_MAX_AGE="0.4", BOT_HEARTBEAT_EVERY="0.1")
    assert stale.returncode == 1 and "older than" in one_line(stale)
