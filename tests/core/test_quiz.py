"""Quiz rounds driven with a fake clock and timer, through the real engine, over SQLite and the
in-memory store: scoring, first answers, late answers, early reveals, restarts, leaderboards,
reviews."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.checkers import TorchCheckers
from bot.core.answers import format_expected
from bot.core.models import Period, Scope, User
from bot.core.ports import Store
from bot.core.quiz import QuizKind, QuizSettings, RoundStatus
from bot.core.services.quiz import AnswerCode, StopCode
from bot.storage.db import Database
from bot.storage.memory import MemoryStore
from bot.storage.postgres import PostgresStore, open_postgres
from bot.storage.sqlite import SqliteStore

from ..conftest import FIXTURE_BANK, FakeClock
from ._quiz_harness import WAIT, FakeTimer, Game, open_game, right_answer, wrong_answer

pytestmark = pytest.mark.stores("sqlite", "memory", "postgres")

POINTS = {"easy": 1, "medium": 2, "hard": 3}  # the rule, written out again
CONCEPT = QuizSettings(topic="backprop", questions=3, seconds=30, kind=QuizKind.CONCEPT)


@pytest.fixture
def timer(clock: FakeClock) -> FakeTimer:
    return FakeTimer(clock)


@pytest.fixture
async def game(store: Store, checkers: TorchCheckers, timer: FakeTimer) -> AsyncIterator[Game]:
    made = open_game(store, checkers, timer)
    try:
        yield made
    finally:
        await made.engine.aclose()


async def people(store: Store, *names: str) -> list[User]:
    return [await store.get_or_create_user("discord", n.lower(), n) for n in names]


async def to_deadline(game: Game) -> None:
    """Move time past the open question's deadline."""
    question, _ = game.screen.current
    game.timer.advance(seconds=(question.deadline - game.timer.now()).total_seconds() + 1)


async def test_scoring_first_answer_counts_and_standings(game: Game, store: Store) -> None:
    ann, bob, cy = await people(store, "Ann", "Bob", "Cy")
    started = await game.quiz.start(ann, "c1", CONCEPT, "en")
    assert started.created and started.question is not None
    question, served = game.screen.current
    assert question.message_id is None  # shown, then its message noted
    assert started.question == question.model_copy(
        update={"message_id": f"message-{question.instance_id}"}
    )
    right, wrong = right_answer(game, served), wrong_answer(game, served)
    base = POINTS[served.difficulty.value]

    game.timer.advance(seconds=2)  # first third of 30 s: +2
    assert (await game.quiz.answer(question.instance_id, ann, right)).code is AnswerCode.LOCKED_IN
    again = await game.quiz.answer(question.instance_id, ann, wrong)
    assert again.code is AnswerCode.ALREADY_ANSWERED
    game.timer.advance(seconds=10)  # 12 s: second third
    assert (await game.quiz.answer(question.instance_id, bob, wrong)).code is AnswerCode.LOCKED_IN
    game.timer.advance(seconds=13)  # 25 s: last third, no bonus
    assert (await game.quiz.answer(question.instance_id, cy, right)).code is AnswerCode.LOCKED_IN

    await to_deadline(game)
    reveal = await game.screen.next_reveal()
    assert (reveal.index, reveal.total, reveal.last) == (0, 3, False)
    assert reveal.expected == right
    assert reveal.question.message_id == f"message-{question.instance_id}"
    assert reveal.counts == {letter: {right: 2, wrong: 1}.get(letter, 0) for letter in "ABC"}
    assert [a.name for a in reveal.right] == ["Ann", "Cy"]
    assert reveal.first is not None and reveal.first.name == "Ann"
    points = {a.name: a.points for a in reveal.answers}
    assert points == {"Ann": base + 2, "Bob": 0, "Cy": base}
    # the same points in the leaderboards (first answers only: Ann's "wrong" never counted)
    for user, expected in ((ann, base + 2), (bob, 0), (cy, base)):
        (entry,) = await store.recent_attempts(user.id, 5)
        assert entry.points == expected and entry.ref == served.ref

    for _ in range(2):  # nobody answers the other two
        await game.quiz.idle()
        await to_deadline(game)
        await game.screen.next_reveal()
    ended, standings = await game.screen.next_end()
    assert not ended.running
    assert [(r.rank, r.name, r.points, r.correct, r.answered) for r in standings] == [
        (1, "Ann", base + 2, 1, 1),
        (2, "Cy", base, 1, 1),
        (3, "Bob", 0, 0, 1),
    ]
    assert standings[0].avg_seconds == 2.0 and standings[2].accuracy == 0.0
    assert await game.quiz.status("c1") is None


