"""Contract: leaderboards, streaks, and resetting scores."""

from __future__ import annotations

from datetime import date, datetime

from bot.core.models import LeaderboardEntry, Period, Scope
from bot.core.ports import Store
from tests.conftest import FakeClock
from tests.storage.contract._data import AT, DAY, attempt, days, posted, served, users


async def answer(
    store: Store,
    user_id: int,
    *,
    server_id: int | None = None,
    topic: str = "backprop",
    correct: bool = True,
    points: int = 2,
    at: datetime = AT,
    streak_day: date | None = None,
) -> None:
    question = await posted(store, served(topic=topic), server_id=server_id, at=at)
    assert await store.record_attempt(
        attempt(
            question.id,
            user_id,
            server_id=server_id,
            topic=topic,
            correct=correct,
            points=points,
            at=at,
            streak_day=streak_day,
        )
    )


async def test_the_board_ranks_by_points_then_correct_then_fewer_answers(store: Store) -> None:
    ann, bob, cat, dan = await users(store, "Ann", "Bob", "Cat", "Dan")
    await answer(store, ann.id, points=3)
    await answer(store, bob.id, points=2)
    await answer(store, bob.id, points=1)  # 3 points, 2 correct
    await answer(store, cat.id, points=3)
    await answer(store, cat.id, correct=False, points=0)  # 3 points, 1 correct, 2 answered
    await answer(store, dan.id, points=3)  # as Ann: the lower user id first
    board = await store.leaderboard(Scope.GLOBAL, Period.ALL, None, None, None, 10, AT)
    assert [(e.rank, e.name) for e in board.top] == [(1, "Bob"), (2, "Ann"), (3, "Dan"), (4, "Cat")]
    assert board.top[3] == LeaderboardEntry(
        rank=4, user_id=cat.id, name="Cat", points=3, answered=2, correct=1, streak=0
    )
    assert (board.scope, board.period, board.topic, board.me) == (
        Scope.GLOBAL,
        Period.ALL,
        None,
        None,
    )
    short = await store.leaderboard(Scope.GLOBAL, Period.ALL, None, None, cat.id, 2, AT)
    assert [e.name for e in short.top] == ["Bob", "Ann"]
    assert short.me == board.top[3]  # the caller's own row, outside the top
    mine = await store.leaderboard(Scope.GLOBAL, Period.ALL, None, None, ann.id, 2, AT)
    assert mine.me == mine.top[1]
    nobody = await store.leaderboard(Scope.GLOBAL, Period.ALL, None, None, dan.id + 9, 2, AT)
    assert nobody.me is None


