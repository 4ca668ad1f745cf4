"""Contract: quiz rounds (the `QuizStore` role), over every store that has it.

The role is not part of `Store` yet, so it has its own fixture, `quiz_store`: the stores of
`QUIZ_STORES` (SQLite, memory, PostgreSQL: a test server, skipped without PostgreSQL 15)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import pytest

from bot.core.models import Kind
from bot.core.ports import Clock, QuizStore, Store
from bot.core.quiz import QuizKind, QuizSettings, RoundStatus
from bot.storage.db import Database
from bot.storage.memory import MemoryStore
from bot.storage.postgres import PostgresStore
from bot.storage.sqlite import SqliteStore
from tests._postgres import migrated_store
from tests.storage.contract._data import AT, posted, users
from tests.storage.contract._data import quiz_answer as answer
from tests.storage.contract._data import quiz_question as question


class FullStore(Store, QuizStore, Protocol):
    """A store with the quiz role."""


@asynccontextmanager
async def sqlite_quiz_store(
    request: pytest.FixtureRequest, clock: Clock
) -> AsyncIterator[FullStore]:
    folder: Path = request.getfixturevalue("tmp_path")
    db = await Database.open(folder / "quiz.sqlite3")
    try:
        yield SqliteStore(db, clock)
    finally:
        await db.close()


@asynccontextmanager
async def memory_quiz_store(
    request: pytest.FixtureRequest, clock: Clock
) -> AsyncIterator[FullStore]:
    yield MemoryStore(clock)


@asynccontextmanager
async def postgres_quiz_store(
    request: pytest.FixtureRequest, clock: Clock
) -> AsyncIterator[FullStore]:
    async with migrated_store(request.getfixturevalue("pg_server"), clock) as store:
        assert isinstance(store, PostgresStore)
        yield store


QUIZ_STORES: dict[
    str, Callable[[pytest.FixtureRequest, Clock], AbstractAsyncContextManager[FullStore]]
] = {
    "sqlite": sqlite_quiz_store,
    "memory": memory_quiz_store,
    "postgres": postgres_quiz_store,
}


@pytest.fixture(params=list(QUIZ_STORES))
async def quiz_store(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[FullStore]:
    async with QUIZ_STORES[request.param](request, clock) as made:
        yield made


SETTINGS = QuizSettings(topic="cnn", questions=5, seconds=20, kind=QuizKind.CONCEPT)


async def test_one_running_round_per_channel(quiz_store: FullStore) -> None:
    (ann, bob) = await users(quiz_store, "Ann", "Bob")
    first, created = await quiz_store.create_quiz_round(
        "discord", "c1", None, ann.id, "zh", SETTINGS, AT
    )
    assert created and first.running and first.current == -1 and first.ended_at is None
    assert (first.host_id, first.lang, first.settings, first.created_at) == (
        ann.id,
        "zh",
        SETTINGS,
        AT,
    )
    again, created = await quiz_store.create_quiz_round(
        "discord", "c1", None, bob.id, "en", QuizSettings(), AT
    )
    assert not created and again == first  # the running round, unchanged
    other, created = await quiz_store.create_quiz_round(
        "discord", "c2", None, bob.id, "en", QuizSettings(), AT
    )
    assert created and other.id != first.id
    assert await quiz_store.running_quiz_round("c1") == first
    assert await quiz_store.running_quiz_rounds() == [first, other]
    later = AT + timedelta(minutes=3)
    assert await quiz_store.end_quiz_round(first.id, RoundStatus.STOPPED, later)
    assert not await quiz_store.end_quiz_round(first.id, RoundStatus.FINISHED, later)
    ended = await quiz_store.get_quiz_round(first.id)
    assert ended is not None and ended.status is RoundStatus.STOPPED and ended.ended_at == later
    assert await quiz_store.running_quiz_round("c1") is None
    assert await quiz_store.running_quiz_rounds() == [other]
    new, created = await quiz_store.create_quiz_round(
        "discord", "c1", None, bob.id, "en", QuizSettings(), later
    )
    assert created and new.id not in (first.id, other.id)
    assert await quiz_store.get_quiz_round(new.id + 100) is None
    with pytest.raises(ValueError):
        await quiz_store.end_quiz_round(new.id, RoundStatus.RUNNING, later)


async def test_questions_are_stored_once_and_revealed_once(quiz_store: FullStore) -> None:
    (ann,) = await users(quiz_store, "Ann")
    made, _ = await quiz_store.create_quiz_round("discord", "c1", None, ann.id, "en", SETTINGS, AT)
    one, two = await posted(quiz_store), await posted(quiz_store)
    first = question(made.id, 0, one.id)
    assert await quiz_store.add_quiz_question(first) == first
    moved = first.model_copy(update={"deadline": AT + timedelta(hours=1)})
    assert await quiz_store.add_quiz_question(moved) == first  # the stored one, unchanged
    stored_round = await quiz_store.get_quiz_round(made.id)
    assert stored_round is not None and stored_round.current == 0
    second = question(made.id, 1, two.id, kind=Kind.NUMERIC, options=0, ref="conv_shapes:4")
    await quiz_store.add_quiz_question(second)
    stored_round = await quiz_store.get_quiz_round(made.id)
    assert stored_round is not None and stored_round.current == 1
    assert await quiz_store.quiz_questions(made.id) == [first, second]
    assert await quiz_store.quiz_question_by_instance(two.id) == second
    assert await quiz_store.quiz_question_by_instance(two.id + 100) is None
    await quiz_store.set_quiz_message(made.id, 1, "987654321")
    at = AT + timedelta(seconds=12)
    assert await quiz_store.reveal_quiz_question(made.id, 1, at)
    assert not await quiz_store.reveal_quiz_question(made.id, 1, at + timedelta(seconds=1))
    found = await quiz_store.quiz_question_by_instance(two.id)
    assert found == second.model_copy(update={"message_id": "987654321", "revealed_at": at})
    assert found is not None and found.revealed


async def test_an_answer_counts_once_per_user_and_question(quiz_store: FullStore) -> None:
    ann, bob, cy = await users(quiz_store, "Ann", "Bob", "Cy")
    made, _ = await quiz_store.create_quiz_round("discord", "c1", None, ann.id, "en", SETTINGS, AT)
    one, two = await posted(quiz_store), await posted(quiz_store)
    await quiz_store.add_quiz_question(question(made.id, 0, one.id))
    await quiz_store.add_quiz_question(question(made.id, 1, two.id))
    bob_first = answer(made.id, 0, bob.id, 900)
    assert await quiz_store.add_quiz_answer(bob_first)
    assert not await quiz_store.add_quiz_answer(answer(made.id, 0, bob.id, 950, answer="C"))
    ann_first = answer(made.id, 0, ann.id, 400, correct=False, points=0, choice="A")
    assert await quiz_store.add_quiz_answer(ann_first)
    cy_second = answer(made.id, 1, cy.id, 100, answer="3.5", choice=None)
    assert await quiz_store.add_quiz_answer(cy_second)
    # by question, then as they came
    assert await quiz_store.quiz_answers(made.id) == [ann_first, bob_first, cy_second]
    assert await quiz_store.quiz_answers(made.id, 0) == [ann_first, bob_first]
    assert await quiz_store.quiz_answers(made.id, 2) == []
    with pytest.raises(KeyError):  # no such question
        await quiz_store.add_quiz_answer(answer(made.id, 7, bob.id, 1))
