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
