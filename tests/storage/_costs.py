"""What a statement costs, as the database counts it (not in time, which load changes): the
pages PostgreSQL touches and the virtual-machine steps SQLite runs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def pages_of(plan_json: str) -> tuple[int, bool]:
    """From `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`: the pages the statement touched (shared
    buffers hit or read) and whether JIT compiled it."""
    (plan,) = json.loads(plan_json)
    top = plan["Plan"]
    return int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"]), "JIT" in plan


def steps_of(conn: sqlite3.Connection, run: Callable[[], T]) -> tuple[int, T]:
    """The SQLite virtual-machine instructions `run` executes on `conn`, and its result (on the
    connection's thread)."""
    counted = 0

    def count() -> int:
        nonlocal counted
        counted += 1
        return 0  # go on

    conn.set_progress_handler(count, 1)  # called every instruction
    try:
        result = run()
    finally:
        conn.set_progress_handler(None, 0)
    return counted, result
