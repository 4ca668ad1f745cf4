"""Users and servers."""

from __future__ import annotations

import sqlite3

import aiosqlite

from bot.core.models import LanguagePref, Server, User
from bot.storage.sqlite._common import Area, iso


def _user(row: aiosqlite.Row) -> User:
    return User(
        id=row["id"],
        platform=row["platform"],
        external_id=row["external_id"],
        name=row["name"],
        language=row["language"],
    )


def _server(row: aiosqlite.Row) -> Server:
    return Server(
        id=row["id"], platform=row["platform"], external_id=row["external_id"], name=row["name"]
    )


class Users(Area):
    async def get_or_create_user(self, platform: str, external_id: str, name: str) -> User:
        found = await self.find_user(platform, external_id)
        if found is not None and (not name or found.name == name):
            return found  # the common case: no write, no fsync
        now = iso(self.clock.now())

        # Through the group commit: the newcomers of a burst (a quiz's first question, say)
        # share commits with each other and with the answers, instead of a commit each.
        def work(conn: sqlite3.Connection) -> User:
            conn.execute(
                "INSERT INTO users (platform, external_id, name, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (platform, external_id) DO UPDATE SET name = excluded.name"
                " WHERE excluded.name <> '' AND excluded.name <> users.name",
                (platform, external_id, name, now),
            )
            row = conn.execute(
                "SELECT * FROM users WHERE platform = ? AND external_id = ?",
                (platform, external_id),
            ).fetchone()
            return _user(row)

        return await self.db.group(work)

    async def get_user(self, user_id: int) -> User | None:
        async with (
            self.db.read() as conn,
            conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)) as cursor,
        ):
            row = await cursor.fetchone()
        return _user(row) if row else None

    async def find_user(self, platform: str, external_id: str) -> User | None:
        # execute_fetchall: one trip to aiosqlite's thread instead of three (execute, fetch,
        # close); reads on the answer path are mostly that overhead (bench/answers.py).
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT * FROM users WHERE platform = ? AND external_id = ?",
                (platform, external_id),
            )
        return next((_user(row) for row in rows), None)

    async def set_language(self, user_id: int, language: LanguagePref) -> User:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))
            async with conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)) as cursor:
                row = await cursor.fetchone()
        if row is None:
            raise KeyError(user_id)
        return _user(row)

    async def get_or_create_server(self, platform: str, external_id: str, name: str) -> Server:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT * FROM servers WHERE platform = ? AND external_id = ?",
                (platform, external_id),
            ) as cursor,
        ):
            found = await cursor.fetchone()
        if found is not None and (not name or found["name"] == name):
            return _server(found)  # the common case: no write
        now = iso(self.clock.now())
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO servers (platform, external_id, name, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (platform, external_id) DO UPDATE SET name = excluded.name"
                " WHERE excluded.name <> '' AND excluded.name <> servers.name",
                (platform, external_id, name, now),
            )
            async with conn.execute(
                "SELECT * FROM servers WHERE platform = ? AND external_id = ?",
                (platform, external_id),
            ) as cursor:
                row = await cursor.fetchone()
        assert row is not None
        return _server(row)
