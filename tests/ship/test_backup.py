"""`python -m bot backup PATH`: an online copy while the bot writes, and a restore that opens."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from bot.core.models import AttemptRecord, Difficulty, Kind, Localized, ServedQuestion
from bot.storage.db import Database, migrations
from bot.storage.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
SERVED = ServedQuestion(
    ref="backprop-delta",
    kind=Kind.MCQ,
    topic="backprop",
    difficulty=Difficulty.MEDIUM,
    text=Localized(en="q", zh="题"),
)


def env_for(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    return env | {"PYTHONPATH": str(ROOT), "BOT_DB": str(db)}


def backup_cli(db: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(target)],
        cwd=db.parent,
        env=env_for(db),
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    out = (done.stdout + done.stderr).strip()
    assert "Traceback" not in out, out
    assert len(out.splitlines()) == 1, out
    return out


def count(path: Path, sql: str = "SELECT COUNT(*) FROM attempts") -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute(sql).fetchone()[0])


GLOBAL_ANSWERED = (
    "SELECT COALESCE(SUM(answered), 0) FROM score_totals"
    " WHERE server_id = 0 AND topic = '*' AND period = 'all'"
)


def pad(path: Path, megabytes: int) -> None:
    """Bulk rows (imported question packs) so that a backup copies a few MB, not a few kB."""
    now = datetime.now(UTC).isoformat()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "INSERT INTO servers (id, platform, external_id, created_at) VALUES (1, 'x', 'x', ?)",
            (now,),
        )
        blob = "q" * 20_000
        conn.executemany(
            "INSERT INTO question_packs (server_id, name, content, questions, created_at)"
            " VALUES (1, ?, ?, 1, ?)",
            [(f"pad{i}", blob, now) for i in range(megabytes * 50)],
        )
        conn.commit()


def check_snapshot(target: Path, before: int, after: int) -> int:
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not Path(f"{target}-wal").exists()  # self-contained: one file
    copied = count(target)
    assert before <= copied <= after
    # One snapshot: the leaderboard totals written in each answer's transaction match.
    assert count(target, GLOBAL_ANSWERED) == copied
    assert count(target, "SELECT COUNT(*) FROM question_packs") == 200
    return copied


def restore(backup: Path, live: Path) -> None:
    """As the README says, with the bot stopped: copy the backup over the live file and
    remove the old WAL files (a stale -wal would be replayed onto the restored file)."""
    shutil.copyfile(backup, live)
    for sidecar in ("-wal", "-shm"):
        Path(f"{live}{sidecar}").unlink(missing_ok=True)


async def write_answers(store: SqliteStore, stop: asyncio.Event, users: int = 20) -> int:
    """Post a question and record an answer to it, over and over, each a real durable
    transaction through the store (as the engine does), until `stop`."""
    people = [await store.get_or_create_user("local", f"u{i}", f"U{i}") for i in range(users)]
    written = 0
    while not stop.is_set():
        at = datetime.now(UTC)
        instance = await store.create_instance(SERVED, None, None, "en", at)
        for user in people[: 1 + written % users]:
            await store.record_attempt(
                AttemptRecord(
                    instance_id=instance.id,
                    user_id=user.id,
                    server_id=None,
                    topic="backprop",
                    ref=SERVED.ref,
                    answer="B",
                    correct=written % 3 != 0,
                    points=2,
                    at=at,
                )
            )
            written += 1
    return written


async def test_backup_while_writing_is_a_consistent_snapshot_and_restores(
    tmp_path: Path,
) -> None:
    live = tmp_path / "data" / "bot.sqlite3"
    db = await Database.open(live)
    pad(live, 4)
    async with db.read() as conn:
        # Recent commits stay in the WAL only (as they do between checkpoints): a copy that
        # is not taken through SQLite would miss them.
        await conn.execute("PRAGMA wal_autocheckpoint = 0")
    store = SqliteStore(db)
    stop = asyncio.Event()
    writer = asyncio.create_task(write_answers(store, stop))
    backups: list[tuple[Path, int, int]] = []
    try:
        for _ in range(200):  # let it get going
            if await asyncio.to_thread(count, live) >= 50:
                break
            await asyncio.sleep(0.05)
        for n in range(3):
            target = tmp_path / f"backup{n}.sqlite3"
            before = await asyncio.to_thread(count, live)
            done = await asyncio.to_thread(backup_cli, live, target)
            after = await asyncio.to_thread(count, live)
            line = one_line(done)
            assert done.returncode == 0, line
            assert (
                line.startswith(f"backed up {live} to {target}: ")
                and f"schema {len(migrations())}" in line
            )
            backups.append((target, before, after))
    finally:
        stop.set()
        written = await writer
        await db.close()
    assert written > 0
    assert backups[-1][2] > backups[0][1]  # the writer really was writing meanwhile
    copied = [check_snapshot(target, before, after) for target, before, after in backups]
    # The writer kept committing while the copies were taken (WAL: a reader blocks no one).
    assert any(n > before for n, (_, before, _) in zip(copied, backups, strict=True))
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]  # none left behind

    restored, _, _ = backups[-1]
    restore(restored, live)
    db = await Database.open(live)
    try:
        assert await db.user_version() == len(migrations())
        await db.check()
        store = SqliteStore(db)
        user = await store.get_or_create_user("local", "u0", "U0")
        instance = await store.create_instance(SERVED, None, None, "en", datetime.now(UTC))
        assert await store.record_attempt(
            AttemptRecord(
                instance_id=instance.id,
                user_id=user.id,
                server_id=None,
                topic="backprop",
                ref=SERVED.ref,
                answer="A",
                correct=True,
                points=2,
                at=datetime.now(UTC),
            )
        )
    finally:
        await db.close()
    assert count(live) == count(restored) + 1


async def test_an_old_backup_restored_is_migrated_when_the_bot_opens_it(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(old)) as conn:  # a database as version 2 of the code left it
        for version, _, sql in migrations()[:2]:
            conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
        conn.execute("PRAGMA journal_mode = WAL")
    done = backup_cli(old, tmp_path / "old-backup.sqlite3")
    assert done.returncode == 0 and "schema 2" in one_line(done)
    live = tmp_path / "data" / "bot.sqlite3"
    live.parent.mkdir()
    shutil.copyfile(tmp_path / "old-backup.sqlite3", live)
    db = await Database.open(live)
    try:
        assert await db.user_version() == len(migrations()) > 2
    finally:
        await db.close()
    with closing(sqlite3.connect(live)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM health").fetchone()[0] == 0


async def test_a_folder_gets_a_dated_file_and_an_old_backup_is_replaced(tmp_path: Path) -> None:
    live = tmp_path / "bot.sqlite3"
    db = await Database.open(live)
    await db.close()
    folder = tmp_path / "backups"
    folder.mkdir()
    done = backup_cli(live, folder)
    assert done.returncode == 0, one_line(done)
    (made,) = folder.iterdir()
    assert made.name.startswith("bot-") and made.suffix == ".sqlite3"
    assert f"to {made}: " in one_line(done)
    again = backup_cli(live, made)  # replacing an earlier backup is fine
    assert again.returncode == 0, one_line(again)
    assert [p.name for p in folder.iterdir()] == [made.name]


async def test_refusals_are_one_line_and_leave_the_live_database_alone(tmp_path: Path) -> None:
    live = tmp_path / "bot.sqlite3"
    db = await Database.open(live)
    store = SqliteStore(db)
    await store.get_or_create_user("local", "ann", "Ann")
    await db.close()
    original = live.read_bytes()
    link = tmp_path / "link.sqlite3"
    link.symlink_to(live)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    cases = {
        live: "refusing to overwrite the live database",
        link: "refusing to overwrite the live database",
        Path(f"{live}-wal"): "refusing to overwrite the live database",
        notes: "it is not an SQLite database",
        tmp_path / "missing" / "b.sqlite3": "no folder",
    }
    for target, reason in cases.items():
        done = backup_cli(live, target)
        line = one_line(done)
        assert done.returncode == 1, line
        assert line.startswith("backup failed: ") and reason in line, line
    assert live.read_bytes() == original
    assert notes.read_text() == "not a database\n"
    missing = backup_cli(tmp_path / "nothing.sqlite3", tmp_path / "b.sqlite3")
    assert missing.returncode == 1 and "no database at" in one_line(missing)
    assert not (tmp_path / "nothing.sqlite3").exists()


async def test_a_trailing_slash_means_a_folder_created_for_the_backup(tmp_path: Path) -> None:
    live = tmp_path / "bot.sqlite3"
    db = await Database.open(live)
    await db.close()
    (tmp_path / "backups").mkdir()

    def run(target: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "backup", target],
            cwd=tmp_path,
            env=env_for(live),
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = run("backups/newdir/")
    assert done.returncode == 0, one_line(done)
    newdir = tmp_path / "backups" / "newdir"
    assert newdir.is_dir()  # not a file named `newdir`
    (made,) = newdir.iterdir()
    assert made.name.startswith("bot-") and made.suffix == ".sqlite3"
    assert count(made, "SELECT COUNT(*) FROM users") == 0

    nested = run("deeper/still/")  # parents too
    assert nested.returncode == 0, one_line(nested)
    assert len(list((tmp_path / "deeper" / "still").iterdir())) == 1

    (tmp_path / "afile").write_text("x")
    refused = run("afile/")
    assert refused.returncode == 1
    assert "afile exists and is not a folder" in one_line(refused)
    assert (tmp_path / "afile").read_text() == "x"
