"""Contract: daily question settings and the question of each scope and day."""

from __future__ import annotations

from bot.core.models import DailySetting
from bot.core.ports import Store
from tests.storage.contract._data import AT, DAY, days, served, users


async def test_settings_are_set_changed_and_removed(store: Store) -> None:
    (ann,) = await users(store, "Ann")
    one = await store.get_or_create_server("discord", "10", "One")
    two = await store.get_or_create_server("discord", "20", "Two")
    assert await store.daily_settings() == []
    await store.set_daily(two.id, "c2", "09:00", None)
    await store.set_daily(one.id, "c1", "08:30", ann.id)
    assert await store.daily_settings() == [
        DailySetting(server_id=one.id, server_external_id="10", channel_id="c1", time_utc="08:30"),
        DailySetting(server_id=two.id, server_external_id="20", channel_id="c2", time_utc="09:00"),
    ]
    assert await store.claim_daily(one.id, DAY)
    await store.set_daily(one.id, "c3", "10:00", ann.id, "zh")  # a change keeps the posted day
    (changed, other) = await store.daily_settings()
    assert (changed.channel_id, changed.time_utc, changed.last_day) == ("c3", "10:00", DAY)
    assert (changed.lang, other.lang) == ("zh", None)  # its language; none: the server's
    await store.set_daily(one.id, "c3", "10:00", ann.id, "en")
    assert (await store.daily_settings())[0].lang == "en"
    assert await store.disable_daily(two.id)
    assert not await store.disable_daily(two.id)
    assert [s.server_id for s in await store.daily_settings()] == [one.id]


async def test_a_day_is_claimed_once(store: Store) -> None:
    guild = await store.get_or_create_server("discord", "10", "Guild")
    assert not await store.claim_daily(guild.id, DAY)  # no setting
    await store.set_daily(guild.id, "c1", "08:30", None)
    assert await store.claim_daily(guild.id, DAY)
    assert not await store.claim_daily(guild.id, DAY)
    assert not await store.claim_daily(guild.id, DAY - days(1))
    assert await store.claim_daily(guild.id, DAY + days(1))
    (setting,) = await store.daily_settings()
    assert setting.last_day == DAY + days(1)


async def test_the_question_of_a_day_is_stored_once_per_scope(store: Store) -> None:
    guild = await store.get_or_create_server("discord", "10", "Guild")
    scope = f"server:{guild.id}"
    assert await store.daily_instance(scope, DAY) is None
    made = await store.create_daily(scope, DAY, served("a"), guild.id, "c1", "zh", AT)
    assert (made.ref, made.daily_day, made.server_id, made.lang) == ("a", DAY, guild.id, "zh")
    assert await store.get_instance(made.id) == made
    second = await store.create_daily(scope, DAY, served("b"), guild.id, "c1", "en", AT)
    assert second == made  # another process was first: its question stays
    assert await store.daily_instance(scope, DAY) == made
    tomorrow = await store.create_daily(scope, DAY + days(1), served("c"), guild.id, "c1", "en", AT)
    mine = await store.create_daily("user:1", DAY, served("d"), None, None, "en", AT)
    assert len({made.id, tomorrow.id, mine.id}) == 3
    assert await store.daily_instance("user:1", DAY) == mine
    assert await store.daily_instance("user:2", DAY) is None
