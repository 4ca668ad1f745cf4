"""The group commit (`AttemptStore.record_answer`, bot/storage/group.py) on every store: answers
arriving together share one transaction, and still one failing answer never fails its
neighbours, and the same answer delivered twice in one batch counts once."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.engine import Engine
from bot.core.models import AttemptRecord, Difficulty, Kind, Localized, ServedQuestion
from bot.core.ports import AnswerContext, AnswerDraft, Decide, RecordedAnswer, Store
from bot.core.quiz import QuizSettings
from bot.storage.db import Database
from bot.storage.group import Failed, GroupWriter
from bot.storage.memory import MemoryStore
from bot.storage.postgres import PostgresStore
from bot.storage.sqlite import SqliteStore
from tests.storage.contract._data import quiz_answer, quiz_question

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ALL = pytest.mark.stores("sqlite", "postgres", "memory")


def served() -> ServedQuestion:
    return ServedQuestion(
        ref="backprop-delta",
        kind=Kind.MCQ,
        topic="backprop",
        difficulty=Difficulty.MEDIUM,
        text=Localized(en="q", zh="题"),
    )


def draft(instance_id: int, user_id: int) -> AnswerDraft:
    return AnswerDraft(instance_id, user_id, ("backprop-delta",), AT - timedelta(days=7), "i")


def deciding(instance_id: int, user_id: int, points: int = 2) -> Decide:
    def decide(context: AnswerContext) -> AttemptRecord:
        return AttemptRecord(
            instance_id=instance_id,
            user_id=user_id,
            server_id=None,
            topic="backprop",
            ref="backprop-delta",
            answer="B",
            correct=True,
            points=0 if context.answered else points,
            at=AT,
        )

    return decide


def failing(context: AnswerContext) -> AttemptRecord:
    raise RuntimeError("this answer's decision fails")


def writer(store: Store) -> GroupWriter[object, object] | None:
    """The store's group writer (None: the memory store has none, nothing to batch)."""
    if isinstance(store, SqliteStore):
        return store.db.writer  # type: ignore[return-value]
    if isinstance(store, PostgresStore):
        return store._answers  # type: ignore[return-value]
    assert isinstance(store, MemoryStore)
    return None


async def users_and_question(store: Store, count: int) -> tuple[list[int], int]:
    users = [(await store.get_or_create_user("discord", str(i), f"u{i}")).id for i in range(count)]
    instance = await store.create_instance(served(), None, "c1", "en", AT)
    return users, instance.id


async def answered(store: Store, user_id: int) -> int:
    stats = await store.topic_stats(user_id, None)
    return sum(s.answered for s in stats)


