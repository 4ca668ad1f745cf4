"""Posting a question before its row is written, generating numeric questions ahead, and the
recent-question memory: on a real SQLite file, with the real checkers."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app.wiring import wire_engine
from bot.checkers import TorchCheckers
from bot.core import ahead
from bot.core.ahead import Background, NumericStock
from bot.core.bank import load_bank
from bot.core.engine import Engine, KindFilter, parse_generated_ref
from bot.core.errors import UnknownQuestion
from bot.core.models import Difficulty, Kind, User
from bot.core.ports import Store
from bot.core.services.posting import Shown
from bot.storage.db import Database
from bot.storage.postgres import PostgresStore
from bot.storage.sqlite import SqliteStore
from tests.conftest import FIXTURE_BANK, FakeClock

CONTENT = Path(__file__).resolve().parents[2] / "content"


def rows(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


async def alice(engine: Engine) -> User:
    return await engine.identities.user("discord", "1", "alice")


async def eventually(predicate: Callable[[], bool], limit_s: float = 60.0) -> None:
    """Poll until ``predicate`` holds (background work needs no nudge to finish); the limit
    only ends a test that would hang, so a loaded machine cannot make it fail."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def traced(db: Database) -> list[str]:
    """The statements run on the database's connection from now on (its own trace)."""
    statements: list[str] = []
    conn = db._conn._conn  # the sqlite3 connection, used on aiosqlite's thread only
    trace = conn.set_trace_callback
    await db._conn._execute(trace, statements.append)  # type: ignore[no-untyped-call]
    return statements


def instance_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("SELECT * FROM question_instances")]


@pytest.mark.stores("sqlite", "postgres")
async def test_questions_posted_one_after_another_share_one_write(
    engine: Engine, store: Store
) -> None:
    """No write before the reply; after it, the row (with the message id and the served note)
    waits STORE_AFTER_S for the next ones, and they go through the group commit as one batch:
    a commit for each `/question` cost about 0.4x of a bare `/ping` in bench/roundtrip.py."""
    assert isinstance(store, SqliteStore | PostgresStore)
    writer = store.db.writer if isinstance(store, SqliteStore) else store.posted_writer()
    user = await alice(engine)
    await engine.warm_up()
    served = await engine.making.serve(user, "vanishing_gradients", KindFilter.CONCEPT)
    before, ids = writer.batches, []
    for n in range(5):
        async with engine.postings.post(served, None, "c1", "en", served_to=user) as posting:
            # Shown, not yet written: nothing before the reply waits on the database.
            assert await store.get_instance(posting.instance.id) is None
            posting.message_id = f"m{n}"
        ids.append(posting.instance.id)
    await engine.postings.flush()
    assert writer.batches == before + 1  # five replies one after another, one write
    for n, instance_id in enumerate(ids):
        stored = await store.get_instance(instance_id)
        assert stored is not None and (stored.channel_id, stored.message_id) == ("c1", f"m{n}")
    assert await store.recent_refs(user.id, 10) == [served.ref]


async def test_a_click_right_after_the_reply_reads_no_row(engine: Engine, db: Database) -> None:
    """The row posted here is kept as written: the first click on the question answers from
    memory, without reading the row back (the connection's own trace shows no such read)."""
    user = await alice(engine)
    served = await engine.making.serve(user, "vanishing_gradients", KindFilter.CONCEPT)
    async with engine.postings.post(served, None, "c1", "en", served_to=user) as posting:
        posting.message_id = "m1"
    statements = await traced(db)
    outcome = await engine.answering.answer(posting.instance.id, user, "B", ref=served.ref)
    assert outcome.counted and outcome.grade.correct
    assert any(s.startswith("INSERT INTO attempts") for s in statements)  # the trace works
    assert instance_reads(statements) == []


