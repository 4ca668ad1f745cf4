"""How SQLite stores a time: ISO-8601 text in UTC with microseconds (it sorts as text). A leaf
module: the store's areas, its totals and review cards applied behind the answers all use it."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(at: datetime) -> str:
    """The stored form of a time: ISO-8601 in UTC with microseconds (sorts as text)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: the core works in UTC only")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
