"""The leaderboard and streak rules every store applies (`bot.core.boards`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from bot.core.boards import (
    GLOBAL_BOARD,
    LOCAL_SERVER,
    next_streak,
    period_key,
    streak_server,
    topic_key,
    total_keys,
)
from bot.core.models import Period

SUNDAY_NIGHT = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # the ISO week of Monday the 23rd


def test_an_answer_adds_to_every_board_it_belongs_to() -> None:
    keys = total_keys(7, "pooling", SUNDAY_NIGHT)
    assert len(keys) == len(set(keys)) == 2 * 3 * 3
    assert {s for s, _, _ in keys} == {GLOBAL_BOARD, 7}
    assert {t for _, t, _ in keys} == {"*", "pooling", "area:cnn"}
    assert {p for _, _, p in keys} == {"all", "w2026-11-23", "m2026-11"}
    console = total_keys(None, "made-up-topic", SUNDAY_NIGHT)
    assert {s for s, _, _ in console} == {GLOBAL_BOARD}
    assert {t for _, t, _ in console} == {"*", "made-up-topic", "area:other"}


def test_periods_are_taken_in_utc() -> None:
    plus3 = timezone(timedelta(hours=3))
    monday_east = datetime(2026, 11, 30, 1, 0, tzinfo=plus3)  # Sunday 22:00 in UTC
    assert period_key(Period.WEEK, monday_east) == "w2026-11-23"
    assert period_key(Period.WEEK, SUNDAY_NIGHT + timedelta(hours=1)) == "w2026-11-30"
    december_east = datetime(2026, 12, 1, 1, 0, tzinfo=plus3)  # November 30th in UTC
    assert period_key(Period.MONTH, december_east) == "m2026-11"
    assert period_key(Period.ALL, december_east) == "all"
    assert [p for _, _, p in total_keys(None, "pooling", monday_east)[:3]] == [
        "all",
        "w2026-11-23",
        "m2026-11",
    ]


def test_board_topics() -> None:
    assert topic_key(None) == "*"
    assert topic_key("cnn") == "area:cnn"
    assert topic_key("pooling") == "pooling"


def test_a_streak_goes_on_stays_or_starts_again() -> None:
    day = date(2026, 11, 25)
    assert next_streak(0, 0, None, day) == (1, 1)
    assert next_streak(4, 6, day - timedelta(days=1), day) == (5, 6)
    assert next_streak(6, 6, day - timedelta(days=1), day) == (7, 7)
    assert next_streak(4, 6, day, day) is None  # the same day counts once
    assert next_streak(4, 6, day - timedelta(days=2), day) == (1, 6)
    assert streak_server(None) == LOCAL_SERVER
    assert streak_server(12) == 12
