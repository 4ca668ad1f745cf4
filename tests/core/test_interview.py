"""Mock interviews driven with a fake clock, through the real engine and a real SQLite file."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from bot.checkers import TorchCheckers
from bot.core.bank import load_bank
from bot.core.engine import Engine, SelfRating
from bot.core.interview import Interview, InterviewError, Interviews, Outcome, Step
from bot.core.models import Kind, User
from bot.storage.db import Database
from bot.storage.repo import SqliteStore

from ..conftest import FIXTURE_BANK, FakeClock


async def right_answer(engine: Engine, step: Step) -> str:
    """The correct answer to the step's question, computed independently of the grader."""
    assert step.question is not None
    if step.question.kind is Kind.MCQ:
        question = engine.bank.get(step.question.ref)
        assert question is not None and question.answer is not None
        return question.answer
    assert step.question.family is not None and step.question.seed is not None
    return str(engine.checkers.generate(step.question.family, step.question.seed).expected)


async def respond(interviews: Interviews, step: Step, user: User, correct: bool = True) -> Step:
    assert step.item is not None and step.question is not None
    index = step.item.index
    if step.question.kind is Kind.OPEN:
        rating = SelfRating.GOOD if correct else SelfRating.AGAIN
        return await interviews.self_rate(step.interview.id, index, user, rating)
    answer = await right_answer(interviews.engine, step)
    if not correct:
        answer = "D" if answer == "B" else str(float(answer) + 1000)
    return await interviews.answer(step.interview.id, index, user, answer)


@pytest.fixture
async def ann(engine: Engine) -> User:
    return await engine.user("local", "ann", "ann")


async def test_a_full_interview_ends_with_a_report(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = Interviews(engine)
    step = await interviews.start(ann, [], questions=3, minutes=2)
    kinds = []
    while step.report is None:
        assert step.question is not None and step.item is not None
        assert step.item.deadline == clock.now() + timedelta(minutes=2)
        kinds.append(step.question.kind)
        clock.advance(seconds=30)
        step = await respond(interviews, step, ann)
        assert step.outcome is not None and step.outcome.grade.correct
    assert sorted(kinds) == sorted([Kind.MCQ, Kind.NUMERIC, Kind.OPEN])  # a mix of kinds
    report = step.report
    assert (report.status, report.asked, report.correct) == ("finished", 3, 3)
    assert report.weakest == []
    assert [seconds for _, _, seconds, _ in report.times] == [30.0, 30.0, 30.0]
    assert {s.topic for s in report.by_topic} == {
        "vanishing_gradients",
        "initialization",
        "conv_output",
    }
    assert len(report.review) == 3  # every question is now scheduled for review
    assert all(card.due > clock.now() for card in report.review)
    assert await interviews.active(ann) is None


async def test_timeout_moves_on_and_a_late_answer_does_not_count(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = Interviews(engine)
    first = await interviews.start(ann, [], questions=3, minutes=1)
    assert first.item is not None
    clock.advance(seconds=61)
    status = await interviews.status(first.interview.id, ann)
    assert status.timed_out == [0]
    assert status.item is not None and status.item.index == 1
    # An answer to question 0 arrives late: nothing is recorded, the current question shows.
    late = await respond(interviews, first, ann)
    assert late.outcome is None and late.item is not None and late.item.index == 1
    interview, _ = await interviews.load(first.interview.id)
    assert interview.items[0].outcome is Outcome.TIMEOUT
    assert (await engine.answered(interview.items[0].instance_id, ann)) is None
    # The miss earns a follow-up on the same topic next (here question 1 is it).
    assert interview.items[1].follow_up and interview.items[1].topic == interview.items[0].topic


async def test_hint_costs_a_point_and_miss_brings_a_follow_up(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = Interviews(engine)
    engine.rng.seed(1)
    step = await interviews.start(ann, ["vanishing_gradients"], questions=3, minutes=3)
    assert step.question is not None and step.question.kind is Kind.MCQ  # only mcq there
    assert step.item is not None
    hint, after = await interviews.hint(step.interview.id, step.item.index, ann)
    assert hint.en.startswith("💡 It is not ") and "B" not in hint.en.split(".")[0]
    assert after.item is not None and after.item.hints == 1
    answered = await respond(interviews, step, ann)
    assert answered.outcome is not None and answered.outcome.counted
    assert answered.outcome.points == 0  # easy question: 1 point, minus 1 for the hint
    # A miss on the next question brings a follow-up on the same topic.
    missed = await respond(interviews, answered, ann, correct=False)
    assert missed.item is not None and missed.item.follow_up
    assert missed.item.topic == "vanishing_gradients"


async def test_stopping_early_reports_what_was_answered(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = Interviews(engine)
    step = await interviews.start(ann, [], questions=5, minutes=3)
    step = await respond(interviews, step, ann)
    stopped = await interviews.stop(step.interview.id, ann)
    assert stopped.report is not None
    assert (stopped.report.status, stopped.report.asked) == ("stopped", 1)
    assert stopped.report.times[-1][3] is Outcome.UNANSWERED
    with pytest.raises(InterviewError):
        await respond(interviews, step, ann)
    again = await interviews.start(ann, [], questions=3, minutes=3)  # a new one may start
    assert again.interview.id != step.interview.id


async def test_refusals_are_domain_errors(engine: Engine, ann: User) -> None:
    interviews = Interviews(engine)
    for kwargs, code in [
        ({"questions": 2}, "questions"),
        ({"questions": 21}, "questions"),
        ({"minutes": 11}, "minutes"),
    ]:
        with pytest.raises(InterviewError) as caught:
            await interviews.start(ann, [], **kwargs)  # type: ignore[arg-type]
        assert caught.value.code == code
    with pytest.raises(InterviewError, match="Unknown topic"):
        await interviews.start(ann, ["transformers"])
    await interviews.start(ann, [])
    with pytest.raises(InterviewError) as caught:
        await interviews.start(ann, [])
    assert caught.value.code == "active"
    bob = await engine.user("local", "bob", "bob")
    active = await interviews.active(ann)
    assert active is not None
    with pytest.raises(InterviewError) as caught:
        await interviews.stop(active.id, bob)
    assert caught.value.code == "not_yours"


async def test_a_restart_halfway_resumes_the_same_interview(
    db_path: Path, clock: FakeClock, checkers: TorchCheckers
) -> None:
    bank = load_bank([FIXTURE_BANK], checkers.family_names())

    async def engine_over(db: Database) -> tuple[Engine, Interviews, User]:
        engine = Engine(SqliteStore(db), bank, checkers, clock, random.Random(3))
        return engine, Interviews(engine), await engine.user("local", "ann", "ann")

    db = await Database.open(db_path)
    _, interviews, ann = await engine_over(db)
    step = await interviews.start(ann, [], questions=3, minutes=5)
    step = await respond(interviews, step, ann)
    assert step.item is not None
    open_index, open_ref = step.item.index, step.question.ref if step.question else ""
    await db.close()  # the process goes away

    db = await Database.open(db_path)  # a new engine over the same file
    try:
        _, interviews, ann = await engine_over(db)
        active = await interviews.active(ann)
        assert isinstance(active, Interview) and active.id == step.interview.id
        resumed = await interviews.status(active.id, ann)
        assert resumed.item is not None and resumed.item.index == open_index
        assert resumed.question is not None and resumed.question.ref == open_ref
        while resumed.report is None:
            resumed = await respond(interviews, resumed, ann)
        assert resumed.report.asked == 3 and resumed.report.correct == 3
    finally:
        await db.close()
