"""SQLite's review cards applied behind the answers (bot/storage/cards.py, with the leaderboard
totals of bot/storage/totals.py): whoever applies them and whenever (a read right after the
answers, a crash and a reopen, a reset, a `db copy`, a backup), a user's card is the one FSRS
gives for their answers in order, as the stores that write it with the answer give it. Real
SQLite files; each expected card is computed here, answer by answer, with `Reviewer`."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fsrs import Rating

import bot.storage.totals as totals
from bot.app.wiring import wire_engine
from bot.core.bank import load_bank
from bot.core.engine import Engine
from bot.core.models import (
    AttemptRecord,
    Difficulty,
    Kind,
    Localized,
    ReviewCard,
    ServedQuestion,
)
from bot.core.ports import AnswerContext, AnswerDraft, Decide, Store
from bot.core.review import Reviewer, review_item
from bot.storage.copy import copy_database
from bot.storage.db import Database
from bot.storage.location import DbLocation
from bot.storage.maintenance import backup
from bot.storage.memory import MemoryStore
from bot.storage.postgres import open_postgres
from bot.storage.sqlite import SqliteStore

if TYPE_CHECKING:  # the crash's subprocess imports this module: not torch (bot.checkers)
    from bot.checkers import TorchCheckers

    from ..conftest import FakeClock

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"
AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# One answer: (user's external id, ref, topic, rating, hours after AT).
Answer = tuple[str, str, str, Rating, float]
Key = tuple[str, str]  # (user's external id, item)

# Two users, a written question and two seeds of one family (one item: `family:conv_output`),
# every rating; the users' answers interleaved, not in time order (each user's own are).
PLAN: list[Answer] = [
    ("1", "fx-sigmoid-max", "vanishing_gradients", Rating.Again, 0),
    ("2", "fx-sigmoid-max", "vanishing_gradients", Rating.Good, 1),
    ("1", "conv_output:11", "cnn", Rating.Good, 2),
    ("1", "fx-sigmoid-max", "vanishing_gradients", Rating.Good, 5),
    ("1", "conv_output:12", "cnn", Rating.Hard, 30),
    ("2", "fx-sigmoid-max", "vanishing_gradients", Rating.Again, 26),
    ("1", "fx-sigmoid-max", "vanishing_gradients", Rating.Easy, 50),
    ("1", "fx-sigmoid-max", "vanishing_gradients", Rating.Hard, 200),
    ("2", "conv_output:11", "cnn", Rating.Easy, 3),
]


def expected_cards(answers: Iterable[Answer]) -> dict[Key, ReviewCard]:
    """Each user's card of each item after their answers, one review after the other."""
    reviewer = Reviewer()
    cards: dict[Key, ReviewCard] = {}
    for user, ref, topic, rating, hours in answers:
        key = (user, review_item(ref))
        at = AT + timedelta(hours=hours)
        cards[key] = reviewer.review(cards.get(key), key[1], topic, rating, at)
    return cards


def decide_like_core(
    instance_id: int, user_id: int, server_id: int | None, answer: Answer
) -> Decide:
    """What `Answering._record` decides: the card now, or its rating for a store that applies
    it behind the answer (`AnswerContext.reviews_behind`)."""
    _, ref, topic, rating, hours = answer
    at = AT + timedelta(hours=hours)

    def decide(context: AnswerContext) -> AttemptRecord:
        review = None
        if not context.reviews_behind:
            review = Reviewer().review(context.card, review_item(ref), topic, rating, at)
        return AttemptRecord(
            instance_id=instance_id,
            user_id=user_id,
            server_id=server_id,
            topic=topic,
            ref=ref,
            answer="A",
            correct=rating is not Rating.Again,
            points=1,
            at=at,
            review=review,
            review_rating=int(rating) if context.reviews_behind else None,
        )

    return decide


async def record(store: Store, answer: Answer, server_id: int | None = None) -> int:
    """Record one answer through `record_answer` (a posted question, then the answer); the
    user's id."""
    external, ref, topic, _, hours = answer
    user = await store.get_or_create_user("discord", external, f"u{external}")
    served = ServedQuestion(
        ref=ref,
        kind=Kind.MCQ,
        topic=topic,
        difficulty=Difficulty.EASY,
        text=Localized(en="q", zh="题"),
    )
    at = AT + timedelta(hours=hours)
    instance = await store.create_instance(served, server_id, "c", "en", at)
    draft = AnswerDraft(
        instance_id=instance.id,
        user_id=user.id,
        keys=(ref,),
        since=at - timedelta(days=30),
        item=review_item(ref),
    )
    recorded = await store.record_answer(
        draft, decide_like_core(instance.id, user.id, server_id, answer)
    )
    assert recorded.attempt is not None
    assert recorded.context is not None
    if isinstance(store, SqliteStore):  # the card behind the answer
        assert recorded.context.reviews_behind and recorded.attempt.review is None
        assert recorded.attempt.review_rating == answer[3]
    else:  # the card with it
        assert not recorded.context.reviews_behind and recorded.attempt.review is not None
    return user.id


