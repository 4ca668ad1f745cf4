"""The console's `quiz` settings: numbers are ASCII digits (`²` is refused like `abc`), and a
round over fewer distinct questions than asked for is shorter, and says so."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.checkers import TorchCheckers
from bot.console._quiz import ConsoleQuiz
from bot.console._session import Session
from bot.core.models import LanguagePref
from bot.core.ports import Store

from ..conftest import FakeClock
from ..core._quiz_harness import FakeTimer, Game, open_game
from .test_console_quiz_timing import ScriptTerminal


@pytest.fixture
async def game(store: Store, checkers: TorchCheckers, clock: FakeClock) -> AsyncIterator[Game]:
    made = open_game(store, checkers, FakeTimer(clock))
    try:
        yield made
    finally:
        await made.engine.aclose()


async def console_of(
    game: Game, store: Store, lang: LanguagePref
) -> tuple[ConsoleQuiz, ScriptTerminal]:
    terminal = ScriptTerminal()
    session = Session(terminal, "tess")
    session.user = await store.get_or_create_user("local", "tess", "tess")
    session.user = await store.set_language(session.user.id, lang)
    return ConsoleQuiz(session, quiz=game.quiz), terminal


@pytest.mark.parametrize("value", ["²", "３", "2", "31", "abc"])
async def test_a_number_of_questions_that_is_not_3_to_30_in_ascii_digits_is_refused(
    game: Game, store: Store, value: str
) -> None:
    console, terminal = await console_of(game, store, "en")
    await console.cmd_quiz([f"questions={value}"])
    assert terminal.out == ["⚠️ questions must be a whole number from 3 to 30."]


@pytest.mark.parametrize(
    ("lang", "told", "started"),
    [
        ("en", "Only 3 questions match (you asked for 5): the round has 3.", "Quiz: 3 questions"),
        ("zh", "只有 3 道题符合条件（你要了 5 道）：本轮共 3 题。", "测验：共 3 题"),
    ],
)
async def test_a_round_over_three_written_questions_has_three_and_says_so(
    game: Game, store: Store, lang: LanguagePref, told: str, started: str
) -> None:
    console, terminal = await console_of(game, store, lang)
    await terminal.lines.put("stop")
    await console.cmd_quiz(["backprop", "concept", "questions=5", "seconds=30"])
    first = terminal.out[0].splitlines()
    assert first[0] == told and first[1].startswith(started)
