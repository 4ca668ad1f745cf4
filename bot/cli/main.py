"""The command line: `python -m bot run | console | check | content validate | topics | rubric |
health | backup | db copy` (bot/__main__.py calls `main`)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Deep-learning interview practice: a Discord bot and a local console.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser(
        "start", help="the Discord bot if DISCORD_TOKEN is set, else the console (`make run`)"
    )
    commands.add_parser("run", help="start the Discord bot (needs DISCORD_TOKEN)")
    console = commands.add_parser("console", help="practise in this terminal (no Discord needed)")
    console.add_argument("--user", default=None, help="your name in the local scores")

    commands.add_parser(
        "check",
        help="the numeric checker: python -m bot check FAMILY k=v ... [--answer A] | --list",
        add_help=False,
    )

    content = commands.add_parser("content", help="question-bank tools")
    content_commands = content.add_subparsers(dest="content_command", metavar="ACTION")
    validate = content_commands.add_parser(
        "validate", help="check question files; prints file:line: id: field: message"
    )
    validate.add_argument(
        "paths", nargs="*", type=Path, help="files or folders (default: content/)"
    )

    commands.add_parser("topics", help="list the areas and topics of the outline")

    rubric = commands.add_parser(
        "rubric",
        help="check a typed answer to an open question against its key points (JSON)",
    )
    rubric.add_argument("bank_id", metavar="BANK_ID", help="an open question's id")
    rubric.add_argument(
        "--answer", required=True, metavar="TEXT", help="the answer; `-` reads it from stdin"
    )
    rubric.add_argument(
        "--lang",
        choices=("en", "zh"),
        default=None,
        help="language of the key points shown (default: the answer's)",
    )

    commands.add_parser(
        "health",
        help="exit 0 if the database is sound and the bot's gateway heartbeat is fresh, else 1",
    )
    backup = commands.add_parser(
        "backup", help="copy the database (safe while the bot runs) to PATH (a file or folder)"
    )
    # A string, not a Path: `backups/new/` (a folder, created) must keep its trailing slash.
    backup.add_argument(
        "path", metavar="PATH", help="backup file, or folder for one (`DIR/` is created)"
    )
    database = commands.add_parser("db", help="database tools: db copy SOURCE TARGET")
    db_commands = database.add_subparsers(dest="db_command", metavar="ACTION")
    copy = db_commands.add_parser(
        "copy",
        help="copy every table into an EMPTY database: an SQLite file to PostgreSQL or back",
    )
    copy.add_argument("source", metavar="SOURCE", help="an SQLite file or a postgresql:// URL")
    copy.add_argument("target", metavar="TARGET", help="an SQLite file or a postgresql:// URL")
    return parser


HOLD_VAR = "BOT_ON_CONFIG_ERROR"
HOLD_MESSAGE = (
    "not starting until the configuration above is fixed; waiting to be stopped instead of "
    "exiting, so that a restart policy does not run into the same error again and again. "
    "Fix .env, then `docker compose up -d` (it recreates the container)."
)


def _hold_after_configuration_error() -> None:
    """`run` in the image (BOT_ON_CONFIG_ERROR=wait): a configuration error (exit code 2)
    would only repeat on every restart of `restart: unless-stopped`, so say it once and wait
    for SIGTERM (`docker compose down`/`stop`) or SIGINT. The container shows as unhealthy."""
    print(HOLD_MESSAGE, file=sys.stderr, flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(3600):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `check` has its own parser (its contract is in docs/numeric-checker.md).
    if args_list[:1] == ["check"]:
        from bot.checkers.cli import main as check_main

        return check_main(args_list[1:])
    parser = _parser()
    args = parser.parse_args(args_list)
    if args.command == "content" and args.content_command == "validate":
        from bot.cli.content import validate

        return validate(args.paths)
    if args.command == "health":
        from bot.cli.ops import health

        return health()
    if args.command == "backup":
        from bot.cli.ops import backup_command

        return backup_command(args.path)
    if args.command == "db" and args.db_command == "copy":
        from bot.cli.db import copy_command

        return copy_command(args.source, args.target)
    if args.command == "rubric":
        from bot.cli.content import rubric_command

        return rubric_command(args.bank_id, args.answer, args.lang)
    if args.command == "topics":
        from bot.cli.content import print_topics

        return print_topics()
    if args.command in ("start", "run", "console"):
        from bot.app.wiring import main as app_main

        code = app_main(args.command, user=getattr(args, "user", None))
        if code == 2 and args.command == "run" and os.environ.get(HOLD_VAR) == "wait":
            _hold_after_configuration_error()
        return code
    if args.command in ("content", "db"):
        parser.parse_args([args.command, "--help"])
    parser.print_help()
    return 0
