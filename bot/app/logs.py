"""Structured logs: one JSON object per line on stderr, and secrets blanked out of every record.

(The console is the exception: its stderr is the user's terminal, so there it writes plain
one-line warnings, or JSON lines to the file `BOT_LOG_FILE` names; see setup_console_logging.)

A line looks like::

    {"time": "2026-11-27T07:15:10.777+00:00", "level": "INFO", "logger": "bot.discord._bot",
     "msg": "ready as bot#0001 in 2 guild(s)"}

with `exc` (the traceback, as one string) when an exception was logged. Non-ASCII text is
escaped, so a line is plain ASCII whatever the terminal's encoding.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.storage.location import redact as redact_db_passwords

REDACTED = "[redacted]"
_MIN_SECRET = 8  # shorter "secrets" would blank out ordinary words


def message_of(record: logging.LogRecord) -> str:
    """The record's message with its arguments; bad %-arguments keep what there is rather
    than lose the record (or print "--- Logging error ---" with a traceback)."""
    try:
        return record.getMessage()
    except Exception:
        return f"{record.msg!r} % {record.args!r}"


class RedactSecrets(logging.Filter):
    """Replaces each secret (the bot token) wherever it appears in a record: the message with
    its arguments, the traceback and the stack. Belt and braces: nothing logs the token on
    purpose, but a library might echo a URL or a header one day."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if len(s) >= _MIN_SECRET)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        # The password of any PostgreSQL URL, however short (BOT_DB's is among `secrets` too).
        return redact_db_passwords(text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.scrub(message_of(record)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """time (ISO-8601 UTC, ms), level, logger, msg, and exc/stack when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": message_of(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=True, default=str)


class PlainFormatter(logging.Formatter):
    """One short line for a person at a terminal: `WARNING bot.x: message`. A traceback is
    summed up as its last line (the whole of it goes to the log file, when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{record.levelname} {record.name}: {message_of(record)}"
        if record.exc_info:
            # The traceback's last line, from the text the redacting filter has scrubbed.
            text = (record.exc_text or self.formatException(record.exc_info)).strip()
            if text:
                line += f" ({text.splitlines()[-1]})"
        return line


def setup_logging(level: str, secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    """Route every logger (and Python warnings) to one JSON handler on `stream` (stderr), at
    `level`, with `secrets` redacted. Replaces any handler configured before."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    _install(handler, level, secrets)


def setup_console_logging(
    file: Path | None = None,
    level: str = "WARNING",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Logging for the console, whose terminal is the user's: with `file`, JSON lines there at
    `level`; else plain one-line messages on `stream` (stderr), warnings and errors only."""
    handler: logging.Handler
    if file is not None:
        handler = logging.FileHandler(file, encoding="utf-8")
        handler.setFormatter(JsonFormatter())
    else:
        handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
        handler.setFormatter(PlainFormatter())
        level = "WARNING"
    _install(handler, level, secrets)


def _install(handler: logging.Handler, level: str, secrets: Iterable[str]) -> None:
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
