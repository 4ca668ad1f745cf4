"""The database file seen from outside the running bot: the health probe and online backups.

Both are one-shot commands, so they use the standard library's `sqlite3` directly, and neither
migrates or writes the live database: the probe opens it read-only, and the backup reads it
through SQLite's online backup API (one read transaction: under WAL the bot keeps writing
meanwhile, and the copy is the database as of one commit).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.core.ports import SystemClock
from bot.storage.db import BUSY_TIMEOUT_MS, StorageError, migrations
from bot.storage.sqlite import parse_iso
from bot.storage.sqlite._heartbeats import HEARTBEAT_ROWS, process_of_key
from bot.storage.totals import apply_all

SQLITE_MAGIC = b"SQLite format 3\x00"
_SIDECARS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class Probe:
    """What `python -m bot health` found in the database file."""

    path: Path
    schema: int
    heartbeat: tuple[str, datetime] | None  # (value, time) the bot last recorded, if any
    # Every process's last heartbeat (a sharded bot has one per process): process -> (value, time)
    heartbeats: dict[str, tuple[str, datetime]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BackupResult:
    target: Path
    size: int
    schema: int
    attempts: int | None
    seconds: float


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection that never creates the file (the URI form escapes the path)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    rows = conn.execute("PRAGMA quick_check").fetchall()
    if rows != [("ok",)]:
        first = rows[0][0] if rows else "no answer"
        more = f" (and {len(rows) - 1} more problem(s))" if len(rows) > 1 else ""
        raise StorageError(f"{path} is corrupt: {first}{more}")


def probe(path: Path) -> Probe:
    """Integrity (`PRAGMA quick_check`), schema version == the latest migration, and the last
    gateway heartbeat. StorageError with a one-line reason when the database is not usable."""
    if not path.exists():
        raise StorageError(f"no database at {path}")
    if not path.is_file():
        raise StorageError(f"{path} is not a file")
    expected = len(migrations())
    try:
        conn = _read_only(path)
        try:
            _quick_check(conn, path)
            schema = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if schema < expected:
                raise StorageError(
                    f"{path} is at schema version {schema}, this code expects {expected}"
                    " (the bot migrates it when it starts)"
                )
            if schema > expected:
                raise StorageError(
                    f"{path} is at schema version {schema}, newer than this code knows"
                    f" ({expected}): upgrade the bot"
                )
            rows = conn.execute(HEARTBEAT_ROWS).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read {path}: {exc}") from exc
    beats = {process_of_key(str(k)): (str(v), parse_iso(at)) for k, v, at in rows}
    newest = max(beats.values(), key=lambda beat: beat[1], default=None)
    return Probe(path=path, schema=schema, heartbeat=newest, heartbeats=beats)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def backup_target(
    source: Path, target: Path, now: datetime | None = None, *, folder: bool = False
) -> Path:
    """Where a backup of `source` asked for at `target` goes: a folder gets a dated file.

    `folder`: the target was written as a folder (`backups/new/`): it is created if need be,
    never taken for a file name."""
    if folder:
        if target.exists() and not target.is_dir():
            raise StorageError(f"{target} exists and is not a folder")
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the folder {target}: {exc.strerror or exc}") from exc
    if target.is_dir():
        stamp = (now or SystemClock().now()).strftime("%Y%m%d-%H%M%S")
        return target / f"{source.stem}-{stamp}.sqlite3"
    return target


def _refuse_live(source: Path, target: Path) -> None:
    live = source.resolve()
    dest = target.resolve()
    names = {live} | {live.with_name(live.name + s) for s in _SIDECARS}
    if dest in names or _same_file(source, target):
        raise StorageError(f"refusing to overwrite the live database {source} with its backup")
    if target.exists():
        if not target.is_file():
            raise StorageError(f"{target} exists and is not a file")
        with target.open("rb") as existing:
            head = existing.read(len(SQLITE_MAGIC))
        if head and head != SQLITE_MAGIC:
            raise StorageError(f"refusing to overwrite {target}: it is not an SQLite database")


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _apply_pending(conn: sqlite3.Connection) -> None:
    """In the copy: the leaderboard totals of the answers the bot had not applied yet
    (bot/storage/totals.py), and their review cards, so that its totals and cards count
    every attempt in it. A file at an older schema is left as it is: the bot applies them
    when it opens the file (after its migrations)."""
    if conn.execute(
        "SELECT 1 FROM pragma_table_info('attempts') WHERE name = 'review_rating'"
    ).fetchone():
        conn.execute("BEGIN IMMEDIATE")
        apply_all(conn)
        conn.execute("COMMIT")


def backup(source: Path, target: Path, *, folder: bool = False) -> BackupResult:
    """Copy the live database `source` to `target` (a file, or a folder for a dated file;
    `folder`: a folder, created if need be) with SQLite's online backup API: into a temporary
    file beside the target, checked (`quick_check`), made self-contained (rollback journal,
    no -wal file), synced, then renamed over the target. Never writes `source`. StorageError
    with a one-line reason."""
    started = time.perf_counter()
    if not source.is_file():
        raise StorageError(f"no database at {source}")
    target = backup_target(source, target, folder=folder)
    if not target.parent.is_dir():
        raise StorageError(f"no folder {target.parent} for the backup")
    _refuse_live(source, target)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        src = _read_only(source)
        try:
            dst = sqlite3.connect(temporary)
            try:
                src.backup(dst)  # all pages in one step: one read transaction, one snapshot
                dst.execute("PRAGMA journal_mode = DELETE")  # one file; the bot sets WAL again
                _apply_pending(dst)
                _quick_check(dst, temporary)
                schema = int(dst.execute("PRAGMA user_version").fetchone()[0])
                try:
                    attempts: int | None = int(
                        dst.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
                    )
                except sqlite3.Error:  # an empty or foreign database: no attempts table
                    attempts = None
            finally:
                dst.close()
        finally:
            src.close()
        _fsync(temporary)
        os.replace(temporary, target)
        _fsync(target.parent, directory=True)
    except sqlite3.Error as exc:
        raise StorageError(f"backup of {source} failed: {exc}") from exc
    except OSError as exc:
        raise StorageError(f"backup to {target} failed: {exc.strerror or exc}") from exc
    finally:
        for leftover in (temporary, *(Path(f"{temporary}{s}") for s in _SIDECARS)):
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
    return BackupResult(
        target=target,
        size=target.stat().st_size,
        schema=schema,
        attempts=attempts,
        seconds=time.perf_counter() - started,
    )
