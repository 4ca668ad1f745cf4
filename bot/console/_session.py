"""What every console command works with: the terminal, the user and the reply language. The
command modules receive a :class:`Session` and, by name, the core's services they use; none of
them imports the console that wires them (bot/console/_console.py), so the package has no import
cycle."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from bot.app.lazy_checkers import LazyCheckers
from bot.core.models import Lang, Localized, User
from bot.core.ports import Checkers
from bot.core.services.identities import language_for
from bot.shared.calculator import CheckRequest

PLATFORM = "local"
QUIT_WORDS = ("quit", "exit")
SKIP_WORDS = ("skip", "s", "跳过")
#: The prompts inside commands, (English, Chinese) (the command prompt `> ` is the same). Plain
#: strings: `Localized` would strip the space after `>`.
PROMPTS: dict[str, tuple[str, str]] = {
    "answer": ("answer> ", "答案> "),
    "more": ("...> ", "...> "),  # the next line of a typed answer
    "rating": ("rating> ", "评分> "),
    "quiz": ("quiz> ", "测验> "),
}


class Terminal(Protocol):
    """Where the console reads lines and writes text (stdin/stdout, or a test's lists)."""

    async def read(self, prompt: str) -> str | None:
        """The next line without its newline; None at end of input (Ctrl-D, end of pipe)."""
        ...

    def write(self, text: str) -> None: ...


class CheckRunner(Protocol):
    def __call__(self, request: CheckRequest) -> dict[str, Any]:
        """The result of a check (see docs/numeric-checker.md); ValueError for a bad request."""
        ...


class Session:
    """One user's console session: reading and writing, the user and their language, and
    whether the session goes on."""

    def __init__(self, terminal: Terminal, user_name: str, locale: str | None = None) -> None:
        self.terminal = terminal
        self.user_name = user_name
        self.locale = locale
        self.running = True
        self._user: User | None = None
        # A line a command read that is the console's (typed at a quiz's prompt after the round
        # ended): the console runs it as the next command.
        self.pending: str | None = None

    @property
    def user(self) -> User:
        assert self._user is not None, "run() sets the user first"
        return self._user

    @user.setter
    def user(self, user: User) -> None:
        self._user = user

    @property
    def lang(self) -> Lang:
        return language_for(self.user.language, self.locale)

    def prompt(self, name: str) -> str:
        """The prompt `name` (a key of PROMPTS) in the reply language."""
        english, chinese = PROMPTS[name]
        return chinese if self.lang == "zh" else english

    def say(self, text: Localized | str) -> None:
        self.terminal.write(text if isinstance(text, str) else text.get(self.lang))

    def quits(self, line: str | None) -> bool:
        """Whether a line read at any prompt ends the session: end of input, `quit` or
        `exit` (never taken for an answer); the console stops after the current command."""
        if line is None or line.strip().lower() in QUIT_WORDS:
            self.running = False
            return True
        return False


async def checkers_ready(checkers: Checkers) -> None:
    """Load the numeric checkers now (in a worker thread) if they are not loaded yet: for
    commands whose service calls ask for the family names on the event loop."""
    if isinstance(checkers, LazyCheckers) and not checkers.loaded:
        await asyncio.to_thread(checkers.get)
