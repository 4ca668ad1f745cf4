"""The leaderboard totals behind the answers (bot/storage/totals.py) when things go wrong: a
backlog applied in chunks, an attempt whose user row was deleted by hand, the write lock held
by someone else, an answer finishing while the database closes. Real SQLite files."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

import bot.storage.db as db_module
import bot.storage.totals as totals
from bot.storage.copy import copy_database
from bot.storage.db import Database
from bot.storage.location import DbLocation
from bot.storage.sqlite import SqliteStore

from .test_totals_behind import (
    _STORED,
    answer,
    answer_and_crash,
    global_points,
    pending,
    rows,
    totals_match_attempts,
)


@pytest.fixture
def no_background(monkeypatch: pytest.MonkeyPatch) -> None:
    """Totals left pending until something applies them (no background apply in the test)."""
    monkeypatch.setattr(totals, "DELAY_S", 3600.0)
    monkeypatch.setattr(totals, "FLUSH_AT", 10**9)


async def test_a_backlog_is_applied_in_chunks_each_its_own_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    answer_and_crash(path, 40)
    monkeypatch.setattr(totals, "CHUNK", 7)
    copied = DbLocation(path=tmp_path / "copy.sqlite3")
    await copy_database(DbLocation(path=path), copied)  # the read-only source: every chunk
    db = await Database.open(path)
    try:
        assert db.totals.applies == 6  # 40 attempts, 7 at a time: the lock taken in turns
        assert pending(path) == 0
    finally:
        await db.close()
    assert totals_match_attempts(path)
    assert copied.path is not None
    assert rows(copied.path, _STORED) == rows(path, _STORED)


async def test_an_attempt_whose_user_was_deleted_by_hand_does_not_stop_the_others(
    tmp_path: Path, no_background: None
) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        ann = await store.get_or_create_user("discord", "1", "ann")
        bob = await store.get_or_create_user("discord", "2", "bob")
        await answer(store, bob.id, None, 5)
        await answer(store, ann.id, None, 3)
        assert pending(path) == 2
        # The sqlite3 shell's way: foreign keys off, so bob's attempts stay behind.
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("DELETE FROM users WHERE id = ?", (bob.id,))
            conn.commit()
        assert await global_points(store, ann.id) == 3
        assert pending(path) == 0
        await answer(store, ann.id, None, 2)  # and the next answers are counted as usual
        assert await global_points(store, ann.id) == 5
    finally:
        await db.close()


async def test_a_leaderboard_read_while_another_holds_the_write_lock_shows_the_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_background: None
) -> None:
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        ann = await store.get_or_create_user("discord", "1", "ann")
        await answer(store, ann.id, None, 3)
        assert await global_points(store, ann.id) == 3
        await answer(store, ann.id, None, 4)  # pending
        with closing(sqlite3.connect(path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # a long write elsewhere (a migration, say)
            assert await global_points(store, ann.id) == 3  # the board, a few answers behind
            other.execute("ROLLBACK")
        assert await global_points(store, ann.id) == 7
    finally:
        await db.close()


async def test_an_answer_counted_while_closing_schedules_nothing_after_the_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(totals, "DELAY_S", 0.01)
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    await db.close()
    with caplog.at_level(logging.WARNING):
        db.totals.added()  # an answer whose commit returned as the database closed
        for _ in range(20):  # 0.2 s: twenty times the delay it would have waited
            await asyncio.sleep(0.01)
    late = [r for r in caplog.records if r.name == totals.__name__ and r.levelno >= logging.WARNING]
    assert not late, caplog.text
