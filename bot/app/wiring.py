"""The composition root: settings -> database -> services (`wire_engine`) -> front end.

Everything is built here, once, and passed in through constructors.
"""

from __future__ import annotations

import asyncio
import getpass
import locale
import logging
import os
import random
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bot.app.settings import Settings, configuration_problems
from bot.app.shards import sqlite_refusal
from bot.core.ahead import Background
from bot.core.bank import Bank, BankProblem, load_bank
from bot.core.engine import Engine
from bot.core.interview import Interviews
from bot.core.ports import Checkers, Clock, QuizStore, Store, SystemClock
from bot.core.quiz_deadlines import SystemTimer, Timer
from bot.core.review import Reviewer
from bot.core.services.answering import Answering
from bot.core.services.boards import Boards
from bot.core.services.catalog import Catalog
from bot.core.services.daily import Dailies
from bot.core.services.identities import Identities
from bot.core.services.making import Making, Recent
from bot.core.services.posting import Postings
from bot.core.services.quiz import Quiz
from bot.core.services.reviews import Reviews
from bot.demos import DemoError, DemoRunner
from bot.storage.db import Database, StorageError
from bot.storage.location import redact
from bot.storage.sqlite import SqliteStore

if TYPE_CHECKING:  # the console does not import discord.py
    from bot.discord._services import Services

log = logging.getLogger("bot")

TOKEN_MISSING = (
    "DISCORD_TOKEN is not set: put DISCORD_TOKEN=<your bot token> in .env or the environment "
    "(or run `python -m bot console` to practise without Discord)."
)


