"""Shards: which of the bot's gateway shards this process runs (`BOT_SHARD_COUNT`,
`BOT_SHARD_IDS`), and so which servers' background work (daily posts, interview timeouts) is its
own.

Discord puts a server on shard `(guild_id >> 22) % shard_count` and direct messages on shard 0.
Several processes with disjoint shard ranges can serve one bot against one PostgreSQL database;
work that must happen once per server belongs to the process holding that server's shard.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_SHARDS = 4096  # far past any bot this runs; a typo (`BOT_SHARD_COUNT=40000`) is refused


class BadShards(ValueError):
    """BOT_SHARD_COUNT / BOT_SHARD_IDS cannot be used; the message is one line."""


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """`0-3` -> (0, 1, 2, 3); `0,2` -> (0, 2); `0-1,4` -> (0, 1, 4). Sorted, no duplicates;
    BadShards for anything else."""
    ids: set[int] = set()
    parts = [p.strip() for p in text.replace(" ", "").split(",")]
    if not text.strip() or any(not p for p in parts):
        raise BadShards(f"{text!r} is not a list of shard ids: write e.g. 0-3 or 0,2")
    for part in parts:
        low, dash, high = part.partition("-")
        if not (low.isascii() and low.isdigit()) or (
            dash and not (high.isascii() and high.isdigit())
        ):
            raise BadShards(f"{part!r} is not a shard id or range: write e.g. 0-3 or 0,2")
        first, last = int(low), int(high) if dash else int(low)
        if last < first:
            raise BadShards(f"the range {part!r} runs backwards: write {last}-{first}")
        if last - first >= MAX_SHARDS:
            raise BadShards(f"the range {part!r} is longer than {MAX_SHARDS} shards")
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


def shard_of(guild_id: int | None, count: int) -> int:
    """The shard Discord delivers a server's events on; direct messages (None): shard 0."""
    return 0 if guild_id is None else (guild_id >> 22) % count


def _ranges(ids: tuple[int, ...]) -> str:
    """(0, 1, 2, 5) -> `0-2,5`."""
    runs: list[list[int]] = []
    for i in ids:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


@dataclass(frozen=True, slots=True)
class ShardPlan:
    """`count` shards in all; this process runs `ids`."""

    count: int
    ids: tuple[int, ...]

    @classmethod
    def from_settings(cls, count: int | None, ids: str | None) -> ShardPlan | None:
        """None without shard settings (one process, discord.py's plain client); BadShards
        for shard ids without a count, or ids outside 0..count-1."""
        if count is None:
            if ids is not None:
                raise BadShards("needs BOT_SHARD_COUNT too (the bot's total number of shards)")
            return None
        if not 1 <= count <= MAX_SHARDS:
            raise BadShards(f"must be between 1 and {MAX_SHARDS}, not {count}")
        chosen = parse_shard_ids(ids) if ids is not None else tuple(range(count))
        outside = [i for i in chosen if i >= count]
        if outside:
            raise BadShards(
                f"shard id {outside[0]} is not below BOT_SHARD_COUNT={count} (the ids run from 0"
                f" to {count - 1})"
            )
        return cls(count, chosen)

    @property
    def covers_all(self) -> bool:
        """This process runs every shard (so no other process serves the bot)."""
        return len(self.ids) == self.count

    @property
    def label(self) -> str:
        """`0-1/4`: the shards this process runs, of how many (health, logs)."""
        return f"{_ranges(self.ids)}/{self.count}"

    def owns(self, guild_id: int | None) -> bool:
        """Whether this process holds the shard of that server (None: direct messages)."""
        return shard_of(guild_id, self.count) in self.ids


def heartbeat_process(plan: ShardPlan | None) -> str:
    """Which process a heartbeat (and `health`) is about: its shards (`shards 0-1/4`); "" for
    the one process that runs every shard."""
    return "" if plan is None else f"shards {plan.label}"


def owns(plan: ShardPlan | None, guild_id: int | None) -> bool:
    """Whether a process with that plan holds the server's shard: without shard settings one
    process holds them all."""
    return plan is None or plan.owns(guild_id)


def owns_server(plan: ShardPlan | None, external_id: str | None) -> bool:
    """`owns` for a server as the database knows it: its external id (a Discord guild id);
    None, or anything but a Discord id (the console), counts as outside servers (shard 0)."""
    if external_id is None or not (external_id.isascii() and external_id.isdigit()):
        return owns(plan, None)
    return owns(plan, int(external_id))


SQLITE_SHARED = (
    "BOT_SHARD_IDS={ids} runs {n} of the {count} shards, so other processes would share one"
    " SQLite file: set BOT_DB to a postgresql:// URL (PostgreSQL) to run shard ranges as"
    " separate processes"
)


def sqlite_refusal(plan: ShardPlan | None, is_postgres: bool) -> str | None:
    """Why this process must not start (one line), or None: shard ranges as separate processes
    need PostgreSQL (SQLite is one file for one process)."""
    if plan is None or plan.covers_all or is_postgres:
        return None
    return SQLITE_SHARED.format(ids=_ranges(plan.ids), n=len(plan.ids), count=plan.count)
