"""`python -m bot health` and `python -m bot backup PATH`: operations on a running bot's files.

Both print one line and exit 0 (ok) or 1 (with the reason); never a traceback for a problem
the operator can fix. Exit code 1 rather than 2 for a bad configuration too: Docker reserves 2
in health checks.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from bot.app.settings import Settings, configuration_problems
from bot.app.shards import heartbeat_process
from bot.core.ports import SystemClock
from bot.storage.db import StorageError
from bot.storage.location import DbLocation, redact
from bot.storage.maintenance import Probe, backup, probe

OK, FAILED = 0, 1


def _settings() -> Settings | None:
    try:
        return Settings()
    except ValidationError as exc:
        print(f"configuration: {'; '.join(configuration_problems(exc))}", file=sys.stderr)
        return None


def _describe(value: str) -> str:
    """The heartbeat's value as `latency 42 ms, 3 guild(s)` (or as recorded, if not JSON)."""
    try:
        seen = json.loads(value)
    except ValueError:
        return value[:80]
    if not isinstance(seen, dict):
        return value[:80]
    parts = []
    if isinstance(seen.get("latency_ms"), int | float):
        parts.append(f"latency {seen['latency_ms']:g} ms")
    if isinstance(seen.get("guilds"), int):
        parts.append(f"{seen['guilds']} guild(s)")
    return ", ".join(parts)


def assess(
    found: Probe,
    now: datetime,
    max_age_s: float,
    where: str | None = None,
    process: str = "",
) -> tuple[bool, str]:
    """(healthy, one line) from what the probe found (`where`: how to name the database).

    `process` is the bot process this `health` runs beside (its shards, from BOT_SHARD_COUNT /
    BOT_SHARD_IDS: each service of a sharded bot checks its own heartbeat); without shard
    settings every process that recorded one must be fresh."""
    where = where or f"database {found.path} (schema {found.schema}, quick_check ok)"
    beats = dict(found.heartbeats)
    if not beats and found.heartbeat is not None:
        beats[""] = found.heartbeat
    judged = {process: beats[process]} if process in beats else ({} if process else beats)
    if not judged:
        mine = f" of {process}" if process else ""
        return False, f"{where}; no gateway heartbeat{mine} yet: has the bot connected to Discord?"
    stale: list[str] = []
    fresh: list[str] = []
    for name, (value, at) in sorted(judged.items()):
        age = max(0.0, (now - at).total_seconds())
        seen = _describe(value)
        detail = f" ({seen})" if seen else ""
        of = f" of {name}" if name else ""
        if age > max_age_s:
            stale.append(f"last gateway heartbeat{of} {age:.0f} s ago{detail}")
        else:
            fresh.append(f"gateway heartbeat{of} {age:.1f} s ago{detail}")
    others = sorted(name for name in beats if name not in judged)
    besides = f"; other processes: {', '.join(others)}" if others else ""
    if stale:
        return False, (
            f"{where}; {', '.join(stale)}, older than BOT_HEALTH_MAX_AGE={max_age_s:g} s: the"
            f" bot is down, disconnected or stuck{besides}"
        )
    return True, f"{where}; {', '.join(fresh)}{besides}"


def own_process(settings: Settings) -> str:
    """The process whose heartbeat `health` checks: the shards the settings name ("" without
    shard settings: every process)."""
    return heartbeat_process(settings.shards)


def health() -> int:
    """0 when the database is sound and the bot's gateway heartbeat is fresh; else 1."""
    settings = _settings()
    if settings is None:
        return FAILED
    location = settings.database
    if location.url is not None:
        return _health_postgres(settings, location)
    assert location.path is not None
    try:
        found = probe(location.path)
    except StorageError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return FAILED
    healthy, line = assess(
        found, datetime.now(UTC), settings.health_max_age_s, process=own_process(settings)
    )
    if healthy:
        print(f"ok: {line}")
        return OK
    print(f"unhealthy: {line}", file=sys.stderr)
    return FAILED


def _health_postgres(settings: Settings, location: DbLocation) -> int:
    """`health` on PostgreSQL: the database opens at this code's schema (the store checks and,
    like the bot, migrates it) and the last gateway heartbeat is fresh."""
    import asyncio

    from bot.storage.postgres import open_postgres

    assert location.url is not None
    url = location.url

    async def read() -> dict[str, tuple[str, datetime]]:
        store = await open_postgres(url, SystemClock(), pool_size=1)
        try:
            return await store.heartbeats()
        finally:
            await store.close()

    try:
        beats = asyncio.run(read())
    except (StorageError, OSError) as exc:
        print(f"unhealthy: database {location.shown}: {redact(str(exc))}", file=sys.stderr)
        return FAILED
    newest = max(beats.values(), key=lambda beat: beat[1], default=None)
    found = Probe(path=Path(), schema=0, heartbeat=newest, heartbeats=beats)  # `where` names it
    where = f"database {location.shown} (PostgreSQL)"
    healthy, line = assess(
        found, datetime.now(UTC), settings.health_max_age_s, where, own_process(settings)
    )
    print(
        f"ok: {line}" if healthy else f"unhealthy: {line}",
        file=sys.stdout if healthy else sys.stderr,
    )
    return OK if healthy else FAILED


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def backup_command(target: Path | str) -> int:
    """Back the configured database up to `target` (a file, or a folder for a dated file;
    written with a trailing `/`, a folder that is created if need be)."""
    settings = _settings()
    if settings is None:
        return FAILED
    location = settings.database
    if location.path is None:  # PostgreSQL: its own tools back it up, consistently and online
        print(
            f"backup: BOT_DB is a PostgreSQL database ({location.shown}); `backup` copies an"
            " SQLite file. Use pg_dump, e.g. pg_dump --format=custom --file=bot.dump"
            ' "$BOT_DB" (restore: pg_restore --dbname=URL bot.dump), or `python -m bot db copy'
            ' "$BOT_DB" FILE.sqlite3` for an SQLite copy',
            file=sys.stderr,
        )
        return FAILED
    folder = isinstance(target, str) and target.endswith(("/", os.sep))
    try:
        done = backup(location.path, Path(target).expanduser(), folder=folder)
    except StorageError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return FAILED
    attempts = f", {done.attempts:,} attempts" if done.attempts is not None else ""
    print(
        f"backed up {location.path} to {done.target}: {_size(done.size)}, schema"
        f" {done.schema}{attempts}, {done.seconds:.2f} s"
    )
    return OK
