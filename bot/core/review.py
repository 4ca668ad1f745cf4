"""Spaced repetition with FSRS (the `fsrs` package): one card per user and item.

An item is a written question (its bank id) or, for generated questions, the family
(`family:NAME`): reviewing a family serves a fresh variant of it. Automatic grades become FSRS
ratings: wrong -> Again; right after a hint, or slowly -> Hard; right -> Good; right and fast ->
Easy. Open questions use the user's own rating. Learning steps are hours and days, not FSRS's
default minutes: a chat is not a flash-card app you sit in front of. Times are UTC throughout.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from fsrs import Card, Rating, Scheduler

from bot.core.models import Kind, ReviewCard

LEARNING_STEPS = (timedelta(hours=4), timedelta(days=1))
RELEARNING_STEPS = (timedelta(hours=12),)

# Answer times (seconds) below which a right answer is "fast", above which it is "slow".
FAST_S = {Kind.MCQ: 20.0, Kind.NUMERIC: 45.0, Kind.OPEN: 0.0}
SLOW_S = {Kind.MCQ: 120.0, Kind.NUMERIC: 300.0, Kind.OPEN: float("inf")}


def review_item(ref: str) -> str:
    """The item a question reviews: `family:NAME` for FAMILY:SEED, else the bank id."""
    family, sep, seed = ref.partition(":")
    if sep and seed.isascii() and seed.isdigit():
        return f"family:{family}"
    return ref


def rating_for(kind: Kind, correct: bool, hints: int, seconds: float | None) -> Rating:
    if not correct:
        return Rating.Again
    if hints or (seconds is not None and seconds > SLOW_S[kind]):
        return Rating.Hard
    if seconds is not None and seconds <= FAST_S[kind]:
        return Rating.Easy
    return Rating.Good


class Reviewer:
    """FSRS with chat-friendly steps and no fuzzing (so a schedule can be tested)."""

    def __init__(self, desired_retention: float = 0.9) -> None:
        self.scheduler = Scheduler(
            desired_retention=desired_retention,
            learning_steps=LEARNING_STEPS,
            relearning_steps=RELEARNING_STEPS,
            enable_fuzzing=False,
        )

    def review(
        self,
        previous: ReviewCard | None,
        item: str,
        topic: str,
        rating: Rating,
        now: datetime,
    ) -> ReviewCard:
        """The card after one review at `now` (a new card if there was none)."""
        card = None if previous is None else self.card(previous)
        reviews = 0 if previous is None else previous.reviews
        return self.stored(self.step(card, item, rating, now), item, topic, reviews + 1)

    @staticmethod
    def card(stored: ReviewCard) -> Card:
        """The fsrs card of a stored one (KeyError, TypeError or ValueError if unreadable)."""
        return Card.from_dict(stored.card)  # type: ignore[arg-type]

    def step(self, card: Card | None, item: str, rating: Rating, now: datetime) -> Card:
        """The fsrs card after one review at `now` (a new card if `card` is None). A chain of
        reviews (SQLite's cards applied behind the answers) keeps the fsrs card between steps
        and stores it once (`stored`), as `review` does for each."""
        if card is None:
            # The same id in every process (`hash` of a str is salted per process): a card
            # applied behind its answer (SQLite) may be made by a backup's or a copy's process.
            card = Card(card_id=zlib.crc32(item.encode()), due=now)
        updated, _ = self.scheduler.review_card(card, rating, review_datetime=now)
        return updated

    @staticmethod
    def stored(card: Card, item: str, topic: str, reviews: int) -> ReviewCard:
        """A card to store, after `reviews` reviews in all."""
        return ReviewCard(
            item=item, topic=topic, card=dict(card.to_dict()), due=card.due, reviews=reviews
        )
