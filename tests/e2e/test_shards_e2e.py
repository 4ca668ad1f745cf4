"""A sharded bot through the fake Discord: BOT_SHARD_COUNT / BOT_SHARD_IDS make an
AutoShardedBot, and work that must happen once per server happens in the process holding that
server's shard."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from discord.ext import commands

from bot.core.interview import Interview
from bot.storage.db import Database
from bot.storage.sqlite import SqliteStore

from .botdb import BotDb
from .fakediscord import FakeDiscord, FakeUser, GuildRecord, SentInteraction
from .fakediscord.models import MemberRecord
from .harness import button_ids, running_bot, told
from .test_process import ROOT, bot_env
from .test_reliability import instance_of

pytestmark = pytest.mark.timeout(120)

T = TypeVar("T")


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


# -- two processes, one PostgreSQL database ------------------------------------------------

PLAYERS = 9  # the leaderboard shows 10: every player is on it


async def start_process(
    fake: FakeDiscord, db: str, log: Path, shard: int, count: int = 2
) -> asyncio.subprocess.Process:
    """`python -m bot run` for one shard of `count`, as a separate service would run it."""
    env = bot_env(fake, db)
    env.update(BOT_SHARD_COUNT=str(count), BOT_SHARD_IDS=str(shard), BOT_HEARTBEAT_EVERY="1")
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdout=sink, stderr=sink
        )


async def eventually(read: Callable[[], T], ok: Callable[[T], bool], within: float = 120) -> T:
    """`read()` once `ok` accepts it, polled every half second (the limit only ends a hang)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        value = read()
        if ok(value):
            return value
        if loop.time() > end:
            raise AssertionError(f"still {value!r} after {within} s")
        await asyncio.sleep(0.5)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


def board_points(sent: SentInteraction) -> dict[str, int]:
    """Name -> points of the lines of a /leaderboard reply."""
    assert sent.message is not None, sent
    text = str(sent.message.embeds[0]["description"])
    return {
        name: int(points) for name, points in re.findall(r"\*\*(.+?)\*\* — (\d+) points?", text)
    }


def points_in(db: BotDb) -> dict[str, int]:
    """Name -> points of every user with an attempt, summed from the attempts themselves."""
    rows = db.rows(
        "SELECT u.name, SUM(a.points) FROM attempts a JOIN users u ON u.id = a.user_id"
        " GROUP BY u.name"
    )
    return {str(name): int(points) for name, points in rows}


def answers_of(sent: list[SentInteraction]) -> set[tuple[int, str]]:
    return {(instance_of(s.payload["data"]["custom_id"]), str(s.user.id)) for s in sent}


async def post_and_answer(
    fake: FakeDiscord, guilds: list[GuildRecord], players: list[FakeUser]
) -> list[SentInteraction]:
    """One question in each guild, then every player answers all of them at once (without
    waiting for the replies)."""
    questions = []
    for guild in guilds:
        posted = await players[0].slash(
            "question", topic="vanishing_gradients", where=guild.text_channels[0], within=30
        )
        assert posted.message is not None
        questions.append(posted.message)
    clicks = [
        player.click(message, button_ids(message)[1], wait=False)
        for message in questions
        for player in players
    ]
    return list(await asyncio.gather(*clicks))


async def check_boards(
    fake: FakeDiscord, guilds: list[GuildRecord], player: FakeUser, db: BotDb
) -> None:
    """/leaderboard scope:global in every guild (each served by its shard's process) shows
    exactly the points the database holds."""
    truth = points_in(db)
    assert len(truth) == PLAYERS
    for guild in guilds:
        board = await player.slash(
            "leaderboard", scope="global", period="all", where=guild.text_channels[0], within=30
        )
        assert board_points(board) == truth, guild.name


