"""Work that must happen once per server, with several bot processes (BOT_SHARD_IDS): each
process takes the servers of its own shards, direct messages belong to shard 0, and together
they take every server exactly once."""

from __future__ import annotations

from functools import partial

from bot.app.shards import ShardPlan, owns, owns_server, shard_of
from bot.core.engine import Engine
from bot.core.models import User

from ..conftest import FakeClock

COUNT = 2
PROCESSES = (ShardPlan(COUNT, (0,)), ShardPlan(COUNT, (1,)))


def guild_on(shard: int, start: int = 81384788765712384) -> int:
    """A Discord-like guild id that Discord's rule puts on `shard` of COUNT."""
    return next(
        g for g in range(start, start + (COUNT << 22), 1 << 22) if shard_of(g, COUNT) == shard
    )


def test_discords_rule_and_direct_messages() -> None:
    assert shard_of(None, 4) == 0
    assert shard_of(41771983423143937, 4) == (41771983423143937 >> 22) % 4
    zero, one = guild_on(0), guild_on(1)
    assert [owns(p, zero) for p in PROCESSES] == [True, False]
    assert [owns(p, one) for p in PROCESSES] == [False, True]
    assert [owns(p, None) for p in PROCESSES] == [True, False]  # DMs: shard 0
    assert [owns_server(p, "local") for p in PROCESSES] == [True, False]  # not a guild id
    assert owns(None, one) and owns_server(None, str(zero))  # one process: everything


async def test_each_process_settles_only_the_interview_timeouts_of_its_shards(
    engine: Engine, clock: FakeClock
) -> None:
    interviews = engine.interviews
    people: list[tuple[User, int | None]] = []
    for name, guild in (("ann", guild_on(0)), ("bob", guild_on(1)), ("cara", None)):
        user = await engine.identities.user("discord", name, name)
        server = (
            None if guild is None else (await engine.identities.server("discord", str(guild))).id
        )
        people.append((user, server))
    started = {}
    for user, server in people:
        step = await interviews.start(user, [], questions=3, minutes=1, server_id=server)
        started[user.name] = step.interview.id
    everyone = set(started.values())

    swept = [set(await interviews.active_ids(partial(owns_server, p))) for p in PROCESSES]
    assert swept[0] == {started["ann"], started["cara"]}  # shard 0: its guild and the DM
    assert swept[1] == {started["bob"]}
    assert swept[0] | swept[1] == everyone and not swept[0] & swept[1]  # each exactly once
    assert set(await interviews.active_ids()) == everyone  # one process: all of them

    clock.advance(minutes=2)  # every open question ran out of time
    for iid in swept[0]:  # only process 0 has swept so far
        assert await interviews.tick(iid) is not None
    for name, iid in started.items():
        interview, _ = await interviews.load(iid)
        timed_out = [i for i in interview.items if i.outcome is not None]
        assert len(timed_out) == (0 if name == "bob" else 1), name
