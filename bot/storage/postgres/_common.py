"""What the PostgreSQL store's areas share: times, row mapping, the instance id counter."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from bot.core.models import Difficulty, Kind, QuestionInstance
from bot.core.ports import Clock
from bot.storage.postgres._db import PgDatabase


def utc(at: datetime) -> datetime:
    """A time as stored: in UTC; a naive one is refused (the core works in UTC only)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: the core works in UTC only")
    return at.astimezone(UTC)


def read_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class Area:
    """One area of the store: its database and clock (set by `PostgresStore`)."""

    db: PgDatabase
    clock: Clock


INSTANCE_COLUMNS = (
    "id, ref, kind, topic, difficulty, server_id, channel_id, message_id, lang, created_at,"
    " daily_day"
)
# $1..$11 in INSTANCE_COLUMNS order; a row whose id is stored already keeps its row.
INSERT_INSTANCE = (
    f"INSERT INTO question_instances ({INSTANCE_COLUMNS})"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING"
)


def instance_of(row: asyncpg.Record) -> QuestionInstance:
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
        created_at=read_utc(row["created_at"]),
        daily_day=row["daily_day"],
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
        utc(i.created_at),
        i.daily_day,
    )


# Take $1 ids from the shared counter; returns the first. One statement: the counter's row is
# locked only while it runs, so processes reserving blocks at once never wait on a transaction.
RESERVE_IDS = (
    "UPDATE id_counters SET next_id = next_id + $1 WHERE name = 'question_instances'"
    " RETURNING next_id - $1"
)
