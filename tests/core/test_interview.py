"""Mock interviews driven with a fake clock, through the real engine and a real SQLite file."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app.wiring import wire_engine
from bot.checkers import TorchCheckers
from bot.core.bank import load_bank
from bot.core.engine import Engine, SelfRating
from bot.core.interview import Interview, InterviewError, Interviews, Outcome, Step
from bot.core.models import AttemptRecord, Kind, Localized, ServedQuestion, User
from bot.core.review import Rating, Reviewer, review_item
from bot.shared.texts import (
    expired_text,
    hint_text,
    interview_error,
    item_label,
    item_position,
    question_label,
    report_count,
    review_title,
    short_label,
    solution_text,
    timing_label,
)
from bot.storage.db import Database
from bot.storage.sqlite import SqliteStore

from ..conftest import FIXTURE_BANK, FakeClock

# The same interviews over SQLite and the in-memory store (the contract: tests/storage/contract).
pytestmark = pytest.mark.stores("sqlite", "memory", "postgres")


async def right_answer(interviews: Interviews, step: Step) -> str:
    """The correct answer to the step's question, computed independently of the grader."""
    assert step.question is not None
    if step.question.kind is Kind.MCQ:
        question = interviews.catalog.bank.get(step.question.ref)
        assert question is not None and question.answer is not None
        return question.answer
    assert step.question.family is not None and step.question.seed is not None
    return str(interviews.checkers.generate(step.question.family, step.question.seed).expected)


async def respond(interviews: Interviews, step: Step, user: User, correct: bool = True) -> Step:
    assert step.item is not None and step.question is not None
    index = step.item.index
    if step.question.kind is Kind.OPEN:
        rating = SelfRating.GOOD if correct else SelfRating.AGAIN
        return await interviews.self_rate(step.interview.id, index, user, rating)
    answer = await right_answer(interviews, step)
    if not correct:
        answer = "D" if answer == "B" else str(float(answer) + 1000)
    return await interviews.answer(step.interview.id, index, user, answer)


@pytest.fixture
async def ann(engine: Engine) -> User:
    return await engine.identities.user("local", "ann", "ann")


