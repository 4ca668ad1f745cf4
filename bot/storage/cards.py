"""SQLite's review cards: their rows, and the cards applied behind the answers.

An answer's transaction writes its attempt with its FSRS rating (`attempts.review_rating`,
migration 0009), not its card: the card is computed here, from the card before it and the
ratings of the attempts in the order they were recorded, when the leaderboard totals of those
attempts are applied (`bot.storage.totals`, the same mark, the same transaction). Reading,
writing and the FSRS update of a card stay out of the answer's transaction: that transaction
writes the same B-trees as the attempt alone. Whoever reads the cards applies the pending ones
first (`Database.totals.apply()`), so nobody sees a card without its latest answers.

The cards are computed with the default `Reviewer` (the one `bot.app.wiring` gives the
engine): the same card as the memory and PostgreSQL stores compute in the answer.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fsrs import Card, Rating

from bot.core.models import ReviewCard
from bot.core.review import Reviewer, review_item
from bot.storage.times import iso, parse_iso

log = logging.getLogger(__name__)

REVIEWER = Reviewer()

_SAVE_SQL = (
    "INSERT INTO review_cards (user_id, item, topic, card, due, reviews, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, item) DO UPDATE SET"
    " topic = excluded.topic, card = excluded.card, due = excluded.due,"
    " reviews = excluded.reviews, updated_at = excluded.updated_at"
)

# An attempt's rating to apply: (user, ref, topic, created_at, rating), created_at as stored.
Rated = tuple[int, str, str, str, int]


def card_of(row: Sequence[Any]) -> ReviewCard:
    """A `review_cards` row (user_id, item, topic, card, due, reviews, updated_at)."""
    _, item, topic, card, due, reviews, _ = row
    return ReviewCard(
        item=item,
        topic=topic,
        card=json.loads(card),
        due=parse_iso(due),
        reviews=reviews,
    )


def save_card(conn: sqlite3.Connection, user_id: int, card: ReviewCard, at: datetime) -> None:
    """Write a user's card (updated at `at`), inside the caller's transaction."""
    conn.execute(
        _SAVE_SQL,
        (
            user_id,
            card.item,
            card.topic,
            json.dumps(card.card),
            iso(card.due),
            card.reviews,
            iso(at),
        ),
    )


def apply_cards(conn: sqlite3.Connection, rated: Iterable[Rated]) -> None:
    """Review each attempt's item with its rating, in the order given (the attempts' order),
    each from the card the one before left; write each card once at the end, inside the
    caller's transaction. The tables are named unqualified: a temporary `review_cards`
    (`read_with_pending_cards`) is the one read and written when it exists."""
    # (user, item) -> the fsrs card, its reviews in all, its topic and its last review's time
    chains: dict[tuple[int, str], tuple[Card, int, str, datetime]] = {}
    for user_id, ref, topic, created_at, rating in rated:
        item = review_item(ref)
        at = parse_iso(created_at)
        found = chains.get((user_id, item))
        if found is None:
            before = _read(conn, user_id, item)
            card, reviews = _step(before, user_id, item, Rating(rating), at)
        else:
            card, reviews = REVIEWER.step(found[0], item, Rating(rating), at), found[1]
        chains[(user_id, item)] = (card, reviews + 1, topic, at)
    for (user_id, item), (card, reviews, topic, at) in chains.items():
        save_card(conn, user_id, REVIEWER.stored(card, item, topic, reviews), at)


def _step(
    before: ReviewCard | None, user_id: int, item: str, rating: Rating, at: datetime
) -> tuple[Card, int]:
    """The fsrs card after this review of a stored card (None: a new one), and the stored
    card's reviews. A stored card FSRS cannot read (edited by hand, say) is started again from
    this review, with a warning: one broken row must not stop the cards and leaderboard totals
    of everyone behind it."""
    if before is None:
        return REVIEWER.step(None, item, rating, at), 0
    try:
        return REVIEWER.step(REVIEWER.card(before), item, rating, at), before.reviews
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("review card of user %s, %s unreadable, started again: %r", user_id, item, exc)
        return REVIEWER.step(None, item, rating, at), 0


def _read(conn: sqlite3.Connection, user_id: int, item: str) -> ReviewCard | None:
    row = conn.execute(
        "SELECT user_id, item, topic, card, due, reviews, updated_at FROM review_cards"
        " WHERE user_id = ? AND item = ?",
        (user_id, item),
    ).fetchone()
    if row is None:
        return None
    try:
        return card_of(row)
    except (ValueError, TypeError) as exc:  # not JSON, not a time: as FSRS's refusal above
        log.warning("review card of user %s, %s unreadable, started again: %r", user_id, item, exc)
        return None


def read_with_pending_cards(conn: sqlite3.Connection) -> None:
    """For a connection that reads but must not write (`db copy`'s source): a temporary
    `review_cards`, a copy of the table, for `apply_cards` to apply the pending ratings to
    (the temp schema is searched first; the file is unchanged)."""
    conn.execute("CREATE TEMP TABLE review_cards AS SELECT * FROM main.review_cards WHERE 0")
    conn.execute("CREATE UNIQUE INDEX temp.review_cards_key ON review_cards (user_id, item)")
    conn.execute("INSERT INTO temp.review_cards SELECT * FROM main.review_cards")
