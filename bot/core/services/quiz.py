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
from enum import StrEnum
from typing import Protocol

from bot.core.models import Lang, Localized, ServedQuestion, User
from bot.core.ports import Checkers, Clock, QuizStore
from bot.core.quiz import (
    QuizQuestion,
    QuizRound,
    QuizSettings,
    QuizStatus,
    Reveal,
    StandingRow,
)
from bot.core.quiz_deadlines import Deadlines, Timer
from bot.core.services.answering import Answering
from bot.core.services.catalog import Catalog
from bot.core.services.making import Making
from bot.core.services.posting import Postings

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
    expected_form: Localized | None = None


@dataclass(frozen=True, slots=True)
class Started:
    round: QuizRound
    created: bool  # False: the channel's running round, started earlier
    question: QuizQuestion | None = None  # the question being asked


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
        self.deadlines: Deadlines[tuple[int, int]] = Deadlines(timer, self._on_deadline)

    def attach(self, presenter: QuizPresenter) -> None:
        self._presenter = presenter

    async def resume(self, owns: Callable[[QuizRound], bool] | None = None) -> list[QuizRound]:
        """Continue the running rounds of the database (those `owns` accepts)."""
        raise NotImplementedError

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
        raise NotImplementedError

    async def answer(self, instance_id: int, user: User, text: str) -> Answered:
        """A user's answer to a question of a round: the first readable one counts."""
        raise NotImplementedError

    async def reveal(self, round_id: int) -> Reveal | None:
        """Reveal the round's open question now and go on (as its deadline would); None if
        the round has no open question here."""
        raise NotImplementedError

    async def stop(self, channel_id: str, user: User, can_manage: bool) -> Stopped:
        """End the channel's round now (the host, or `can_manage`: Manage Server)."""
        raise NotImplementedError

    async def status(self, channel_id: str) -> QuizStatus | None:
        raise NotImplementedError

    async def standings(self, round_id: int) -> list[StandingRow]:
        raise NotImplementedError

    async def idle(self) -> None:
        """Wait for the reveals running now (tests)."""
        await self.deadlines.idle()

    async def aclose(self) -> None:
        await self.deadlines.aclose()

    async def _on_deadline(self, key: tuple[int, int]) -> None:
        raise NotImplementedError


__all__ = [
    "AnswerCode",
    "Answered",
    "Quiz",
    "QuizPresenter",
    "Started",
    "StopCode",
    "Stopped",
]