@ALL
async def test_a_failing_answer_in_a_batch_does_not_fail_its_neighbours(store: Store) -> None:
    users, question = await users_and_question(store, 6)
    await store.record_answer(draft(question, users[0]), deciding(question, users[0]))
    before = writer(store)
    batches = before.batches if before is not None else 0
    missing = question + 1000  # no such question: its attempt cannot be written
    calls = [
        store.record_answer(draft(question, users[1]), deciding(question, users[1])),
        store.record_answer(draft(question, users[2]), failing),  # its decision fails
        store.record_answer(draft(question, users[3]), deciding(question, users[3])),
        store.record_answer(draft(missing, users[4]), deciding(missing, users[4])),
        store.record_answer(draft(question, users[5]), deciding(question, users[5])),
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    if (group := writer(store)) is not None:  # the first written at once (the writer idle
        # after a batch of one: `GroupWriter._write_here`), the four that arrived meanwhile
        # in one transaction: the failing ones beside answers that are kept
        assert group.batches == batches + 2
    assert isinstance(results[1], RuntimeError)
    if not isinstance(store, MemoryStore):  # the memory store keeps no foreign keys
        assert isinstance(results[3], Exception)
    for n in (0, 2, 4):
        recorded = results[n]
        assert isinstance(recorded, RecordedAnswer), recorded
        assert recorded.attempt is not None and recorded.attempt.points == 2
    missing_counted = 1 if isinstance(store, MemoryStore) else 0
    assert [await answered(store, u) for u in users] == [1, 1, 0, 1, missing_counted, 1]
    assert await store.get_attempt_correct(question, users[2]) is None  # nothing half-written
    counts = await store.instance_counts(question)
    assert (counts.answered, counts.correct) == (4, 4)
    # The failed ones may answer again.
    again = await store.record_answer(draft(question, users[2]), deciding(question, users[2]))
    assert again.attempt is not None


async def test_a_work_failing_alone_in_its_batch_leaves_nothing(store: Store) -> None:
    """A batch of one work runs without a savepoint (the transaction is its savepoint): what
    the work wrote before it raised is rolled back, and the next batch is written."""
    assert isinstance(store, SqliteStore)
    users, question = await users_and_question(store, 2)

    def half_then_fails(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE users SET name = 'changed' WHERE id = ?", (users[0],))
        raise RuntimeError("fails after a write")

    batches = store.db.writer.batches
    with pytest.raises(RuntimeError, match="fails after a write"):
        await store.db.group(half_then_fails)
    assert store.db.writer.batches == batches + 1
    assert (await store.get_user(users[0])).name == "u0"  # type: ignore[union-attr]
    recorded = await store.record_answer(draft(question, users[1]), deciding(question, users[1]))
    assert recorded.attempt is not None and recorded.counts.answered == 1
    assert store.db.writer.batches == batches + 2


@ALL
async def test_the_same_answer_twice_in_a_batch_counts_once(store: Store) -> None:
    users, question = await users_and_question(store, 3)
    await store.record_answer(draft(question, users[0]), deciding(question, users[0]))
    before = writer(store)
    batches = before.batches if before is not None else 0
    calls = [
        store.record_answer(draft(question, users[1]), deciding(question, users[1])),
        store.record_answer(draft(question, users[2]), deciding(question, users[2])),
        store.record_answer(draft(question, users[1]), deciding(question, users[1])),
        store.record_answer(draft(question, users[1]), deciding(question, users[1])),
    ]
    results = await asyncio.gather(*calls)
    if (group := writer(store)) is not None:  # the first at once (`GroupWriter._write_here`),
        assert group.batches == batches + 2  # the other three (the same answer twice) together
    mine = [results[0], results[2], results[3]]
    assert sum(r.attempt is not None for r in mine) == 1  # exactly once
    assert all(r.previous is True for r in mine if r.attempt is None)  # told it counted before
    assert results[1].attempt is not None
    assert await answered(store, users[1]) == 1
    counts = await store.instance_counts(question)
    assert (counts.answered, counts.correct) == (3, 3)
    assert all(r.counts.answered >= 2 for r in results)  # the counts with this answer


@ALL
async def test_a_users_answers_in_one_batch_see_each_other(store: Store) -> None:
    """Two questions with the same key answered by one user in one batch: the second is
    decided on what the first wrote (it pays nothing: the key was answered in the window)."""
    users, first = await users_and_question(store, 1)
    second = (await store.create_instance(served(), None, "c1", "en", AT)).id
    results = await asyncio.gather(
        store.record_answer(draft(first, users[0]), deciding(first, users[0])),
        store.record_answer(draft(second, users[0]), deciding(second, users[0])),
    )
    assert sorted(r.attempt.points for r in results if r.attempt) == [0, 2]
    assert sum(s.points for s in await store.topic_stats(users[0], None)) == 2


@pytest.mark.stores("sqlite", "postgres", "memory")
async def test_a_burst_of_clicks_through_the_engine_counts_each_user_once(engine: Engine) -> None:
    """Fifty users clicking one posted question at once, each click delivered twice: one
    answer each, the totals and the counts agree, and the store committed in a few batches."""
    mcq = next(q for q in engine.catalog.bank.questions.values() if q.kind is Kind.MCQ)
    served_question = await engine.making.present(mcq)
    instance = await engine.postings.post(served_question, None, "c1")
    people = [await engine.identities.user("discord", str(i), f"u{i}") for i in range(50)]
    right = mcq.answer or "A"
    outcomes = await asyncio.gather(
        *(engine.answering.answer(instance.id, p, right) for p in people for _ in range(2))
    )
    counted = [o for o in outcomes if o.counted]
    assert len(counted) == 50 and all(o.points > 0 for o in counted)
    assert all(o.previous_correct is True for o in outcomes if not o.counted)
    counts = await engine.store.instance_counts(instance.id)
    assert (counts.answered, counts.correct) == (50, 50)
    # What each was told counts every answer recorded with or before it, the last all fifty.
    assert max(o.counts.answered for o in outcomes if o.counts) == 50
    if isinstance(engine.store, SqliteStore):  # one by one in the batch: each one more
        assert sorted(o.counts.answered for o in counted if o.counts) == list(range(1, 51))
    for person in people:
        assert await engine.store.get_attempt_correct(instance.id, person.id) is True
    if (group := writer(engine.store)) is not None:
        assert group.largest > 1  # answers shared commits


async def test_the_group_writer_batches_what_waits_and_fails_only_what_it_must() -> None:
    """GroupWriter alone: a lone item is written at once (no timer); what arrives while a
    batch is being written goes in the next one, together; a batch whose write raises fails
    its own items, not the next batch's; a caller that gives up does not disturb the others."""
    batches: list[list[int]] = []
    writing = asyncio.Event()
    release = asyncio.Event()

    async def write_batch(items: list[int]) -> list[int | Failed]:
        batches.append(items)
        writing.set()
        await release.wait()
        if 13 in items:
            raise OSError("the disk is gone")
        return [Failed(ValueError(i)) if i < 0 else i * 10 for i in items]

    group: GroupWriter[int, int] = GroupWriter(write_batch)
    first = asyncio.create_task(group.submit(1))
    await writing.wait()  # written at once, alone
    assert batches == [[1]]
    rest = [asyncio.create_task(group.submit(i)) for i in (2, -3, 4)]
    gave_up = asyncio.create_task(group.submit(5))
    await asyncio.sleep(0)
    gave_up.cancel()
    release.set()
    assert await first == 10
    results = await asyncio.gather(*rest, return_exceptions=True)
    assert results[0] == 20 and results[2] == 40 and isinstance(results[1], ValueError)
    assert batches[1] == [2, -3, 4, 5]  # the next batch: all that waited, in order
    failing = [asyncio.create_task(group.submit(i)) for i in (12, 13)]
    await asyncio.sleep(0)
    after = asyncio.create_task(group.submit(14))
    outcomes = await asyncio.gather(*failing, return_exceptions=True)
    assert all(isinstance(o, OSError) for o in outcomes)
    assert await after == 140
    await group.close()
    assert group.batches == len(batches) == 4 and group.largest == 4


async def test_a_lone_item_after_a_lone_batch_is_written_in_its_callers_task() -> None:
    """One user answering (the last batch one item, nobody writing): the item is written in
    the caller's own task, no writer task and no loop turns to hand the result over; what
    arrives meanwhile waits and goes in one batch after it; its failure is its caller's alone;
    a caller that gives up while its write runs does not strand what waits behind it."""
    tasks: list[asyncio.Task[object] | None] = []
    batches: list[list[int]] = []
    release = asyncio.Event()

    async def write_batch(items: list[int]) -> list[int | Failed]:
        tasks.append(asyncio.current_task())
        batches.append(items)
        if 7 in items:
            await release.wait()
        return [Failed(ValueError(i)) if i < 0 else i * 10 for i in items]

    group: GroupWriter[int, int] = GroupWriter(write_batch)
    assert await group.submit(1) == 10  # the first: by a writer task (nothing known yet)
    caller = asyncio.create_task(group.submit(2))
    assert await caller == 20
    assert tasks[1] is caller  # alone after a lone batch: in the caller's task
    with pytest.raises(ValueError):
        await group.submit(-3)
    slow = asyncio.create_task(group.submit(7))
    await asyncio.sleep(0)
    behind = [asyncio.create_task(group.submit(i)) for i in (8, 9)]
    await asyncio.sleep(0)
    assert batches[-1] == [7] and tasks[-1] is slow
    slow.cancel()  # gives up while its write runs
    release.set()
    assert await asyncio.gather(*behind) == [80, 90]
    assert batches[-1] == [8, 9] and tasks[-1] not in (slow, *behind)  # a writer task
    await group.close()
    assert group.batches == len(batches) == 5


async def test_a_background_item_does_not_make_the_next_burst_start_alone() -> None:
    """Work nobody waits on (the totals behind the answers), lone between two bursts, is not
    taken for one user answering: the next burst is written by a writer task, in one batch."""
    tasks: list[asyncio.Task[object] | None] = []
    batches: list[list[int]] = []

    async def write_batch(items: list[int]) -> list[int | Failed]:
        tasks.append(asyncio.current_task())
        batches.append(items)
        return [i * 10 for i in items]

    group: GroupWriter[int, int] = GroupWriter(write_batch)
    assert await asyncio.gather(*(group.submit(i) for i in (1, 2, 3))) == [10, 20, 30]
    assert await group.submit(4, background=True) == 40  # alone, by a writer task
    assert await asyncio.gather(*(group.submit(i) for i in (5, 6, 7))) == [50, 60, 70]
    assert batches == [[1, 2, 3], [4], [5, 6, 7]]
    lone = asyncio.create_task(group.submit(8))  # after a burst: by a writer task
    assert await lone == 80 and tasks[-1] is not lone
    caller = asyncio.create_task(group.submit(9))  # after a lone answer: in its caller's task
    assert await caller == 90 and tasks[-1] is caller
    assert await group.submit(10, background=True) == 100 and tasks[-1] is not caller
    assert batches[-1] == [10]
    await group.close()


@asynccontextmanager
async def counting_commits(db: Database) -> AsyncIterator[list[str]]:
    """The `COMMIT`s the connection runs inside the block (SQLite's own trace of its statements)."""
    commits: list[str] = []
    await db._conn.set_trace_callback(
        lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None
    )
    try:
        yield commits
    finally:
        await db._conn.set_trace_callback(None)


async def test_newcomers_arriving_together_share_commits_and_are_kept(tmp_path: Path) -> None:
    """A quiz's first question brings many users the bot has never seen: their rows go through
    the group commit (a commit each made the first burst twice as slow as the next ones), and
    each is durable once returned, with its own id; a new name is still taken."""
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        async with counting_commits(db) as commits:
            users = await asyncio.gather(
                *(store.get_or_create_user("discord", str(i), f"u{i}") for i in range(40))
            )
        renamed = await store.get_or_create_user("discord", "7", "seven")
    finally:
        await db.close()
    assert 1 <= len(commits) < 20  # a commit each would be 40
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        for i, user in enumerate(users):
            found = await store.find_user("discord", str(i))
            assert found is not None and found.id == user.id
            assert found.name == ("seven" if i == 7 else f"u{i}")
    finally:
        await db.close()
    assert renamed.id == users[7].id
    assert len({user.id for user in users}) == 40


async def test_a_quiz_s_lock_ins_share_commits_and_are_kept(tmp_path: Path) -> None:
    """A quiz question's lock-ins arrive together: they go through the group commit, each
    durable once returned; a second lock-in of a user is refused, and one for a question the
    round does not have is the caller's bug (KeyError), its neighbours kept."""
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    try:
        store = SqliteStore(db)
        users, instance = await users_and_question(store, 40)
        made, _ = await store.create_quiz_round(
            "discord", "c1", None, users[0], "en", QuizSettings(), AT
        )
        await store.add_quiz_question(quiz_question(made.id, 0, instance))

        def lock_in(user: int, index: int = 0) -> Awaitable[bool]:
            return store.add_quiz_answer(quiz_answer(made.id, index, user, 1000))

        async with counting_commits(db) as commits:
            stored = await asyncio.gather(
                *(lock_in(user) for user in users),
                lock_in(users[3]),  # the same user again
                lock_in(users[4], index=5),  # no question 5
                return_exceptions=True,
            )
    finally:
        await db.close()
    assert 1 <= len(commits) < 20  # a commit each would be 41
    assert stored[:40] == [True] * 40 and stored[40] is False
    assert isinstance(stored[41], KeyError)
    db = await Database.open(path)
    try:
        kept = await SqliteStore(db).quiz_answers(made.id, 0)
    finally:
        await db.close()
    assert sorted(a.user_id for a in kept) == sorted(users)
