"""Contract: imported question packs and their validated questions."""

from __future__ import annotations

import pytest

from bot.core.errors import DuplicatePackQuestion
from bot.core.ports import Store
from tests.storage.contract._data import AT, days, users


async def test_packs_and_their_questions_read_back_in_order(store: Store) -> None:
    (ann,) = await users(store, "Ann")
    one = await store.get_or_create_server("discord", "10", "One")
    two = await store.get_or_create_server("discord", "20", "Two")
    first = await store.add_pack(one.id, "p1", "yaml 1", 2, ann.id, AT, [("b", "B"), ("a", "A")])
    second = await store.add_pack(two.id, "p2", "yaml 2", 1, None, AT + days(1), [("b", "B2")])
    old = await store.add_pack(one.id, "old", "yaml 3", 1, None, AT)  # stored without bodies
    assert (first.server_id, first.name, first.content, first.questions) == (
        one.id,
        "p1",
        "yaml 1",
        2,
    )
    assert first.created_at == AT
    assert await store.packs() == [first, second, old]
    assert await store.packs(one.id) == [first, old]
    assert await store.packs(two.id + 100) == []
    assert await store.pack_bodies() == {first.id: ["B", "A"], second.id: ["B2"]}
    await store.set_pack_bodies(old.id, one.id, [("c", "C")])
    assert (await store.pack_bodies())[old.id] == ["C"]


async def test_a_question_id_of_another_pack_of_the_server_is_refused(store: Store) -> None:
    guild = await store.get_or_create_server("discord", "10", "Guild")
    first = await store.add_pack(guild.id, "first", "y", 2, None, AT, [("a", "A"), ("b", "B")])
    with pytest.raises(DuplicatePackQuestion) as refused:
        await store.add_pack(guild.id, "second", "y", 2, None, AT, [("c", "C"), ("b", "B2")])
    assert refused.value.question == "b"
    assert refused.value.pack == f"pack {first.id} (first)"
    assert await store.packs() == [first]  # nothing of the refused pack stored
    assert await store.pack_bodies() == {first.id: ["A", "B"]}
    old = await store.add_pack(guild.id, "old", "y", 1, None, AT)
    with pytest.raises(DuplicatePackQuestion):
        await store.set_pack_bodies(old.id, guild.id, [("d", "D"), ("a", "A2")])
    assert await store.pack_bodies() == {first.id: ["A", "B"]}
    later = await store.add_pack(guild.id, "later", "y", 1, None, AT, [("c", "C")])
    assert await store.pack_bodies() == {first.id: ["A", "B"], later.id: ["C"]}


async def test_a_pack_replaced_in_the_same_transaction_frees_its_ids(store: Store) -> None:
    guild = await store.get_or_create_server("discord", "10", "Guild")
    other = await store.get_or_create_server("discord", "20", "Other")
    first = await store.add_pack(guild.id, "club", "y1", 2, None, AT, [("a", "A"), ("b", "B")])
    theirs = await store.add_pack(other.id, "club", "y1", 1, None, AT, [("a", "A")])
    keeper = await store.add_pack(guild.id, "keep", "y", 1, None, AT, [("k", "K")])
    with pytest.raises(DuplicatePackQuestion):  # the new one refused: the old one stays
        await store.add_pack(
            guild.id, "club", "y2", 2, None, AT, [("b", "B2"), ("k", "K2")], replaces=first.id
        )
    assert await store.packs(guild.id) == [first, keeper]
    assert (await store.pack_bodies())[first.id] == ["A", "B"]
    second = await store.add_pack(
        guild.id, "club", "y2", 2, None, AT + days(1), [("b", "B2"), ("c", "C")], replaces=first.id
    )
    assert await store.packs(guild.id) == [keeper, second]
    assert await store.packs(other.id) == [theirs]  # another server's pack is not touched
    assert await store.pack_bodies() == {
        theirs.id: ["A"],
        keeper.id: ["K"],
        second.id: ["B2", "C"],  # the old pack's are gone with it
    }
