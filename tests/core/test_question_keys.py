"""Points must mean something: a generated question pays once whatever seed drew it, a user is
not served again what they saw recently while the pool has something else, and the daily
question is one per scope and day. Real checkers, a real SQLite file, a fake clock."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app.wiring import wire_engine
from bot.checkers import TorchCheckers
from bot.core.bank import Bank, load_bank
from bot.core.engine import Engine, KindFilter
from bot.core.models import Difficulty, ServedQuestion, User
from bot.core.ports import seed_for
from bot.core.review import review_item
from bot.shared.texts import grade_text
from bot.storage.sqlite import SqliteStore
from tests.conftest import FakeClock

# One numeric template per topic, so that serving a topic serves that family.
TINY_POOLS = """\
topic: {topic}
questions:
  - id: {id}
    kind: numeric
    family: {family}
    text:
      en: "Lead-in."
      zh: "引言。"
"""
FAMILIES = {
    "conv_macs": "conv_output",
    "dropout_scale": "overfitting",
    "model_params": "cnn_models",
}


@pytest.fixture
def bank(tmp_path: Path, checkers: TorchCheckers) -> Bank:
    folder = tmp_path / "bank"
    folder.mkdir()
    for family, topic in FAMILIES.items():
        text = TINY_POOLS.format(topic=topic, id=f"t-{family.replace('_', '-')}", family=family)
        (folder / f"{topic}.yaml").write_text(text, encoding="utf-8")
    loaded = load_bank([folder], checkers.family_names())
    assert loaded.ok, loaded.problems
    return loaded


@pytest.fixture
async def engine(
    store: SqliteStore, clock: FakeClock, checkers: TorchCheckers, bank: Bank
) -> AsyncIterator[Engine]:
    engine = wire_engine(store, bank, checkers, clock, random.Random(7))
    try:
        yield engine
    finally:
        await engine.aclose()


def pool(checkers: TorchCheckers, family: str, level: Difficulty) -> set[str]:
    """The distinct questions (keys) of a family and level, over 400 seeds."""
    return {checkers.generate(family, seed_for(level, draw)).key for draw in range(400)}


async def answer_right(engine: Engine, user: User, served: ServedQuestion) -> int:
    """Post the question for the user, answer it right; the points it paid."""
    instance = await engine.postings.post(served, served_to=user)
    assert served.family is not None and served.seed is not None
    expected = engine.checkers.generate(served.family, served.seed).expected
    outcome = await engine.answering.answer(instance.id, user, str(expected))
    assert outcome.counted and outcome.grade.correct, grade_text(outcome.grade).en
    return outcome.points


def test_the_key_is_what_the_question_asks(checkers: TorchCheckers) -> None:
    """Two seeds that draw the same parameters have one key (and one text); two that draw
    different ones have two."""
    lenet = [checkers.generate("model_params", seed_for(Difficulty.EASY, d)) for d in (1, 2)]
    assert lenet[0].ref != lenet[1].ref
    assert lenet[0].key == lenet[1].key and lenet[0].text == lenet[1].text
    assert lenet[0].key.startswith("model_params#") and ":" not in lenet[0].key
    convs = {
        checkers.generate("conv_output", seed_for(Difficulty.HARD, d)).key: d for d in range(20)
    }
    assert len(convs) > 1


async def test_the_same_question_under_another_seed_pays_once(
    engine: Engine, clock: FakeClock, checkers: TorchCheckers, db_path: Path
) -> None:
    """`question cnn_models numeric easy` six times gave LeNet-5 six times, six points."""
    user = await engine.identities.user("discord", "1", "alice")
    first, second = [
        await engine.making.generated("model_params", seed_for(Difficulty.EASY, draw))
        for draw in (1, 2)
    ]
    assert first.ref != second.ref and first.question_key == second.question_key
    assert await answer_right(engine, user, first) == 1
    clock.advance(days=1)
    assert await answer_right(engine, user, second) == 0  # the same question: no second point
    # Served through the topic, it is still that question, and still pays nothing.
    served = await engine.making.serve(user, "cnn_models", KindFilter.NUMERIC, Difficulty.EASY)
    assert served.question_key == first.question_key
    assert await answer_right(engine, user, served) == 0
    with sqlite3.connect(db_path) as conn:
        keys = conn.execute("SELECT question_key, points FROM attempts ORDER BY id").fetchall()
    assert keys == [(first.question_key, 1), (first.question_key, 0), (first.question_key, 0)]

    clock.advance(days=31)  # past the window it pays again
    again = await engine.making.generated("model_params", seed_for(Difficulty.EASY, 3))
    assert await answer_right(engine, user, again) == 1


async def test_a_written_question_still_pays_once_and_its_key_is_its_id(
    store: SqliteStore, clock: FakeClock, checkers: TorchCheckers, db_path: Path
) -> None:
    from tests.conftest import FIXTURE_BANK

    engine = wire_engine(store, load_bank([FIXTURE_BANK], checkers.family_names()), checkers, clock)
    try:
        user = await engine.identities.user("discord", "1", "alice")
        question = engine.catalog.question("fx-sigmoid-max")
        assert question is not None
        points = []
        for _ in range(2):
            instance = await engine.postings.post(
                await engine.making.present(question), served_to=user
            )
            points.append((await engine.answering.answer(instance.id, user, "B")).points)
        assert points == [1, 0]
        with sqlite3.connect(db_path) as conn:
            assert conn.execute("SELECT DISTINCT question_key FROM attempts").fetchall() == [
                ("fx-sigmoid-max",)
            ]
    finally:
        await engine.aclose()


@pytest.mark.stores("sqlite", "postgres")  # the reward window and served notes on both
@pytest.mark.parametrize("family", ["dropout_scale", "conv_macs"])
async def test_a_tiny_pool_serves_each_question_before_repeating_one(
    engine: Engine, checkers: TorchCheckers, family: str
) -> None:
    """dropout_scale easy has 2 questions, conv_macs easy 4: a user asking again and again
    sees each of them before any comes back, and then the one seen longest ago."""
    topic = FAMILIES[family]
    size = len(pool(checkers, family, Difficulty.EASY))
    assert size > 1
    count = min(size, 8)
    user = await engine.identities.user("discord", "1", "alice")
    await engine.warm_up()  # with the stock generated ahead, as the bot runs
    seen = []
    for _ in range(count):
        served = await engine.making.serve(user, topic, KindFilter.NUMERIC, Difficulty.EASY)
        await engine.postings.post(served, served_to=user)
        seen.append(served.question_key)
    assert len(set(seen)) == count, seen
    if count == size:  # every one seen: the least recent comes back
        served = await engine.making.serve(user, topic, KindFilter.NUMERIC, Difficulty.EASY)
        assert served.question_key == seen[0]


@pytest.mark.stores("sqlite", "postgres")  # the reward window and served notes on both
async def test_answered_questions_are_avoided_after_a_restart(
    store: SqliteStore, clock: FakeClock, checkers: TorchCheckers, bank: Bank
) -> None:
    """The keys a user answered are read back from the database (once per user)."""
    family, topic = "conv_macs", FAMILIES["conv_macs"]
    keys = pool(checkers, family, Difficulty.EASY)
    first = wire_engine(store, bank, checkers, clock, random.Random(1))
    user = await first.identities.user("discord", "1", "alice")
    answered: set[str] = set()
    draw = 0
    while len(answered) < min(len(keys), 8) - 1:  # all but one (of at most 8)
        numeric = checkers.generate(family, seed_for(Difficulty.EASY, draw))
        draw += 1
        if numeric.key not in answered:
            await answer_right(first, user, await first.making.generated(family, numeric.seed))
            answered.add(numeric.key)
            clock.advance(minutes=1)
    await first.aclose()

    for attempt in range(3):
        restarted = wire_engine(store, bank, checkers, clock, random.Random(attempt))
        served = await restarted.making.serve(user, topic, KindFilter.NUMERIC, Difficulty.EASY)
        assert served.question_key not in answered
        await restarted.aclose()


async def test_the_console_daily_is_one_question_a_day(
    store: SqliteStore, clock: FakeClock, checkers: TorchCheckers, db_path: Path
) -> None:
    """`daily` twice in a day: the same question (the same posted instance), paid once; the
    next day, a new one. Each user of the console has theirs."""
    from tests.conftest import FIXTURE_BANK

    bank = load_bank([FIXTURE_BANK], checkers.family_names())
    engine = wire_engine(store, bank, checkers, clock, random.Random(2))
    try:
        ann = await engine.identities.user("local", "ann", "ann")
        posted = await engine.dailies.post_daily(None, None, "en", ann)
        assert posted is not None
        served, instance = posted
        assert instance.daily_day == clock.now().date()
        first = await engine.answering.answer(instance.id, ann, right_answer(engine, served))
        assert first.counted and first.points > 0

        clock.advance(hours=3)
        again = await engine.dailies.post_daily(None, None, "en", ann)
        assert again is not None
        assert (again[0].ref, again[1].id) == (served.ref, instance.id)
        second = await engine.answering.answer(again[1].id, ann, right_answer(engine, again[0]))
        assert not second.counted and second.points == 0

        # A fresh engine (the console started again) finds the same question.
        restarted = wire_engine(store, bank, checkers, clock, random.Random(99))
        third = await restarted.dailies.post_daily(None, None, "en", ann)
        await restarted.aclose()
        assert third is not None and third[1].id == instance.id

        clock.advance(days=1)
        tomorrow = await engine.dailies.post_daily(None, None, "en", ann)
        assert tomorrow is not None
        assert tomorrow[1].id != instance.id
        assert tomorrow[1].daily_day == clock.now().date()
        assert (await engine.answering.answer(tomorrow[1].id, ann, "?")).grade is not None
        with sqlite3.connect(db_path) as conn:
            days = conn.execute("SELECT scope, day FROM daily_questions ORDER BY day").fetchall()
        user_scope = f"user:{ann.id}"
        assert [scope for scope, _ in days] == [user_scope, user_scope]
    finally:
        await engine.aclose()


@pytest.mark.stores("sqlite", "postgres")  # the reward window and served notes on both
async def test_a_servers_daily_is_one_question_a_day_even_when_set_again(
    store: SqliteStore, clock: FakeClock, checkers: TorchCheckers
) -> None:
    """Posted once a day; turned off and on again the same day, the poster posts the day's
    question again (the same instance, so it pays once), not a second one."""
    from tests.conftest import FIXTURE_BANK

    bank = load_bank([FIXTURE_BANK], checkers.family_names())
    engine = wire_engine(store, bank, checkers, clock, random.Random(5))
    try:
        server = await engine.identities.server("discord", "g1", "guild")
        await engine.dailies.set_daily(server.id, "c1", "00:00", None)
        posted = await engine.dailies.post_daily(server.id, "c1")
        assert posted is not None
        assert await engine.dailies.post_daily(server.id, "c1") is None  # once a day
        await engine.dailies.disable_daily(server.id)
        await engine.dailies.set_daily(server.id, "c1", "00:00", None)
        reposted = await engine.dailies.post_daily(server.id, "c1")
        assert reposted is not None and reposted[1].id == posted[1].id
        clock.advance(days=1)
        tomorrow = await engine.dailies.post_daily(server.id, "c1")
        assert tomorrow is not None and tomorrow[1].id != posted[1].id
    finally:
        await engine.aclose()


def right_answer(engine: Engine, served: ServedQuestion) -> str:
    if served.family is not None and served.seed is not None:
        return str(engine.checkers.generate(served.family, served.seed).expected)
    question = engine.catalog.question(served.ref)
    assert question is not None and question.answer is not None
    return question.answer


async def test_answers_from_before_keys_still_count_once_the_bot_has_started(
    db_path: Path, clock: FakeClock, checkers: TorchCheckers, bank: Bank
) -> None:
    """A database from before keys (migration 0005): a LeNet-5 question paid yesterday under
    one seed still makes LeNet-5 under another seed pay nothing, once the bot warmed up."""
    from datetime import timedelta

    from bot.storage.db import Database, migrations
    from bot.storage.sqlite import iso

    old_ref = f"model_params:{seed_for(Difficulty.EASY, 1)}"
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        for version, _, sql in migrations()[:4]:
            conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
        conn.execute(
            "INSERT INTO users (id, platform, external_id, name, created_at)"
            " VALUES (1, 'discord', '1', 'alice', 'x')"
        )
        yesterday = iso(clock.now() - timedelta(days=1))
        conn.execute(
            "INSERT INTO question_instances (id, ref, kind, topic, difficulty, created_at)"
            " VALUES (1, ?, 'numeric', 'cnn_models', 'easy', ?)",
            (old_ref, yesterday),
        )
        conn.execute(
            "INSERT INTO attempts (instance_id, user_id, topic, ref, answer, correct, points,"
            " created_at) VALUES (1, 1, 'cnn_models', ?, '61706', 1, 1, ?)",
            (old_ref, yesterday),
        )
    db = await Database.open(db_path)
    engine = wire_engine(SqliteStore(db), bank, checkers, clock, random.Random(3))
    try:
        await engine.warm_up()
        user = await engine.identities.user("discord", "1", "alice")
        served = await engine.making.generated("model_params", seed_for(Difficulty.EASY, 2))
        assert served.ref != old_ref
        assert await answer_right(engine, user, served) == 0
        assert await engine.store.unkeyed_refs() == []
    finally:
        await engine.aclose()
        await db.close()


@pytest.mark.stores("sqlite", "postgres")  # the reward window and served notes on both
async def test_no_difficulty_asked_serves_every_level_before_repeating(
    engine: Engine, checkers: TorchCheckers
) -> None:
    """`question cnn_models numeric` gave LeNet-5 (easy has nothing else) again while vgg16,
    resnet50... were unseen: with no difficulty asked, every question of every level comes
    before a repeat, and then the one seen longest ago."""
    family, topic = "model_params", FAMILIES["model_params"]
    everything = set().union(*(pool(checkers, family, level) for level in Difficulty))
    assert len(pool(checkers, family, Difficulty.EASY)) == 1 and len(everything) > 3
    user = await engine.identities.user("discord", "1", "alice")
    await engine.warm_up()  # with the stock generated ahead, as the bot runs
    seen = []
    for _ in range(len(everything)):
        served = await engine.making.serve(user, topic, KindFilter.NUMERIC)
        await engine.postings.post(served, served_to=user)
        seen.append(served.question_key)
    assert sorted(seen) == sorted(everything), seen
    served = await engine.making.serve(user, topic, KindFilter.NUMERIC)
    assert served.question_key == seen[0]


@pytest.mark.stores("sqlite", "postgres")  # the reward window and served notes on both
async def test_a_question_answered_wrong_then_asked_again_pays_nothing(
    store: SqliteStore, clock: FakeClock, checkers: TorchCheckers, bank: Bank
) -> None:
    """Answer wrong (the solution is shown), ask it again by its reference, answer right: no
    points, and the reason is given; the review card is still updated. After the window it
    pays again. Both a written question and a generated one."""
    from tests.conftest import FIXTURE_BANK

    engine = wire_engine(store, load_bank([FIXTURE_BANK], checkers.family_names()), checkers, clock)
    try:
        user = await engine.identities.user("discord", "1", "alice")
        generated = await engine.making.generated("conv_output", seed_for(Difficulty.EASY, 5))
        for ref in ("fx-sigmoid-max", generated.ref):
            asked = await engine.making.by_reference(ref)
            right = right_answer(engine, asked)
            wrong = "A" if right == "B" else f"{right}7"
            instance = await engine.postings.post(asked, served_to=user)
            first = await engine.answering.answer(instance.id, user, wrong)
            assert first.counted and not first.grade.correct and first.points == 0

            clock.advance(minutes=5)
            again = await engine.making.by_reference(ref)
            assert again.question_key == asked.question_key
            instance = await engine.postings.post(again, served_to=user)
            outcome = await engine.answering.answer(instance.id, user, right)
            assert outcome.counted and outcome.grade.correct
            assert (outcome.points, outcome.unpaid) == (0, "seen")
            card = await store.get_card(user.id, review_item(asked.ref))
            assert card is not None and card.reviews == 2  # the review schedule goes on

            clock.advance(days=31)  # past the window it pays again
            later = await engine.postings.post(
                await engine.making.by_reference(ref), served_to=user
            )
            paid = await engine.answering.answer(later.id, user, right)
            assert paid.points > 0 and paid.unpaid is None
    finally:
        await engine.aclose()
