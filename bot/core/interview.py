"""Mock interviews: a timed sequence of questions with hints, follow-ups and a report.

`Interview` is the state (pydantic, saved as JSON after every event) and its pure transitions
(in interview_state.py);
`Interviews` runs them against the services and the store with an injected clock. A restart
loses nothing: every event is saved before its result is shown, and a new `Interviews` over
the same database carries on from the saved state.

Rules: each question has a deadline (`minutes` after it is shown); an answer after the deadline
counts as a timeout: it is not recorded, but the user still sees how it would have been graded,
and the answer with its worked solution. A hint costs a point of a scored question (see
scoring.py; open questions earn no points). After a miss, one follow-up question on the same
topic is added (at most `planned // 2` in a whole interview); it is numbered after the question
it follows ("Q3 follow-up"), and counts are "N questions + M follow-ups".

One definition of "answered" everywhere: a question with a recorded answer (right or wrong), which
is exactly what `stats` counts. Timed-out and unanswered questions are counted apart.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from bot.core.errors import NoQuestionFound
from bot.core.interview_state import (
    MAX_MINUTES,
    MAX_QUESTIONS,
    MIN_MINUTES,
    MIN_QUESTIONS,
    Expired,
    Hint,
    Interview,
    InterviewError,
    Item,
    Outcome,
    Report,
    ReviewEntry,
    Solution,
    StaleSave,
    Step,
    Timing,
    TopicScore,
    make_plan,
)
from bot.core.models import (
    LETTERS,
    AnswerOutcome,
    Difficulty,
    Grade,
    Kind,
    Lang,
    Localized,
    ReviewCard,
    ServedQuestion,
    User,
    Verdict,
)
from bot.core.ports import AttemptStore, Checkers, Clock, InterviewStore, UserStore
from bot.core.review import review_item
from bot.core.services.answering import Answering, SelfRating, grade_choice
from bot.core.services.catalog import Catalog, KindFilter, parse_generated_ref
from bot.core.services.making import Making
from bot.core.services.posting import Postings
from bot.core.topics import TOPIC_IDS, topic_id, topics_in


class InterviewsStore(InterviewStore, AttemptStore, UserStore, Protocol):
    """What `Interviews` reads and writes: interviews, their users, review cards."""


class Interviews:
    """Starts and drives mock interviews; every event is saved before it is answered."""

    def __init__(
        self,
        store: InterviewsStore,
        clock: Clock,
        rng: random.Random,
        catalog: Catalog,
        making: Making,
        postings: Postings,
        answering: Answering,
        checkers: Checkers,
    ) -> None:
        self.store = store
        self.clock = clock
        self.rng = rng
        self.catalog = catalog
        self._making = making
        self._postings = postings
        self._answering = answering
        self.checkers = checkers

    # loading and saving

    async def load(self, interview_id: int) -> tuple[Interview, int]:
        found = await self.store.get_interview(interview_id)
        if found is None:
            raise InterviewError("unknown")
        state, version = found
        return Interview.model_validate_json(state), version

    async def _save(self, interview: Interview, version: int) -> int:
        """Save the state read at `version`; returns the new version."""
        saved = await self.store.save_interview(
            interview.id, interview.status, interview.model_dump_json(), version, self.clock.now()
        )
        if not saved:
            raise StaleSave(f"interview {interview.id} changed meanwhile")
        return version + 1

    async def active(self, user: User) -> Interview | None:
        interview_id = await self.store.active_interview_id(user.id)
        if interview_id is None:
            return None
        interview, _ = await self.load(interview_id)
        return interview

    async def active_ids(self, owns: Callable[[str | None], bool] | None = None) -> list[int]:
        """Every interview still running, whoever's (the front end's timeout sweep); with
        `owns`, only those whose server it accepts (the server's external id, None outside
        servers): each process of a sharded bot sweeps the interviews of its own shards."""
        if owns is None:
            return await self.store.active_interview_ids()
        return [i for i, server in await self.store.active_interviews() if owns(server)]

    async def _owned(self, interview_id: int, user: User) -> tuple[Interview, int]:
        interview, version = await self.load(interview_id)
        if interview.user_id != user.id:
            raise InterviewError("not_yours")
        return interview, version

    # events

    async def start(
        self,
        user: User,
        topics: list[str],
        questions: int = 8,
        minutes: int = 3,
        server_id: int | None = None,
        lang: Lang = "en",
    ) -> Step:
        if not MIN_QUESTIONS <= questions <= MAX_QUESTIONS:
            raise InterviewError("questions")
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise InterviewError("minutes")
        topics = [topic_id(t) for t in topics]  # `CNN`, `vanishing-gradients`
        unknown = [t for t in topics if not topics_in(t)]
        if unknown:
            raise InterviewError("topic", topics=unknown)
        if await self.store.active_interview_id(user.id) is not None:
            raise InterviewError("active")
        now = self.clock.now()
        interview = Interview(
            user_id=user.id,
            server_id=server_id,
            lang=lang,
            topics=topics,
            planned=questions,
            minutes=minutes,
            started_at=now,
            plan=make_plan(questions, self.rng),
        )
        interview.id = await self.store.create_interview(
            user.id, server_id, interview.model_dump_json(), now
        )
        step = Step(interview=interview)
        await self._advance(interview, step, user)
        await self._save(interview, 0)
        return step

    async def status(self, interview_id: int, user: User, index: int | None = None) -> Step:
        """Where the interview is; a question whose time ran out is settled first. `index`:
        the question the user acted on; if its time ran out, the step has its solution."""
        interview, version = await self._owned(interview_id, user)
        step = Step(interview=interview)
        if interview.status == "active" and await self._catch_up(interview, step, user):
            await self._save(interview, version)
        if index is not None:
            await self._expired_entry(interview, index, step)
        if interview.status != "active":
            step.report = await self.report(interview)
        elif interview.current is not None:
            step.item = interview.current
            step.question = await self._reshow(interview.current)
        return step

    async def answer(self, interview_id: int, index: int, user: User, text: str) -> Step:
        interview, version, item, step = await self._open_item(interview_id, index, user, text)
        if item is None:
            return step
        outcome = await self._answering.answer(item.instance_id, user, text, hints=item.hints)
        return await self._settle(interview, version, item, step, outcome, user)

    async def self_rate(
        self,
        interview_id: int,
        index: int,
        user: User,
        rating: SelfRating,
        coverage: float | None = None,
    ) -> Step:
        """The user's rating of the open question; `coverage`: the share of its key points
        their typed answer covered (bot/core/rubric/), for the report."""
        interview, version, item, step = await self._open_item(interview_id, index, user, "")
        if item is None:
            return step
        if coverage is not None:
            item.coverage = coverage
        outcome = await self._answering.self_rate(item.instance_id, user, rating, hints=item.hints)
        return await self._settle(interview, version, item, step, outcome, user)

    async def note_coverage(
        self, interview_id: int, index: int, user: User, coverage: float
    ) -> None:
        """Keep, for the report, the share of key points a typed answer to the open question
        `index` covered (before the user rates it); nothing if it is no longer the open one."""
        interview, version = await self._owned(interview_id, user)
        current = interview.current
        if interview.status == "active" and current is not None and current.index == index:
            current.coverage = coverage
            await self._save(interview, version)

    async def hint(self, interview_id: int, index: int, user: User) -> tuple[Hint, Step]:
        """A hint for the open question: it costs a point of it, unless it has nothing new to
        give (a numeric or open question has one hint; multiple choice one per wrong option),
        when the last one is shown again for free."""
        interview, version, item, step = await self._open_item(interview_id, index, user)
        if item is None:
            raise InterviewError("over")
        hint, distinct = await self._hint(item)
        if item.hints < distinct:
            item.hints += 1
        else:
            hint = hint.model_copy(update={"repeated": True})
        await self._save(interview, version)
        step.item = item
        return hint, step

    async def stop(self, interview_id: int, user: User) -> Step:
        interview, version = await self._owned(interview_id, user)
        step = Step(interview=interview)
        if interview.status == "active":
            interview.finish(self.clock.now(), stopped=True)
            await self._save(interview, version)
        step.report = await self.report(interview)
        return step

    async def tick(self, interview_id: int) -> Step | None:
        """Settle an interview whose open question ran out of time (a sweeper calls this);
        None if nothing changed."""
        interview, version = await self.load(interview_id)
        if interview.status != "active":
            return None
        user = await self.store.get_user(interview.user_id)
        if user is None:
            return None
        step = Step(interview=interview)
        if not await self._catch_up(interview, step, user):
            return None
        await self._save(interview, version)
        return step

    # internals

    async def _open_item(
        self, interview_id: int, index: int, user: User, text: str | None = None
    ) -> tuple[Interview, int, Item | None, Step]:
        """The open question `index`, after settling timeouts; None (with the step to show
        instead) if that question is no longer the open one. `text`: the answer given to it;
        if its time ran out, the step shows how it would have been graded, and the solution."""
        interview, version = await self._owned(interview_id, user)
        step = Step(interview=interview)
        if interview.status != "active":
            if await self._late(interview, index, step, text) is None:
                raise InterviewError("ended")
            step.report = await self.report(interview)
            return interview, version, None, step
        if await self._catch_up(interview, step, user):
            version = await self._save(interview, version)
        current = interview.current
        if current is None or current.index != index:
            await self._late(interview, index, step, text)
            if interview.status != "active":
                step.report = step.report or await self.report(interview)
            elif current is not None and step.question is None:
                step.item, step.question = current, await self._reshow(current)
            return interview, version, None, step
        return interview, version, current, step

    async def _settle(
        self,
        interview: Interview,
        version: int,
        item: Item,
        step: Step,
        outcome: AnswerOutcome,
        user: User,
    ) -> Step:
        step.outcome = outcome
        if outcome.grade.verdict is Verdict.UNREADABLE:
            step.item, step.question = item, await self._reshow(item)
            return step  # nothing changes: try again
        correct = outcome.grade.correct if outcome.counted else bool(outcome.previous_correct)
        interview.settle(item, correct, outcome.points, self.clock.now())
        await self._advance(interview, step, user)
        await self._save(interview, version)
        if step.report is None and interview.status != "active":
            step.report = await self.report(interview)
        return step

    async def _catch_up(self, interview: Interview, step: Step, user: User) -> bool:
        """Apply every timeout due by now (serving the next question each time)."""
        changed = False
        while interview.status == "active":
            expired = interview.expire(self.clock.now())
            if expired is None:
                break
            await self._expired_entry(interview, expired.index, step)
            changed = True
            await self._advance(interview, step, user)
        return changed

    async def _advance(self, interview: Interview, step: Step, user: User) -> None:
        """Serve the next question (a follow-up first), or finish the interview."""
        if not interview.wants_next():
            if interview.status == "active" and interview.current is None:
                interview.finish(self.clock.now(), stopped=False)
                step.report = await self.report(interview)
            return
        follow_up = interview.pending_follow_up
        interview.pending_follow_up = None
        if follow_up is not None:
            interview.follow_ups += 1
            kind, level = self.rng.choice(list(Kind)), None
            topic: str | None = follow_up
        else:
            kind, level = interview.plan.pop(0) if interview.plan else (Kind.MCQ, None)
            topic = self.rng.choice(interview.topics) if interview.topics else None
        served = await self._serve(user, topic, kind, level, interview.server_id)
        now = self.clock.now()
        instance = await self._postings.post(
            served, interview.server_id, None, interview.lang, served_to=user
        )
        item = Item(
            index=len(interview.items),
            instance_id=instance.id,
            ref=served.ref,
            topic=served.topic,
            kind=served.kind,
            difficulty=served.difficulty,
            follow_up=follow_up is not None,
            shown_at=now,
            deadline=now + timedelta(minutes=interview.minutes),
        )
        interview.items.append(item)
        step.question, step.item = served, item

    async def _serve(
        self,
        user: User,
        topic: str | None,
        kind: Kind,
        level: Difficulty | None,
        server_id: int | None,
    ) -> ServedQuestion:
        """The planned kind and level if the bank has one, relaxing level, then kind."""
        wanted = {Kind.MCQ: KindFilter.MCQ, Kind.OPEN: KindFilter.OPEN}.get(
            kind, KindFilter.NUMERIC
        )
        for kinds, difficulty in ((wanted, level), (wanted, None), (KindFilter.ANY, None)):
            try:
                return await self._making.serve(user, topic, kinds, difficulty, server_id)
            except NoQuestionFound:
                continue
        raise NoQuestionFound(topic, kind.value, level.value if level else None)

    async def _expired_entry(self, interview: Interview, index: int, step: Step) -> Expired | None:
        """The step's entry for question `index` if its time ran out (added if missing)."""
        if not 0 <= index < len(interview.items):
            return None
        item = interview.items[index]
        if item.outcome is not Outcome.TIMEOUT:
            return None
        for entry in step.expired:
            if entry.index == index:
                return entry
        entry = Expired(
            index=index,
            number=interview.number(item),
            follow_up=item.follow_up,
            solution=await self._solution(item),
        )
        step.expired.append(entry)
        return entry

    async def _late(
        self, interview: Interview, index: int, step: Step, text: str | None
    ) -> Expired | None:
        """An answer (`text`; "" for a self-rating) to question `index` after its time ran out:
        not recorded; its entry says how it would have been graded. None if it did not time
        out (then it was answered, or the interview was stopped)."""
        entry = await self._expired_entry(interview, index, step)
        if entry is None or text is None:
            return entry
        entry.late = True
        item = interview.items[index]
        if text.strip() and item.kind is not Kind.OPEN:
            grade = await self._grade_late(item, text)
            entry.grade = None if grade is None or grade.verdict is Verdict.UNREADABLE else grade
        return entry

    async def _grade_late(self, item: Item, text: str) -> Grade | None:
        instance = await self._postings.instance(item.instance_id)
        family, seed = parse_generated_ref(instance.ref)
        if family is not None and seed is not None:
            return await asyncio.to_thread(self.checkers.grade, family, seed, text)
        question = self.catalog.question(instance.ref, instance.server_id)
        return grade_choice(question, text) if question is not None else None

    async def _solution(self, item: Item) -> Solution | None:
        """The answer and how to get it: the worked solution, the right option with its
        explanation, or the model answer with its key points."""
        instance = await self._postings.instance(item.instance_id)
        family, seed = parse_generated_ref(instance.ref)
        if family is not None and seed is not None:
            numeric = await asyncio.to_thread(self.checkers.generate, family, seed)
            return Solution(kind=Kind.NUMERIC, worked=numeric.solution)
        question = self.catalog.question(instance.ref, instance.server_id)
        if question is None:
            return None
        if question.kind is Kind.OPEN:
            return Solution(
                kind=Kind.OPEN,
                model_answer=question.model_answer,
                key_points=list(question.key_points),
            )
        return Solution(kind=question.kind, answer=question.answer, why=question.explanation)

    async def _reshow(self, item: Item) -> ServedQuestion:
        return await self._making.reshow(await self._postings.instance(item.instance_id))

    async def _hint(self, item: Item) -> tuple[Hint, int]:
        """The next hint, and how many different ones the question has. Open: the first key
        point. Numeric: the worked solution (its first step is shown). Multiple choice: a
        wrong option ruled out, with why: the next one each time, the last one again once
        all are out."""
        instance = await self._postings.instance(item.instance_id)
        if item.kind is Kind.NUMERIC:
            family, seed = parse_generated_ref(instance.ref)
            assert family is not None and seed is not None
            numeric = await asyncio.to_thread(self.checkers.generate, family, seed)
            return Hint(kind=Kind.NUMERIC, text=numeric.hint or numeric.solution), 1
        question = self.catalog.question(instance.ref, instance.server_id)
        if question is None:
            raise InterviewError("gone")
        if item.kind is Kind.OPEN and question.key_points:
            return Hint(kind=Kind.OPEN, text=question.key_points[0]), 1
        wrong = [i for i in range(len(question.choices)) if i != question.answer_index]
        if not wrong:
            raise InterviewError("gone")  # nothing to rule out: not a question a bank passes
        nth = min(item.hints, len(wrong) - 1)
        index = wrong[(nth + item.index) % len(wrong)]
        hint = Hint(kind=Kind.MCQ, text=question.choices[index].why, ruled_out=LETTERS[index])
        return hint, len(wrong)

    async def report(self, interview: Interview) -> Report:
        scores: dict[str, TopicScore] = {}
        for item in interview.items:
            if item.outcome is Outcome.UNANSWERED:
                continue
            score = scores.setdefault(
                item.topic, TopicScore(topic=item.topic, answered=0, correct=0, points=0)
            )
            if item.outcome is Outcome.TIMEOUT:
                score.timed_out += 1
                continue
            score.answered += 1
            score.correct += item.outcome is Outcome.CORRECT
            score.points += item.points
        weakest = [
            s.topic
            for s in sorted(
                scores.values(),
                key=lambda s: (s.correct / (s.answered + s.timed_out), -s.answered, s.topic),
            )
            if s.correct < s.answered + s.timed_out
        ]
        entries: list[ReviewEntry] = []
        seen: set[str] = set()
        for item in interview.items:
            key = review_item(item.ref)
            if key in seen or item.outcome not in (Outcome.CORRECT, Outcome.INCORRECT):
                continue  # a question not answered here scheduled nothing (a card is older)
            seen.add(key)
            card = await self.store.get_card(interview.user_id, key)
            if card is not None:
                entries.append(
                    ReviewEntry(
                        item=card.item,
                        topic=card.topic,
                        numeric=card.item.startswith("family:"),
                        text=self._question_text(card, interview.server_id),
                        due=card.due,
                    )
                )
        entries.sort(key=lambda e: e.due)
        outcomes = [i.outcome for i in interview.items]
        return Report(
            interview_id=interview.id,
            status=interview.status,
            questions=sum(1 for i in interview.items if not i.follow_up),
            follow_ups=sum(1 for i in interview.items if i.follow_up),
            answered=sum(1 for o in outcomes if o in (Outcome.CORRECT, Outcome.INCORRECT)),
            correct=outcomes.count(Outcome.CORRECT),
            timed_out=outcomes.count(Outcome.TIMEOUT),
            unanswered=sum(1 for o in outcomes if o in (None, Outcome.UNANSWERED)),
            points=sum(i.points for i in interview.items),
            hints=sum(i.hints for i in interview.items),
            by_topic=sorted(scores.values(), key=lambda s: s.topic),
            times=[
                Timing(
                    index=i.index,
                    number=interview.number(i),
                    follow_up=i.follow_up,
                    ref=i.ref,
                    seconds=i.seconds(),
                    outcome=i.outcome or Outcome.UNANSWERED,
                    coverage=i.coverage,
                )
                for i in interview.items
            ],
            weakest=weakest,
            review=entries,
        )

    def _question_text(self, card: ReviewCard, server_id: int | None) -> Localized | None:
        """The text of the question a card reviews (None for a numeric family)."""
        if card.item.startswith("family:"):
            return None
        question = self.catalog.question(card.item, server_id)
        return None if question is None else question.text


__all__ = [
    "MAX_MINUTES",
    "MAX_QUESTIONS",
    "MIN_MINUTES",
    "MIN_QUESTIONS",
    "TOPIC_IDS",
    "Expired",
    "Hint",
    "Interview",
    "InterviewError",
    "Interviews",
    "Item",
    "Outcome",
    "Report",
    "ReviewEntry",
    "Solution",
    "StaleSave",
    "Step",
    "Timing",
    "TopicScore",
    "make_plan",
]