async def test_a_question_stored_now_is_answered_without_a_read(
    engine: Engine, db: Database
) -> None:
    """The other form (the console, an interview): the row as stored is kept too, once final
    (no channel message to wait for), so its first answer reads nothing of it either."""
    user = await alice(engine)
    served = await engine.making.serve(user, "vanishing_gradients", KindFilter.CONCEPT)
    instance = await engine.postings.post(served, None, None, "en", served_to=user)
    statements = await traced(db)
    assert (await engine.answering.answer(instance.id, user, "B")).counted
    assert instance_reads(statements) == []


async def test_a_click_before_the_row_is_written_waits_for_it(
    engine: Engine, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A click that comes while the reply is still going out (the row not written yet) waits
    for the row, then answers it: no restore, nothing read."""
    user = await alice(engine)
    served = await engine.making.serve(user, "vanishing_gradients", KindFilter.CONCEPT)
    async with engine.postings.post(served, None, "c1", "en", served_to=user) as posting:
        posting.message_id = "m1"
        click = asyncio.create_task(engine.answering.answer(posting.instance.id, user, "B"))
        await asyncio.sleep(0.01)
        assert not click.done()  # waiting for the row
    outcome = await asyncio.wait_for(click, 30)
    assert outcome.counted and outcome.grade.correct
    assert rows(db_path, "SELECT COUNT(*) FROM attempts") == [(1,)]
    assert not [r for r in caplog.records if "was not stored" in r.getMessage()]


@pytest.mark.stores("sqlite", "postgres")
async def test_posts_at_the_same_moment_share_one_write(engine: Engine, store: Store) -> None:
    """The rows of replies that end together are one batch of the group commit: one SQLite
    transaction, one PostgreSQL statement."""
    assert isinstance(store, SqliteStore | PostgresStore)
    writer = store.db.writer if isinstance(store, SqliteStore) else store.posted_writer()
    user = await alice(engine)
    await engine.warm_up()
    served = await engine.making.serve(user, kind=KindFilter.CONCEPT)

    async def post(message_id: str) -> int:
        async with engine.postings.post(served, None, "c1", "en", served_to=user) as posting:
            posting.message_id = message_id
        return posting.instance.id

    before = writer.batches
    ids = await asyncio.gather(*(post(f"m{i}") for i in range(5)))
    await engine.postings.flush()
    assert writer.batches == before + 1  # five rows, one write
    assert len(set(ids)) == 5
    for i, instance_id in enumerate(ids):
        stored = await store.get_instance(instance_id)
        assert stored is not None and stored.message_id == f"m{i}"
    assert await store.recent_refs(user.id, 10) == [served.ref]


async def test_a_failed_reply_stores_nothing(engine: Engine, db_path: Path) -> None:
    user = await alice(engine)
    served = await engine.making.serve(user, "vanishing_gradients", KindFilter.CONCEPT)
    with pytest.raises(RuntimeError):
        async with engine.postings.post(served, None, "c1", "en", served_to=user) as posting:
            raise RuntimeError("the reply failed")
    with pytest.raises(UnknownQuestion):
        await engine.postings.instance(posting.instance.id)
    assert rows(db_path, "SELECT COUNT(*) FROM question_instances") == [(0,)]
    # Nothing of it is left to break the next post, its answer or a shutdown.
    async with engine.postings.post(served, None, "c1", "en", served_to=user) as following:
        following.message_id = "m2"
    assert (await engine.answering.answer(following.instance.id, user, "B")).counted
    await asyncio.wait_for(engine.postings.flush(), 30)
    assert rows(db_path, "SELECT id FROM question_instances") == [(following.instance.id,)]


async def test_a_lost_row_is_restored_from_its_message(engine: Engine, db_path: Path) -> None:
    """The process died between the reply and the write: the click brings what the message
    shows (its reference), and the question is stored with the id its buttons carry."""
    user = await alice(engine)
    served = await engine.making.serve(user, "vanishing_gradients", KindFilter.CONCEPT)
    async with engine.postings.post(served, None, "c1", "en") as posting:
        lost = posting.instance.id
    await engine.postings.instance(lost)
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"DELETE FROM question_instances WHERE id = {lost}")
    with pytest.raises(UnknownQuestion):
        await engine.postings.instance(lost)

    restored = await engine.postings.instance(lost, Shown("fx-sigmoid-max", None, "c1", "m9", "en"))
    assert (restored.id, restored.kind, restored.message_id) == (lost, Kind.MCQ, "m9")
    assert (await engine.answering.answer(lost, user, "B")).counted
    # Restoring again (two clicks racing) keeps the stored row.
    again = await engine.postings.instance(lost, Shown("fx-sigmoid-max", None, "c1", "other", "en"))
    assert again.message_id == "m9"

    numeric = await engine.postings.instance(
        lost + 1000, Shown("conv_output:4", None, "c1", None, "en")
    )
    assert (numeric.kind, numeric.difficulty, numeric.topic) == (
        Kind.NUMERIC,
        Difficulty.MEDIUM,  # 4 % 3 == 1
        "conv_output",
    )
    for ref in ("no-such-question", "no_family:3", "fx-conv-output"):
        with pytest.raises(UnknownQuestion):
            await engine.postings.instance(lost + 2000, Shown(ref, None, "c1", None, "en"))


async def test_two_processes_on_one_database_never_share_an_instance_id(
    db_path: Path, clock: FakeClock, checkers: TorchCheckers
) -> None:
    """Ids come from blocks reserved in the database, and plain posts take theirs from the
    same counter: a bot and a console on one file never collide."""
    bank = load_bank([FIXTURE_BANK], checkers.family_names())
    first, second = await Database.open(db_path), await Database.open(db_path)
    engines = [
        wire_engine(SqliteStore(db), bank, checkers, clock, random.Random(i))
        for i, db in enumerate((first, second))
    ]
    try:
        user = await alice(engines[0])
        served = await engines[0].making.serve(user, kind=KindFilter.CONCEPT)
        ids = []
        for round_ in range(30):
            engine = engines[round_ % 2]
            if round_ % 3 == 0:
                ids.append((await engine.postings.post(served, None, "c1")).id)
            else:
                async with engine.postings.post(served, None, "c1") as posting:
                    ids.append(posting.instance.id)
        for engine in engines:
            await engine.aclose()
        assert len(set(ids)) == 30
        stored = rows(db_path, "SELECT id FROM question_instances ORDER BY id")
        assert [i for (i,) in stored] == sorted(ids)
    finally:
        await first.close()
        await second.close()


async def test_the_id_counter_starts_after_the_existing_questions(db_path: Path) -> None:
    """Upgrading a database that has questions: the counter (migration 0004) starts above."""
    from bot.storage.db import migrations

    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        for version, _, sql in migrations()[:3]:
            conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
        conn.execute(
            "INSERT INTO question_instances (id, ref, kind, topic, difficulty, created_at)"
            " VALUES (41, 'r', 'mcq', 'backprop', 'easy', 'x')"
        )
    db = await Database.open(db_path)
    try:
        assert await SqliteStore(db).reserve_instance_ids(10) == 42
        assert await SqliteStore(db).reserve_instance_ids(1) == 52
    finally:
        await db.close()


async def test_recent_questions_are_avoided_across_a_restart(
    store: SqliteStore, clock: FakeClock, checkers: TorchCheckers
) -> None:
    """The recent-question memory is read from the database once, then kept in memory; the
    served notes it is rebuilt from are written with the posted questions."""
    bank = load_bank([CONTENT], checkers.family_names())
    topic = "optimizers"
    candidates = bank.select(topic, KindFilter.CONCEPT.kinds)
    assert len(candidates) >= 8
    engine = wire_engine(store, bank, checkers, clock, random.Random(3))
    user = await alice(engine)
    first = await engine.making.serve(user, topic, KindFilter.CONCEPT)  # loads the (empty) memory
    served = [first.ref]
    async with engine.postings.post(first, None, "c1", served_to=user):
        pass
    for _ in range(len(candidates) - 3):
        question = await engine.making.serve(user, topic, KindFilter.CONCEPT)
        async with engine.postings.post(question, None, "c1", served_to=user):
            served.append(question.ref)
        clock.advance(seconds=1)
    assert len(set(served)) == len(served)  # no repeats while fresh ones remain
    await engine.aclose()

    restarted = wire_engine(store, bank, checkers, clock, random.Random(4))
    following = await restarted.making.serve(user, topic, KindFilter.CONCEPT)
    assert following.ref not in served  # one of the two not served yet
    await restarted.aclose()


async def test_a_reply_cancelled_never_leaves_a_click_waiting(engine: Engine) -> None:
    """The reply is cancelled (the bot is stopping) while a click waits for the row: the click
    is released, and finds no row (a click with its message would restore it)."""
    user = await alice(engine)
    served = await engine.making.serve(user, "vanishing_gradients", KindFilter.CONCEPT)
    posted, replying = asyncio.Event(), asyncio.Event()
    ids: list[int] = []

    async def reply() -> None:
        async with engine.postings.post(served, None, "c1", "en") as posting:
            ids.append(posting.instance.id)
            posted.set()
            await replying.wait()  # the reply never comes back

    replier = asyncio.create_task(reply())
    await posted.wait()
    click = asyncio.create_task(engine.answering.answer(ids[0], user, "B"))
    await asyncio.sleep(0.01)
    assert not click.done()
    replier.cancel()
    with pytest.raises(UnknownQuestion):
        await asyncio.wait_for(click, 30)
    await asyncio.wait_for(engine.postings.flush(), 30)  # nothing left under way


async def test_an_id_numbered_again_is_never_taken_for_another_question(
    engine: Engine, db_path: Path, clock: FakeClock
) -> None:
    """A database restored from an older backup numbers new questions with ids that old
    messages carry: a click on an old message must not answer the new question."""
    user = await alice(engine)
    mcq = await engine.making.serve(user, "vanishing_gradients", KindFilter.CONCEPT)
    async with engine.postings.post(mcq, None, "c1") as posting:
        reused = posting.instance.id
    await engine.postings.instance(reused)
    with sqlite3.connect(db_path) as conn:  # that row now holds another question
        conn.execute(f"UPDATE question_instances SET ref = 'fx-zero-init' WHERE id = {reused}")
    with pytest.raises(UnknownQuestion):
        await engine.answering.answer(reused, user, "B", ref="fx-sigmoid-max")
    with pytest.raises(UnknownQuestion):
        await engine.postings.instance(reused, Shown("fx-sigmoid-max", None, "c1", None, "en"))
    assert rows(db_path, "SELECT COUNT(*) FROM attempts") == [(0,)]

    # A restore moves the counter past the id it stores, and keeps when it was posted.
    posted_at = clock.now().replace(hour=3)
    restored = await engine.postings.instance(
        10_000, Shown("fx-sigmoid-max", None, "c1", None, "en", posted_at)
    )
    assert restored.created_at == posted_at
    assert await engine.store.reserve_instance_ids(1) > 10_000


async def test_numeric_questions_served_from_the_stock_are_the_same_as_generated(
    engine: Engine,
) -> None:
    """A stocked question is exactly what its FAMILY:SEED regenerates (so grading and a
    reshow after a restart agree), and taking from the stock calls no checker."""
    await engine.warm_up()
    user = await alice(engine)
    for _ in range(10):
        served = await engine.making.serve(user, kind=KindFilter.NUMERIC)
        family, seed = parse_generated_ref(served.ref)
        assert family is not None and seed is not None
        again = await engine.making.generated(family, seed)
        assert served.text == again.text and served.difficulty == again.difficulty


async def test_the_stock_is_replaced_once_idle(checkers: TorchCheckers) -> None:
    background = Background()
    stock = NumericStock(checkers, random.Random(5), background)
    try:
        await stock.fill(["conv_output", "rnn_params"], depth=2)
        assert len(stock) == 2 * 3 * 2
        taken = [stock.take("conv_output", Difficulty.HARD) for _ in range(3)]
        assert taken[2] is None  # that shelf is empty: the caller generates one
        for numeric in taken[:2]:
            assert numeric is not None and numeric.difficulty is Difficulty.HARD
            assert numeric.expected == checkers.generate("conv_output", numeric.seed).expected
        assert stock.take("not_stocked", Difficulty.EASY) is None
        assert len(stock) == 10
        # Refilled to the full depth once idle (RESTOCK_WHEN_IDLE_S), with no further take.
        await eventually(lambda: len(stock) == 2 * 3 * ahead.STOCK_DEPTH)
    finally:
        await background.close()


async def test_reseeding_makes_the_next_question_reproducible(engine: Engine) -> None:
    """`reseed` drops what was generated ahead with earlier draws (docs/render_question.py
    relies on it for its pictures)."""
    await engine.warm_up()
    user = await alice(engine)
    refs = []
    for _ in range(2):
        engine.making.reseed(11)
        refs.append((await engine.making.serve(user, "conv_output", KindFilter.NUMERIC)).ref)
    assert refs[0] == refs[1]


async def test_a_full_disk_loses_the_rows_not_the_questions(
    engine: Engine, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """The write after the reply fails (the file cannot grow): logged in one line, the reply
    is not failed for it, and the question is stored again from its message once there is
    room."""
    user = await alice(engine)
    served = await engine.making.serve(user, "vanishing_gradients", KindFilter.CONCEPT)
    async with db.read() as conn:
        rows_ = await conn.execute_fetchall("PRAGMA page_count")
        await conn.execute(f"PRAGMA max_page_count = {next(iter(rows_))[0]}")
    ids = []
    for _ in range(90):  # enough rows to need new pages (and within one block of ids)
        async with engine.postings.post(served, None, "c1", "en", served_to=user) as posting:
            ids.append(posting.instance.id)
    with pytest.raises(UnknownQuestion):
        await engine.postings.instance(ids[-1])
    failures = [r for r in caplog.records if "storing posted question" in r.getMessage()]
    assert failures and all(r.exc_info is None for r in failures)  # no traceback for this
    assert all(len(r.getMessage()) < 300 for r in failures)  # a few ids, not every one
    async with db.read() as conn:
        await conn.execute("PRAGMA max_page_count = 1073741823")
    await engine.postings.instance(ids[-1], Shown(served.ref, None, "c1", "m1", "en"))
    assert (await engine.answering.answer(ids[-1], user, "B")).counted


async def test_a_generated_question_is_shown_again_under_the_topic_it_was_asked_in(
    store: Store, checkers: TorchCheckers
) -> None:
    """A family may have templates in several topics (rnn_params: LSTM/GRU and RNN basics).
    Rebuilt after a restart (`reshow`), a posted variant keeps the topic and lead-in it was
    asked with, not the family's first template's."""
    from bot.app.settings import PACKAGE_CONTENT

    bank = load_bank(sorted(PACKAGE_CONTENT.glob("*.yaml")), checkers.family_names())
    engine = wire_engine(store, bank, checkers, FakeClock(), random.Random(3))
    templates = [q for q in bank.questions.values() if q.family == "rnn_params"]
    assert len({t.topic for t in templates}) == 2
    for template in templates:
        served = await engine.making.generated("rnn_params", 1550485, template)
        assert served.topic == template.topic
        instance = await engine.postings.post(served)
        again = await engine.making.reshow(instance)
        assert (again.topic, again.text) == (served.topic, served.text), template.id
    await engine.aclose()