async def stored_cards(store: Store, keys: Iterable[Key]) -> dict[Key, ReviewCard | None]:
    found: dict[Key, ReviewCard | None] = {}
    for external, item in keys:
        user = await store.get_or_create_user("discord", external, f"u{external}")
        found[(external, item)] = await store.get_card(user.id, item)
    return found


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def pending(path: Path) -> int:
    [(n,)] = rows(
        path, "SELECT COUNT(*) FROM attempts WHERE id > (SELECT attempt_id FROM totals_applied)"
    )
    return int(n)


def file_cards(path: Path) -> dict[Key, ReviewCard]:
    """The cards written in the file (read without the bot: nothing applied by reading)."""
    found: dict[Key, ReviewCard] = {}
    for external, item, topic, card, due, reviews in rows(
        path,
        "SELECT u.external_id, c.item, c.topic, c.card, c.due, c.reviews"
        " FROM review_cards c JOIN users u ON u.id = c.user_id",
    ):
        found[(str(external), str(item))] = ReviewCard(
            item=str(item),
            topic=str(topic),
            card=json.loads(card),
            due=datetime.fromisoformat(due).astimezone(UTC),
            reviews=reviews,
        )
    return found


@pytest.fixture
def no_background(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cards left pending until something applies them (no background apply in the test)."""
    monkeypatch.setattr(totals, "DELAY_S", 3600.0)
    monkeypatch.setattr(totals, "FLUSH_AT", 10**9)
    yield


# --- 1. through the engine: the card FSRS gives, the one the memory store gives -------------

# (answer, seconds after the question was posted, hints, hours until the next one) and the
# rating the answer is worth (bot.core.review.rating_for: MCQ fast <= 20 s, slow > 120 s).
ENGINE_ANSWERS = [
    ("A", 40, 0, 1.0, Rating.Again),  # wrong
    ("B", 40, 0, 5.0, Rating.Good),
    ("B", 5, 0, 30.0, Rating.Easy),  # fast
    ("B", 600, 0, 2.0, Rating.Hard),  # slow
    ("B", 10, 1, 90.0, Rating.Hard),  # after a hint
    ("A", 40, 0, 3.0, Rating.Again),
]


async def test_answers_through_the_engine_give_the_card_fsrs_and_the_memory_store_give(
    tmp_path: Path, clock: FakeClock, checkers: TorchCheckers, no_background: None
) -> None:
    assert clock.now() == AT
    bank = load_bank([FIXTURE_BANK], checkers.family_names())
    assert bank.ok, bank.problems
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    sqlite = wire_engine(SqliteStore(db, clock), bank, checkers, clock, random.Random(7))
    memory = wire_engine(MemoryStore(clock), bank, checkers, clock, random.Random(7))
    engines: list[Engine] = [sqlite, memory]
    reviewer, expected = Reviewer(), None
    applied: dict[Key, ReviewCard] = {}  # the cards in the file
    try:
        users = [await e.identities.user("discord", "1", "ann") for e in engines]
        question = sqlite.catalog.question("fx-sigmoid-max")
        assert question is not None
        for n, (text, seconds, hints, gap, rating) in enumerate(ENGINE_ANSWERS):
            posted = [await e.postings.post(await e.making.present(question)) for e in engines]
            clock.advance(seconds=seconds)
            for engine, user, instance in zip(engines, users, posted, strict=True):
                outcome = await engine.answering.answer(instance.id, user, text, hints)
                assert outcome.counted
            topic = question.topic
            expected = reviewer.review(expected, "fx-sigmoid-max", topic, rating, clock.now())
            if n in (1, len(ENGINE_ANSWERS) - 1):  # two answers applied at once, then four
                assert file_cards(path) == applied  # pending: the answers wrote no card
                cards = [
                    await e.store.get_card(u.id, "fx-sigmoid-max")
                    for e, u in zip(engines, users, strict=True)
                ]
                assert cards == [expected, expected]
                assert expected.reviews == n + 1
                applied = {("1", "fx-sigmoid-max"): expected}
                assert file_cards(path) == applied
            clock.advance(hours=gap)
    finally:
        for engine in engines:
            await engine.aclose()
        await db.close()


# --- 2. a crash before any apply ------------------------------------------------------------

# Records PLAN through `record_answer`, then dies by SIGKILL before any card is applied (the
# background apply is put off for the run: what a kill right after the commits leaves).
_CRASH = """
import asyncio, os, signal, sys
sys.path.insert(0, {root!r})
import bot.storage.totals as totals
from bot.storage.db import Database
from bot.storage.sqlite import SqliteStore
from tests.storage.test_cards_behind import PLAN, record

totals.DELAY_S = 3600.0
totals.FLUSH_AT = 10**9

async def main():
    db = await Database.open({path!r})
    store = SqliteStore(db)
    for answer in PLAN:
        await record(store, answer)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


def answer_and_crash(path: Path) -> None:
    script = _CRASH.format(root=str(ROOT), path=str(path))
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert pending(path) == len(PLAN)
    assert file_cards(path) == {}  # not one card applied


async def test_answers_killed_before_their_cards_are_applied_are_reviewed_once_when_reopened(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    answer_and_crash(path)
    expected = expected_cards(PLAN)
    assert {c.reviews for c in expected.values()} == {1, 2, 4}
    for _ in range(2):  # opened twice: applied once
        db = await Database.open(path)
        try:
            assert pending(path) == 0  # on opening, before anything reads them
            assert file_cards(path) == expected
            assert await stored_cards(SqliteStore(db), expected) == expected
        finally:
            await db.close()
    assert file_cards(path) == expected


# --- 3. a reset with cards pending ----------------------------------------------------------


async def test_a_reset_with_cards_pending_keeps_the_reviews_of_the_answers_it_deletes(
    tmp_path: Path, no_background: None
) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        one = await store.get_or_create_server("discord", "1", "one")
        two = await store.get_or_create_server("discord", "2", "two")
        for n, answer in enumerate(PLAN):  # user 1 on both servers, user 2 on server one
            await record(store, answer, two.id if answer[0] == "1" and n % 2 else one.id)
        assert pending(path) == len(PLAN) and file_cards(path) == {}
        deleted = await store.reset_scores(one.id, None)
        assert 0 < deleted < len(PLAN)
        assert file_cards(path) == expected_cards(PLAN)  # user 2's with none of their answers
        assert await stored_cards(store, expected_cards(PLAN)) == expected_cards(PLAN)
    finally:
        await db.close()
    assert file_cards(path) == expected_cards(PLAN)  # nothing applied twice on closing


# --- 4. db copy of a source with cards pending ----------------------------------------------


@pytest.mark.parametrize("target", ["sqlite", "postgres"])
async def test_db_copy_of_a_source_with_cards_pending_copies_them_applied(
    tmp_path: Path, target: str, clock: FakeClock, request: pytest.FixtureRequest
) -> None:
    source = tmp_path / "source.sqlite3"
    answer_and_crash(source)
    before = source.read_bytes()
    if target == "sqlite":
        there = DbLocation(path=tmp_path / "copy.sqlite3")
    else:
        there = DbLocation(url=request.getfixturevalue("pg_url"))
    result = await copy_database(DbLocation(path=source), there)
    assert result.counts["attempts"] == len(PLAN)
    assert source.read_bytes() == before  # the source: unchanged
    assert pending(source) == len(PLAN) and file_cards(source) == {}
    expected = expected_cards(PLAN)
    # And an answer on the copy is reviewed from the copied card.
    more: Answer = ("1", "conv_output:13", "cnn", Rating.Good, 300)
    then = expected_cards([*PLAN, more])
    store: Store
    if there.path is not None:
        assert pending(there.path) == 0
        assert file_cards(there.path) == expected  # in the file, before the bot opens it
        db = await Database.open(there.path)  # nothing applied again on opening nor reading
        store = SqliteStore(db, clock)
    else:
        assert there.url is not None
        store = await open_postgres(there.url, clock)
    try:
        assert await stored_cards(store, expected) == expected
        await record(store, more)
        assert await stored_cards(store, then) == then
    finally:
        if isinstance(store, SqliteStore):
            await store.db.close()
        else:
            await store.close()
    if there.path is not None:
        assert file_cards(there.path) == then


# --- 5. a backup of a file with cards pending -----------------------------------------------


async def test_a_backup_of_a_file_with_cards_pending_has_them_applied(tmp_path: Path) -> None:
    source = tmp_path / "bot.sqlite3"
    answer_and_crash(source)
    result = backup(source, tmp_path / "backup.sqlite3")
    assert pending(result.target) == 0
    assert file_cards(result.target) == expected_cards(PLAN)
    assert pending(source) == len(PLAN)  # the live file is left to the bot


# --- 6. due cards right after an answer -----------------------------------------------------


async def test_the_due_cards_right_after_an_answer_include_its_card(
    tmp_path: Path, no_background: None
) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        missed: Answer = ("1", "fx-sigmoid-max", "vanishing_gradients", Rating.Again, 0)
        ann = await record(store, missed)
        (card,) = expected_cards([missed]).values()
        assert card.due == AT + timedelta(hours=4)  # the first learning step
        assert await store.due_cards(ann, card.due, 10) == [card]  # the first read
        also: Answer = ("1", "conv_output:11", "cnn", Rating.Again, 1)
        await record(store, also)
        assert pending(path) == 1
        assert await store.count_due(ann, AT + timedelta(hours=5)) == 2  # the first read
        assert await store.count_due(ann, AT + timedelta(hours=4)) == 1
        cards = expected_cards([missed, also])
        due = await store.due_cards(ann, AT + timedelta(hours=5), 10)
        assert due == [cards[("1", "fx-sigmoid-max")], cards[("1", "family:conv_output")]]
    finally:
        await db.close()


# --- 7. a card decided already, after pending ratings of its item ---------------------------


async def test_a_card_recorded_decided_after_pending_ratings_of_its_item_is_the_one_kept(
    tmp_path: Path, no_background: None
) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        earlier = [a for a in PLAN if a[0] == "1" and a[1] == "fx-sigmoid-max"][:2]
        for answer in earlier:
            ann = await record(store, answer)
        assert pending(path) == 2
        at = AT + timedelta(days=3)
        # What a caller that read the card (the two reviews) decided: its third review.
        decided = Reviewer().review(
            expected_cards(earlier)[("1", "fx-sigmoid-max")],
            "fx-sigmoid-max",
            "vanishing_gradients",
            Rating.Easy,
            at,
        )
        served = ServedQuestion(
            ref="fx-sigmoid-max",
            kind=Kind.MCQ,
            topic="vanishing_gradients",
            difficulty=Difficulty.EASY,
            text=Localized(en="q", zh="题"),
        )
        instance = await store.create_instance(served, None, "c", "en", at)
        assert await store.record_attempt(
            AttemptRecord(
                instance_id=instance.id,
                user_id=ann,
                server_id=None,
                topic="vanishing_gradients",
                ref="fx-sigmoid-max",
                answer="A",
                correct=True,
                points=1,
                at=at,
                review=decided,
            )
        )
        assert file_cards(path) == {("1", "fx-sigmoid-max"): decided}
        assert await store.get_card(ann, "fx-sigmoid-max") == decided
        assert decided.reviews == 3
    finally:
        await db.close()
    assert file_cards(path) == {("1", "fx-sigmoid-max"): decided}


# --- robustness: one broken card, another process's long write ------------------------------


async def test_a_card_fsrs_cannot_read_is_started_again_and_stops_nobody(
    tmp_path: Path, no_background: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A stored card broken by hand, with an answer pending on it: the database opens, the
    other user's card and the leaderboard are applied, and the broken card starts again from
    the pending answer (with a warning), instead of an error on every apply."""
    path = tmp_path / "bot.sqlite3"
    first, broken, other = PLAN[0], PLAN[3], PLAN[1]  # user 1's broken card; user 2's card
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        await record(store, first)
        await store.get_card(1, "fx-sigmoid-max")  # applied
        with closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("UPDATE review_cards SET card = '{\"oops\": 1}'")
        await record(store, broken)
        await record(store, other)
    finally:
        await db.close()  # applies: started again, with the warning
    assert "unreadable, started again" in caplog.text
    assert pending(path) == 0
    assert file_cards(path) == expected_cards([broken, other])
    db = await Database.open(path)
    try:
        assert await stored_cards(SqliteStore(db), expected_cards([broken, other])) == (
            expected_cards([broken, other])
        )
    finally:
        await db.close()


async def test_a_card_read_while_another_holds_the_write_lock_shows_the_cards_as_they_are(
    tmp_path: Path, no_background: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/review with answers pending while another process holds the write lock: the cards as
    they are, a few answers behind (as the leaderboard), not an error."""
    monkeypatch.setattr("bot.storage.db.BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        user_id = await record(store, PLAN[0])
        applied = await store.get_card(user_id, "fx-sigmoid-max")
        assert applied is not None and applied.reviews == 1
        await record(store, PLAN[3])  # pending
        with closing(sqlite3.connect(path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # a long write elsewhere (a migration, say)
            assert await store.get_card(user_id, "fx-sigmoid-max") == applied
            assert await store.count_due(user_id, AT + timedelta(days=30)) == 1
            assert len(await store.due_cards(user_id, AT + timedelta(days=30), 5)) == 1
            other.execute("ROLLBACK")
        found = await store.get_card(user_id, "fx-sigmoid-max")
        assert found == expected_cards([PLAN[0], PLAN[3]])[("1", "fx-sigmoid-max")]
    finally:
        await db.close()
