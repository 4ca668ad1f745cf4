"""Liveness: `python -m bot health` reads the heartbeats back with plain sqlite3 (see
`storage/maintenance`). One row per bot process: `gateway_heartbeat` for the one process that
runs every shard, `gateway_heartbeat:PROCESS` (e.g. `gateway_heartbeat:shards 0-1/4`) for each
process of a sharded bot."""

from __future__ import annotations

from datetime import datetime

from bot.storage.sqlite._common import Area, iso, parse_iso

HEARTBEAT_KEY = "gateway_heartbeat"


def heartbeat_key(process: str) -> str:
    return f"{HEARTBEAT_KEY}:{process}" if process else HEARTBEAT_KEY


def process_of_key(key: str) -> str:
    """The process a `health` row's key names (`heartbeat_key` read back)."""
    return key.removeprefix(HEARTBEAT_KEY).removeprefix(":")


# Every heartbeat row (the keys above), for the store and the health probe.
HEARTBEAT_ROWS = (
    "SELECT key, value, updated_at FROM health WHERE key = 'gateway_heartbeat'"
    " OR key LIKE 'gateway\\_heartbeat:%' ESCAPE '\\' ORDER BY key"
)


class Heartbeats(Area):
    HEARTBEAT_KEY = HEARTBEAT_KEY

    async def record_heartbeat(self, value: str, at: datetime, process: str = "") -> None:
        """The gateway is connected and ready at `at`; `value` says what was seen."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO health (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (heartbeat_key(process), value, iso(at)),
            )

    async def last_heartbeat(self) -> tuple[str, datetime] | None:
        """(value, time) of the newest heartbeat of any process, None if none was recorded."""
        beats = await self.heartbeats()
        return max(beats.values(), key=lambda beat: beat[1], default=None)

    async def heartbeats(self) -> dict[str, tuple[str, datetime]]:
        """The last heartbeat of every process: process -> (value, time)."""
        async with self.db.read() as conn, conn.execute(HEARTBEAT_ROWS) as cursor:
            rows = await cursor.fetchall()
        return {process_of_key(row[0]): (row[1], parse_iso(row[2])) for row in rows}
