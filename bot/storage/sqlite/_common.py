"""What the SQLite store's areas share: time format, row mapping, the instance id counter."""

from __future__ import annotations

from datetime import date

import aiosqlite

from bot.core.models import Difficulty, Kind, QuestionInstance
from bot.core.ports import Clock
from bot.storage.db import Database
from bot.storage.times import iso as iso  # the stored time format, for the areas
from bot.storage.times import parse_iso as parse_iso


class Area:
    """One area of the store: its database and clock (set by `SqliteStore`)."""

    db: Database
    clock: Clock


def instance_of(row: aiosqlite.Row) -> QuestionInstance:
    return QuestionInstance(
        id=row["id"],
        ref=row["ref"],
        kind=Kind(row["kind"]),
        topic=row["topic"],
        difficulty=Difficulty(row["difficulty"]),
        server_id=row["server_id"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        lang=row["lang"],
        created_at=parse_iso(row["created_at"]),
        daily_day=date.fromisoformat(row["daily_day"]) if row["daily_day"] else None,
    )


INSERT_INSTANCE = (
    "INSERT INTO question_instances (id, ref, kind, topic, difficulty, server_id, channel_id,"
    " message_id, lang, created_at, daily_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO NOTHING"  # an id stored already keeps its row
)


def instance_values(i: QuestionInstance) -> tuple[object, ...]:
    return (
        i.id,
        i.ref,
        i.kind.value,
        i.topic,
        i.difficulty.value,
        i.server_id,
        i.channel_id,
        i.message_id,
        i.lang,
        iso(i.created_at),
        i.daily_day.isoformat() if i.daily_day else None,
    )


async def reserve_ids(conn: aiosqlite.Connection, count: int) -> int:
    """Take `count` question instance ids from the counter; returns the first."""
    rows = await conn.execute_fetchall(
        "UPDATE id_counters SET next_id = next_id + ? WHERE name = 'question_instances'"
        " RETURNING next_id - ?",
        (count, count),
    )
    return int(next(iter(rows))[0])
