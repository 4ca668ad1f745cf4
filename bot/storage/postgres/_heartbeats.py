"""Liveness: each bot process's last gateway heartbeat, for `python -m bot health`. One row
per process, keyed as in SQLite: `gateway_heartbeat` for the one process that runs every shard,
`gateway_heartbeat:PROCESS` (e.g. `gateway_heartbeat:shards 0-1/4`) for each process of a
sharded bot."""

from __future__ import annotations

from datetime import datetime

from bot.storage.postgres._common import Area, read_utc, utc

HEARTBEAT_KEY = "gateway_heartbeat"


def heartbeat_key(process: str) -> str:
    return f"{HEARTBEAT_KEY}:{process}" if process else HEARTBEAT_KEY


def heartbeat_process(key: str) -> str:
    """The process a `health` row's key names (`heartbeat_key` read back)."""
    return key.removeprefix(HEARTBEAT_KEY).removeprefix(":")


class Heartbeats(Area):
    HEARTBEAT_KEY = HEARTBEAT_KEY

    async def record_heartbeat(self, value: str, at: datetime, process: str = "") -> None:
        """The gateway is connected and ready at `at`; `value` says what was seen."""
        await self.db.execute(
            "INSERT INTO health (key, value, updated_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            heartbeat_key(process),
            value,
            utc(at),
        )

    async def last_heartbeat(self) -> tuple[str, datetime] | None:
        """(value, time) of the newest heartbeat of any process, None if none was recorded."""
        beats = await self.heartbeats()
        return max(beats.values(), key=lambda beat: beat[1], default=None)

    async def heartbeats(self) -> dict[str, tuple[str, datetime]]:
        """The last heartbeat of every process: process -> (value, time)."""
        rows = await self.db.fetch(
            "SELECT key, value, updated_at FROM health WHERE key = $1"
            " OR starts_with(key, $1 || ':') ORDER BY key",
            HEARTBEAT_KEY,
        )
        return {heartbeat_process(row[0]): (row[1], read_utc(row[2])) for row in rows}
