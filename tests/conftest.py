"""Shared fixtures: a real SQLite file in a temporary folder, a real PostgreSQL server
(tests/_postgres.py: `pg_server`, `pg_url`, `pg_store`), and a fixed clock."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.wiring import wire_engine
from bot.checkers import TorchCheckers
from bot.core.bank import load_bank
from bot.core.engine import Engine
from bot.core.ports import Store
from bot.storage.db import Database
from bot.storage.memory import MemoryStore
from bot.storage.sqlite import SqliteStore
from tests._postgres import pg_server, pg_store, pg_url  # noqa: F401 (fixtures)


class FakeClock:
    """A clock the test moves by hand (UTC)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(db_path)
    try:
        yield database
    finally:
        await database.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stores(*kinds): run each test over each of these stores ('sqlite', 'memory',"
        " 'postgres'); the"
        " default is SQLite alone",
    )


ENGINES = ("sqlite", "postgres", "memory")
_engine_outcomes: dict[tuple[str, str], int] = {}


def engine_of(nodeid: str) -> str | None:
    """Which store a parametrised test ran on (`test_x[postgres]`, `[dropout_scale-postgres]`)."""
    if not nodeid.endswith("]") or "[" not in nodeid:
        return None
    params = nodeid[nodeid.index("[") + 1 : -1].split("-")
    return next((kind for kind in ENGINES if kind in params), None)


_summary_lines: list[str] = []  # what tests record as `terminal_summary` (record_property)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count each engine's test outcomes (with xdist, the reports of every worker), and keep
    what a test recorded for the terminal summary."""
    if report.when == "call":
        _summary_lines.extend(str(v) for k, v in report.user_properties if k == "terminal_summary")
    kind = engine_of(report.nodeid)
    if kind is not None and (report.when == "call" or report.outcome != "passed"):
        if report.when != "teardown" or report.outcome == "failed":
            key = (kind, report.outcome)
            _engine_outcomes[key] = _engine_outcomes.get(key, 0) + 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line saying that the database tests ran on each engine (CI shows both), and the
    figures tests recorded as `terminal_summary` (e.g. the open-answer agreement)."""
    for text in _summary_lines:
        terminalreporter.write_line(text)
    if not _engine_outcomes:
        return
    parts = []
    for kind in ENGINES:
        counts = {o: n for (k, o), n in _engine_outcomes.items() if k == kind}
        if counts:
            parts.append(f"{kind}: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items())))
    terminalreporter.write_line("database tests by engine: " + "; ".join(parts))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("stores")
    if marker is not None and "store_kind" in metafunc.fixturenames:
        metafunc.parametrize("store_kind", marker.args)


@pytest.fixture
def store_kind() -> str:
    """Which store `store` is: 'sqlite' unless the test is marked `stores(...)`."""
    return "sqlite"


@pytest.fixture
def store(request: pytest.FixtureRequest, store_kind: str, clock: FakeClock) -> Store:
    """The store the engine runs on: a real SQLite file (`db`), or in memory (`MemoryStore`,
    which passes the same contract, tests/storage/contract) for a test marked
    `stores("sqlite", "memory")`, or a fresh database on the test PostgreSQL server
    (`pg_store`) for `stores(..., "postgres")`."""
    if store_kind == "memory":
        return MemoryStore(clock)
    if store_kind == "postgres":
        postgres: Store = request.getfixturevalue("pg_store")
        return postgres
    database: Database = request.getfixturevalue("db")
    return SqliteStore(database, clock)


FIXTURE_BANK = Path(__file__).parent / "fixtures" / "bank"


@pytest.fixture(scope="session")
def checkers() -> TorchCheckers:
    return TorchCheckers()


@pytest.fixture
async def engine(store: Store, clock: FakeClock, checkers: TorchCheckers) -> AsyncIterator[Engine]:
    """The real engine over the fixture bank, the `store` (a real SQLite file unless the test
    asks for the memory store too) and a fake clock."""
    bank = load_bank([FIXTURE_BANK], checkers.family_names())
    assert bank.ok, bank.problems
    engine = wire_engine(store, bank, checkers, clock, random.Random(7))
    try:
        yield engine
    finally:
        await engine.aclose()  # stores what is queued before the database closes
