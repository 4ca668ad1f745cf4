"""Imported question packs on a real SQLite file (the guarantees between processes on PostgreSQL
too): one id per server whichever process imports, and start-up from the validated form (no YAML
parsing), falling back to the YAML when that form no longer fits."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app.wiring import wire_engine
from bot.checkers import TorchCheckers
from bot.core.bank import load_bank, parse_document
from bot.core.engine import Engine
from bot.core.errors import PackInvalid
from bot.storage.db import Database
from bot.storage.sqlite import SqliteStore
from tests.conftest import FIXTURE_BANK, FakeClock
from tests.e2e.botdb import BotDb

QUESTION = """\
  - id: club-q{i}
    topic: optimizers
    kind: mcq
    difficulty: easy
    text: {{en: "Q{i}: which optimiser?", zh: "第 {i} 题：哪种优化器？"}}
    choices:
      - {{en: "SGD", zh: "SGD"}}
      - {{en: "Adam", zh: "Adam"}}
    answer: A
    explanation: {{en: "Plain SGD.", zh: "普通 SGD。"}}
"""


def pack(*numbers: int) -> str:
    return "questions:\n" + "".join(QUESTION.format(i=i) for i in numbers)


@asynccontextmanager
async def process(
    db_path: Path, checkers: TorchCheckers, clock: FakeClock
) -> AsyncIterator[Engine]:
    """An engine with its own connection to the database file, as another process has."""
    db = await Database.open(db_path)
    engine = wire_engine(
        SqliteStore(db), load_bank([FIXTURE_BANK], checkers.family_names()), checkers, clock
    )
    try:
        await engine.catalog.load_packs()
        yield engine
    finally:
        await engine.aclose()
        await db.close()


@pytest.fixture(params=["sqlite", "postgres"])
def shared(request: pytest.FixtureRequest, db_path: Path) -> BotDb:
    """One database for several processes: an SQLite file, or a PostgreSQL database."""
    if request.param == "postgres":
        return BotDb("postgres", request.getfixturevalue("pg_url"))
    return BotDb("sqlite", str(db_path))


@asynccontextmanager
async def process_on(
    shared: BotDb, checkers: TorchCheckers, clock: FakeClock
) -> AsyncIterator[Engine]:
    """`process` on either engine (a pool of its own on PostgreSQL)."""
    if shared.kind == "sqlite":
        async with process(shared.path, checkers, clock) as engine:
            yield engine
        return
    from bot.storage.postgres import open_postgres

    store = await open_postgres(shared.location, clock, pool_size=2)
    engine = wire_engine(store, load_bank([FIXTURE_BANK], checkers.family_names()), checkers, clock)
    try:
        await engine.catalog.load_packs()
        yield engine
    finally:
        await engine.aclose()
        await store.close()


async def test_another_process_cannot_import_an_id_a_pack_of_the_server_has(
    shared: BotDb, checkers: TorchCheckers, clock: FakeClock
) -> None:
    async with (
        process_on(shared, checkers, clock) as one,
        process_on(shared, checkers, clock) as two,
    ):
        server = await one.identities.server("discord", "1", "club")
        other = await one.identities.server("discord", "2", "other club")
        await one.catalog.import_pack(server.id, "one.yaml", pack(1, 2), None)
        # `two` loaded the packs before that import: only the database knows about it.
        with pytest.raises(PackInvalid) as refused:
            await two.catalog.import_pack(server.id, "two.yaml", pack(3, 2), None)
        assert [p.text("en") for p in refused.value.problems] == [
            "two.yaml:12: club-q2: id: duplicate id (also in pack 1 (one.yaml))"
        ]
        assert [p.text("zh") for p in refused.value.problems] == [
            "two.yaml:12: club-q2: id: 编号重复（pack 1 (one.yaml) 中已有）"
        ]
        assert two.catalog.question("club-q3", server.id) is None  # nothing of it, in memory either
        await two.catalog.import_pack(
            other.id, "two.yaml", pack(3, 2), None
        )  # another server: fine
    assert shared.rows("SELECT name FROM question_packs ORDER BY id") == [
        ("one.yaml",),
        ("two.yaml",),
    ]


async def test_imports_to_one_server_at_the_same_moment_keep_the_first(
    shared: BotDb, checkers: TorchCheckers, clock: FakeClock
) -> None:
    async with process_on(shared, checkers, clock) as engine:
        server = await engine.identities.server("discord", "1", "club")
        results = await asyncio.gather(
            engine.catalog.import_pack(server.id, "one.yaml", pack(*range(0, 30)), None),
            engine.catalog.import_pack(server.id, "two.yaml", pack(*range(29, 60)), None),
            return_exceptions=True,
        )
        assert not isinstance(results[0], BaseException)
        assert isinstance(results[1], PackInvalid)
        assert [p.question for p in results[1].problems] == ["club-q29"]
    async with process_on(shared, checkers, clock) as engine:
        assert engine.catalog.question("club-q0", server.id) is not None
        assert engine.catalog.question("club-q59", server.id) is None


async def test_start_up_reads_the_validated_form_and_it_equals_the_yaml(
    db_path: Path, checkers: TorchCheckers, clock: FakeClock
) -> None:
    text = pack(1, 2, 3)
    async with process(db_path, checkers, clock) as engine:
        server = await engine.identities.server("discord", "1", "club")
        await engine.catalog.import_pack(server.id, "club.yaml", text, None)
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE question_packs SET content = 'questions: [not yaml'")
    async with process(db_path, checkers, clock) as engine:
        loaded = engine.catalog.server_banks[server.id].questions
        assert list(loaded.values()) == [q.question for q in parse_document(text, "x").questions]


async def test_a_stored_form_that_no_longer_fits_falls_back_to_the_yaml(
    db_path: Path, checkers: TorchCheckers, clock: FakeClock
) -> None:
    async with process(db_path, checkers, clock) as engine:
        server = await engine.identities.server("discord", "1", "club")
        await engine.catalog.import_pack(server.id, "club.yaml", pack(1, 2), None)
    with sqlite3.connect(db_path) as conn:  # a later version would not accept it as stored
        conn.execute('UPDATE pack_questions SET body = \'{"id": "club-q1"}\'')
    async with process(db_path, checkers, clock) as engine:
        assert engine.catalog.question("club-q2", server.id) is not None


async def test_a_pack_whose_id_the_built_in_bank_now_has_is_skipped_with_its_line(
    db_path: Path, checkers: TorchCheckers, clock: FakeClock
) -> None:
    async with process(db_path, checkers, clock) as engine:
        server = await engine.identities.server("discord", "1", "club")
        await engine.catalog.import_pack(server.id, "club.yaml", pack(1, 2), None)
    with sqlite3.connect(db_path) as conn:  # as if the bank gained that id in an upgrade
        for table, column in (("question_packs", "content"), ("pack_questions", "body")):
            conn.execute(
                f"UPDATE {table} SET {column} = replace({column}, 'club-q2', 'fx-zero-init')"
            )
    async with process(db_path, checkers, clock) as engine:
        problems = await engine.catalog.load_packs()
        assert [str(p) for p in problems] == [
            "pack 1 (club.yaml):12: fx-zero-init: id: duplicate id (also in the built-in bank)"
        ]
        assert problems[0].text("zh").endswith("编号重复（内置题库 中已有）")
        assert engine.catalog.question("club-q1", server.id) is None  # all of the pack, or none


async def test_a_file_imported_again_replaces_its_pack_and_a_refused_one_keeps_it(
    shared: BotDb, checkers: TorchCheckers, clock: FakeClock
) -> None:
    """A corrected file under the same name replaces the server's pack of that name, after a
    restart too (its questions are then known as `pack N (name)`); a file that is refused
    leaves the old pack as it was; another server's pack of that name is not touched."""
    async with process_on(shared, checkers, clock) as engine:
        server = await engine.identities.server("discord", "1", "club")
        other = await engine.identities.server("discord", "2", "other club")
        first = await engine.catalog.import_pack(server.id, "club.yaml", pack(1, 2), None)
        assert first.replaced is None
        await engine.catalog.import_pack(other.id, "club.yaml", pack(1, 2), None)
    async with process_on(shared, checkers, clock) as engine:  # restarted
        with pytest.raises(PackInvalid):  # a broken correction: nothing changes
            await engine.catalog.import_pack(server.id, "club.yaml", "questions: [1]", None)
        assert engine.catalog.question("club-q2", server.id) is not None
        second = await engine.catalog.import_pack(server.id, "club.yaml", pack(2, 3), None)
        assert second.replaced is not None and second.replaced.id == first.pack.id
        assert second.pack.questions == 2
        assert engine.catalog.question("club-q1", server.id) is None  # gone with the old pack
        assert engine.catalog.question("club-q3", server.id) is not None
        assert engine.catalog.question("club-q1", other.id) is not None  # the other server's
        third = await engine.catalog.import_pack(server.id, "club.yaml", pack(3, 4), None)
        assert third.replaced is not None and third.replaced.id == second.pack.id  # in-process
    async with process_on(shared, checkers, clock) as engine:  # what the database kept
        assert engine.catalog.question("club-q4", server.id) is not None
        assert engine.catalog.question("club-q2", server.id) is None
    assert shared.rows("SELECT name, questions FROM question_packs ORDER BY id") == [
        ("club.yaml", 2),  # the other server's
        ("club.yaml", 2),
    ]
