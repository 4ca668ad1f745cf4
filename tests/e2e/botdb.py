"""The bot's database in the end-to-end tests, on either engine: the `bot_db` fixture runs a
test once on an SQLite file and once on a fresh PostgreSQL database (tests/_postgres.py), and
lets it read what the bot recorded with the same SQL on both."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests._postgres import _run_in_thread

ENGINES = ["sqlite", "postgres"]


@dataclass(frozen=True)
class BotDb:
    """Where the bot keeps its data (`location` is its BOT_DB), and plain reads of it."""

    kind: str
    location: str

    @property
    def path(self) -> Path:
        assert self.kind == "sqlite", "an SQLite file only"
        return Path(self.location)

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """The rows of one query (`?` placeholders on both engines)."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.location) as conn:
                return [tuple(r) for r in conn.execute(sql, args).fetchall()]
        numbered = iter(range(1, sql.count("?") + 1))
        pg_sql = re.sub(r"\?", lambda _: f"${next(numbered)}", sql)

        async def fetch() -> list[tuple[Any, ...]]:
            conn = await asyncpg.connect(self.location)
            try:
                return [tuple(r) for r in await conn.fetch(pg_sql, *args)]
            finally:
                await conn.close()

        return _run_in_thread(fetch)

    def attempts(self) -> set[tuple[int, str]]:
        """(question instance, Discord user id) of every recorded attempt."""
        rows = self.rows(
            "SELECT a.instance_id, u.external_id FROM attempts a JOIN users u ON u.id = a.user_id"
        )
        return {(int(i), str(u)) for i, u in rows}

    def sound(self) -> bool:
        """SQLite's integrity check; PostgreSQL keeps its own (a query that answers)."""
        if self.kind == "sqlite":
            return self.rows("PRAGMA integrity_check") == [("ok",)]
        return self.rows("SELECT 1") == [(1,)]


@pytest.fixture(params=ENGINES)
def bot_db(request: pytest.FixtureRequest, tmp_path: Path) -> BotDb:
    """The bot's database: an SQLite file in tmp_path, or an empty PostgreSQL database."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return BotDb("postgres", url)
    return BotDb("sqlite", str(tmp_path / "bot.sqlite3"))