async def test_the_status_standings_count_only_revealed_questions(game: Game, store: Store) -> None:
    """Answers stay private until the reveal: `/quiz status` must not tell who is right."""
    ann, bob = await people(store, "Ann", "Bob")
    await game.quiz.start(ann, "c1", CONCEPT, "en")
    question, served = game.screen.current
    await game.quiz.answer(question.instance_id, ann, right_answer(game, served))
    await game.quiz.answer(question.instance_id, bob, wrong_answer(game, served))
    status = await game.quiz.status("c1")
    assert status is not None and status.answered == 2 and status.standings == []
    await to_deadline(game)
    await game.screen.next_reveal()
    await game.quiz.idle()
    second, served = game.screen.current
    assert second.index == 1
    await game.quiz.answer(second.instance_id, bob, right_answer(game, served))
    status = await game.quiz.status("c1")
    assert status is not None and status.answered == 1
    rows = {r.name: (r.correct, r.answered) for r in status.standings}
    assert rows == {"Ann": (1, 1), "Bob": (0, 1)}  # the first question's only


async def test_a_late_answer_is_refused_and_not_recorded(game: Game, store: Store) -> None:
    ann, bob = await people(store, "Ann", "Bob")
    await game.quiz.start(ann, "c1", CONCEPT)
    question, served = game.screen.current
    game.timer.advance(seconds=30)  # exactly the deadline: too late, reveal or not
    late = await game.quiz.answer(question.instance_id, bob, right_answer(game, served))
    assert late.code is AnswerCode.TOO_LATE
    await game.screen.next_reveal()
    await game.quiz.idle()
    after = await game.quiz.answer(question.instance_id, bob, right_answer(game, served))
    assert after.code is AnswerCode.TOO_LATE
    assert await store.get_attempt_correct(question.instance_id, bob.id) is None
    assert (await game.quiz.answer(10**9, bob, "A")).code is AnswerCode.NO_ROUND


async def test_early_reveal_once_everyone_from_before_has_answered(
    game: Game, store: Store
) -> None:
    ann, bob, cy = await people(store, "Ann", "Bob", "Cy")
    started = await game.quiz.start(ann, "c1", CONCEPT)
    first, served = game.screen.current
    key = (started.round.id, 0)
    for user in (ann, bob):
        await game.quiz.answer(first.instance_id, user, right_answer(game, served))
    # the first question waits for its deadline: others may still join
    assert game.quiz.deadlines.when(key) == first.deadline
    await to_deadline(game)
    await game.screen.next_reveal()
    await game.quiz.idle()

    second, served = game.screen.current
    assert second.index == 1
    await game.quiz.answer(second.instance_id, ann, right_answer(game, served))
    await game.quiz.answer(second.instance_id, cy, right_answer(game, served))  # a newcomer
    assert game.quiz.deadlines.when((started.round.id, 1)) == second.deadline  # Bob is missing
    await game.quiz.answer(second.instance_id, bob, wrong_answer(game, served))
    reveal = await game.screen.next_reveal()  # no time passed
    assert reveal.index == 1 and len(reveal.answers) == 3
    assert game.timer.now() < second.deadline


async def test_restart_mid_question_loses_and_doubles_nothing(
    request: pytest.FixtureRequest,
    store_kind: str,
    tmp_path: Path,
    checkers: TorchCheckers,
    timer: FakeTimer,
) -> None:
    path = tmp_path / "quiz.sqlite3"
    memory = MemoryStore(timer.clock)
    url = request.getfixturevalue("pg_url") if store_kind == "postgres" else ""

    async def reopen() -> tuple[Game, Database | PostgresStore | None]:
        if store_kind == "memory":
            return open_game(memory, checkers, timer), None
        if store_kind == "postgres":
            postgres = await open_postgres(url, timer.clock, pool_size=4)
            return open_game(postgres, checkers, timer), postgres
        db = await Database.open(path)
        return open_game(SqliteStore(db, timer.clock), checkers, timer), db

    async def close(game: Game, db: Database | PostgresStore | None) -> None:
        await game.engine.aclose()
        if db is not None:
            await db.close()

    game, db = await reopen()
    store = game.engine.store
    ann, bob = await people(store, "Ann", "Bob")
    await game.quiz.start(ann, "c1", CONCEPT)
    first, served = game.screen.current
    game.timer.advance(seconds=1)
    await game.quiz.answer(first.instance_id, ann, right_answer(game, served))
    await close(game, db)

    # back before the deadline: the old message's buttons still work, Ann's answer stands
    game, db = await reopen()
    assert [r.id for r in await game.quiz.resume()] == [1]
    assert game.screen.asked == []  # already shown
    again = await game.quiz.answer(first.instance_id, ann, wrong_answer(game, served))
    assert again.code is AnswerCode.ALREADY_ANSWERED
    bob_said = await game.quiz.answer(first.instance_id, bob, right_answer(game, served))
    assert bob_said.code is AnswerCode.LOCKED_IN
    timer.advance(seconds=30)
    reveal = await game.screen.next_reveal()
    assert [(a.name, a.correct) for a in reveal.answers] == [("Ann", True), ("Bob", True)]
    await game.quiz.idle()
    second, served = game.screen.current
    await game.quiz.answer(second.instance_id, bob, right_answer(game, served))
    await close(game, db)

    # back after the second deadline: revealed at once, then the third question is asked
    timer.advance(seconds=60)
    game, db = await reopen()
    await game.quiz.resume()
    reveal = await game.screen.next_reveal()
    assert reveal.index == 1 and [a.name for a in reveal.answers] == ["Bob"]
    await game.quiz.idle()
    third, _ = game.screen.current
    assert third.index == 2 and third.deadline > timer.now()
    store = game.engine.store
    assert len(await store.recent_attempts(ann.id, 10)) == 1
    assert len(await store.recent_attempts(bob.id, 10)) == 2
    await close(game, db)


