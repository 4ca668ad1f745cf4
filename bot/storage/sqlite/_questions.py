"""Posted questions (instances) and what was served to whom."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime

from bot.core.models import Lang, NewInstance, QuestionInstance, ServedQuestion
from bot.storage.sqlite._common import (
    INSERT_INSTANCE,
    Area,
    instance_of,
    instance_values,
    iso,
    reserve_ids,
)

# Take ? ids from the counter; returns the first (as `reserve_ids`, on the database's thread).
RESERVE_IDS = (
    "UPDATE id_counters SET next_id = next_id + ? WHERE name = 'question_instances'"
    " RETURNING next_id - ?"
)

log = logging.getLogger(__name__)


class Questions(Area):
    async def create_instance(
        self,
        served: ServedQuestion,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang,
        at: datetime,
        daily_day: date | None = None,
        served_to: int | None = None,
        *,
        instance_id: int | None = None,
        message_id: str | None = None,
    ) -> QuestionInstance:
        # Through the group commit: posted at the same moment as answers, one commit for all.
        def work(conn: sqlite3.Connection) -> QuestionInstance:
            number = instance_id
            if number is None:
                (row,) = conn.execute(RESERVE_IDS, (1, 1)).fetchall()
                number = int(row[0])
            else:  # e.g. a restore: the counter must not hand this id out later
                conn.execute(
                    "UPDATE id_counters SET next_id = MAX(next_id, ? + 1)"
                    " WHERE name = 'question_instances'",
                    (number,),
                )
            instance = QuestionInstance.of(
                served, number, server_id, channel_id, lang, at, message_id, daily_day
            )
            found = conn.execute(
                f"{INSERT_INSTANCE} RETURNING *", instance_values(instance)
            ).fetchone()
            if found is None:  # stored already (a restore of a row that did land): keep it
                found = conn.execute(
                    "SELECT * FROM question_instances WHERE id = ?", (number,)
                ).fetchone()
            elif served_to is not None and served.question_id is not None:
                conn.execute(
                    "INSERT INTO served (user_id, ref, served_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (user_id, ref) DO UPDATE SET served_at = excluded.served_at",
                    (served_to, served.question_id, iso(at)),
                )
            return instance_of(found)

        return await self.db.group(work)

    async def create_instances(self, new: Sequence[NewInstance]) -> None:
        # Through the group commit: the posted rows of a burst share the answers' commit.
        def work(conn: sqlite3.Connection) -> None:
            inserted = conn.executemany(INSERT_INSTANCE, [instance_values(n.instance) for n in new])
            if inserted.rowcount != len(new):  # ids taken already: never ours to overwrite
                log.warning(
                    "%d of %d posted question(s) were stored already; kept as they were",
                    len(new) - inserted.rowcount,
                    len(new),
                )
            conn.executemany(
                "INSERT INTO served (user_id, ref, served_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id, ref) DO UPDATE SET served_at = excluded.served_at"
                " WHERE excluded.served_at > served.served_at",
                [
                    (n.served_to, n.question_id, iso(n.instance.created_at))
                    for n in new
                    if n.served_to is not None and n.question_id is not None
                ],
            )

        await self.db.group(work)

    async def reserve_instance_ids(self, count: int) -> int:
        async with self.db.transaction() as conn:
            return await reserve_ids(conn, count)

    async def set_instance_message(self, instance_id: int, message_id: str) -> None:
        # Through the group commit, after the row's own write (one queue: in order).
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE question_instances SET message_id = ? WHERE id = ?",
                (message_id, instance_id),
            )

        await self.db.group(work)

    async def get_instance(self, instance_id: int) -> QuestionInstance | None:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT * FROM question_instances WHERE id = ?", (instance_id,)
            )
        return next((instance_of(row) for row in rows), None)

    async def recent_refs(self, user_id: int, limit: int) -> list[str]:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT ref FROM served WHERE user_id = ? ORDER BY served_at DESC LIMIT ?",
                (user_id, limit),
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [row[0] for row in rows]