async def test_week_and_month_boards_hold_their_own_answers(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    sunday_before = AT - days(3)  # AT is a Wednesday: the Sunday of the week before
    await answer(store, ann.id, points=1, at=AT)
    await answer(store, bob.id, points=3, at=sunday_before)
    await answer(store, bob.id, points=2, at=AT - days(40))  # another month

    async def board(period: Period, now: datetime = AT) -> list[tuple[str, int]]:
        found = await store.leaderboard(Scope.GLOBAL, period, None, None, None, 10, now)
        return [(e.name, e.points) for e in found.top]

    assert await board(Period.WEEK) == [("Ann", 1)]
    assert await board(Period.MONTH) == [("Bob", 3), ("Ann", 1)]
    assert await board(Period.ALL) == [("Bob", 5), ("Ann", 1)]
    assert await board(Period.WEEK, sunday_before) == [("Bob", 3)]
    assert await board(Period.MONTH, AT - days(40)) == [("Bob", 2)]
    assert await board(Period.WEEK, AT + days(7)) == []


async def test_topic_and_area_boards(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    await answer(store, ann.id, topic="backprop", points=1)
    await answer(store, bob.id, topic="optimizers", points=2)
    await answer(store, bob.id, topic="pooling", points=3)

    async def board(topic: str | None) -> list[tuple[str, int]]:
        found = await store.leaderboard(Scope.GLOBAL, Period.ALL, None, topic, None, 10, AT)
        assert found.topic == topic
        return [(e.name, e.points) for e in found.top]

    assert await board("backprop") == [("Ann", 1)]
    assert await board("basics") == [("Bob", 2), ("Ann", 1)]  # an area: its topics together
    assert await board("cnn") == [("Bob", 3)]
    assert await board(None) == [("Bob", 5), ("Ann", 1)]
    assert await board("gan") == []


async def test_server_boards_and_the_global_board(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    one = await store.get_or_create_server("discord", "10", "One")
    two = await store.get_or_create_server("discord", "20", "Two")
    await answer(store, ann.id, server_id=one.id, points=1)
    await answer(store, bob.id, server_id=two.id, points=2)
    await answer(store, ann.id, server_id=None, points=3)  # the console

    async def board(scope: Scope, server: int | None) -> list[tuple[str, int]]:
        found = await store.leaderboard(scope, Period.ALL, server, None, None, 10, AT)
        return [(e.name, e.points) for e in found.top]

    assert await board(Scope.SERVER, one.id) == [("Ann", 1)]
    assert await board(Scope.SERVER, two.id) == [("Bob", 2)]
    assert await board(Scope.GLOBAL, one.id) == [("Ann", 4), ("Bob", 2)]
    assert await board(Scope.SERVER, None) == [("Ann", 4), ("Bob", 2)]  # no server: global


async def test_a_streak_grows_on_consecutive_days_only(store: Store) -> None:
    (ann,) = await users(store, "Ann")
    guild = await store.get_or_create_server("discord", "10", "Guild")
    assert await store.streak(ann.id, guild.id) == (0, 0)
    steps = [
        (DAY, True, (1, 1)),
        (DAY, True, (1, 1)),  # the same day again
        (DAY + days(1), False, (1, 1)),  # a wrong answer does not count
        (DAY + days(1), True, (2, 2)),
        (DAY + days(2), True, (3, 3)),
        (DAY + days(4), True, (1, 3)),  # a gap: again from 1, the best stays
        (DAY + days(5), True, (2, 3)),
    ]
    for day, correct, expected in steps:
        await answer(store, ann.id, server_id=guild.id, correct=correct, streak_day=day)
        assert await store.streak(ann.id, guild.id) == expected, day
    await answer(store, ann.id, server_id=guild.id, points=2)  # not a daily: no change
    assert await store.streak(ann.id, guild.id) == (2, 3)
    assert await store.streak(ann.id, None) == (0, 0)  # the console has its own
    await answer(store, ann.id, server_id=None, streak_day=DAY)
    assert await store.streak(ann.id, None) == (1, 1)


async def test_the_board_shows_streaks(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    one = await store.get_or_create_server("discord", "10", "One")
    two = await store.get_or_create_server("discord", "20", "Two")
    for day in range(3):
        await answer(store, ann.id, server_id=two.id, streak_day=DAY + days(day))
    await answer(store, ann.id, server_id=one.id, streak_day=DAY)
    await answer(store, bob.id, server_id=one.id, points=1)

    async def streaks(scope: Scope, server: int) -> dict[str, int]:
        found = await store.leaderboard(scope, Period.ALL, server, None, None, 10, AT)
        return {e.name: e.streak for e in found.top}

    assert await streaks(Scope.SERVER, one.id) == {"Ann": 1, "Bob": 0}
    assert await streaks(Scope.GLOBAL, one.id) == {"Ann": 3, "Bob": 0}  # the best of any server


async def test_a_streak_broken_by_a_missed_day_shows_zero(store: Store, clock: FakeClock) -> None:
    """A streak is current while its last day is today or yesterday (UTC); once a day is
    missed it shows 0, on the board and in the user's stats, and the best stays. The next
    correct daily answer starts it again at 1."""
    ann, bob = await users(store, "Ann", "Bob")
    guild = await store.get_or_create_server("discord", "10", "Guild")
    for day in range(3):
        await answer(store, ann.id, server_id=guild.id, streak_day=DAY + days(day))
    await answer(store, bob.id, server_id=guild.id, streak_day=DAY)

    async def shown(at: datetime) -> tuple[dict[str, int], tuple[int, int]]:
        clock.current = at
        found = await store.leaderboard(Scope.SERVER, Period.ALL, guild.id, None, None, 10, at)
        return {e.name: e.streak for e in found.top}, await store.streak(ann.id, guild.id)

    last = AT + days(2)  # Ann's last counted day; Bob's was two days before
    assert await shown(last) == ({"Ann": 3, "Bob": 0}, (3, 3))
    assert await shown(last + days(1)) == ({"Ann": 3, "Bob": 0}, (3, 3))  # not yet missed
    assert await shown(last + days(2)) == ({"Ann": 0, "Bob": 0}, (0, 3))  # a day missed
    await answer(store, ann.id, server_id=guild.id, streak_day=DAY + days(4))
    assert await shown(last + days(2)) == ({"Ann": 1, "Bob": 0}, (1, 3))


async def test_resetting_scores_of_a_server(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    one = await store.get_or_create_server("discord", "10", "One")
    two = await store.get_or_create_server("discord", "20", "Two")
    await answer(store, ann.id, server_id=one.id, points=1, streak_day=DAY)
    await answer(store, ann.id, server_id=one.id, points=2)
    await answer(store, ann.id, server_id=two.id, points=3, streak_day=DAY)
    await answer(store, bob.id, server_id=one.id, points=2, streak_day=DAY)

    async def board(scope: Scope, server: int) -> list[tuple[str, int]]:
        found = await store.leaderboard(scope, Period.WEEK, server, None, None, 10, AT)
        return [(e.name, e.points) for e in found.top]

    assert await store.reset_scores(one.id, ann.id) == 2
    assert await board(Scope.SERVER, one.id) == [("Bob", 2)]
    assert await board(Scope.GLOBAL, one.id) == [("Ann", 3), ("Bob", 2)]
    assert await store.streak(ann.id, one.id) == (0, 0)
    assert await store.streak(ann.id, two.id) == (1, 1)
    assert await store.streak(bob.id, one.id) == (1, 1)
    assert [t.points for t in await store.topic_stats(ann.id, None)] == [3]
    assert await store.reset_scores(one.id, None) == 1
    assert await board(Scope.SERVER, one.id) == []
    assert await board(Scope.GLOBAL, one.id) == [("Ann", 3)]
    assert await store.streak(bob.id, one.id) == (0, 0)
    assert await store.reset_scores(one.id, None) == 0