async def test_leaderboards_count_a_question_once_per_window_across_rounds(
    game: Game, store: Store
) -> None:
    (ann,) = await people(store, "Ann")
    server = await store.get_or_create_server("discord", "g1", "Guild")
    totals = []
    for _ in range(2):  # the same three questions twice
        await game.quiz.start(ann, "c1", CONCEPT, server_id=server.id)
        for _ in range(CONCEPT.questions):
            question, served = game.screen.current
            await game.quiz.answer(question.instance_id, ann, right_answer(game, served))
            await to_deadline(game)
            await game.screen.next_reveal()
            await game.quiz.idle()
        _, standings = await game.screen.next_end()
        totals.append(standings[0].points)
        game.timer.advance(days=1)
    assert totals[0] == totals[1] == sum(POINTS.values()) + 3 * 2  # the round scores both
    now = game.timer.now()
    for scope in (Scope.GLOBAL, Scope.SERVER):
        board = await store.leaderboard(scope, Period.ALL, server.id, None, ann.id, 10, now)
        assert board.me is not None and board.me.points == totals[0]  # the board, once
        assert board.me.answered == 6


async def test_misses_go_to_review(game: Game, store: Store) -> None:
    ann, bob = await people(store, "Ann", "Bob")
    await game.quiz.start(ann, "c1", CONCEPT)
    question, served = game.screen.current
    await game.quiz.answer(question.instance_id, bob, wrong_answer(game, served))
    await game.quiz.answer(question.instance_id, ann, right_answer(game, served))
    soon = game.timer.now() + timedelta(hours=5)  # a miss is due in hours, not days
    assert [c.item for c in await store.due_cards(bob.id, soon, 10)] == [served.ref]
    assert await store.due_cards(ann.id, soon, 10) == []  # right: not due so soon
    game.timer.advance(hours=5)
    due = await game.engine.reviews.due_reviews(bob, 5)
    assert [q.ref for q in due] == [served.ref]


async def test_one_round_per_channel_and_who_may_stop_it(game: Game, store: Store) -> None:
    ann, bob = await people(store, "Ann", "Bob")
    first = await game.quiz.start(ann, "c1", CONCEPT)
    second = await game.quiz.start(bob, "c1", QuizSettings())
    assert not second.created and second.round.id == first.round.id
    other = await game.quiz.start(bob, "c2", CONCEPT)
    assert other.created and other.round.id != first.round.id
    question, served = game.screen.asked[0][1:]
    await game.quiz.answer(question.instance_id, bob, right_answer(game, served))

    refused = await game.quiz.stop("c1", bob, can_manage=False)
    assert refused.code is StopCode.NOT_ALLOWED
    status = await game.quiz.status("c1")
    assert status is not None and status.answered == 1 and status.round.running
    stopped = await game.quiz.stop("c1", bob, can_manage=True)
    assert stopped.code is StopCode.STOPPED
    reveal = await game.screen.next_reveal()  # the open question, with Bob's answer
    assert reveal.last and [a.name for a in reveal.answers] == ["Bob"]
    ended, standings = await game.screen.next_end()
    assert ended.id == first.round.id and [r.name for r in stopped.standings] == ["Bob"]
    assert standings == stopped.standings
    late = await game.quiz.answer(question.instance_id, ann, right_answer(game, served))
    assert late.code is AnswerCode.TOO_LATE
    assert await game.quiz.status("c1") is None
    assert (await game.quiz.stop("c1", ann, can_manage=True)).code is StopCode.NO_ROUND
    assert (await game.quiz.status("c2")) is not None  # the other channel plays on


