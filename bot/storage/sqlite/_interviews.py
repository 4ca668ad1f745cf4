"""Mock interviews: a JSON state saved with optimistic versioning."""

from __future__ import annotations

from datetime import datetime

from bot.storage.sqlite._common import Area, iso


class Interviews(Area):
    async def create_interview(
        self, user_id: int, server_id: int | None, state: str, at: datetime
    ) -> int:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO interviews (user_id, server_id, status, state, created_at,"
                " updated_at) VALUES (?, ?, 'active', ?, ?, ?)",
                (user_id, server_id, state, iso(at), iso(at)),
            )
            interview_id = cursor.lastrowid
            await cursor.close()
        assert interview_id is not None
        return interview_id

    async def save_interview(
        self, interview_id: int, status: str, state: str, version: int, at: datetime
    ) -> bool:
        """Save if nobody saved since `version` was read; False (nothing written) otherwise."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE interviews SET status = ?, state = ?, version = version + 1,"
                " updated_at = ? WHERE id = ? AND version = ?",
                (status, state, iso(at), interview_id, version),
            )
            saved = cursor.rowcount == 1
            await cursor.close()
        return saved

    async def get_interview(self, interview_id: int) -> tuple[str, int] | None:
        """(state JSON, version) of an interview."""
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT state, version FROM interviews WHERE id = ?", (interview_id,)
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return (row[0], row[1]) if row else None

    async def active_interview_id(self, user_id: int) -> int | None:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT id FROM interviews WHERE user_id = ? AND status = 'active'"
                " ORDER BY id DESC LIMIT 1",
                (user_id,),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def active_interview_ids(self) -> list[int]:
        async with (
            self.db.read() as conn,
            conn.execute("SELECT id FROM interviews WHERE status = 'active' ORDER BY id") as cur,
        ):
            rows = await cur.fetchall()
        return [int(row[0]) for row in rows]

    async def active_interviews(self) -> list[tuple[int, str | None]]:
        """Every interview still running, oldest first, with its server's external id."""
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT i.id, s.external_id FROM interviews i"
                " LEFT JOIN servers s ON s.id = i.server_id"
                " WHERE i.status = 'active' ORDER BY i.id"
            ) as cur,
        ):
            rows = await cur.fetchall()
        return [(int(row[0]), None if row[1] is None else str(row[1])) for row in rows]
