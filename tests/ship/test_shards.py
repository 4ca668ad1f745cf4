"""BOT_SHARD_COUNT / BOT_SHARD_IDS: parsed and checked at start-up with one clear line each, and
an SQLite database refused for a process that runs only some of the shards (other processes
would share the file): shard ranges as separate processes need PostgreSQL."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.app.settings import Settings
from bot.app.shards import BadShards, ShardPlan, parse_shard_ids, sqlite_refusal
from bot.storage.db import Database
from bot.storage.sqlite import SqliteStore
from tests.e2e.harness import FIXTURE_BANK
from tests.ship.test_health import clean_env, health, one_line


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("0-3", (0, 1, 2, 3)),
        ("0,2", (0, 2)),
        ("0-1,4", (0, 1, 4)),
        (" 3 ", (3,)),
        ("2,1,2", (1, 2)),
    ],
)
def test_shard_ids_are_ranges_or_lists(text: str, ids: tuple[int, ...]) -> None:
    assert parse_shard_ids(text) == ids


@pytest.mark.parametrize("text", ["", "a", "0-", "-1", "3-1", "0,,2", "1.5", "0-9999"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(BadShards):
        parse_shard_ids(text)


def settings(**env: Any) -> Settings:
    return Settings(_env_file=None, **env)


def test_without_shard_settings_one_process_runs_every_shard() -> None:
    assert settings().shards is None
    assert settings(BOT_SHARD_COUNT="", BOT_SHARD_IDS="").shards is None  # `X=` in .env


def test_a_count_alone_runs_every_shard_and_ids_pick_some() -> None:
    every = settings(BOT_SHARD_COUNT="4").shards
    assert every == ShardPlan(4, (0, 1, 2, 3)) and every.covers_all and every.label == "0-3/4"
    some = settings(BOT_SHARD_COUNT="4", BOT_SHARD_IDS="0,2-3").shards
    assert some == ShardPlan(4, (0, 2, 3)) and not some.covers_all
    assert some.label == "0,2-3/4"


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        ({"BOT_SHARD_IDS": "0-1"}, "BOT_SHARD_IDS", "needs BOT_SHARD_COUNT"),
        ({"BOT_SHARD_COUNT": "2", "BOT_SHARD_IDS": "1-2"}, "BOT_SHARD_IDS", "not below"),
        ({"BOT_SHARD_COUNT": "0"}, "BOT_SHARD_COUNT", "between 1 and"),
        ({"BOT_SHARD_COUNT": "two"}, "BOT_SHARD_COUNT", "integer"),
        ({"BOT_SHARD_COUNT": "4", "BOT_SHARD_IDS": "0-x"}, "BOT_SHARD_IDS", "e.g. 0-3 or 0,2"),
    ],
)
def test_bad_shard_settings_name_the_variable(
    env: dict[str, str], variable: str, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(**env)
    (error,) = caught.value.errors()
    assert error["loc"] == (variable,) and words in error["msg"]


def run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot run` with a token (that never connects anywhere) and `env`."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,  # no .env here
        env=clean_env(DISCORD_TOKEN="x" * 20, BOT_CONTENT=str(FIXTURE_BANK), **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_with_bad_shard_ids_says_so_in_one_line(tmp_path: Path) -> None:
    done = run(tmp_path, BOT_SHARD_COUNT="2", BOT_SHARD_IDS="2")
    line = one_line(done)
    assert done.returncode == 2
    assert line.startswith("configuration: BOT_SHARD_IDS") and "BOT_SHARD_COUNT=2" in line


def test_run_refuses_sqlite_for_part_of_the_shards(tmp_path: Path) -> None:
    db = tmp_path / "data" / "bot.sqlite3"
    done = run(tmp_path, BOT_DB=str(db), BOT_SHARD_COUNT="2", BOT_SHARD_IDS="1")
    line = one_line(done)
    assert done.returncode == 2, line
    assert "SQLite" in line and "postgresql://" in line and "runs 1 of the 2 shards" in line
    assert not db.exists()  # refused before anything was opened


def test_sqlite_is_fine_for_one_process_with_every_shard_and_postgres_for_any() -> None:
    assert sqlite_refusal(None, is_postgres=False) is None
    assert sqlite_refusal(ShardPlan(2, (0, 1)), is_postgres=False) is None
    assert sqlite_refusal(ShardPlan(2, (1,)), is_postgres=True) is None
    refusal = sqlite_refusal(ShardPlan(4, (0, 1)), is_postgres=False)
    assert refusal is not None and "\n" not in refusal and "0-1" in refusal


async def two_processes(db: Path, ages: tuple[float, float]) -> None:
    """Heartbeats of the processes of shards 0 and 1 of 2, `ages` seconds old."""
    database = await Database.open(db)
    try:
        for shard, age in enumerate(ages):
            value = json.dumps({"latency_ms": 40.0 + shard, "guilds": 2, "shards": f"{shard}/2"})
            at = datetime.now(UTC) - timedelta(seconds=age)
            await SqliteStore(database).record_heartbeat(value, at, f"shards {shard}/2")
    finally:
        await database.close()


async def test_health_checks_the_heartbeat_of_its_own_process(tmp_path: Path) -> None:
    """Each service of a sharded bot runs `health` with its own shard settings: a dead
    process is seen by its own check, not hidden by the other's fresh heartbeat."""
    db = tmp_path / "bot.sqlite3"
    await two_processes(db, (5, 300))
    alive = health(db, BOT_SHARD_COUNT="2", BOT_SHARD_IDS="0")
    line = one_line(alive)
    assert alive.returncode == 0, line
    assert "gateway heartbeat of shards 0/2" in line and "latency 40 ms" in line
    assert line.endswith("other processes: shards 1/2")
    dead = health(db, BOT_SHARD_COUNT="2", BOT_SHARD_IDS="1")
    line = one_line(dead)
    assert dead.returncode == 1
    assert re.search(r"last gateway heartbeat of shards 1/2 3\d\d s ago", line), line
    assert "older than" in line
    absent = health(db, BOT_SHARD_COUNT="4", BOT_SHARD_IDS="2-3")
    assert absent.returncode == 1
    assert "no gateway heartbeat of shards 2-3/4 yet" in one_line(absent)


async def test_health_without_shard_settings_wants_every_process_fresh(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    await two_processes(db, (5, 300))
    done = health(db)
    line = one_line(done)
    assert done.returncode == 1
    assert re.search(r"of shards 1/2 3\d\d s ago", line) and "of shards 0/2" not in line
    await two_processes(db, (5, 6))
    done = health(db)
    line = one_line(done)
    assert done.returncode == 0, line
    assert "of shards 0/2" in line and "of shards 1/2" in line
