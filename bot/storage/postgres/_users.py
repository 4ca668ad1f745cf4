"""Users and servers."""

from __future__ import annotations

import asyncpg

from bot.core.models import LanguagePref, Server, User
from bot.storage.postgres._common import Area, utc


def _user(row: asyncpg.Record) -> User:
    return User(
        id=row["id"],
        platform=row["platform"],
        external_id=row["external_id"],
        name=row["name"],
        language=row["language"],
    )


def _server(row: asyncpg.Record) -> Server:
    return Server(
        id=row["id"], platform=row["platform"], external_id=row["external_id"], name=row["name"]
    )


def _upsert(table: str) -> str:
    """Insert, or (the row exists: another process may have inserted it since we looked)
    keep it, taking the new name unless that is empty. DO UPDATE always returns the row: one
    round trip. Only run when the name differs or the row was not there."""
    return (
        f"INSERT INTO {table} (platform, external_id, name, created_at) VALUES ($1, $2, $3, $4)"
        f" ON CONFLICT (platform, external_id) DO UPDATE SET name = CASE"
        f" WHEN excluded.name <> '' THEN excluded.name ELSE {table}.name END RETURNING *"
    )


_UPSERT_USER = _upsert("users")
_UPSERT_SERVER = _upsert("servers")


class Users(Area):
    async def get_or_create_user(self, platform: str, external_id: str, name: str) -> User:
        found = await self.find_user(platform, external_id)
        if found is not None and (not name or found.name == name):
            return found  # the common case: no write
        row = await self.db.fetchrow(
            _UPSERT_USER, platform, external_id, name, utc(self.clock.now())
        )
        assert row is not None
        return _user(row)

    async def get_user(self, user_id: int) -> User | None:
        row = await self.db.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
        return _user(row) if row else None

    async def find_user(self, platform: str, external_id: str) -> User | None:
        row = await self.db.fetchrow(
            "SELECT * FROM users WHERE platform = $1 AND external_id = $2", platform, external_id
        )
        return _user(row) if row else None

    async def set_language(self, user_id: int, language: LanguagePref) -> User:
        row = await self.db.fetchrow(
            "UPDATE users SET language = $1 WHERE id = $2 RETURNING *", language, user_id
        )
        if row is None:
            raise KeyError(user_id)
        return _user(row)

    async def get_or_create_server(self, platform: str, external_id: str, name: str) -> Server:
        found = await self.db.fetchrow(
            "SELECT * FROM servers WHERE platform = $1 AND external_id = $2", platform, external_id
        )
        if found is not None and (not name or found["name"] == name):
            return _server(found)  # the common case: no write
        row = await self.db.fetchrow(
            _UPSERT_SERVER, platform, external_id, name, utc(self.clock.now())
        )
        assert row is not None
        return _server(row)
