"""Daily question settings and the question of each scope and day."""

from __future__ import annotations

from datetime import date, datetime

from bot.core.models import DailySetting, Lang, QuestionInstance, ServedQuestion
from bot.storage.sqlite._common import (
    INSERT_INSTANCE,
    Area,
    instance_of,
    instance_values,
    reserve_ids,
)

_DAILY_SQL = (
    "SELECT i.* FROM daily_questions d JOIN question_instances i ON i.id = d.instance_id"
    " WHERE d.scope = ? AND d.day = ?"
)


class Dailies(Area):
    async def set_daily(
        self,
        server_id: int,
        channel_id: str,
        time_utc: str,
        user_id: int | None,
        lang: Lang | None = None,
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO daily_settings (server_id, channel_id, time_utc, created_by, lang)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (server_id) DO UPDATE SET"
                " channel_id = excluded.channel_id, time_utc = excluded.time_utc,"
                " created_by = excluded.created_by, lang = excluded.lang",
                (server_id, channel_id, time_utc, user_id, lang),
            )

    async def disable_daily(self, server_id: int) -> bool:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM daily_settings WHERE server_id = ?", (server_id,)
            )
            removed = cursor.rowcount == 1
            await cursor.close()
        return removed

    async def daily_settings(self) -> list[DailySetting]:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT d.*, s.external_id FROM daily_settings d"
                " JOIN servers s ON s.id = d.server_id ORDER BY d.server_id"
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [
            DailySetting(
                server_id=row["server_id"],
                server_external_id=row["external_id"],
                channel_id=row["channel_id"],
                time_utc=row["time_utc"],
                last_day=date.fromisoformat(row["last_day"]) if row["last_day"] else None,
                lang=row["lang"],
            )
            for row in rows
        ]

    async def daily_instance(self, scope: str, day: date) -> QuestionInstance | None:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(_DAILY_SQL, (scope, day.isoformat()))
        return next((instance_of(row) for row in rows), None)

    async def create_daily(
        self,
        scope: str,
        day: date,
        served: ServedQuestion,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang,
        at: datetime,
    ) -> QuestionInstance:
        """Store `served` as the scope's question of `day`; if another process stored one
        first, that one (unchanged)."""
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(_DAILY_SQL, (scope, day.isoformat()))
            found = next((instance_of(row) for row in rows), None)
            if found is not None:
                return found
            instance = QuestionInstance.of(
                served, await reserve_ids(conn, 1), server_id, channel_id, lang, at, None, day
            )
            await conn.execute(INSERT_INSTANCE, instance_values(instance))
            await conn.execute(
                "INSERT INTO daily_questions (scope, day, instance_id) VALUES (?, ?, ?)",
                (scope, day.isoformat(), instance.id),
            )
        return instance

    async def claim_daily(self, server_id: int, day: date) -> bool:
        """Mark today's daily question as posted; False if it already was (no double post)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE daily_settings SET last_day = ? WHERE server_id = ?"
                " AND (last_day IS NULL OR last_day < ?)",
                (day.isoformat(), server_id, day.isoformat()),
            )
            claimed = cursor.rowcount == 1
            await cursor.close()
        return claimed
