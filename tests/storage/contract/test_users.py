"""Contract: users and servers."""

from __future__ import annotations

import pytest

from bot.core.ports import Store


async def test_a_user_is_created_once_and_found_again(store: Store) -> None:
    ann = await store.get_or_create_user("discord", "1", "Ann")
    again = await store.get_or_create_user("discord", "1", "Ann")
    bob = await store.get_or_create_user("discord", "2", "Bob")
    local = await store.get_or_create_user("local", "1", "Ann")
    assert again == ann
    assert len({ann.id, bob.id, local.id}) == 3
    assert (ann.platform, ann.external_id, ann.name, ann.language) == (
        "discord",
        "1",
        "Ann",
        "auto",
    )
    assert await store.get_user(ann.id) == ann
    assert await store.find_user("discord", "2") == bob
    assert await store.find_user("discord", "3") is None
    assert await store.get_user(max(ann.id, bob.id, local.id) + 1) is None


async def test_a_new_name_is_kept_and_an_empty_one_ignored(store: Store) -> None:
    ann = await store.get_or_create_user("discord", "1", "Ann")
    renamed = await store.get_or_create_user("discord", "1", "Annie")
    assert (renamed.id, renamed.name) == (ann.id, "Annie")
    nameless = await store.get_or_create_user("discord", "1", "")
    assert nameless.name == "Annie"
    assert await store.get_user(ann.id) == renamed


async def test_language_is_stored_and_an_unknown_user_refused(store: Store) -> None:
    ann = await store.get_or_create_user("discord", "1", "Ann")
    zh = await store.set_language(ann.id, "zh")
    assert zh.language == "zh"
    assert zh.id == ann.id
    assert await store.get_user(ann.id) == zh
    assert (await store.get_or_create_user("discord", "1", "Ann")).language == "zh"
    with pytest.raises(KeyError):
        await store.set_language(ann.id + 100, "en")


async def test_a_server_is_created_once_and_renamed(store: Store) -> None:
    one = await store.get_or_create_server("discord", "10", "Guild")
    assert await store.get_or_create_server("discord", "10", "Guild") == one
    assert (await store.get_or_create_server("discord", "10", "")).name == "Guild"
    renamed = await store.get_or_create_server("discord", "10", "New name")
    assert (renamed.id, renamed.name) == (one.id, "New name")
    other = await store.get_or_create_server("discord", "11", "Other")
    assert other.id != one.id
