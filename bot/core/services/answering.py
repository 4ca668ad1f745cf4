"""Answering: grade an answer (`answer`) or take the user's own rating of an open question
(`self_rate`), and record the first one with its points, review card and streak."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Literal

from fsrs import Rating

from bot.core.answers import AnswerFormatError, read_choice
from bot.core.errors import UnknownQuestion, WrongKind
from bot.core.models import (
    LETTERS,
    AnswerOutcome,
    AttemptRecord,
    Grade,
    Kind,
    Localized,
    Question,
    QuestionInstance,
    User,
    Verdict,
)
from bot.core.ports import AnswerContext, AnswerDraft, AttemptStore, Checkers, Clock
from bot.core.review import Reviewer, rating_for, review_item
from bot.core.scoring import REWARD_WINDOW, points_for
from bot.core.services.catalog import Catalog, parse_generated_ref
from bot.core.services.making import Recent
from bot.core.services.posting import Postings, Shown


class SelfRating(StrEnum):
    """How an open question went, by the user's own judgement (the fsrs ratings)."""

    AGAIN = "again"
    HARD = "hard"
    GOOD = "good"
    EASY = "easy"


class Answering:
    def __init__(
        self,
        store: AttemptStore,
        clock: Clock,
        catalog: Catalog,
        postings: Postings,
        checkers: Checkers,
        reviewer: Reviewer,
        recent: Recent,
    ) -> None:
        self._store = store
        self._clock = clock
        self._catalog = catalog
        self._postings = postings
        self._checkers = checkers
        self.reviewer = reviewer
        self._recent = recent

    async def key_old_attempts(self) -> None:
        """Attempts of generated questions stored before question keys existed have their
        FAMILY:SEED as key: give them their real one (see `_record`). Once: none are left
        after, but those of a family no longer known."""
        refs = await self._store.unkeyed_refs()
        if not refs:
            return
        families = frozenset(self._checkers.family_names())

        def keys() -> dict[str, str]:
            found: dict[str, str] = {}
            for ref in refs:
                family, seed = parse_generated_ref(ref)
                if family in families and seed is not None:
                    try:
                        found[ref] = self._checkers.generate(family, seed).key
                    except ValueError:  # a seed out of range: it keeps its ref
                        continue
            return found

        await self._store.set_question_keys(await asyncio.to_thread(keys))

    async def answered(self, instance_id: int, user: User) -> bool | None:
        """Whether this user's counted answer was correct; None if they have not answered."""
        return await self._store.get_attempt_correct(instance_id, user.id)

    async def answer(
        self,
        instance_id: int,
        user: User,
        text: str,
        hints: int = 0,
        ref: str | None = None,
        shown: Shown | None = None,
        *,
        bonus: int = 0,
    ) -> AnswerOutcome:
        """Grade an answer; the user's first readable answer to the instance is recorded.
        `ref`: the question the user saw, if known; UnknownQuestion if the instance is
        another (say a database restored from an older backup numbered it again). `shown`:
        what the message answered shows (see `Postings.instance`). `bonus`: points added to
        an answer that earns points (a quiz round's speed bonus)."""
        instance = await self._postings.instance(instance_id, shown)
        if ref is not None and instance.ref != ref:
            raise UnknownQuestion(ref)
        if instance.kind is Kind.OPEN:
            raise WrongKind(instance.ref, instance.kind.value)
        grade, explanation, key = await self._grade(instance, text)
        if grade.verdict is Verdict.UNREADABLE:
            return AnswerOutcome(grade=grade, counted=False, points=0)
        rating = rating_for(instance.kind, grade.correct, hints, self._seconds_since(instance))
        return await self._record(
            instance,
            user,
            text,
            grade,
            explanation,
            grade.correct,
            rating,
            hints,
            key=key,
            bonus=bonus,
        )

    async def self_rate(
        self, instance_id: int, user: User, rating: SelfRating, hints: int = 0
    ) -> AnswerOutcome:
        """Record how an open question went, as the user rates it; it earns no points."""
        instance = await self._postings.instance(instance_id)
        if instance.kind is not Kind.OPEN:
            raise WrongKind(instance.ref, instance.kind.value)
        question = self._catalog.question(instance.ref, instance.server_id)
        correct = rating is not SelfRating.AGAIN
        verdict = Verdict.CORRECT if correct else Verdict.INCORRECT
        grade = Grade(verdict=verdict, rating=rating.value)
        explanation = question.explanation if question else None
        return await self._record(
            instance, user, rating.value, grade, explanation, correct, _FSRS[rating], hints
        )

    def _seconds_since(self, instance: QuestionInstance) -> float:
        return max(0.0, (self._clock.now() - instance.created_at).total_seconds())

    async def _record(
        self,
        instance: QuestionInstance,
        user: User,
        answer: str,
        grade: Grade,
        explanation: Localized | None,
        correct: bool,
        rating: Rating,
        hints: int,
        *,
        key: str | None = None,
        bonus: int = 0,
    ) -> AnswerOutcome:
        """Record the first answer with its points, review card and streak, atomically.
        `key`: what the question asks (`question_key`; a written question's is its id): a
        question earns points once in REWARD_WINDOW, whatever seed drew it, and none once
        answered in it (its solution was shown)."""
        now = self._clock.now()
        key = key or instance.ref
        item = review_item(instance.ref)

        def decide(context: AnswerContext) -> AttemptRecord:
            # A question answered in the window pays nothing, right or wrong then: else anyone
            # could read its solution, ask it again and collect the points.
            seen = bool(context.answered)
            points = points_for(instance.kind, instance.difficulty, correct, seen, hints)
            daily = instance.daily_day is not None and instance.daily_day == now.date()
            review = None
            if not context.reviews_behind:
                review = self.reviewer.review(context.card, item, instance.topic, rating, now)
            return AttemptRecord(
                instance_id=instance.id,
                user_id=user.id,
                server_id=instance.server_id,
                topic=instance.topic,
                ref=instance.ref,
                question_key=key,
                answer=answer[:500],
                correct=correct,
                points=points + (bonus if points else 0),
                at=now,
                review=review,
                review_rating=int(rating) if context.reviews_behind else None,
                streak_day=now.date() if daily and correct else None,
            )

        # One call: the store reads what decides the points and the card, and writes the
        # attempt, in one transaction shared with the answers arriving at the same moment.
        # Attempts stored before keys existed have their ref as key: it is read too.
        recorded = await self._store.record_answer(
            AnswerDraft(
                instance_id=instance.id,
                user_id=user.id,
                keys=tuple(sorted({key, instance.ref})),
                since=now - REWARD_WINDOW,
                item=item,
            ),
            decide,
        )
        attempt, previous, counts = recorded.attempt, recorded.previous, recorded.counts
        counted = attempt is not None
        points = attempt.points if attempt is not None else 0
        answered = recorded.context.answered if recorded.context else {}
        rewarded, seen = any(answered.values()), bool(answered)
        if counted and instance.kind is Kind.NUMERIC:
            self._recent.key(user, key)
        elif not counted and previous is None:  # another delivery of the same answer won
            previous = await self._store.get_attempt_correct(instance.id, user.id)
        unpaid: Literal["hint", "repeat", "seen", "self_rated"] | None = None
        if counted and correct and not points:
            if instance.kind is Kind.OPEN:
                unpaid = "self_rated"
            elif rewarded:
                unpaid = "repeat"
            elif seen:
                unpaid = "seen"
            else:
                unpaid = "hint"
        return AnswerOutcome(
            grade=grade,
            counted=counted,
            points=points,
            previous_correct=previous,
            explanation=explanation,
            counts=counts,
            unpaid=unpaid,
        )

    async def _grade(
        self, instance: QuestionInstance, text: str
    ) -> tuple[Grade, Localized | None, str]:
        """The grade, the explanation and the question's key (see `_record`)."""
        family, seed = parse_generated_ref(instance.ref)
        if family is not None and seed is not None:
            return await asyncio.to_thread(self._grade_generated, family, seed, text)
        question = self._catalog.question(instance.ref, instance.server_id)
        if question is None:
            raise UnknownQuestion(instance.ref)
        return grade_choice(question, text), question.explanation, instance.ref

    def _grade_generated(self, family: str, seed: int, text: str) -> tuple[Grade, Localized, str]:
        """Grade, worked solution and key together: one trip off the event loop, not two."""
        numeric = self._checkers.generate(family, seed)
        return self._checkers.grade(family, seed, text), numeric.solution, numeric.key


_FSRS = {
    SelfRating.AGAIN: Rating.Again,
    SelfRating.HARD: Rating.Hard,
    SelfRating.GOOD: Rating.Good,
    SelfRating.EASY: Rating.Easy,
}


def grade_choice(question: Question, text: str) -> Grade:
    """Grade a multiple-choice answer (a letter); UNREADABLE for anything that is not one.
    The grade names the letter picked and why it is right or wrong; the front end words it."""
    expected = question.answer or "?"
    try:
        picked = read_choice(text, len(question.choices))
    except AnswerFormatError as exc:
        return Grade(verdict=Verdict.UNREADABLE, expected_form=exc.expected_form)
    right = picked == question.answer_index
    return Grade(
        verdict=Verdict.CORRECT if right else Verdict.INCORRECT,
        expected=expected,
        picked=LETTERS[picked],
        why=question.choices[picked].why,
    )
