"""Mock interviews: a JSON state saved with optimistic versioning."""

from __future__ import annotations

from datetime import datetime

from bot.storage.postgres._common import Area, utc
from bot.storage.postgres._db import affected


class Interviews(Area):
    async def create_interview(
        self, user_id: int, server_id: int | None, state: str, at: datetime
    ) -> int:
        value = await self.db.fetchval(
            "INSERT INTO interviews (user_id, server_id, status, state, created_at, updated_at)"
            " VALUES ($1, $2, 'active', $3, $4, $4) RETURNING id",
            user_id,
            server_id,
            state,
            utc(at),
        )
        return int(value)

    async def save_interview(
        self, interview_id: int, status: str, state: str, version: int, at: datetime
    ) -> bool:
        """Save if nobody saved since `version` was read; False (nothing written) otherwise.
        The version check is in the UPDATE itself: of two processes saving the same version at
        once, the second waits for the first's row and then finds the version moved on."""
        status_line = await self.db.execute(
            "UPDATE interviews SET status = $1, state = $2, version = version + 1,"
            " updated_at = $3 WHERE id = $4 AND version = $5",
            status,
            state,
            utc(at),
            interview_id,
            version,
        )
        return affected(status_line) == 1

    async def get_interview(self, interview_id: int) -> tuple[str, int] | None:
        """(state JSON, version) of an interview."""
        row = await self.db.fetchrow(
            "SELECT state, version FROM interviews WHERE id = $1", interview_id
        )
        return (row[0], row[1]) if row else None

    async def active_interview_id(self, user_id: int) -> int | None:
        value = await self.db.fetchval(
            "SELECT id FROM interviews WHERE user_id = $1 AND status = 'active'"
            " ORDER BY id DESC LIMIT 1",
            user_id,
        )
        return None if value is None else int(value)

    async def active_interview_ids(self) -> list[int]:
        rows = await self.db.fetch("SELECT id FROM interviews WHERE status = 'active' ORDER BY id")
        return [int(row[0]) for row in rows]

    async def active_interviews(self) -> list[tuple[int, str | None]]:
        """Every interview still running, oldest first, with its server's external id."""
        rows = await self.db.fetch(
            "SELECT i.id, s.external_id FROM interviews i"
            " LEFT JOIN servers s ON s.id = i.server_id"
            " WHERE i.status = 'active' ORDER BY i.id"
        )
        return [(int(row[0]), row[1]) for row in rows]
