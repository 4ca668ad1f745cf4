"""Question keys and daily questions in storage (migration 0005), on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.models import AttemptRecord, Difficulty, Kind, Localized, ServedQuestion
from bot.storage.db import Database, migrations
from bot.storage.sqlite import SqliteStore

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAY = AT.date()


def served(ref: str) -> ServedQuestion:
    return ServedQuestion(
        ref=ref,
        kind=Kind.NUMERIC,
        topic="cnn_models",
        difficulty=Difficulty.EASY,
        text=Localized(en="q", zh="题"),
    )


async def rewarded(store: SqliteStore, user_id: int, keys: list[str], since: datetime) -> set[str]:
    """The keys among `keys` that earned this user points since `since`."""
    answered = await store.keys_answered_since(user_id, keys, since)
    return {key for key, paid in answered.items() if paid}


async def test_upgrading_keeps_old_attempts_recognised_and_the_days_daily(db_path: Path) -> None:
    """Attempts from before 0005 get their ref as key (a generated one is still recognised
    under the seed it was answered with); a server's daily questions become its dailies."""
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        for version, _, sql in migrations()[:4]:
            conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
        conn.execute(
            "INSERT INTO users (platform, external_id, name, created_at)"
            " VALUES ('discord', '1', 'ann', 'x')"
        )
        conn.execute(
            "INSERT INTO servers (platform, external_id, name, created_at)"
            " VALUES ('discord', '9', 's', 'x')"
        )
        for instance, ref, server, day in (
            (1, "model_params:3", None, None),
            (2, "fx-sigmoid-max", 1, DAY.isoformat()),
            (3, "fx-zero-init", None, DAY.isoformat()),  # a console daily: no scope known
        ):
            conn.execute(
                "INSERT INTO question_instances (id, ref, kind, topic, difficulty, server_id,"
                " created_at, daily_day) VALUES (?, ?, 'mcq', 'cnn_models', 'easy', ?, ?, ?)",
                (instance, ref, server, AT.isoformat(), day),
            )
        conn.execute(
            "INSERT INTO attempts (instance_id, user_id, topic, ref, answer, correct, points,"
            " created_at) VALUES (1, 1, 'cnn_models', 'model_params:3', '1', 1, 1, ?)",
            (AT.isoformat(),),
        )
    db = await Database.open(db_path)
    try:
        store = SqliteStore(db)
        since = AT - timedelta(days=30)
        assert await rewarded(store, 1, ["model_params:3", "model_params#x"], since) == {
            "model_params:3"
        }
        assert await store.recent_keys(1, since, 10) == []  # generated ones only, once keyed
        daily = await store.daily_instance("server:1", DAY)
        assert daily is not None and daily.id == 2
        assert await store.daily_instance("server:1", DAY + timedelta(days=1)) is None
    finally:
        await db.close()


@pytest.mark.stores("sqlite", "postgres")
async def test_rewards_and_recent_questions_go_by_key(store: SqliteStore) -> None:
    user = await store.get_or_create_user("discord", "1", "ann")
    refs = ["model_params:3", "model_params:6", "conv_output:9", "fx-sigmoid-max"]
    keys = ["model_params#a", "model_params#a", "conv_output#b", "fx-sigmoid-max"]
    for number, (ref, key) in enumerate(zip(refs, keys, strict=True)):
        at = AT + timedelta(minutes=number)
        instance = await store.create_instance(served(ref), None, None, "en", at)
        recorded = await store.record_attempt(
            AttemptRecord(
                instance_id=instance.id,
                user_id=user.id,
                server_id=None,
                topic="cnn_models",
                ref=ref,
                question_key=key,
                answer="1",
                correct=True,
                points=1 if number == 0 else 0,
                at=at,
            )
        )
        assert recorded
    since = AT - timedelta(days=1)
    assert await rewarded(store, user.id, ["model_params#a", "conv_output#b"], since) == {
        "model_params#a"
    }
    assert await rewarded(store, user.id, ["model_params#a"], AT + timedelta(1)) == set()
    assert await store.recent_keys(user.id, since, 10) == ["conv_output#b", "model_params#a"]
    assert await store.recent_keys(user.id, since, 1) == ["conv_output#b"]


async def test_two_processes_choosing_the_daily_at_once_keep_one(db_path: Path) -> None:
    """Two connections (two processes) each store their choice for the same scope and day:
    the second gets the first one's question back; another scope or day is another."""
    first, second = await Database.open(db_path), await Database.open(db_path)
    try:
        stores = [SqliteStore(first), SqliteStore(second)]
        made = await asyncio.gather(
            *(
                store.create_daily("user:1", DAY, served(ref), None, None, "en", AT)
                for store, ref in zip(stores, ["fx-sigmoid-max", "fx-zero-init"], strict=True)
            )
        )
        assert made[0] == made[1] and made[0].daily_day == DAY
        other = await stores[1].create_daily(
            "user:2", DAY, served("fx-zero-init"), None, None, "en", AT
        )
        later = await stores[0].create_daily(
            "user:1", date(2026, 11, 26), served("fx-zero-init"), None, None, "en", AT
        )
        assert len({made[0].id, other.id, later.id}) == 3
        assert await stores[1].daily_instance("user:1", DAY) == made[0]
    finally:
        await first.close()
        await second.close()
