"""Daily question settings and the question of each scope and day."""

from __future__ import annotations

from datetime import date, datetime

from bot.core.models import DailySetting, Lang, QuestionInstance, ServedQuestion
from bot.storage.postgres._common import (
    INSERT_INSTANCE,
    RESERVE_IDS,
    Area,
    instance_of,
    instance_values,
    utc,
)
from bot.storage.postgres._db import Conn, affected

_DAILY_SQL = (
    "SELECT i.* FROM daily_questions d JOIN question_instances i ON i.id = d.instance_id"
    " WHERE d.scope = $1 AND d.day = $2"
)


class _Lost(Exception):
    """Another process stored the day's question first: roll ours back."""


class Dailies(Area):
    async def set_daily(
        self,
        server_id: int,
        channel_id: str,
        time_utc: str,
        user_id: int | None,
        lang: Lang | None = None,
    ) -> None:
        await self.db.execute(
            "INSERT INTO daily_settings (server_id, channel_id, time_utc, created_by, lang)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (server_id) DO UPDATE SET"
            " channel_id = excluded.channel_id, time_utc = excluded.time_utc,"
            " created_by = excluded.created_by, lang = excluded.lang",
            server_id,
            channel_id,
            time_utc,
            user_id,
            lang,
        )

    async def disable_daily(self, server_id: int) -> bool:
        status = await self.db.execute("DELETE FROM daily_settings WHERE server_id = $1", server_id)
        return affected(status) == 1

    async def daily_settings(self) -> list[DailySetting]:
        rows = await self.db.fetch(
            "SELECT d.*, s.external_id FROM daily_settings d"
            " JOIN servers s ON s.id = d.server_id ORDER BY d.server_id"
        )
        return [
            DailySetting(
                server_id=row["server_id"],
                server_external_id=row["external_id"],
                channel_id=row["channel_id"],
                time_utc=row["time_utc"],
                last_day=row["last_day"],
                lang=row["lang"],
            )
            for row in rows
        ]

    async def daily_instance(self, scope: str, day: date) -> QuestionInstance | None:
        row = await self.db.fetchrow(_DAILY_SQL, scope, day)
        return instance_of(row) if row else None

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
        first, that one (unchanged). The (scope, day) key decides: of two processes at once,
        the second's insert waits for the first's commit and inserts nothing, and its own
        question row is rolled back with it."""
        found = await self.daily_instance(scope, day)
        if found is not None:
            return found
        first = int(await self.db.fetchval(RESERVE_IDS, 1))
        instance = QuestionInstance.of(
            served, first, server_id, channel_id, lang, utc(at), None, day
        )

        async def store(conn: Conn) -> QuestionInstance:
            await conn.execute(INSERT_INSTANCE, *instance_values(instance))
            won = await conn.fetchval(
                "INSERT INTO daily_questions (scope, day, instance_id) VALUES ($1, $2, $3)"
                " ON CONFLICT (scope, day) DO NOTHING RETURNING instance_id",
                scope,
                day,
                instance.id,
            )
            if won is None:
                raise _Lost
            return instance

        try:
            return await self.db.transaction(store)
        except _Lost:
            winner = await self.daily_instance(scope, day)
            assert winner is not None
            return winner

    async def claim_daily(self, server_id: int, day: date) -> bool:
        """Mark today's daily question as posted; False if it already was (no double post).
        One conditional UPDATE: a second process's waits for the first and then matches
        nothing."""
        status = await self.db.execute(
            "UPDATE daily_settings SET last_day = $1 WHERE server_id = $2"
            " AND (last_day IS NULL OR last_day < $1)",
            day,
            server_id,
        )
        return affected(status) == 1
