"""A sharded bot through the fake Discord: BOT_SHARD_COUNT / BOT_SHARD_IDS make an
AutoShardedBot, and work that must happen once per server happens in the process holding that
server's shard."""

from __future__ import annotations

from pathlib import Path

import pytest
from discord.ext import commands

from bot.storage.db import Database
from bot.storage.sqlite import SqliteStore

from .fakediscord import FakeDiscord, GuildRecord
from .harness import running_bot, told

pytestmark = pytest.mark.timeout(120)


def daily_titles(fake: FakeDiscord, guild: GuildRecord) -> list[str]:
    return [
        str(m.embeds[0].get("title"))
        for m in fake.channel_messages(guild.text_channels[0])
        if m.embeds and "Daily question" in str(m.embeds[0].get("title") or "")
    ]


async def posted_days(db: Path) -> dict[str, bool]:
    """Server (Discord id) -> whether its daily question was claimed as posted."""
    database = await Database.open(db)
    try:
        settings = await SqliteStore(database).daily_settings()
    finally:
        await database.close()
    return {d.server_external_id: d.last_day is not None for d in settings}


async def test_each_process_posts_the_daily_of_its_own_shards_only(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    on_0 = fake_discord.add_guild("Zero", owner=alice, shard=(0, 2))
    on_1 = fake_discord.add_guild("One", owner=alice, shard=(1, 2))
    db = tmp_path / "bot.sqlite3"  # two processes' worth of bots in one test, one file
    async with (
        running_bot(fake_discord, db, BOT_SHARD_COUNT="2", BOT_SHARD_IDS="0") as zero,
        running_bot(fake_discord, db, BOT_SHARD_COUNT="2", BOT_SHARD_IDS="1") as one,
    ):
        await fake_discord.wait_shards_ready([0, 1], 2)
        assert isinstance(zero, commands.AutoShardedBot) and zero.shard_ids == [0]
        assert isinstance(one, commands.AutoShardedBot) and one.shard_ids == [1]
        assert zero.get_guild(on_0.id) is not None and zero.get_guild(on_1.id) is None
        posters = []
        for bot in (zero, one):
            cog = bot.get_cog("Daily")
            assert cog is not None
            cog.poster.cancel()  # type: ignore[attr-defined]  # only the calls below post
            posters.append(cog.post_due)  # type: ignore[attr-defined]
        for guild in (on_0, on_1):  # each /daily set reaches the process holding its shard
            here = guild.text_channels[0]
            done = await alice.slash("daily set", channel=here, time="0:00", where=here)
            assert "at 00:00 UTC" in (await told(done))
        post_zero, post_one = posters

        assert await post_zero() == 1  # shard 0's server only
        assert len(daily_titles(fake_discord, on_0)) == 1
        assert daily_titles(fake_discord, on_1) == []
        assert await posted_days(db) == {str(on_0.id): True, str(on_1.id): False}

        assert await post_one() == 1
        assert await posted_days(db) == {str(on_0.id): True, str(on_1.id): True}
        assert len(daily_titles(fake_discord, on_1)) == 1
        assert await post_zero() == 0 and await post_one() == 0  # once a day each
        assert len(daily_titles(fake_discord, on_0)) == len(daily_titles(fake_discord, on_1)) == 1
        fake_discord.assert_clean()
