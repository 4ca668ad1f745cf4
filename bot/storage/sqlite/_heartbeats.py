"""Liveness: `python -m bot health` reads the heartbeat back with plain sqlite3 (see
`storage/maintenance`)."""

from __future__ import annotations

from datetime import datetime

from bot.storage.sqlite._common import Area, iso, parse_iso


class Heartbeats(Area):
    HEARTBEAT_KEY = "gateway_heartbeat"

    async def record_heartbeat(self, value: str, at: datetime) -> None:
        """The gateway is connected and ready at `at`; `value` says what was seen."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO health (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (self.HEARTBEAT_KEY, value, iso(at)),
            )

    async def last_heartbeat(self) -> tuple[str, datetime] | None:
        """(value, time) of the last heartbeat, None if the bot never recorded one."""
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT value, updated_at FROM health WHERE key = ?", (self.HEARTBEAT_KEY,)
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return (row[0], parse_iso(row[1])) if row else None
