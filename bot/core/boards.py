"""Leaderboard and streak rules, the same for every store.

- Each answer adds to the totals of its boards (`total_keys`): the global board and its
  server's, each for all topics, its topic and its area, each for all time, its ISO week
  (from Monday) and its month, all in UTC.
- A board shows one period: the week or month that contains `now` (`period_key`), or all time.
- A correct answer to a daily question extends the streak of that server (or of the console,
  `LOCAL_SERVER`) when the last one was the day before, keeps it on the same day, and starts it
  again at 1 after a gap (`next_streak`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.core.models import Period
from bot.core.topics import AREA_IDS, TOPICS

GLOBAL_BOARD = 0  # the server id of the global leaderboard's totals
LOCAL_SERVER = 0  # the server id of streaks outside any server (the console)
TOPIC_AREA = {t.id: t.area for t in TOPICS}

TotalKey = tuple[int, str, str]  # (server or GLOBAL_BOARD, topic key, period key)


def period_key(period: Period, now: datetime) -> str:
    """The stored name of the period of that kind which contains `now`."""
    day = now.astimezone(UTC).date()
    if period is Period.WEEK:
        return f"w{(day - timedelta(days=day.weekday())).isoformat()}"
    if period is Period.MONTH:
        return f"m{day.strftime('%Y-%m')}"
    return "all"


def topic_key(topic: str | None) -> str:
    """The stored name of a board's topic: '*' for all, 'area:ID' for an area, else the id."""
    if topic is None:
        return "*"
    return f"area:{topic}" if topic in AREA_IDS else topic


def total_keys(server_id: int | None, topic: str, at: datetime) -> list[TotalKey]:
    """The leaderboard totals one attempt adds to: (server or 0 for global) x (all topics,
    the topic, its area) x (all time, its ISO week, its month)."""
    servers = [GLOBAL_BOARD] if server_id is None else [GLOBAL_BOARD, server_id]
    area = f"area:{TOPIC_AREA.get(topic, 'other')}"
    periods = [period_key(p, at) for p in (Period.ALL, Period.WEEK, Period.MONTH)]
    return [(s, t, p) for s in servers for t in ("*", topic, area) for p in periods]


def streak_server(server_id: int | None) -> int:
    """The server id a streak is kept under (`LOCAL_SERVER` outside any server)."""
    return server_id if server_id is not None else LOCAL_SERVER


def streak_alive_since(now: datetime) -> date:
    """The oldest last day of a streak still current at `now`: yesterday (UTC; today's daily
    may not be answered yet). A streak whose last day is older was broken by a missed day,
    whatever count it stored: it shows as 0 until the next correct daily answer restarts it."""
    return now.astimezone(UTC).date() - timedelta(days=1)


def next_streak(
    current: int, best: int, last_day: date | None, day: date
) -> tuple[int, int] | None:
    """(current, best) after a correct daily answer on `day`, the streak having last grown on
    `last_day`; None when `day` counted already (nothing changes)."""
    if last_day == day:
        return None
    current = current + 1 if last_day == day - timedelta(days=1) else 1
    return current, max(best, current)
