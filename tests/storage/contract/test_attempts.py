"""Contract: answers, question keys, history, and the review cards an answer schedules."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.core.models import HistoryEntry, InstanceCounts, Kind, ReviewCard, TopicStats
from bot.core.ports import Store
from tests.storage.contract._data import AT, attempt, days, posted, served, users


async def rewarded(store: Store, user_id: int, keys: list[str], since: datetime) -> set[str]:
    """The keys among `keys` that earned this user points since `since`."""
    answered = await store.keys_answered_since(user_id, keys, since)
    return {key for key, paid in answered.items() if paid}


async def test_only_the_first_answer_of_a_user_counts(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    question = await posted(store)
    assert await store.get_attempt_correct(question.id, ann.id) is None
    assert await store.record_attempt(attempt(question.id, ann.id, correct=False, points=0))
    assert not await store.record_attempt(attempt(question.id, ann.id, correct=True))
    assert await store.record_attempt(attempt(question.id, bob.id, correct=True))
    assert await store.get_attempt_correct(question.id, ann.id) is False
    assert await store.get_attempt_correct(question.id, bob.id) is True
    assert await store.instance_counts(question.id) == InstanceCounts(answered=2, correct=1)
    assert await store.instance_counts(question.id + 1) == InstanceCounts(answered=0, correct=0)
    assert await store.topic_stats(ann.id, None) == [
        TopicStats(topic="backprop", answered=1, correct=0, points=0)
    ]


async def test_a_naive_time_is_refused(store: Store) -> None:
    (ann,) = await users(store, "Ann")
    question = await posted(store)
    with pytest.raises(ValueError):
        await store.record_attempt(attempt(question.id, ann.id, at=datetime(2026, 11, 25, 12)))
    assert await store.get_attempt_correct(question.id, ann.id) is None


async def test_recent_keys_are_the_generated_ones_answered_since(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    rows = [
        ("conv:1", "conv|k=3", AT),
        ("conv:2", "conv|k=3", AT + days(2)),  # the same question, drawn by another seed
        ("conv:5", "conv|k=5", AT + days(1)),
        ("pool:1", "pool|s=2", AT - days(10)),  # before `since`
        ("backprop-delta", None, AT + days(3)),  # a written question: its key is its ref
    ]
    for ref, key, at in rows:
        question = await posted(store, served(ref), at=at)
        await store.record_attempt(attempt(question.id, ann.id, ref=ref, key=key, at=at))
    other = await posted(store, served("conv:9"))
    await store.record_attempt(attempt(other.id, bob.id, ref="conv:9", key="conv|k=9"))
    since = AT - days(1)
    assert await store.recent_keys(ann.id, since, 10) == ["conv|k=3", "conv|k=5"]
    assert await store.recent_keys(ann.id, since, 1) == ["conv|k=3"]
    assert await store.recent_keys(ann.id, AT - days(30), 10) == [
        "conv|k=3",
        "conv|k=5",
        "pool|s=2",
    ]


async def test_rewarded_keys_are_those_that_earned_points_since(store: Store) -> None:
    (ann,) = await users(store, "Ann")
    rows = [
        ("a:1", "a|1", 2, AT),
        ("b:1", "b|1", 0, AT),  # no points
        ("c:1", "c|1", 3, AT - days(40)),  # too long ago
        ("d-written", None, 1, AT),
    ]
    for ref, key, points, at in rows:
        question = await posted(store, served(ref), at=at)
        await store.record_attempt(
            attempt(question.id, ann.id, ref=ref, key=key, points=points, at=at)
        )
    asked = ["a|1", "b|1", "c|1", "d-written", "e|1"]
    assert await rewarded(store, ann.id, asked, AT - days(30)) == {"a|1", "d-written"}
    assert await rewarded(store, ann.id, [], AT - days(30)) == set()
    assert await rewarded(store, ann.id + 1, asked, AT - days(30)) == set()


async def test_attempts_stored_before_keys_get_theirs(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    for user, ref in [(ann, "conv:1"), (bob, "conv:1"), (ann, "pool:4"), (ann, "written-q")]:
        question = await posted(store, served(ref))
        await store.record_attempt(attempt(question.id, user.id, ref=ref))  # no key: the ref
    keyed = await posted(store, served("conv:7"))
    await store.record_attempt(attempt(keyed.id, ann.id, ref="conv:7", key="conv|k=7"))
    assert sorted(await store.unkeyed_refs()) == ["conv:1", "pool:4"]
    await store.set_question_keys({"conv:1": "conv|k=3"})
    assert await store.unkeyed_refs() == ["pool:4"]
    assert await store.recent_keys(bob.id, AT - days(1), 10) == ["conv|k=3"]
    paid = await rewarded(store, ann.id, ["conv|k=3", "conv:1"], AT - days(1))
    assert paid == {"conv|k=3"}


async def test_stats_by_topic_for_a_server_or_everywhere(store: Store) -> None:
    (ann,) = await users(store, "Ann")
    guild = await store.get_or_create_server("discord", "10", "Guild")
    rows = [
        ("pooling", guild.id, True, 2),
        ("pooling", None, False, 0),
        ("backprop", guild.id, True, 3),
        ("backprop", guild.id, False, 0),
    ]
    for topic, server, correct, points in rows:
        question = await posted(store, served(topic=topic), server_id=server)
        await store.record_attempt(
            attempt(
                question.id, ann.id, topic=topic, server_id=server, correct=correct, points=points
            )
        )
    assert await store.topic_stats(ann.id, None) == [
        TopicStats(topic="backprop", answered=2, correct=1, points=3),
        TopicStats(topic="pooling", answered=2, correct=1, points=2),
    ]
    assert await store.topic_stats(ann.id, guild.id) == [
        TopicStats(topic="backprop", answered=2, correct=1, points=3),
        TopicStats(topic="pooling", answered=1, correct=1, points=2),
    ]
    assert await store.topic_stats(ann.id, guild.id + 1) == []


async def test_history_is_newest_first(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    mcq = await posted(store, served("q-mcq"))
    numeric = await posted(store, served("conv:3", kind=Kind.NUMERIC))
    open_ = await posted(store, served("q-open", kind=Kind.OPEN))
    await store.record_attempt(attempt(mcq.id, ann.id, ref="q-mcq", at=AT))
    await store.record_attempt(
        attempt(
            numeric.id, ann.id, ref="conv:3", answer="17", correct=False, points=0, at=AT + days(1)
        )
    )
    await store.record_attempt(
        attempt(open_.id, ann.id, ref="q-open", answer="good", at=AT + days(1))
    )
    await store.record_attempt(attempt(mcq.id, bob.id, ref="q-mcq", at=AT + days(5)))
    history = await store.recent_attempts(ann.id, 10)
    assert [h.ref for h in history] == ["q-open", "conv:3", "q-mcq"]  # a tie: the later one first
    assert history[1] == HistoryEntry(
        at=AT + days(1),
        ref="conv:3",
        topic="backprop",
        kind=Kind.NUMERIC,
        answer="17",
        correct=False,
        points=0,
    )
    assert [h.kind for h in history] == [Kind.OPEN, Kind.NUMERIC, Kind.MCQ]
    assert [h.ref for h in await store.recent_attempts(ann.id, 1)] == ["q-open"]


def card(item: str, due: datetime, reviews: int = 1) -> ReviewCard:
    return ReviewCard(
        item=item, topic="backprop", card={"state": 2, "item": item}, due=due, reviews=reviews
    )


async def test_a_review_card_is_written_with_its_attempt(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    now = AT + days(10)
    items = [("late", AT + days(3)), ("early", AT + days(1)), ("future", AT + days(20))]
    for item, due in items:
        question = await posted(store)
        await store.record_attempt(
            attempt(question.id, ann.id).model_copy(update={"review": card(item, due)})
        )
    assert await store.get_card(ann.id, "early") == card("early", AT + days(1))
    assert await store.get_card(bob.id, "early") is None
    assert [c.item for c in await store.due_cards(ann.id, now, 10)] == ["early", "late"]
    assert [c.item for c in await store.due_cards(ann.id, now, 1)] == ["early"]
    assert await store.count_due(ann.id, now) == 2
    assert await store.count_due(ann.id, AT + days(30)) == 3
    assert await store.count_due(bob.id, now) == 0
    question = await posted(store)
    update = card("early", AT + days(15), reviews=2)
    await store.record_attempt(attempt(question.id, ann.id).model_copy(update={"review": update}))
    assert await store.get_card(ann.id, "early") == update  # the card moves on
    assert [c.item for c in await store.due_cards(ann.id, now, 10)] == ["late"]
    repeat = card("early", AT, reviews=9)
    await store.record_attempt(attempt(question.id, ann.id).model_copy(update={"review": repeat}))
    assert await store.get_card(ann.id, "early") == update  # a repeat writes nothing


async def test_answered_keys_are_those_answered_since_right_or_wrong(store: Store) -> None:
    (ann,) = await users(store, "Ann")
    rows = [
        ("a:1", "a|1", False, 0, AT),  # wrong: answered, unpaid
        ("a:2", "a|1", True, 2, AT - days(1)),  # the same question, paid under another seed
        ("b:1", "b|1", False, 0, AT),
        ("c:1", "c|1", True, 3, AT - days(40)),  # too long ago
        ("d-written", None, True, 1, AT),
    ]
    for ref, key, correct, points, at in rows:
        question = await posted(store, served(ref), at=at)
        await store.record_attempt(
            attempt(question.id, ann.id, ref=ref, key=key, correct=correct, points=points, at=at)
        )
    asked = ["a|1", "b|1", "c|1", "d-written", "e|1"]
    since = AT - days(30)
    assert await store.keys_answered_since(ann.id, asked, since) == {
        "a|1": True,
        "b|1": False,
        "d-written": True,
    }
    assert await store.keys_answered_since(ann.id, ["b|1"], since) == {"b|1": False}
    assert await store.keys_answered_since(ann.id, [], since) == {}
    assert await store.keys_answered_since(ann.id + 1, asked, since) == {}
    assert await store.keys_answered_since(ann.id, asked, AT + days(1)) == {}
