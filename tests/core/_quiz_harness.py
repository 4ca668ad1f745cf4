"""What the quiz tests share: a timer the test moves (never a real sleep), a presenter that
records what a front end would show, and an engine over the quiz fixture bank."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.app.wiring import wire_engine
from bot.checkers import TorchCheckers
from bot.core.bank import load_bank
from bot.core.engine import Engine
from bot.core.models import Kind, ServedQuestion
from bot.core.ports import Store
from bot.core.quiz import QuizQuestion, QuizRound, Reveal, StandingRow
from bot.core.services.quiz import Quiz

from ..conftest import FakeClock

QUIZ_BANK = Path(__file__).parent.parent / "fixtures" / "quiz_bank"
WAIT = 30.0  # seconds an awaited event may take on a loaded machine: a bound, not a timing


class FakeTimer:
    """The test's clock, and sleeps that end when the test moves it past their time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self.clock.now()

    async def sleep_until(self, when: datetime) -> None:
        while self.clock.now() < when:
            moved = self._moved
            await moved.wait()

    def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()


@dataclass
class Screen:
    """The presenter: what a front end was asked to show."""

    asked: list[tuple[QuizRound, QuizQuestion, ServedQuestion]] = field(default_factory=list)
    reveals: asyncio.Queue[Reveal] = field(default_factory=asyncio.Queue)
    ends: asyncio.Queue[tuple[QuizRound, list[StandingRow]]] = field(default_factory=asyncio.Queue)

    async def ask(
        self, round: QuizRound, question: QuizQuestion, served: ServedQuestion
    ) -> str | None:
        self.asked.append((round, question, served))
        return f"message-{question.instance_id}"

    async def revealed(self, round: QuizRound, reveal: Reveal) -> None:
        await self.reveals.put(reveal)

    async def ended(self, round: QuizRound, standings: list[StandingRow]) -> None:
        await self.ends.put((round, standings))

    async def next_reveal(self) -> Reveal:
        return await asyncio.wait_for(self.reveals.get(), WAIT)

    async def next_end(self) -> tuple[QuizRound, list[StandingRow]]:
        return await asyncio.wait_for(self.ends.get(), WAIT)

    @property
    def current(self) -> tuple[QuizQuestion, ServedQuestion]:
        _, question, served = self.asked[-1]
        return question, served


@dataclass
class Game:
    engine: Engine
    quiz: Quiz
    screen: Screen
    timer: FakeTimer


def open_game(
    store: Store, checkers: TorchCheckers, timer: FakeTimer, bank_dir: Path = QUIZ_BANK
) -> Game:
    bank = load_bank([bank_dir], checkers.family_names())
    assert bank.ok, bank.problems
    engine = wire_engine(store, bank, checkers, timer.clock, random.Random(7), timer=timer)
    assert engine.quiz is not None
    screen = Screen()
    engine.quiz.attach(screen)
    return Game(engine, engine.quiz, screen, timer)


def right_answer(game: Game, served: ServedQuestion) -> str:
    """The correct answer, from the bank or the checker's key (not from the quiz service)."""
    if served.kind is Kind.MCQ:
        question = game.engine.catalog.bank.get(served.ref)
        assert question is not None and question.answer is not None
        return question.answer
    assert served.family is not None and served.seed is not None
    return str(game.engine.checkers.generate(served.family, served.seed).expected)


def wrong_answer(game: Game, served: ServedQuestion) -> str:
    right = right_answer(game, served)
    if served.kind is Kind.MCQ:
        return "A" if right != "A" else "B"
    return str(float(right) + 1000)
