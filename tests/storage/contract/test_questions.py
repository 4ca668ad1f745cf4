"""Contract: posted questions, their ids, and what was served to whom."""

from __future__ import annotations

from bot.core.models import Kind, NewInstance, QuestionInstance
from bot.core.ports import Store
from tests.storage.contract._data import AT, DAY, days, posted, served, users


async def test_a_posted_question_reads_back_as_stored(store: Store) -> None:
    guild = await store.get_or_create_server("discord", "10", "Guild")
    question = served("mlp-shape", "backprop", Kind.NUMERIC)
    made = await store.create_instance(question, guild.id, "42", "zh", AT, DAY)
    assert made == QuestionInstance.of(question, made.id, guild.id, "42", "zh", AT, None, DAY)
    assert await store.get_instance(made.id) == made
    assert await store.get_instance(made.id + 1) is None
    second = await posted(store)
    assert second.id > made.id
    assert (second.server_id, second.daily_day, second.message_id) == (None, None, None)


async def test_reserved_ids_are_never_handed_out_again(store: Store) -> None:
    first = await posted(store)
    block = await store.reserve_instance_ids(5)
    assert block > first.id
    after = await posted(store)
    assert after.id >= block + 5
    other = await store.reserve_instance_ids(2)
    assert other > after.id


async def test_an_instance_with_its_own_id_is_kept_once(store: Store) -> None:
    block = await store.reserve_instance_ids(3)
    made = await store.create_instance(
        served(), None, "42", "en", AT, instance_id=block + 1, message_id="m1"
    )
    assert (made.id, made.message_id) == (block + 1, "m1")
    again = await store.create_instance(
        served("other-question"), None, "43", "zh", AT + days(1), instance_id=block + 1
    )
    assert again == made  # stored already: unchanged
    restored = await store.create_instance(served(), None, "42", "en", AT, instance_id=block + 50)
    assert (await posted(store)).id > restored.id  # the counter moved past a restored id


async def test_instances_stored_together_keep_rows_that_exist(store: Store) -> None:
    (ann,) = await users(store, "Ann")
    first = await store.reserve_instance_ids(3)
    rows = [
        QuestionInstance.of(served(f"q{i}"), first + i, None, "42", "en", AT + days(i))
        for i in range(3)
    ]
    await store.create_instance(served("kept"), None, "42", "en", AT, instance_id=first)
    await store.create_instances(
        [NewInstance(instance=row, question_id=row.ref, served_to=ann.id) for row in rows]
    )
    assert (await store.get_instance(first)).ref == "kept"  # type: ignore[union-attr]
    assert await store.get_instance(first + 1) == rows[1]
    assert await store.get_instance(first + 2) == rows[2]
    assert await store.recent_refs(ann.id, 10) == ["q2", "q1", "q0"]


async def test_a_served_note_moves_forward_only_from_a_batch(store: Store) -> None:
    (ann,) = await users(store, "Ann")
    first = await store.reserve_instance_ids(2)
    late = QuestionInstance.of(served("a"), first, None, "42", "en", AT + days(2))
    early = QuestionInstance.of(served("a"), first + 1, None, "42", "en", AT)
    b = QuestionInstance.of(
        served("b"), await store.reserve_instance_ids(1), None, "42", "en", AT + days(1)
    )
    await store.create_instances(
        [
            NewInstance(instance=late, question_id="a", served_to=ann.id),
            NewInstance(instance=b, question_id="b", served_to=ann.id),
        ]
    )
    await store.create_instances([NewInstance(instance=early, question_id="a", served_to=ann.id)])
    assert await store.recent_refs(ann.id, 10) == ["a", "b"]  # "a" keeps its later time


async def test_recent_refs_are_newest_first_and_limited(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    for i, ref in enumerate(["a", "b", "c"]):
        await store.create_instance(
            served(ref, question_id=ref), None, "42", "en", AT + days(i), served_to=ann.id
        )
    await store.create_instance(
        served("x", question_id="x"), None, "42", "en", AT, served_to=bob.id
    )
    await store.create_instance(served("nobody"), None, "42", "en", AT, served_to=ann.id)
    assert await store.recent_refs(ann.id, 10) == ["c", "b", "a"]
    assert await store.recent_refs(ann.id, 2) == ["c", "b"]
    await store.create_instance(
        served("a", question_id="a"), None, "42", "en", AT + days(5), served_to=ann.id
    )
    assert await store.recent_refs(ann.id, 10) == ["a", "c", "b"]
    assert await store.recent_refs(bob.id, 10) == ["x"]


async def test_the_message_of_a_question_is_set_later(store: Store) -> None:
    made = await posted(store)
    await store.set_instance_message(made.id, "9001")
    found = await store.get_instance(made.id)
    assert found is not None
    assert found.message_id == "9001"
    assert found.model_copy(update={"message_id": None}) == made