class BankInvalid(Exception):
    def __init__(self, problems: list[BankProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the question bank")
        self.problems = problems


def make_checkers() -> Checkers:
    from bot.checkers import make_checkers as torch_checkers  # imports torch: seconds

    return torch_checkers()


def load_content(settings: Settings, checkers: Checkers | None) -> Bank:
    """The question bank; without `checkers`, the families it names are not checked."""
    families = None if checkers is None else frozenset(checkers.family_names())
    bank = load_bank([settings.content_dir], families)
    if not bank.ok:
        raise BankInvalid(bank.problems)
    return bank


def wire_engine(
    store: Store,
    bank: Bank,
    checkers: Checkers,
    clock: Clock,
    rng: random.Random | None = None,
    *,
    quiz_store: QuizStore | None = None,
    timer: Timer | None = None,
) -> Engine:
    """The core's services, each given the store roles, clock, random generator and other
    services it uses (and nothing else). Quiz rounds run on `quiz_store`, by default the
    store itself when it has that role (no quiz rounds otherwise); their deadlines on `timer`
    (default: the clock and real sleeps)."""
    rng = rng or random.Random()
    background = Background()
    recent = Recent(store, clock)
    catalog = Catalog(bank, checkers, store, clock)
    making = Making(catalog, checkers, recent, rng, background)
    postings = Postings(store, clock, catalog, making, checkers, recent)
    answering = Answering(store, clock, catalog, postings, checkers, Reviewer(), recent)
    if quiz_store is None and isinstance(store, QuizStore):
        quiz_store = store
    quiz = None
    if quiz_store is not None:
        quiz = Quiz(
            quiz_store,
            clock,
            timer or SystemTimer(clock),
            catalog,
            making,
            postings,
            answering,
            checkers,
            rng,
        )
    return Engine(
        store=store,
        checkers=checkers,
        clock=clock,
        rng=rng,
        background=background,
        catalog=catalog,
        making=making,
        postings=postings,
        answering=answering,
        identities=Identities(store),
        dailies=Dailies(store, clock, catalog, making),
        reviews=Reviews(store, clock, catalog, making, checkers),
        boards=Boards(store, clock, catalog),
        interviews=Interviews(store, clock, rng, catalog, making, postings, answering, checkers),
        quiz=quiz,
    )


@asynccontextmanager
async def open_engine(settings: Settings, *, lazy_checkers: bool = False) -> AsyncIterator[Engine]:
    """The engine over the configured bank and database; closes the database on exit.

    `lazy_checkers` (the console): torch is loaded by the first question that needs it, not
    before the prompt (see bot/app/lazy_checkers.py)."""
    checkers: Checkers
    if lazy_checkers:
        from bot.app.lazy_checkers import LazyCheckers

        bank = load_content(settings, None)
        used = {q.family for q in bank.questions.values() if q.family}
        checkers = LazyCheckers(make_checkers, bank_families=used)
    else:
        checkers = await asyncio.to_thread(make_checkers)
        bank = load_content(settings, checkers)
    clock = SystemClock()  # one clock for the engine and the store
    async with open_store(settings, clock) as store:
        engine = wire_engine(store, bank, checkers, clock)
        try:
            yield engine
        finally:
            await engine.aclose()  # stores what is queued before the database closes


@asynccontextmanager
async def open_store(settings: Settings, clock: Clock) -> AsyncIterator[Store]:
    """The store `BOT_DB` names, migrated: an SQLite file, or a PostgreSQL database (a
    connection pool of `BOT_DB_POOL_SIZE`); closed on exit. StorageError (one line, the
    password hidden) when it cannot be opened."""
    location = settings.database
    if location.url is not None:
        from bot.storage.postgres import open_postgres  # asyncpg: only when it is used

        log.info("database: PostgreSQL %s (pool of %d)", location.shown, settings.db_pool_size)
        postgres = await open_postgres(location.url, clock, pool_size=settings.db_pool_size)
        try:
            yield postgres
        finally:
            await postgres.close()
        return
    assert location.path is not None
    db = await Database.open(location.path)
    try:
        yield SqliteStore(db, clock)
    finally:
        await db.close()


def make_demo_runner(settings: Settings, *, cooldown_s: float | None = None) -> DemoRunner:
    """The demo runner as configured (not started: constructing it costs nothing)."""
    return DemoRunner(
        workers=settings.demo_workers,
        timeout_s=settings.demo_timeout_s,
        queue_cap=settings.demo_queue_cap,
        cooldown_s=settings.demo_cooldown_s if cooldown_s is None else cooldown_s,
    )


async def _start_demos(runner: DemoRunner) -> None:
    try:
        await runner.start()
    except DemoError as exc:
        log.error("the demo workers did not start (%s); /demo will say demos are unavailable", exc)


@asynccontextmanager
async def open_demos(settings: Settings) -> AsyncIterator[DemoRunner]:
    """The demo runner, its workers warming up in the background while the bot connects
    (a /demo that arrives meanwhile waits for them); closed on exit."""
    runner = make_demo_runner(settings)
    warming = asyncio.create_task(_start_demos(runner))
    try:
        yield runner
    finally:
        warming.cancel()
        await asyncio.gather(warming, return_exceptions=True)
        await runner.close()


def configure_logging(level: str, secrets: Sequence[str] = ()) -> None:
    """One JSON object per log line on stderr (see bot/app/logs.py); `secrets` are redacted."""
    from bot.app.logs import setup_logging

    setup_logging(level, secrets)


def _console_user(name: str | None) -> str:
    if name and name.strip():
        return name.strip()[:40]
    try:
        return getpass.getuser() or "me"
    except Exception:  # no login name in some containers
        return "me"


async def run_console(settings: Settings, user: str | None) -> None:
    from bot.console import Console, StdTerminal
    from bot.shared.calculator import CheckRequest

    async with open_engine(settings, lazy_checkers=True) as engine:
        checkers: Checkers = engine.checkers  # TorchCheckers, or the LazyCheckers that build one
        # The demo workers start on the first `demo`, not here: starting one imports torch and
        # matplotlib in a new process (about 3 s of a core and 350 MB) and most console
        # sessions never run a demo. One local user: no cooldown.
        demos = make_demo_runner(settings, cooldown_s=0.0)

        def check(request: CheckRequest) -> dict[str, Any]:
            result: dict[str, Any] = checkers.check(
                request.family, request.params, request.answer, seed=request.seed
            )
            return result

        console = Console(  # each of the console's commands gets the services it uses
            StdTerminal(),
            _console_user(user),
            identities=engine.identities,
            catalog=engine.catalog,
            making=engine.making,
            postings=engine.postings,
            answering=engine.answering,
            reviews=engine.reviews,
            dailies=engine.dailies,
            boards=engine.boards,
            interviews=engine.interviews,
            checkers=checkers,
            quiz=engine.quiz,
            clock=engine.clock,
            locale=os.environ.get("LC_ALL") or os.environ.get("LANG") or locale.getlocale()[0],
            check=check,
            demos=demos,
            database=settings.database.shown,
        )
        try:
            await console.run()
        finally:
            await demos.close()


def discord_services(engine: Engine) -> Services:
    """The services the Discord bot hands its extensions (each `setup` gives its cog those it
    uses, by name)."""
    from bot.discord._services import Services

    return Services(
        warm_up=engine.warm_up,
        clock=engine.clock,
        checkers=engine.checkers,
        catalog=engine.catalog,
        making=engine.making,
        postings=engine.postings,
        answering=engine.answering,
        identities=engine.identities,
        dailies=engine.dailies,
        reviews=engine.reviews,
        boards=engine.boards,
        interviews=engine.interviews,
        quiz=engine.quiz,
    )


async def run_discord(settings: Settings) -> None:
    from bot.discord import run_bot

    async with open_engine(settings) as engine, open_demos(settings) as demos:
        await run_bot(settings, discord_services(engine), demos, heartbeats=engine.store)


def main(command: str, user: str | None = None) -> int:
    """`run`, `console` or `start` (Discord with a token, else the console). Exit code."""
    try:
        settings = Settings()
    except ValidationError as exc:
        for bad in configuration_problems(exc):
            print(f"configuration: {bad}", file=sys.stderr)
        return 2
    if command == "start":
        command = "run" if settings.has_token else "console"
    if command == "run" and not settings.has_token:
        print(TOKEN_MISSING, file=sys.stderr)
        return 2
    if command == "run":
        refusal = sqlite_refusal(settings.shards, settings.database.is_postgres)
        if refusal is not None:  # several processes would write one SQLite file
            print(f"configuration: {refusal}", file=sys.stderr)
            return 2
    if not settings.content_dir.exists():
        print(
            f"question bank: there is no {settings.content_dir}; set BOT_CONTENT to the folder"
            " of question files (YAML), e.g. BOT_CONTENT=/path/to/content",
            file=sys.stderr,
        )
        return 2
    secrets = settings.secrets  # the token, and the database URL's password
    if command == "console":  # the terminal is the user's: no JSON lines in it
        from bot.app.logs import setup_console_logging

        try:
            setup_console_logging(settings.log_file, settings.log_level, secrets)
        except OSError as exc:
            print(
                f"BOT_LOG_FILE: cannot write {settings.log_file}: {exc.strerror}", file=sys.stderr
            )
            return 2
    else:
        configure_logging(settings.log_level, secrets)
    try:
        if command == "console":
            asyncio.run(run_console(settings, user))
        else:
            asyncio.run(run_discord(settings))
    except BankInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(
            f"the question bank has {len(exc.problems)} problem(s); not starting", file=sys.stderr
        )
        return 1
    except StorageError as exc:
        print(f"database: {redact(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
