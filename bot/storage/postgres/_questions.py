"""Posted questions (instances) and what was served to whom."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date, datetime

from bot.core.models import Lang, NewInstance, QuestionInstance, ServedQuestion
from bot.storage.group import GroupWriter
from bot.storage.postgres._attempts import WRITERS
from bot.storage.postgres._common import (
    INSTANCE_COLUMNS,
    RESERVE_IDS,
    Area,
    instance_of,
    instance_values,
    utc,
)

log = logging.getLogger(__name__)

# The row's values as typed parameters $1..$11 (INSTANCE_COLUMNS order); in an INSERT ... SELECT
# PostgreSQL does not infer a parameter's type from the column it goes to.
_TYPED = (
    "$1::bigint, $2::text, $3::text, $4::text, $5::text, $6::bigint, $7::text, $8::text,"
    " $9::text, $10::timestamptz, $11::date"
)
# The served note of a new row ($12 user, $13 bank question), in the same statement.
_NOTE_SERVED = (
    "noted AS (INSERT INTO served (user_id, ref, served_at)"
    " SELECT $12::bigint, $13::text, created_at FROM ins"
    " WHERE $12::bigint IS NOT NULL AND $13::text IS NOT NULL"
    " ON CONFLICT (user_id, ref) DO UPDATE SET served_at = excluded.served_at)"
)
# A new id from the counter ($1 is ignored: NULL), the row, its served note: one statement.
_CREATE_NUMBERED = (
    "WITH taken AS (UPDATE id_counters SET next_id = next_id + 1"
    " WHERE name = 'question_instances' RETURNING next_id - 1 AS id),"
    f" ins AS (INSERT INTO question_instances ({INSTANCE_COLUMNS})"
    f" SELECT taken.id, {_TYPED.split(', ', 1)[1]} FROM taken WHERE $1::bigint IS NULL"
    f" RETURNING *), {_NOTE_SERVED} SELECT * FROM ins"
)
# An id given (reserved before, or a restore): the counter must not hand it out later; a row
# stored already under that id is kept as it is (nothing returned).
_CREATE_GIVEN = (
    "WITH bump AS (UPDATE id_counters SET next_id = GREATEST(next_id, $1::bigint + 1)"
    " WHERE name = 'question_instances'),"
    f" ins AS (INSERT INTO question_instances ({INSTANCE_COLUMNS}) SELECT {_TYPED}"
    f" ON CONFLICT (id) DO NOTHING RETURNING *), {_NOTE_SERVED} SELECT * FROM ins"
)
_CREATE_MANY = (
    f"WITH ins AS (INSERT INTO question_instances ({INSTANCE_COLUMNS})"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],"
    " $6::bigint[], $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::date[])"
    " ON CONFLICT (id) DO NOTHING RETURNING 1),"
    " noted AS (INSERT INTO served (user_id, ref, served_at)"
    " SELECT * FROM unnest($12::bigint[], $13::text[], $14::timestamptz[])"
    " ON CONFLICT (user_id, ref) DO UPDATE SET served_at = excluded.served_at"
    " WHERE excluded.served_at > served.served_at)"
    " SELECT count(*) FROM ins"
)


class Questions(Area):
    _posted: GroupWriter[NewInstance, None] | None = None

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
        instance = QuestionInstance.of(
            served, instance_id or 0, server_id, channel_id, lang, utc(at), message_id, daily_day
        )
        values = (instance_id, *instance_values(instance)[1:], served_to, served.question_id)
        sql = _CREATE_NUMBERED if instance_id is None else _CREATE_GIVEN
        row = await self.db.fetchrow(sql, *values)
        if row is None:  # stored already (a restore of a row that did land): keep it
            row = await self.db.fetchrow(
                "SELECT * FROM question_instances WHERE id = $1", instance_id
            )
        assert row is not None
        return instance_of(row)

    async def create_instances(self, new: Sequence[NewInstance]) -> None:
        # Through a group commit: the posts of a burst share a statement (and its commit).
        await asyncio.gather(*(self.posted_writer().submit(one) for one in new))

    def posted_writer(self) -> GroupWriter[NewInstance, None]:
        """The group commit of `create_instances`."""
        if self._posted is None:
            self._posted = GroupWriter(self._write_instances, writers=WRITERS)
        return self._posted

    async def close_posted(self) -> None:
        """Wait for the posted questions queued to be written (before the pool closes)."""
        if self._posted is not None:
            await self._posted.close()

    async def _write_instances(self, new: list[NewInstance]) -> list[None]:
        rows = [instance_values(n.instance) for n in new]
        columns = [list(column) for column in zip(*rows, strict=True)]
        latest: dict[tuple[int, str], datetime] = {}  # one note per (user, question): the last
        for n in new:
            if n.served_to is not None and n.question_id is not None:
                key = (n.served_to, n.question_id)
                at = utc(n.instance.created_at)
                latest[key] = max(at, latest.get(key, at))
        notes = sorted(latest.items())  # the same order in every process: no deadlock
        inserted = await self.db.fetchval(
            _CREATE_MANY,
            *columns,
            [user for (user, _), _ in notes],
            [ref for (_, ref), _ in notes],
            [at for _, at in notes],
        )
        if inserted != len(new):  # ids taken already: never ours to overwrite
            log.warning(
                "%d of %d posted question(s) were stored already; kept as they were",
                len(new) - inserted,
                len(new),
            )
        return [None] * len(new)

    async def reserve_instance_ids(self, count: int) -> int:
        return int(await self.db.fetchval(RESERVE_IDS, count))

    async def set_instance_message(self, instance_id: int, message_id: str) -> None:
        await self.db.execute(
            "UPDATE question_instances SET message_id = $1 WHERE id = $2", message_id, instance_id
        )

    async def get_instance(self, instance_id: int) -> QuestionInstance | None:
        row = await self.db.fetchrow("SELECT * FROM question_instances WHERE id = $1", instance_id)
        return instance_of(row) if row else None

    async def recent_refs(self, user_id: int, limit: int) -> list[str]:
        rows = await self.db.fetch(
            "SELECT ref FROM served WHERE user_id = $1 ORDER BY served_at DESC LIMIT $2",
            user_id,
            limit,
        )
        return [row[0] for row in rows]
