"""`python -m bot db copy SOURCE TARGET`: move a bot's data between SQLite and PostgreSQL.

One line either way: the counts (exit 0) or why not (exit 1); never a traceback for a problem
the operator can fix, never a password.
"""

from __future__ import annotations

import asyncio
import sys

from bot.storage.copy import CopyResult, copy_database, plural
from bot.storage.db import StorageError
from bot.storage.location import BadLocation, parse_location, redact

OK, FAILED = 0, 1


def copy_command(source: str, target: str) -> int:
    if not source.strip() or not target.strip():  # (an empty path would mean BOT_DB's default)
        empty = "SOURCE" if not source.strip() else "TARGET"
        print(
            f"db copy: {empty} is empty: give an SQLite file or a PostgreSQL URL", file=sys.stderr
        )
        return FAILED
    try:
        src, dst = parse_location(source), parse_location(target)
    except BadLocation as exc:
        print(f"db copy: {exc}", file=sys.stderr)
        return FAILED
    try:
        done = asyncio.run(copy_database(src, dst))
    except (StorageError, OSError) as exc:
        print(f"db copy: {redact(str(exc))}", file=sys.stderr)
        return FAILED
    print(summary(done, src.shown, dst.shown))
    if not done.data_rows:
        print(
            f"db copy: warning: {src.shown} holds no data: only the schema was copied",
            file=sys.stderr,
        )
    return OK


def summary(done: CopyResult, source: str, target: str) -> str:
    """The one line of a copy that worked."""
    tables = ", ".join(f"{table} {n:,}" for table, n in done.counts.items() if n)
    rows, count = plural(done.rows, "row"), len(done.counts)
    users, points = plural(done.board_users, "user"), plural(done.board_points, "point")
    return (
        f"copied {done.rows:,} {rows} in {count} {plural(count, 'table')} from {source} to"
        f" {target} in {done.seconds:.1f} s ({tables or 'all empty'}); checked on the target:"
        f" every table's row count, and the leaderboards ({done.board_users:,} {users},"
        f" {done.board_points:,} {points})"
    )