async def test_a_full_interview_ends_with_a_report(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = engine.interviews
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
    assert (report.status, report.answered, report.correct) == ("finished", 3, 3)
    assert report.weakest == []
    assert [t.seconds for t in report.times] == [30.0, 30.0, 30.0]
    assert {s.topic for s in report.by_topic} == {
        "vanishing_gradients",
        "initialization",
        "conv_output",
    }
    assert len(report.review) == 3  # every question is now scheduled for review
    assert all(card.due > clock.now() for card in report.review)
    assert await interviews.active(ann) is None


async def test_a_hint_with_nothing_new_is_shown_again_for_free(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    """Multiple choice: each hint rules out another wrong option, and once all are out the
    last is shown again without cost. Numeric: one hint (the first step), then the same again
    for free. A repeated hint never costs a point."""
    interviews = engine.interviews
    engine.rng.seed(1)
    step = await interviews.start(ann, ["vanishing_gradients"], questions=3, minutes=3)
    assert step.question is not None and step.question.kind is Kind.MCQ and step.item is not None
    question = interviews.catalog.bank.get(step.question.ref)
    assert question is not None
    wrong = len(question.choices) - 1
    given = [
        (await interviews.hint(step.interview.id, step.item.index, ann))[0]
        for _ in range(wrong + 2)
    ]
    ruled_out = [hint.ruled_out for hint in given]
    assert len(set(ruled_out[:wrong])) == wrong and question.answer not in ruled_out
    assert [hint.repeated for hint in given] == [False] * wrong + [True, True]
    assert ruled_out[wrong:] == [ruled_out[wrong - 1]] * 2
    assert hint_text(given[-1]).en.endswith("(shown again: no extra cost)")
    assert hint_text(given[-1]).zh.endswith("（重复的提示，不再扣分）")
    interview, _ = await interviews.load(step.interview.id)
    assert interview.items[step.item.index].hints == wrong

    await interviews.stop(step.interview.id, ann)
    step = await interviews.start(ann, ["conv_output"], questions=3, minutes=3)
    assert step.question is not None and step.question.kind is Kind.NUMERIC
    assert step.item is not None
    first, _ = await interviews.hint(step.interview.id, step.item.index, ann)
    again, after = await interviews.hint(step.interview.id, step.item.index, ann)
    assert (first.repeated, again.repeated) == (False, True) and first.text == again.text
    assert after.item is not None and after.item.hints == 1


async def test_timeout_moves_on_and_a_late_answer_does_not_count(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = engine.interviews
    first = await interviews.start(ann, [], questions=3, minutes=1)
    assert first.item is not None
    clock.advance(seconds=61)
    status = await interviews.status(first.interview.id, ann)
    assert [e.index for e in status.expired] == [0]
    assert status.item is not None and status.item.index == 1
    # An answer to question 0 arrives late: nothing is recorded, the current question shows.
    late = await respond(interviews, first, ann)
    assert late.outcome is None and late.item is not None and late.item.index == 1
    interview, _ = await interviews.load(first.interview.id)
    assert interview.items[0].outcome is Outcome.TIMEOUT
    assert (await engine.answering.answered(interview.items[0].instance_id, ann)) is None
    # The miss earns a follow-up on the same topic next (here question 1 is it).
    assert interview.items[1].follow_up and interview.items[1].topic == interview.items[0].topic


async def test_hint_costs_a_point_and_miss_brings_a_follow_up(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = engine.interviews
    engine.rng.seed(1)
    step = await interviews.start(ann, ["vanishing_gradients"], questions=3, minutes=3)
    assert step.question is not None and step.question.kind is Kind.MCQ  # only mcq there
    assert step.item is not None
    given, after = await interviews.hint(step.interview.id, step.item.index, ann)
    hint = hint_text(given)
    assert hint.en.startswith("💡 It is not ") and "B" not in hint.en.split(".")[0]
    assert after.item is not None and after.item.hints == 1
    answered = await respond(interviews, step, ann)
    assert answered.outcome is not None and answered.outcome.counted
    assert answered.outcome.points == 0  # easy question: 1 point, minus 1 for the hint
    # A miss on the next question brings a follow-up on the same topic.
    missed = await respond(interviews, answered, ann, correct=False)
    assert missed.item is not None and missed.item.follow_up
    assert missed.item.topic == "vanishing_gradients"


async def test_the_report_lists_only_the_reviews_its_answers_scheduled(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    """A question left unanswered (stopped, or timed out) scheduled nothing: a review card of
    its item from before the interview is not this interview's, and is not listed."""
    interviews = engine.interviews
    step = await interviews.start(ann, [], questions=3, minutes=3)
    step = await respond(interviews, step, ann)
    assert step.item is not None and step.question is not None
    left = review_item(step.question.ref)  # the next question, asked but never answered
    earlier = Reviewer().review(None, left, step.question.topic, Rating.Again, clock.now())
    made = await engine.store.create_instance(
        ServedQuestion(
            ref=step.question.ref,
            kind=step.question.kind,
            topic=step.question.topic,
            difficulty=step.question.difficulty,
            text=Localized(en="q", zh="题"),
        ),
        None,
        None,
        "en",
        clock.now(),
    )
    await engine.store.record_attempt(
        AttemptRecord(
            instance_id=made.id,
            user_id=ann.id,
            server_id=None,
            topic=step.question.topic,
            ref=step.question.ref,
            answer="x",
            correct=False,
            points=0,
            at=clock.now(),
            review=earlier,
        )
    )
    assert await engine.store.get_card(ann.id, left) is not None
    stopped = await interviews.stop(step.interview.id, ann)
    assert stopped.report is not None
    assert [entry.item for entry in stopped.report.review] == [
        review_item(stopped.interview.items[0].ref)
    ]


async def test_stopping_early_reports_what_was_answered(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = engine.interviews
    step = await interviews.start(ann, [], questions=5, minutes=3)
    step = await respond(interviews, step, ann)
    stopped = await interviews.stop(step.interview.id, ann)
    assert stopped.report is not None
    assert (stopped.report.status, stopped.report.answered) == ("stopped", 1)
    assert (stopped.report.questions, stopped.report.unanswered) == (2, 1)
    assert stopped.report.times[-1].outcome is Outcome.UNANSWERED
    with pytest.raises(InterviewError):
        await respond(interviews, step, ann)
    again = await interviews.start(ann, [], questions=3, minutes=3)  # a new one may start
    assert again.interview.id != step.interview.id


async def test_the_sweep_sees_only_the_interviews_still_running(engine: Engine, ann: User) -> None:
    interviews = engine.interviews
    bob = await engine.identities.user("test", "bob", "bob")
    first = await interviews.start(ann, [], questions=3, minutes=3)
    second = await interviews.start(bob, [], questions=3, minutes=3)
    assert sorted(await interviews.active_ids()) == sorted(
        [first.interview.id, second.interview.id]
    )
    await interviews.stop(first.interview.id, ann)
    assert await interviews.active_ids() == [second.interview.id]


async def test_refusals_are_domain_errors(engine: Engine, ann: User) -> None:
    interviews = engine.interviews
    for kwargs, code in [
        ({"questions": 2}, "questions"),
        ({"questions": 21}, "questions"),
        ({"minutes": 11}, "minutes"),
    ]:
        with pytest.raises(InterviewError) as caught:
            await interviews.start(ann, [], **kwargs)  # type: ignore[arg-type]
        assert caught.value.code == code
    with pytest.raises(InterviewError) as caught:
        await interviews.start(ann, ["quantum_chemistry"])
    assert "Unknown topic" in interview_error(caught.value).en  # worded by the front ends
    await interviews.start(ann, [])
    with pytest.raises(InterviewError) as caught:
        await interviews.start(ann, [])
    assert caught.value.code == "active"
    bob = await engine.identities.user("local", "bob", "bob")
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
        engine = wire_engine(SqliteStore(db), bank, checkers, clock, random.Random(3))
        return engine, engine.interviews, await engine.identities.user("local", "ann", "ann")

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
        assert resumed.report.answered == 3 and resumed.report.correct == 3
    finally:
        await db.close()


async def test_report_counts_agree_with_stats_and_follow_ups_are_numbered_apart(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    """A timed-out question is not an answer: the report's `correct/answered` is what stats
    counts, timeouts come apart, and a follow-up is `Q1 follow-up`, not a question of its own."""
    interviews = engine.interviews
    engine.rng.seed(1)
    step = await interviews.start(ann, ["vanishing_gradients"], questions=4, minutes=1)
    assert step.item is not None
    assert item_position(step.interview, step.item).en == "Q1 of 4"
    step = await respond(interviews, step, ann, correct=False)  # Q1 wrong: a follow-up
    assert step.item is not None and step.item.follow_up
    assert item_label(step.interview, step.item).en == "Q1 follow-up"
    assert item_position(step.interview, step.item).en == "Q1 follow-up"
    assert item_position(step.interview, step.item).zh == "第 1 题追问"
    step = await respond(interviews, step, ann)  # the follow-up, right
    assert step.item is not None and not step.item.follow_up
    assert item_position(step.interview, step.item).en == "Q2 of 4"
    assert item_position(step.interview, step.item).zh == "第 2 题（共 4 题）"
    clock.advance(seconds=61)  # Q2 runs out of time
    step = await interviews.status(step.interview.id, ann)
    assert [question_label(e.number, e.follow_up).en for e in step.expired] == ["Q2"]
    while step.report is None:
        step = await respond(interviews, step, ann)
    report = step.report
    stats = await engine.boards.stats(ann)
    answered = sum(t.answered for t in stats.by_topic)
    correct = sum(t.correct for t in stats.by_topic)
    assert (report.correct, report.answered) == (correct, answered)
    assert (report.questions, report.follow_ups, report.timed_out) == (4, 2, 1)
    assert report_count(report).en == "4 questions + 2 follow-ups"
    assert report_count(report).zh == "4 道题 + 2 道追问"
    labels = [timing_label(t).en for t in report.times]
    assert labels[:4] == ["Q1", "Q1 follow-up", "Q2", "Q2 follow-up"]
    assert [short_label(t) for t in report.times][:4] == ["Q1", "Q1+", "Q2", "Q2+"]
    (score,) = report.by_topic
    assert (score.answered, score.timed_out) == (answered, 1)


async def test_a_late_answer_is_not_counted_but_shows_the_solution(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = engine.interviews
    engine.rng.seed(1)
    first = await interviews.start(ann, ["vanishing_gradients"], questions=3, minutes=1)
    assert first.question is not None and first.question.ref == "fx-sigmoid-max"
    clock.advance(seconds=61)
    late = await interviews.answer(first.interview.id, 0, ann, "C")  # past the deadline
    assert late.outcome is None
    (expired,) = late.expired
    assert expired.index == 0 and expired.late
    assert expired.grade is not None and not expired.grade.correct  # C would have been wrong
    text = expired_text(expired)
    assert "came late and does not count" in text.en and "不计入" in text.zh
    assert "The answer is B." in text.en and "peaks at x = 0" in text.en
    assert "正确答案是 B。" in text.zh
    interview, _ = await interviews.load(first.interview.id)
    assert interview.items[0].outcome is Outcome.TIMEOUT
    assert (await engine.answering.answered(interview.items[0].instance_id, ann)) is None
    # The next question is shown with it; a late answer after the sweeper settled the
    # timeout shows the solution the same way.
    assert late.item is not None and late.item.index == 1
    again = await interviews.answer(first.interview.id, 0, ann, "B")
    (expired,) = again.expired
    assert expired.late and expired.grade is not None and expired.grade.correct
    assert "The answer is B." in expired_text(expired).en


async def test_a_late_answer_to_the_last_question_shows_the_solution_and_the_report(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = engine.interviews
    step = await interviews.start(ann, ["conv_output"], questions=3, minutes=1)
    step = await respond(interviews, step, ann, correct=False)  # its follow-up: the only one
    for _ in range(2):
        step = await respond(interviews, step, ann)
    assert step.item is not None and step.question is not None and step.report is None
    assert item_label(step.interview, step.item).en == "Q3"
    last = step
    clock.advance(seconds=61)
    assert await interviews.tick(step.interview.id) is not None  # the sweeper ends it
    late = await respond(interviews, last, ann)
    assert late.report is not None and late.report.timed_out == 1
    (expired,) = late.expired
    assert expired.late and expired.grade is not None and expired.grade.correct
    assert expired.solution is not None
    solution = solution_text(expired.solution)
    assert solution.en.startswith("Solution: ")
    assert solution.en.endswith(".") and "out =" in solution.en
    assert late.report.answered == 3 and late.report.correct == 2


async def test_an_open_question_out_of_time_shows_its_model_answer(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = engine.interviews
    step = await interviews.start(ann, ["initialization"], questions=3, minutes=1)
    assert step.question is not None and step.question.kind is Kind.OPEN
    clock.advance(seconds=61)
    late = await interviews.self_rate(step.interview.id, 0, ann, SelfRating.GOOD)
    (expired,) = late.expired
    assert expired.late and expired.grade is None
    text = expired_text(expired)
    assert "Model answer: Every unit would compute the same function" in text.en
    assert "Key points: symmetry between units;" in text.en
    assert "参考答案：" in text.zh and "要点：单元之间的对称性；" in text.zh


async def test_the_review_list_names_questions_not_internal_ids(
    engine: Engine, clock: FakeClock, ann: User
) -> None:
    interviews = engine.interviews
    step = await interviews.start(ann, [], questions=3, minutes=2)
    while step.report is None:
        step = await respond(interviews, step, ann)
    titles = {e.item: review_title(e) for e in step.report.review}
    assert titles["family:conv_output"].en == "Output sizes · numeric"
    assert titles["family:conv_output"].zh == "输出尺寸计算 · 计算题"
    assert titles["fx-sigmoid-max"].en.startswith("Vanishing and exploding gradients · “What is")
    assert titles["fx-sigmoid-max"].zh.startswith("梯度消失与梯度爆炸 · “sigmoid")
    for title in titles.values():
        assert "family:" not in title.en + title.zh and "fx-" not in title.en + title.zh


async def test_messages_name_no_discord_command(engine: Engine, ann: User) -> None:
    interviews = engine.interviews
    await interviews.start(ann, [])
    with pytest.raises(InterviewError) as caught:
        await interviews.start(ann, [])
    message = interview_error(caught.value)
    assert "/" not in message.en + message.zh
