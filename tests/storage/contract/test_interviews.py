"""Contract: mock interviews, saved with optimistic versions."""

from __future__ import annotations

from bot.core.ports import Store
from tests.storage.contract._data import AT, days, users


async def test_a_save_from_a_stale_version_is_refused(store: Store) -> None:
    (ann,) = await users(store, "Ann")
    interview = await store.create_interview(ann.id, None, '{"step": 0}', AT)
    state, version = await store.get_interview(interview) or ("", -1)
    assert state == '{"step": 0}'
    assert await store.save_interview(interview, "active", '{"step": 1}', version, AT + days(1))
    assert not await store.save_interview(interview, "active", '{"step": 9}', version, AT)
    assert await store.get_interview(interview) == ('{"step": 1}', version + 1)
    assert await store.get_interview(interview + 100) is None
    assert not await store.save_interview(interview + 100, "active", "{}", 0, AT)


async def test_only_active_interviews_are_listed(store: Store) -> None:
    ann, bob = await users(store, "Ann", "Bob")
    assert await store.active_interview_id(ann.id) is None
    assert await store.active_interview_ids() == []
    first = await store.create_interview(ann.id, None, "{}", AT)
    second = await store.create_interview(ann.id, None, "{}", AT)
    other = await store.create_interview(bob.id, None, "{}", AT)
    assert await store.active_interview_id(ann.id) == second  # the newest
    assert await store.active_interview_ids() == sorted([first, second, other])
    _, version = await store.get_interview(second) or ("", 0)
    assert await store.save_interview(second, "finished", "{}", version, AT)
    assert await store.active_interview_id(ann.id) == first
    _, version = await store.get_interview(first) or ("", 0)
    assert await store.save_interview(first, "stopped", "{}", version, AT)
    assert await store.active_interview_id(ann.id) is None
    assert await store.active_interview_ids() == [other]


async def test_running_interviews_are_listed_with_their_server(store: Store) -> None:
    """What the timeout sweep of each process of a sharded bot picks its own from."""
    ann, bob = await users(store, "Ann", "Bob")
    here = await store.get_or_create_server("discord", "175928847299117063", "Here")
    there = await store.get_or_create_server("discord", "81384788765712384", "There")
    assert await store.active_interviews() == []
    in_dm = await store.create_interview(ann.id, None, "{}", AT)
    in_here = await store.create_interview(bob.id, here.id, "{}", AT)
    in_there = await store.create_interview(ann.id, there.id, "{}", AT)
    assert await store.active_interviews() == [
        (in_dm, None),
        (in_here, "175928847299117063"),
        (in_there, "81384788765712384"),
    ]
    _, version = await store.get_interview(in_here) or ("", 0)
    assert await store.save_interview(in_here, "finished", "{}", version, AT)
    assert await store.active_interviews() == [(in_dm, None), (in_there, "81384788765712384")]