@pytest.mark.timeout(420)
async def test_two_processes_one_postgres_database(
    fake_discord: FakeDiscord, tmp_path: Path, pg_url: str
) -> None:
    """Shards 0 and 1 of 2 as two `run` processes against one PostgreSQL database, four guilds
    (two on each shard), players answering in all of them: the global leaderboard agrees with
    the database from every guild; then one process is SIGKILLed mid-burst and restarted, and
    every acknowledged answer is recorded exactly once."""
    db = BotDb("postgres", pg_url)
    alice = fake_discord.user("alice")
    guilds = [fake_discord.add_guild(f"Guild {i}", owner=alice, shard=(i % 2, 2)) for i in range(4)]
    assert [(g.id >> 22) % 2 for g in guilds] == [0, 1, 0, 1]
    players = [fake_discord.add_user(f"p{i}", guilds=guilds) for i in range(PLAYERS)]
    logs = [tmp_path / "shard0.log", tmp_path / "shard1.log"]
    processes = [await start_process(fake_discord, pg_url, logs[i], i) for i in (0, 1)]
    try:
        await fake_discord.wait_shards_ready([0, 1], 2, within=180)
        await fake_discord.wait_for_commands("question", "leaderboard", within=60)

        first = await post_and_answer(fake_discord, guilds, players)
        await asyncio.gather(*(s.wait_response(within=120) for s in first))
        assert db.attempts() == answers_of(first)  # every answer, from both processes
        await check_boards(fake_discord, guilds, players[0], db)

        # Each process records its own heartbeat, with the guilds of its shard only (the
        # default guild as well: five in all).
        on_shard = [sum(1 for g in fake_discord.state.guilds if (g >> 22) % 2 == i) for i in (0, 1)]
        beats = await eventually(
            lambda: {
                str(key): json.loads(value)["guilds"]
                for key, value in db.rows(
                    "SELECT key, value FROM health WHERE key LIKE 'gateway_heartbeat:%'"
                )
            },
            lambda found: len(found) == 2,
        )
        assert beats == {
            "gateway_heartbeat:shards 0/2": on_shard[0],
            "gateway_heartbeat:shards 1/2": on_shard[1],
        }

        # A burst in all four guilds; shard 1's process dies in the middle of it.
        second = await post_and_answer(fake_discord, guilds, players)
        on_1 = [s for s in second if (int(s.payload["guild_id"]) >> 22) % 2 == 1]
        await fake_discord.wait_until(
            lambda: True if sum(s.acknowledged for s in on_1) >= 3 else None, within=120
        )
        processes[1].send_signal(signal.SIGKILL)
        await asyncio.wait_for(processes[1].wait(), 30)
        acknowledged = answers_of([s for s in second if s.acknowledged])
        print(f"acknowledged before the kill: {len(acknowledged)} of {len(second)}")
        on_0 = [s for s in second if s not in on_1]
        await asyncio.gather(*(s.wait_response(within=120) for s in on_0))  # shard 0 goes on

        processes[1] = await start_process(fake_discord, pg_url, logs[1], 1)  # restart
        await fake_discord.wait_shards_ready([0, 1], 2, within=180)
        acknowledged |= answers_of([s for s in second if s.acknowledged])
        recorded = db.attempts()
        assert answers_of(first) | acknowledged <= recorded  # every acknowledged answer...
        assert recorded <= answers_of(first + second)  # ...nothing never sent...
        [(dupes,)] = db.rows(
            "SELECT COUNT(*) FROM (SELECT 1 FROM attempts GROUP BY instance_id, user_id"
            " HAVING COUNT(*) > 1) AS repeated"
        )
        assert dupes == 0  # ...and each exactly once
        await check_boards(fake_discord, guilds, players[1], db)

        # Everyone clicks the burst's questions again (those whose answer died with the
        # process have it taken now): each (question, player) is recorded once, none twice.
        again = await asyncio.gather(
            *(
                fake_discord.user(s.user.username).click(
                    int(s.payload["message"]["id"]), s.payload["data"]["custom_id"], wait=False
                )
                for s in second
            )
        )
        await asyncio.gather(*(s.wait_response(within=120) for s in again))
        assert db.attempts() == answers_of(first + second)
        [(dupes,)] = db.rows(
            "SELECT COUNT(*) FROM (SELECT 1 FROM attempts GROUP BY instance_id, user_id"
            " HAVING COUNT(*) > 1) AS repeated"
        )
        assert dupes == 0
        await check_boards(fake_discord, guilds, players[0], db)

        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            assert await asyncio.wait_for(process.wait(), 60) == 0
    finally:
        for process in processes:
            await stop(process)
    for log in logs:
        text = log.read_text()
        assert "Traceback" not in text
        # The test database's URL carries no password, so it may be logged as it is (a password
        # is never logged: tests/e2e/test_postgres_run.py runs the bot with one).


async def open_questions_due(db: Path) -> dict[str, int]:
    """Move the deadline of every running interview's open question into the past (as if its
    minutes were up); returns server (Discord id) -> interview id."""
    database = await Database.open(db)
    try:
        store = SqliteStore(database)
        found = {}
        for interview_id, server in await store.active_interviews():
            state, version = await store.get_interview(interview_id) or ("", 0)
            interview = Interview.model_validate_json(state)
            current = interview.current
            assert current is not None
            current.deadline = current.shown_at - timedelta(seconds=1)
            assert await store.save_interview(
                interview_id, "active", interview.model_dump_json(), version, current.shown_at
            )
            found[str(server)] = interview_id
        return found
    finally:
        await database.close()


async def timed_out(db: Path, interview_id: int) -> int:
    database = await Database.open(db)
    try:
        state, _ = await SqliteStore(database).get_interview(interview_id) or ("", 0)
    finally:
        await database.close()
    return sum(1 for item in Interview.model_validate_json(state).items if item.outcome)


async def test_each_process_settles_the_interview_timeouts_of_its_own_shards(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    on_0 = fake_discord.add_guild("Zero", owner=alice, shard=(0, 2))
    on_1 = fake_discord.add_guild("One", owner=alice, shard=(1, 2))
    for guild in (on_0, on_1):
        guild.members[bob.id] = MemberRecord(bob.record, guild.id)
    db = tmp_path / "bot.sqlite3"
    async with (
        running_bot(fake_discord, db, BOT_SHARD_COUNT="2", BOT_SHARD_IDS="0") as zero,
        running_bot(fake_discord, db, BOT_SHARD_COUNT="2", BOT_SHARD_IDS="1") as one,
    ):
        await fake_discord.wait_shards_ready([0, 1], 2)
        sweeps = []
        for bot in (zero, one):
            cog = bot.get_cog("MockInterview")
            assert cog is not None
            cog.sweeper.cancel()  # type: ignore[attr-defined]  # only the calls below sweep
            sweeps.append(cog.sweeper.coro)  # type: ignore[attr-defined]
        for user, guild in ((alice, on_0), (bob, on_1)):
            started = await user.slash(
                "interview start", questions=3, minutes=1, where=guild.text_channels[0]
            )
            assert started.message is not None
        interviews = await open_questions_due(db)
        assert set(interviews) == {str(on_0.id), str(on_1.id)}
        mine, theirs = interviews[str(on_0.id)], interviews[str(on_1.id)]

        await sweeps[0](zero.get_cog("MockInterview"))  # the process of shard 0 sweeps
        assert await timed_out(db, mine) == 1
        assert await timed_out(db, theirs) == 0  # not its server: left to shard 1's process
        await sweeps[1](one.get_cog("MockInterview"))
        assert await timed_out(db, theirs) == 1
        assert await timed_out(db, mine) == 1  # each settled once
