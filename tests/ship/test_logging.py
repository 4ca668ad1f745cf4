"""Logs are one JSON object per line, at the configured level, and the token never appears."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.logs import REDACTED, setup_logging
from tests.e2e.fakediscord import FakeDiscord
from tests.e2e.harness import button_ids
from tests.e2e.test_process import bot_env

ROOT = Path(__file__).resolve().parents[2]
SECRET = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.very-secret-token-value"
KEYS = ("time", "level", "logger", "msg")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # An earlier test in this process may have run a command in-process that set up logging
    # (captureWarnings(True)) and left it so; then setup_logging's captureWarnings(True) is a
    # no-op and warnings bypass logging. Start from warnings not captured.
    logging.captureWarnings(False)
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(False)


def parsed(text: str) -> list[dict[str, str]]:
    """Every line as JSON with the four keys first, in order (fails on any other line)."""
    entries = []
    for line in text.splitlines():
        entry = json.loads(line)
        assert isinstance(entry, dict) and tuple(entry)[:4] == KEYS, line
        entries.append(entry)
    return entries


def log_everything(secrets: list[str]) -> str:
    stream = io.StringIO()
    setup_logging("DEBUG", secrets, stream)
    log = logging.getLogger("bot.test")
    log.debug("connecting with %s", SECRET)  # in the arguments
    log.info(f"header Authorization: Bot {SECRET}")  # in the message itself
    log.info("non-ASCII stays one line: 正确 ✅\nand a newline too")
    try:
        raise RuntimeError(f"request failed for token={SECRET}")
    except RuntimeError:
        log.exception("in a traceback")
    log.warning("with a stack", stack_info=True)
    log.info("bad arguments %s %s", SECRET)  # would make a lesser formatter raise
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"a library warning mentioning {SECRET}", UserWarning, stacklevel=1)
    logging.getLogger("bot.test.quiet").debug("below nothing: DEBUG is on")
    return stream.getvalue()


def test_records_are_json_lines_with_the_token_redacted(restore_logging: None) -> None:
    text = log_everything([SECRET])
    assert SECRET not in text
    entries = parsed(text)
    assert len(entries) == 8 == len(text.splitlines())
    assert [e["level"] for e in entries[:3]] == ["DEBUG", "INFO", "INFO"]
    assert entries[0]["msg"] == f"connecting with {REDACTED}"
    assert entries[0]["logger"] == "bot.test" and entries[0]["time"].endswith("+00:00")
    assert entries[1]["msg"] == f"header Authorization: Bot {REDACTED}"
    assert entries[2]["msg"] == "non-ASCII stays one line: 正确 ✅\nand a newline too"
    assert text.isascii()
    assert "RuntimeError: request failed for token=[redacted]" in entries[3]["exc"]
    assert "test_logging.py" in entries[4]["stack"]
    assert REDACTED in entries[5]["msg"]
    assert entries[6]["logger"] == "py.warnings" and REDACTED in entries[6]["msg"]


def test_without_the_filter_the_same_records_would_leak(restore_logging: None) -> None:
    """The check above is not vacuous: the records really carry the token."""
    entries = parsed(log_everything([]))
    leaked = [e.get("exc", e["msg"]) for e in entries]
    carried = [True, True, False, True, False, True, True, False]
    assert [SECRET in text for text in leaked] == carried


def test_the_level_comes_from_the_setting(restore_logging: None) -> None:
    stream = io.StringIO()
    setup_logging("WARNING", [SECRET], stream)
    logging.getLogger("bot.test").info("hidden")
    logging.getLogger("bot.test").warning("shown")
    assert [e["msg"] for e in parsed(stream.getvalue())] == ["shown"]


@pytest.mark.timeout(90)
async def test_the_real_bot_at_debug_never_logs_its_token(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """`python -m bot run` at DEBUG (discord.py then logs every gateway event and REST call),
    a slash command and a button, and a command whose option *is* the token: discord.py logs
    that payload, so the token reaches a log record, and the filter must blank it out."""
    log = tmp_path / "bot.log"
    token = fake_discord.token
    env = bot_env(fake_discord, tmp_path / "bot.sqlite3")
    assert env["BOT_LOG_LEVEL"] == "DEBUG" and env["DISCORD_TOKEN"] == token
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdout=sink, stderr=sink
        )
    try:
        await fake_discord.wait_ready(within=60)
        await fake_discord.wait_for_commands("question", within=30)
        alice = fake_discord.user("alice")
        posted = await alice.slash("question", topic="vanishing_gradients", within=5)
        assert posted.message is not None
        await alice.click(posted.message, button_ids(posted.message)[0], within=5)
        echoed = await alice.slash("question", topic=token, within=5)
        assert echoed.message is not None
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = log.read_text()
    assert code == 0, output[-3000:]
    assert token not in output
    assert REDACTED in output  # the token did reach the logs, and was blanked out
    entries = parsed(output)
    levels = {e["level"] for e in entries}
    loggers = {e["logger"].split(".")[0] for e in entries}
    assert "DEBUG" in levels and {"bot", "discord"} <= loggers


def test_console_logging_is_plain_text_at_warning_or_json_in_a_file(
    restore_logging: None, tmp_path: Path
) -> None:
    from bot.app.logs import setup_console_logging

    stream = io.StringIO()
    setup_console_logging(None, "DEBUG", [SECRET], stream)  # a terminal: WARNING whatever asked
    log = logging.getLogger("bot.console.test")
    log.info("not for the terminal")
    log.warning("the bank names %s", "nosuch")
    try:
        raise FileNotFoundError(2, f"No such file or directory: {SECRET}")
    except OSError:
        log.exception(f"saving failed with {SECRET}")
    lines = stream.getvalue().splitlines()
    assert lines == [
        "WARNING bot.console.test: the bank names nosuch",
        f"ERROR bot.console.test: saving failed with {REDACTED}"
        f" (FileNotFoundError: [Errno 2] No such file or directory: {REDACTED})",
    ]  # one line each: no JSON, no traceback in the user's terminal

    log_file = tmp_path / "console.log"
    setup_console_logging(log_file, "INFO", [SECRET])
    log.info("kept in the file at %s", "INFO")
    logging.getLogger().handlers[0].flush()
    (entry,) = parsed(log_file.read_text(encoding="utf-8"))
    assert entry["level"] == "INFO" and entry["msg"] == "kept in the file at INFO"
