"""Contract: the gateway heartbeat."""

from __future__ import annotations

from bot.core.ports import HeartbeatStore, Store
from tests.storage.contract._data import AT, days


async def test_the_last_heartbeat_is_kept(store: Store) -> None:
    assert isinstance(store, HeartbeatStore)
    assert await store.last_heartbeat() is None
    await store.record_heartbeat("ready", AT)
    await store.record_heartbeat("ready 2", AT + days(1))
    assert await store.last_heartbeat() == ("ready 2", AT + days(1))
    assert await store.heartbeats() == {"": ("ready 2", AT + days(1))}


async def test_each_process_keeps_its_own_heartbeat(store: Store) -> None:
    """Two processes of a sharded bot: a dead one's heartbeat ages while the other beats."""
    await store.record_heartbeat("first", AT, "shards 0/2")
    await store.record_heartbeat("second", AT + days(1), "shards 1/2")
    await store.record_heartbeat("first again", AT + days(2), "shards 0/2")
    assert await store.heartbeats() == {
        "shards 0/2": ("first again", AT + days(2)),
        "shards 1/2": ("second", AT + days(1)),
    }
    assert await store.last_heartbeat() == ("first again", AT + days(2))
