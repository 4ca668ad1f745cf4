"""Standard input and output as a console `Terminal`, for a person or a pipe."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import TextIO


async def _in_daemon_thread(read: Callable[[], str | None]) -> str | None:
    """Run a blocking read in a daemon thread, so a pending read never holds up exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str | None] = loop.create_future()

    def settle(result: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def target() -> None:
        try:
            result = read()
        except BaseException as exc:  # delivered to the awaiting task
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=target, name="console-stdin", daemon=True).start()
    return await future


ECHO_LIMIT = 500  # characters of a piped line shown in the transcript


class StdTerminal:
    """Reads lines off the event loop; shows prompts to a person, echoes input from a pipe."""

    def __init__(self, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = stdin.isatty()
        self.closed = False  # stdout is a pipe whose reader has gone
        self._prompt: str | None = None  # shown to a person, whose line is not in yet

    def _read_interactive(self, prompt: str) -> str | None:
        try:
            return input(prompt)
        except EOFError:
            self.stdout.write("\n")
            return None

    def _read_pipe(self) -> str | None:
        line = self.stdin.readline()
        return line.rstrip("\r\n") if line else None

    async def read(self, prompt: str) -> str | None:
        if self.closed:
            return None
        if self.interactive:
            self._prompt = prompt
            try:
                return await _in_daemon_thread(lambda: self._read_interactive(prompt))
            finally:
                self._prompt = None
        line = await _in_daemon_thread(self._read_pipe)
        if line is not None:
            # A transcript of piped input reads like the session a person would have seen (a
            # huge line is shown shortened: it is only a record of what came in).
            shown = line if len(line) <= ECHO_LIMIT else f"{line[:ECHO_LIMIT]}… ({len(line):,})"
            self._put(f"{prompt}{shown}\n")
        return line

    def write(self, text: str) -> None:
        prompt = self._prompt
        if prompt is None:
            self._put(text + "\n")
            return
        # Text printed while a person is at a prompt (a quiz question's time ran out): clear the
        # prompt's line, print the text, then show the prompt again with what they had typed.
        self._put(f"\r\x1b[K{text}\n{prompt}{_typed()}")

    def _put(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.stdout.write(text)
            self.stdout.flush()
        except BrokenPipeError:  # the reader went away (`... | head`): end quietly
            self.closed = True
            with contextlib.suppress(OSError, ValueError):  # no "Exception ignored" at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.stdout.fileno())


def _typed() -> str:
    """What the person has typed at the prompt so far (known when readline edits the line)."""
    readline = sys.modules.get("readline")
    return "" if readline is None else str(readline.get_line_buffer())
