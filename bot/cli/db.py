"""`python -m bot db copy SOURCE TARGET`: move a bot's data between SQLite and PostgreSQL.

One line either way: the counts (exit 0) or why not (exit 1); never a traceback for a problem
the operator can fix, never a password.
"""

from __future__ import annotations

import asyncio
import sys

from bot.storage.copy import copy_database
from bot.storage.db import StorageError
from bot.storage.location import BadLocation, parse_location, redact

OK, FAILED = 0, 1


def copy_command(source: str, target: str) -> int:
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
    tables = ", ".join(f"{table} {n:,}" for table, n in done.counts.items() if n)
    print(
        f"copied {done.rows:,} rows in {len(done.counts)} tables from {src.shown} to {dst.shown}"
        f" in {done.seconds:.1f} s ({tables or 'all empty'}); checked on the target: every"
        f" table's row count, and the leaderboards ({done.board_users:,} users,"
        f" {done.board_points:,} points)"
    )
    return OK