async def test_numeric_questions_and_unreadable_answers(game: Game, store: Store) -> None:
    ann, bob = await people(store, "Ann", "Bob")
    settings = QuizSettings(topic="conv_output", questions=3, seconds=20, kind=QuizKind.NUMERIC)
    await game.quiz.start(ann, "c1", settings, "zh")
    question, served = game.screen.current
    assert served.family == "conv_output" and question.options == 0
    unreadable = await game.quiz.answer(question.instance_id, ann, "no idea")
    assert unreadable.code is AnswerCode.UNREADABLE and unreadable.expected_form is not None
    await game.quiz.answer(question.instance_id, ann, right_answer(game, served))
    await game.quiz.answer(question.instance_id, bob, wrong_answer(game, served))
    await to_deadline(game)
    reveal = await game.screen.next_reveal()
    assert served.seed is not None
    numeric = game.engine.checkers.generate("conv_output", served.seed)
    assert reveal.expected == format_expected(numeric.expected)
    assert reveal.explanation == numeric.solution and reveal.counts == {}
    assert [(a.name, a.correct) for a in reveal.answers] == [("Ann", True), ("Bob", False)]


async def test_the_same_answer_delivered_twice_at_once_counts_once(
    game: Game, store: Store
) -> None:
    ann, bob = await people(store, "Ann", "Bob")
    await game.quiz.start(ann, "c1", CONCEPT)
    question, served = game.screen.current
    right, wrong = right_answer(game, served), wrong_answer(game, served)
    said = await asyncio.gather(
        game.quiz.answer(question.instance_id, bob, right),
        game.quiz.answer(question.instance_id, bob, wrong),
        *(game.quiz.answer(question.instance_id, ann, right) for _ in range(3)),
    )
    codes = sorted(s.code.value for s in said)
    assert codes == ["already_answered"] * 3 + ["locked_in"] * 2
    await to_deadline(game)
    reveal = await game.screen.next_reveal()
    assert sorted(a.name for a in reveal.answers) == ["Ann", "Bob"]
    for user in (ann, bob):
        assert len(await store.recent_attempts(user.id, 10)) == 1
    bob_answer = next(a for a in reveal.answers if a.name == "Bob")
    attempt_correct = await store.get_attempt_correct(question.instance_id, bob.id)
    assert bob_answer.correct is attempt_correct  # the round and the boards agree


async def test_a_click_while_the_round_is_being_resumed_is_not_told_too_late(
    store: Store, checkers: TorchCheckers, timer: FakeTimer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sharded bot resumes its rounds once connected, so a click can come while a round is
    half resumed (its question known, not yet taking answers): it is not a round of this
    process yet (NO_ROUND, which the Discord front end waits out), never "too late"."""
    first = open_game(store, checkers, timer)
    ann, bob = await people(store, "Ann", "Bob")
    await first.quiz.start(ann, "c1", CONCEPT)
    question, served = first.screen.current
    await first.engine.aclose()

    later = open_game(store, checkers, timer)
    entered, go_on = asyncio.Event(), asyncio.Event()
    reshow = later.engine.making.reshow

    async def paused(*args: object, **kwargs: object) -> object:
        entered.set()  # the resume is inside `_resume`, between reading and opening
        await go_on.wait()
        return await reshow(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(later.engine.making, "reshow", paused)
    resuming = asyncio.create_task(later.quiz.resume())
    try:
        await asyncio.wait_for(entered.wait(), WAIT)
        said = await later.quiz.answer(question.instance_id, bob, right_answer(later, served))
        assert said.code is AnswerCode.NO_ROUND, said
        go_on.set()
        assert [r.channel_id for r in await asyncio.wait_for(resuming, WAIT)] == ["c1"]
        said = await later.quiz.answer(question.instance_id, bob, right_answer(later, served))
        assert said.code is AnswerCode.LOCKED_IN, said
    finally:
        go_on.set()
        await asyncio.gather(resuming, return_exceptions=True)
        await later.engine.aclose()


async def test_a_round_whose_question_left_the_bank_is_stopped_at_restart(
    store: Store, checkers: TorchCheckers, timer: FakeTimer
) -> None:
    first = open_game(store, checkers, timer)
    (ann,) = await people(store, "Ann")
    await first.quiz.start(ann, "c1", CONCEPT)
    question, served = first.screen.current
    await first.quiz.answer(question.instance_id, ann, right_answer(first, served))
    await first.engine.aclose()

    later = open_game(store, checkers, timer, FIXTURE_BANK)  # without the quiz questions
    try:
        assert [r.channel_id for r in await later.quiz.resume()] == ["c1"]
        ended, standings = await later.screen.next_end()
        assert ended.status is RoundStatus.STOPPED and [r.name for r in standings] == ["Ann"]
        assert await later.quiz.status("c1") is None
        again = await later.quiz.start(ann, "c1", QuizSettings(topic="vanishing_gradients"))
        assert again.created  # the channel is free again
    finally:
        await later.engine.aclose()
