"""Spaced repetition: grades become FSRS ratings; due cards come back when FSRS says."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from fsrs import Card, Rating, Scheduler

from bot.core.engine import Engine
from bot.core.models import Kind
from bot.core.review import LEARNING_STEPS, RELEARNING_STEPS, rating_for, review_item

from ..conftest import FakeClock

# The same rules over SQLite, PostgreSQL and the in-memory store (the contract:
# tests/storage/contract).
pytestmark = pytest.mark.stores("sqlite", "memory", "postgres")


def test_grades_map_to_ratings() -> None:
    assert rating_for(Kind.MCQ, False, 0, 5) is Rating.Again
    assert rating_for(Kind.MCQ, True, 1, 5) is Rating.Hard  # after a hint
    assert rating_for(Kind.MCQ, True, 0, 600) is Rating.Hard  # slow
    assert rating_for(Kind.MCQ, True, 0, 60) is Rating.Good
    assert rating_for(Kind.MCQ, True, 0, 5) is Rating.Easy  # fast
    assert rating_for(Kind.NUMERIC, True, 0, 30) is Rating.Easy
    assert review_item("conv_output:1234") == "family:conv_output"
    assert review_item("fx-sigmoid-max") == "fx-sigmoid-max"


async def test_a_miss_comes_due_as_fsrs_says_and_a_correct_review_pushes_it_out(
    engine: Engine, clock: FakeClock
) -> None:
    ann = await engine.identities.user("local", "ann", "ann")
    reference = Scheduler(
        learning_steps=LEARNING_STEPS, relearning_steps=RELEARNING_STEPS, enable_fuzzing=False
    )
    start = clock.now()
    served = await engine.making.serve(ann, "vanishing_gradients")
    posted = await engine.postings.post(served)
    clock.advance(seconds=40)  # neither fast nor slow: a plain Good/Again
    missed = await engine.answering.answer(posted.id, ann, "A")
    assert missed.counted and not missed.grade.correct

    expected, _ = reference.review_card(Card(due=start), Rating.Again, clock.now())
    card = await engine.store.get_card(ann.id, "fx-sigmoid-max")
    assert card is not None and card.due == expected.due
    assert card.due - clock.now() == LEARNING_STEPS[0]  # hours, not FSRS's minutes

    assert await engine.reviews.due_reviews(ann, 5) == []  # not yet
    clock.current = card.due
    due = await engine.reviews.due_reviews(ann, 5)
    assert [q.ref for q in due] == ["fx-sigmoid-max"]
    assert await engine.reviews.reviews_due(ann) == 1

    again = await engine.postings.post(due[0])
    clock.advance(seconds=40)
    right = await engine.answering.answer(again.id, ann, "B")
    assert right.counted and right.grade.correct
    expected, _ = reference.review_card(expected, Rating.Good, clock.now())
    pushed = await engine.store.get_card(ann.id, "fx-sigmoid-max")
    assert pushed is not None and pushed.due == expected.due
    assert pushed.due - clock.now() >= timedelta(days=1)
    assert pushed.reviews == 2
    assert await engine.reviews.due_reviews(ann, 5) == []


async def test_generated_questions_review_their_family(engine: Engine, clock: FakeClock) -> None:
    ann = await engine.identities.user("local", "ann", "ann")
    served = await engine.making.serve(ann, "conv_output")
    posted = await engine.postings.post(served)
    await engine.answering.answer(posted.id, ann, "-5")  # wrong
    clock.advance(days=2)
    (review,) = await engine.reviews.due_reviews(ann, 3)
    assert review.family == "conv_output" and review.ref != served.ref  # a fresh variant


def test_a_new_card_has_the_same_id_in_every_process() -> None:
    """SQLite applies a card behind its answer, in whichever process applies it (the bot, a
    backup, `db copy`): the card must not depend on the process (str hashes are salted)."""
    code = (
        "from datetime import UTC, datetime\n"
        "from fsrs import Rating\n"
        "from bot.core.review import Reviewer\n"
        "at = datetime(2026, 11, 25, 12, tzinfo=UTC)\n"
        "print(Reviewer().review(None, 'family:conv_output', 'cnn', Rating.Good, at).card)\n"
    )
    ids = set()
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        ids.add(out)
    assert len(ids) == 1, ids
