"""Leaderboards (scope, period, topic, ties, the caller's rank) and daily streaks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.engine import Engine, parse_hhmm
from bot.core.errors import BadTime
from bot.core.models import Period, Scope, User

from ..conftest import FakeClock

# The same rules over SQLite, PostgreSQL and the in-memory store (the contract:
# tests/storage/contract).
pytestmark = pytest.mark.stores("sqlite", "memory", "postgres")


async def answer_mcq(engine: Engine, user: User, server_id: int | None, right: bool) -> int:
    served = await engine.making.serve(user, "vanishing_gradients")  # fx-sigmoid-max, easy: 1 point
    posted = await engine.postings.post(served, server_id, "c1")
    outcome = await engine.answering.answer(posted.id, user, "B" if right else "A")
    assert outcome.counted
    return outcome.points


async def test_boards_by_scope_period_and_topic(engine: Engine, clock: FakeClock) -> None:
    clock.current = datetime(2026, 10, 30, 12, tzinfo=UTC)  # a Friday in October
    one = await engine.identities.server("discord", "1", "one")
    two = await engine.identities.server("discord", "2", "two")
    ann, bob, cat = [await engine.identities.user("discord", n, n) for n in ("ann", "bob", "cat")]
    await answer_mcq(engine, ann, one.id, True)  # October, last week
    clock.current = datetime(2026, 11, 3, 9, tzinfo=UTC)  # Tuesday, November
    await answer_mcq(engine, bob, one.id, True)
    await answer_mcq(engine, cat, two.id, True)
    # The reward window stops a second point for the same question: new users, new points.
    dan = await engine.identities.user("discord", "dan", "dan")
    await answer_mcq(engine, dan, two.id, False)

    async def names(
        scope: Scope, period: Period, server: int | None = None, topic: str | None = None
    ) -> list[tuple[str, int]]:
        board = await engine.boards.leaderboard(scope, period, topic, server, ann)
        return [(e.name, e.points) for e in board.top]

    assert await names(Scope.SERVER, Period.ALL, one.id) == [("ann", 1), ("bob", 1)]
    assert await names(Scope.SERVER, Period.MONTH, one.id) == [("bob", 1)]
    assert await names(Scope.SERVER, Period.WEEK, two.id) == [("cat", 1), ("dan", 0)]
    assert await names(Scope.GLOBAL, Period.ALL) == [("ann", 1), ("bob", 1), ("cat", 1), ("dan", 0)]
    assert await names(Scope.GLOBAL, Period.ALL, topic="cnn") == []
    assert await names(Scope.GLOBAL, Period.ALL, topic="basics") == await names(
        Scope.GLOBAL, Period.ALL
    )
    assert await names(Scope.GLOBAL, Period.ALL, topic="vanishing_gradients") == await names(
        Scope.GLOBAL, Period.ALL
    )

    board = await engine.boards.leaderboard(Scope.GLOBAL, Period.ALL, None, None, dan, limit=2)
    assert [e.name for e in board.top] == ["ann", "bob"]
    assert board.me is not None and (board.me.rank, board.me.name) == (4, "dan")

    # Resetting server one removes its answers from its board and from the global one.
    assert await engine.boards.reset_scores(one.id, None) == 2
    assert await names(Scope.SERVER, Period.ALL, one.id) == []
    assert await names(Scope.GLOBAL, Period.ALL) == [("cat", 1), ("dan", 0)]


async def test_daily_answers_build_a_streak(engine: Engine, clock: FakeClock) -> None:
    server = await engine.identities.server("discord", "1", "one")
    ann = await engine.identities.user("discord", "ann", "ann")
    await engine.dailies.set_daily(server.id, "c1", "9:00", ann)
    clock.current = datetime(2026, 11, 2, 8, 59, tzinfo=UTC)
    assert await engine.dailies.due_dailies() == []
    days = [(2, True), (3, True), (4, True), (5, False), (6, True)]
    streaks = []
    for day, right in days:
        clock.current = datetime(2026, 11, day, 9, 0, tzinfo=UTC)
        (due,) = await engine.dailies.due_dailies()
        posted = await engine.dailies.post_daily(due.server_id, due.channel_id)
        assert posted is not None
        assert await engine.dailies.post_daily(due.server_id, due.channel_id) is None  # once a day
        served, instance = posted
        answer = "B" if right else "A"
        if served.family is not None and served.seed is not None:
            expected = engine.checkers.generate(served.family, served.seed).expected
            answer = str(expected) if right else "-1"
        clock.advance(minutes=5)
        outcome = await engine.answering.answer(instance.id, ann, answer)
        assert outcome.grade.correct is right
        streaks.append((await engine.boards.stats(ann, server.id)).streak)
    assert streaks == [1, 2, 3, 3, 1]  # a miss does not extend it; a gap restarts it
    assert (await engine.boards.stats(ann, server.id)).best_streak == 3


def test_daily_time_is_read_carefully() -> None:
    assert parse_hhmm("9:05") == "09:05"
    assert parse_hhmm("0930") == "09:30"
    assert parse_hhmm("０９：３０") == "09:30" and parse_hhmm("9：30") == "09:30"  # full-width
    assert parse_hhmm("23：59") == "23:59"
    for bad in ("24:00", "9", "9:5", "noon", "12:60", ""):
        with pytest.raises(BadTime):
            parse_hhmm(bad)
