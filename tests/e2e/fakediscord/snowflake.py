"""Snowflake ids and timestamps shaped like Discord's."""

from __future__ import annotations

import datetime
import itertools
import secrets
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeFactory:
    """Hands out unique, strictly increasing snowflakes derived from the wall clock.

    The timestamp bits are real, so ``discord.utils.snowflake_time`` gives a sensible
    ``created_at``; the low 22 bits are a process-wide counter, so two ids minted in
    the same millisecond still differ and sort in creation order.
    """

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._last = 0

    def next(self) -> int:
        """Return a fresh snowflake, larger than every previous one."""
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        candidate = (millis << 22) | (next(self._counter) & 0x3FFFFF)
        if candidate <= self._last:
            candidate = self._last + 1
        self._last = candidate
        return candidate

    def next_on_shard(self, shard_id: int, count: int) -> int:
        """A fresh snowflake that Discord's rule puts on that shard: ``(id >> 22) % count ==
        shard_id`` (its timestamp moved up to ``count - 1`` ms ahead)."""
        base = self.next()
        millis = base >> 22
        millis += (shard_id - millis) % count
        candidate = (millis << 22) | (base & 0x3FFFFF)
        self._last = max(self._last, candidate)
        return candidate


def new_token() -> str:
    """An interaction token: URL-safe, long and random like the real ones."""
    return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)


def iso_now() -> str:
    """The current time in the ISO-8601 form Discord puts in payloads."""
    return datetime.datetime.now(datetime.UTC).isoformat()
