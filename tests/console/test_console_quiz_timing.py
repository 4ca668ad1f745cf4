"""The console quiz when a question's time runs out while the user is at the prompt: the next
line answers the question on screen when it arrives, and a person sees the prompt again.

Time is a fake timer the test moves (tests/core/_quiz_harness.py): nothing races a real clock."""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
from collections.abc import AsyncIterator, Callable
from io import StringIO

import pytest

from bot.checkers import TorchCheckers
from bot.console._console import Console
from bot.console._quiz import ConsoleQuiz
from bot.console._session import Session
from bot.console._terminal import StdTerminal
from bot.core.models import LanguagePref
from bot.core.ports import Store

from ..conftest import FakeClock
from ..core._quiz_harness import WAIT, FakeTimer, Game, open_game


class ScriptTerminal:
    """A terminal whose lines the test types when it chooses."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self.pending = 0  # reads begun and not answered yet
        self._changed = asyncio.Event()

    async def read(self, prompt: str) -> str | None:
        self.pending += 1
        self._change()
        try:
            return await self.lines.get()
        finally:
            self.pending -= 1

    def write(self, text: str) -> None:
        self.out.append(text)
        self._change()

    @property
    def text(self) -> str:
        return "\n".join(self.out)

    def _change(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        async def wait() -> None:
            while not condition():
                await self._changed.wait()

        await asyncio.wait_for(wait(), WAIT)


@pytest.fixture
async def game(store: Store, checkers: TorchCheckers, clock: FakeClock) -> AsyncIterator[Game]:
    made = open_game(store, checkers, FakeTimer(clock))
    try:
        yield made
    finally:
        await made.engine.aclose()


@pytest.mark.parametrize(
    ("lang", "second", "third", "too_late"),
    [
        ("en", "[Question 2/3", "[Question 3/3", "Too late"),
        ("zh", "[第 2/3 题", "[第 3/3 题", "太晚了"),
    ],
)
async def test_a_line_typed_after_a_time_out_answers_the_question_on_screen(
    game: Game, store: Store, lang: LanguagePref, second: str, third: str, too_late: str
) -> None:
    terminal = ScriptTerminal()
    session = Session(terminal, "tess")
    session.user = await store.get_or_create_user("local", "tess", "tess")
    session.user = await store.set_language(session.user.id, lang)
    console = ConsoleQuiz(session, quiz=game.quiz)
    playing = asyncio.create_task(
        console.cmd_quiz(["backprop", "concept", "questions=3", "seconds=10"])
    )
    # question 1 is on screen and the user is at the prompt; its time runs out
    await terminal.until(lambda: terminal.pending == 1)
    game.timer.advance(seconds=11)
    await terminal.until(lambda: second in terminal.text)
    # the read begun during question 1 gets its line now: it answers question 2
    await terminal.lines.put("B")
    await terminal.until(lambda: third in terminal.text)
    after = terminal.text.split(second, 1)[1]
    assert too_late not in after
    verdict = after.split(third, 1)[0]
    assert "(B, " in verdict or "（B，" in verdict  # question 2's verdict names the answer B
    await terminal.until(lambda: terminal.pending == 1)
    await terminal.lines.put("stop")
    await asyncio.wait_for(playing, WAIT)
    assert "Traceback" not in terminal.text


class TtyLines:
    """Standard input as a person's terminal: lines arrive when the test types them."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.reading = threading.Event()  # input() has shown its prompt and waits for a line

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        self.reading.set()
        return self.lines.get(timeout=WAIT)


async def test_a_person_sees_the_prompt_again_after_text_printed_at_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdin, stdout = TtyLines(), StringIO()
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(sys, "stdout", stdout)
    terminal = StdTerminal(stdin, stdout)  # type: ignore[arg-type]
    reading = asyncio.create_task(terminal.read("quiz> "))
    assert await asyncio.to_thread(stdin.reading.wait, WAIT)
    assert stdout.getvalue() == "quiz> "
    terminal.write("⏰ Time is up.")
    terminal.write("[Question 2/3]")
    stdin.lines.put("B\n")
    assert await asyncio.wait_for(reading, WAIT) == "B"
    terminal.write("✅ Right")
    shown = stdout.getvalue()
    # the time-out does not share the prompt's line, and the prompt comes back under it
    assert shown == ("quiz> \r\x1b[K⏰ Time is up.\nquiz> \r\x1b[K[Question 2/3]\nquiz> ✅ Right\n")


async def test_a_command_typed_at_the_prompt_after_the_round_ended_is_run(
    game: Game, store: Store
) -> None:
    engine, terminal = game.engine, ScriptTerminal()
    console = Console(
        terminal,
        "tess",
        identities=engine.identities,
        catalog=engine.catalog,
        making=engine.making,
        postings=engine.postings,
        answering=engine.answering,
        reviews=engine.reviews,
        dailies=engine.dailies,
        boards=engine.boards,
        interviews=engine.interviews,
        checkers=engine.checkers,
        quiz=engine.quiz,
        clock=engine.clock,
    )
    running = asyncio.create_task(console.run())
    await terminal.until(lambda: terminal.pending == 1)
    await terminal.lines.put("quiz backprop concept questions=3 seconds=10")
    for number in (1, 2, 3):  # nobody answers: each question's time runs out
        heading = f"[Question {number}/3"
        await terminal.until(lambda heading=heading: heading in terminal.text)
        game.timer.advance(seconds=11)
    await terminal.until(lambda: "Nobody answered." in terminal.text)  # the round ended
    # the read begun at question 1's prompt gets the user's next lines: an answer is too late,
    # a command is run (not swallowed)
    await terminal.lines.put("B")
    await terminal.until(lambda: "⏰ Too late" in terminal.text)
    await terminal.lines.put("help")
    await terminal.until(lambda: "quiz [TOPIC]" in terminal.text)
    await terminal.lines.put("quit")
    await asyncio.wait_for(running, WAIT)
    assert "Unknown command" not in terminal.text and "Bye." in terminal.text
