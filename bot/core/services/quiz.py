"""Quiz rounds (issue #17): a live, timed game in a channel. The rules are in bot/core/quiz.py.

How a front end drives it:

1. At start-up, `quiz.attach(presenter)` with its `QuizPresenter` (it posts questions, edits
   them at the reveal, posts the standings), then `await quiz.resume()`: the running rounds of
   the database continue (a question whose deadline passed is revealed at once; one that was
   never shown is posted).
2. `/quiz start` -> `await quiz.start(host, channel_id, settings, lang, server_id)`: a
   `Started`; `created` False means the channel had a running round (that one is returned).
   The first question is posted (`presenter.ask`) before `start` returns.
3. A click or a modal on a question message -> `await quiz.answer(instance_id, user, text)`:
   an `Answered` whose `code` is LOCKED_IN, ALREADY_ANSWERED, TOO_LATE, NO_ROUND or UNREADABLE
   (with the expected form); nothing about right or wrong before the reveal.
4. Deadlines: the service keeps every round's question deadline in one scheduler
   (`quiz_deadlines.Deadlines`: a heap and one sleeping task). When a deadline passes, or
   (from the second question on) everyone who answered an earlier question has answered, the
   scheduler calls back into the service, which reveals the question (`presenter.revealed`
   with a `Reveal`) and posts the next one (`presenter.ask`) or ends the round
   (`presenter.ended` with the standings). The front end never runs timers of its own.
5. `/quiz stop` -> `await quiz.stop(channel_id, user, can_manage)` (host or Manage Server):
   the open question is revealed, the round ends (`presenter.ended`), a `Stopped` is returned.
   `/quiz status` -> `await quiz.status(channel_id)`.
6. At shutdown, `await quiz.aclose()` (the rounds stay running in the database).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.core.answers import format_expected
from bot.core.errors import DomainError, NoQuestionFound, UnknownTopic
from bot.core.models import (
    LETTERS,
    AnswerForm,
    Lang,
    Localized,
    Question,
    ServedQuestion,
    User,
    Verdict,
)
from bot.core.ports import Checkers, Clock, QuizStore
from bot.core.quiz import (
    ChannelMemory,
    QuizAnswer,
    QuizQuestion,
    QuizRound,
    QuizSettings,
    QuizStatus,
    Reveal,
    RoundStatus,
    StandingRow,
    participants,
    round_points,
    speed_bonus,
    standings,
)
from bot.core.quiz_deadlines import Deadlines, Timer
from bot.core.services.answering import Answering
from bot.core.services.catalog import Catalog, parse_generated_ref
from bot.core.services.making import Making
from bot.core.services.posting import Postings
from bot.core.topics import known_topic

log = logging.getLogger(__name__)


class QuizPresenter(Protocol):
    """What a front end does for the rounds it runs (see the module docstring)."""

    async def ask(
        self, round: QuizRound, question: QuizQuestion, served: ServedQuestion
    ) -> str | None:
        """Post the question (its answers name `question.instance_id`); its message id."""
        ...

    async def revealed(self, round: QuizRound, reveal: Reveal) -> None:
        """Show the reveal (edit `reveal.question.message_id`: buttons off, the answer...)."""
        ...

    async def ended(self, round: QuizRound, standings: list[StandingRow]) -> None: ...


class AnswerCode(StrEnum):
    LOCKED_IN = "locked_in"
    ALREADY_ANSWERED = "already_answered"
    TOO_LATE = "too_late"
    NO_ROUND = "no_round"  # not a question of a running round
    UNREADABLE = "unreadable"  # not an answer (see `expected_form`); it may answer again


@dataclass(frozen=True, slots=True)
class Answered:
    code: AnswerCode
    round_id: int | None = None
    index: int | None = None
    expected_form: AnswerForm | None = None


@dataclass(frozen=True, slots=True)
class Started:
    round: QuizRound
    created: bool  # False: the channel's running round, started earlier
    question: QuizQuestion | None = None  # the question being asked
    # Set when fewer distinct questions match than were asked for: the number asked for (the
    # round's settings hold the number it has). The front end tells the host.
    asked: int | None = None


class StopCode(StrEnum):
    STOPPED = "stopped"
    NOT_ALLOWED = "not_allowed"  # neither the host nor a manager
    NO_ROUND = "no_round"


@dataclass(frozen=True, slots=True)
class Stopped:
    code: StopCode
    round: QuizRound | None = None
    standings: list[StandingRow] = field(default_factory=list)


@dataclass(eq=False)
class _Live:
    """A running round in this process."""

    round: QuizRound
    question: QuizQuestion | None = None
    served: ServedQuestion | None = None
    answered: set[int] = field(default_factory=set)  # users who answered `question`
    earlier: set[int] = field(default_factory=set)  # users who answered an earlier question
    used: set[str] = field(default_factory=set)  # bank ids (families) asked in the round
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # reveals, next questions, stop
    open: bool = False  # `question` takes answers
    inflight: int = 0  # answers being recorded (a reveal waits for them)
    drained: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.drained.set()


class Quiz:
    def __init__(
        self,
        store: QuizStore,
        clock: Clock,
        timer: Timer,
        catalog: Catalog,
        making: Making,
        postings: Postings,
        answering: Answering,
        checkers: Checkers,
        rng: random.Random,
    ) -> None:
        self._store = store
        self._clock = clock
        self._catalog = catalog
        self._making = making
        self._postings = postings
        self._answering = answering
        self._checkers = checkers
        self._rng = rng
        self._presenter: QuizPresenter | None = None
        self._live: dict[int, _Live] = {}  # round id -> running round
        self._channels: dict[str, _Live] = {}
        self._instances: dict[int, _Live] = {}  # question instance id -> its round
        self._lately = ChannelMemory()  # what a channel's last rounds asked: others first
        self.deadlines: Deadlines[tuple[int, int]] = Deadlines(timer, self._on_deadline)

    def attach(self, presenter: QuizPresenter) -> None:
        self._presenter = presenter

    # --- what front ends call -------------------------------------------------------------

    async def resume(self, owns: Callable[[QuizRound], bool] | None = None) -> list[QuizRound]:
        """Continue the running rounds of the database (those `owns` accepts): each question's
        deadline is scheduled again (one that passed is revealed at once); a question never
        shown is posted; a round between questions gets its next one."""
        resumed: list[QuizRound] = []
        for stored in await self._store.running_quiz_rounds():
            if stored.id in self._live or (owns is not None and not owns(stored)):
                continue
            live = _Live(stored)
            self._register(live)
            resumed.append(stored)
            try:
                async with live.lock:
                    await self._resume(live)
            except DomainError:  # its question left the bank (a pack was removed...)
                log.exception("quiz %d cannot go on; stopping it", stored.id)
                async with live.lock:
                    await self._end(live, RoundStatus.STOPPED)
        return resumed

    async def _resume(self, live: _Live) -> None:
        round_id = live.round.id
        questions = await self._store.quiz_questions(round_id)
        answers = await self._store.quiz_answers(round_id)
        live.used = {_used_key(q.ref) for q in questions}
        if not questions:
            await self._ask_or_end(live, 0)
            return
        question = questions[-1]
        live.question = question
        live.earlier = participants(answers, question.index)
        live.answered = {a.user_id for a in answers if a.index == question.index}
        if question.revealed:
            live.earlier |= live.answered
            await self._next(live, question.index)
            return
        instance = await self._postings.instance(question.instance_id)
        live.served = await self._making.reshow(instance)
        live.open = True
        # Its clicks reach the round only now: one while it was being resumed (a sharded bot
        # resumes once connected) is not this process's yet (NO_ROUND, which the front end
        # waits out), not "too late".
        self._instances[question.instance_id] = live
        if question.message_id is None and question.deadline > self._clock.now():
            await self._show(live, question)
        self.deadlines.set((round_id, question.index), question.deadline)

    async def start(
        self,
        host: User,
        channel_id: str,
        settings: QuizSettings,
        lang: Lang = "en",
        server_id: int | None = None,
    ) -> Started:
        """Start a round in the channel and post its first question; the running round if
        the channel has one. UnknownTopic / NoQuestionFound (nothing started) for a topic,
        kind and difficulty without questions."""
        running = self._channels.get(channel_id)
        if running is not None:
            return Started(running.round, False, running.question)
        found = self._candidates(settings, server_id)  # raises before anything is stored
        asked, distinct = settings.questions, distinct_questions(found)
        if distinct is not None and distinct < asked:  # never the same written question twice
            settings = settings.model_copy(update={"questions": distinct})
        stored, created = await self._store.create_quiz_round(
            host.platform, channel_id, server_id, host.id, lang, settings, self._clock.now()
        )
        if not created:  # started by another process, or before a restart
            return Started(stored, False)
        live = _Live(stored)
        self._register(live)
        async with live.lock:
            await self._ask_or_end(live, 0)
        capped = asked if live.round.settings.questions < asked else None
        return Started(live.round, True, live.question, asked=capped)

    async def answer(self, instance_id: int, user: User, text: str) -> Answered:
        """A user's answer to a question of a round: the first readable one counts (it is
        graded and recorded now; whether it was right is told at the reveal)."""
        live = self._instances.get(instance_id)
        if live is None:
            stored = await self._store.quiz_question_by_instance(instance_id)
            if stored is not None and stored.revealed:
                return Answered(AnswerCode.TOO_LATE, stored.round_id, stored.index)
            return Answered(AnswerCode.NO_ROUND)
        question = live.question
        now = self._clock.now()
        if question is None or question.instance_id != instance_id:
            old = await self._store.quiz_question_by_instance(instance_id)
            index = old.index if old is not None else None
            return Answered(AnswerCode.TOO_LATE, live.round.id, index)
        where = (live.round.id, question.index)
        if not live.open or now >= question.deadline:
            return Answered(AnswerCode.TOO_LATE, *where)
        if user.id in live.answered:
            return Answered(AnswerCode.ALREADY_ANSWERED, *where)
        live.inflight += 1
        live.drained.clear()
        try:
            return await self._lock_in(live, question, user, text, now)
        finally:
            live.inflight -= 1
            if not live.inflight:
                live.drained.set()

    async def reveal(self, round_id: int) -> Reveal | None:
        """Reveal the round's open question now and go on (as its deadline would); None if
        the round has no open question in this process."""
        live = self._live.get(round_id)
        if live is None or live.question is None:
            return None
        return await self._close(live, live.question.index)

    async def stop(self, channel_id: str, user: User, can_manage: bool) -> Stopped:
        """End the channel's round now (the host, or `can_manage`: Manage Server): its open
        question is revealed, the standings so far shown (`presenter.ended`) and returned."""
        live = self._channels.get(channel_id)
        stored = live.round if live is not None else None
        if stored is None:
            stored = await self._store.running_quiz_round(channel_id)
        if stored is None:
            return Stopped(StopCode.NO_ROUND)
        if user.id != stored.host_id and not can_manage:
            return Stopped(StopCode.NOT_ALLOWED, stored)
        if live is None:  # running in the database only (no process runs it)
            await self._store.end_quiz_round(stored.id, RoundStatus.STOPPED, self._clock.now())
            ended = await self._store.get_quiz_round(stored.id)
            return Stopped(StopCode.STOPPED, ended, await self.standings(stored.id))
        async with live.lock:
            question = live.question
            if live.round.running and question is not None and not question.revealed:
                await self._reveal_locked(live, last=True)
            if live.round.running:
                await self._end(live, RoundStatus.STOPPED)
        return Stopped(StopCode.STOPPED, live.round, await self.standings(stored.id))

    async def status(self, channel_id: str) -> QuizStatus | None:
        """The channel's running round, its current question and the standings so far: of the
        questions revealed (an open question's answers are private until its reveal, and
        standings would tell who got it right)."""
        live = self._channels.get(channel_id)
        if live is not None:
            stored, question = live.round, live.question
        else:
            found = await self._store.running_quiz_round(channel_id)
            if found is None:
                return None
            questions = await self._store.quiz_questions(found.id)
            stored, question = found, (questions[-1] if questions else None)
        given = await self._store.quiz_answers(stored.id)
        current = question.index if question is not None else None
        hidden = current if question is not None and not question.revealed else None
        answered = len(live.answered) if live else sum(a.index == current for a in given)
        return QuizStatus(
            round=stored,
            question=question,
            answered=answered,
            standings=standings(a for a in given if a.index != hidden),
        )

    async def standings(self, round_id: int) -> list[StandingRow]:
        """Everyone who answered in the round, ranked (see `quiz.standings`)."""
        return standings(await self._store.quiz_answers(round_id))

    async def idle(self) -> None:
        """Wait for the reveals running now (tests)."""
        await self.deadlines.idle()

    async def aclose(self) -> None:
        """Stop the scheduler (the rounds stay running in the database: `resume`)."""
        await self.deadlines.aclose()

    # --- inside ---------------------------------------------------------------------------

    def _register(self, live: _Live) -> None:
        self._live[live.round.id] = live
        self._channels[live.round.channel_id] = live

    def _forget(self, live: _Live) -> None:
        self._live.pop(live.round.id, None)
        if self._channels.get(live.round.channel_id) is live:
            del self._channels[live.round.channel_id]
        for instance_id in [i for i, held in self._instances.items() if held is live]:
            del self._instances[instance_id]

    async def _lock_in(
        self, live: _Live, question: QuizQuestion, user: User, text: str, now: datetime
    ) -> Answered:
        where = (live.round.id, question.index)
        elapsed = max(now - question.posted_at, timedelta(0))
        outcome = await self._answering.answer(
            question.instance_id,
            user,
            text,
            bonus=speed_bonus(elapsed, live.round.settings.seconds),
        )
        if outcome.grade.verdict is Verdict.UNREADABLE:
            return Answered(AnswerCode.UNREADABLE, *where, outcome.grade.expected_form)
        # Not counted: this user's answer was recorded before (a second delivery, or a
        # restart between the two writes): the first one's verdict stands.
        correct = outcome.grade.correct if outcome.counted else bool(outcome.previous_correct)
        stored = await self._store.add_quiz_answer(
            QuizAnswer(
                round_id=live.round.id,
                index=question.index,
                user_id=user.id,
                name=user.name,
                answer=text.strip()[:100],
                choice=outcome.grade.picked,
                correct=correct,
                points=round_points(
                    question.difficulty, correct, elapsed, live.round.settings.seconds
                ),
                answered_at=now,
                elapsed_ms=int(elapsed.total_seconds() * 1000),
            )
        )
        if not stored:
            return Answered(AnswerCode.ALREADY_ANSWERED, *where)
        live.answered.add(user.id)
        if live.open and self._everyone_answered(live, question):
            self.deadlines.set(where, now)  # reveal now, in the scheduler's task
        return Answered(AnswerCode.LOCKED_IN, *where)

    def _everyone_answered(self, live: _Live, question: QuizQuestion) -> bool:
        """Whether the question may be revealed before its deadline: a solo round's host has
        answered; or, from the second question on, everyone who answered before has."""
        if live.round.settings.solo:
            return live.round.host_id in live.answered
        return question.index >= 1 and bool(live.earlier) and live.earlier <= live.answered

    async def _on_deadline(self, key: tuple[int, int]) -> None:
        round_id, index = key
        live = self._live.get(round_id)
        if live is not None:
            await self._close(live, index)

    async def _close(self, live: _Live, index: int) -> Reveal | None:
        """Reveal question `index` if it is the open one, then ask the next or end."""
        async with live.lock:
            question = live.question
            if not live.round.running or question is None:
                return None
            if question.index != index or question.revealed:
                return None
            last = index + 1 >= live.round.settings.questions
            reveal = await self._reveal_locked(live, last=last)
            await self._next(live, index)
            return reveal

    async def _reveal_locked(self, live: _Live, *, last: bool) -> Reveal:
        """Close the open question (answers being recorded finish first), show its reveal,
        then mark it revealed: a restart in between shows it again rather than never."""
        question = live.question
        assert question is not None
        live.open = False
        self.deadlines.cancel((live.round.id, question.index))
        await live.drained.wait()
        if live.served is None:
            live.served = await self._making.reshow(
                await self._postings.instance(question.instance_id)
            )
        answers = await self._store.quiz_answers(live.round.id, question.index)
        expected, explanation = await self._key(live.served, live.round.server_id)
        counts = {LETTERS[i]: 0 for i in range(question.options)}
        for given in answers:
            if given.choice in counts:
                counts[given.choice] += 1
        reveal = Reveal(
            round_id=live.round.id,
            index=question.index,
            total=live.round.settings.questions,
            question=question,
            served=live.served,
            expected=expected,
            explanation=explanation,
            counts=counts,
            answers=answers,
            last=last,
        )
        if self._presenter is not None:
            try:
                await self._presenter.revealed(live.round, reveal)
            except Exception:
                log.exception("quiz %d: showing the reveal failed", live.round.id)
        now = self._clock.now()
        await self._store.reveal_quiz_question(live.round.id, question.index, now)
        live.question = question.model_copy(update={"revealed_at": now})
        live.earlier |= live.answered
        return reveal

    async def _next(self, live: _Live, index: int) -> None:
        """After question `index` was revealed: ask the next one, or end the round."""
        await self._ask_or_end(live, index + 1)

    async def _ask_or_end(self, live: _Live, index: int) -> None:
        if index >= live.round.settings.questions:
            await self._end(live, RoundStatus.FINISHED)
            return
        try:
            served = await self._serve(live)
        except (NoQuestionFound, UnknownTopic):  # the bank or a pack changed meanwhile
            log.warning("quiz %d: no question left to ask; ending it", live.round.id)
            await self._end(live, RoundStatus.FINISHED)
            return
        stored = live.round
        instance = await self._postings.post(
            served, stored.server_id, stored.channel_id, stored.lang
        )
        now = self._clock.now()
        question = await self._store.add_quiz_question(
            QuizQuestion(
                round_id=stored.id,
                index=index,
                instance_id=instance.id,
                ref=served.ref,
                kind=served.kind,
                difficulty=served.difficulty,
                options=len(served.choices),
                posted_at=now,
                deadline=now + timedelta(seconds=stored.settings.seconds),
            )
        )
        live.round = stored.model_copy(update={"current": index})
        live.question, live.served = question, served
        live.answered, live.open = set(), True
        live.used.add(_used_key(served.ref))
        self._lately.asked(live.round.channel_id, _used_key(served.ref))
        self._instances[question.instance_id] = live
        await self._show(live, question)
        self.deadlines.set((stored.id, index), question.deadline)

    async def _show(self, live: _Live, question: QuizQuestion) -> None:
        if self._presenter is None or live.served is None:
            return
        try:
            message_id = await self._presenter.ask(live.round, question, live.served)
        except Exception:
            log.exception("quiz %d: posting question %d failed", live.round.id, question.index)
            return
        if message_id is not None:
            await self._store.set_quiz_message(live.round.id, question.index, message_id)
            await self._postings.attach_message(question.instance_id, message_id)
            live.question = question.model_copy(update={"message_id": message_id})

    async def _end(self, live: _Live, status: RoundStatus) -> None:
        now = self._clock.now()
        await self._store.end_quiz_round(live.round.id, status, now)
        live.round = live.round.model_copy(update={"status": status, "ended_at": now})
        live.open = False
        if live.question is not None:
            self.deadlines.cancel((live.round.id, live.question.index))
        self._forget(live)
        if self._presenter is not None:
            try:
                await self._presenter.ended(live.round, await self.standings(live.round.id))
            except Exception:
                log.exception("quiz %d: showing the standings failed", live.round.id)

    def _candidates(self, settings: QuizSettings, server_id: int | None) -> list[Question]:
        known_topic(settings.topic)  # UnknownTopic (QuizSettings made it an id already)
        found = self._catalog.candidates(
            settings.topic, settings.kind.kinds, settings.difficulty, server_id
        )
        if not found:
            difficulty = settings.difficulty.value if settings.difficulty else None
            raise NoQuestionFound(settings.topic, settings.kind.value, difficulty)
        return found

    async def _serve(self, live: _Live) -> ServedQuestion:
        """A question not asked in the round yet (a numeric template: a fresh variant of a
        family not asked yet, else a new variant of any family). A written question is never
        asked twice: NoQuestionFound when none is left (`start` caps the round)."""
        settings = live.round.settings
        candidates = self._candidates(settings, live.round.server_id)
        fresh = [q for q in candidates if (q.family or q.id) not in live.used]
        fresh = fresh or [q for q in candidates if q.family]  # generated: a new seed
        if not fresh:
            difficulty = settings.difficulty.value if settings.difficulty else None
            raise NoQuestionFound(settings.topic, settings.kind.value, difficulty)
        fresh = self._lately.unplayed_first(
            live.round.channel_id, fresh, lambda q: q.family or q.id
        )
        return await self._making.present(self._rng.choice(fresh), settings.difficulty)

    async def _key(
        self, served: ServedQuestion, server_id: int | None
    ) -> tuple[str | None, Localized | None]:
        """The right answer (for display) and its explanation."""
        family, seed = parse_generated_ref(served.ref)
        if family is not None and seed is not None:
            numeric = await asyncio.to_thread(self._checkers.generate, family, seed)
            return format_expected(numeric.expected), numeric.solution
        question = self._catalog.question(served.ref, server_id)
        if question is None:
            return None, None
        return question.answer, question.explanation


def distinct_questions(candidates: list[Question]) -> int | None:
    """How many different questions a round over `candidates` can ask: None (no limit) when a
    numeric family is among them (each variant is generated), else the written ones."""
    if any(q.family for q in candidates):
        return None
    return len({q.id for q in candidates})


def _used_key(ref: str) -> str:
    """What a round does not ask twice: a bank id, or a generated question's family."""
    family, seed = parse_generated_ref(ref)
    return family if family is not None and seed is not None else ref


__all__ = ["AnswerCode", "Answered", "Quiz", "QuizPresenter", "Started", "StopCode", "Stopped"]
