"""Work the engine does off a user's request: numeric questions generated ahead of time.

It keeps the path from a slash command to its reply free of torch calls (see
`bench/roundtrip.py`). Nothing here touches the event loop for long: torch runs in a worker
thread.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Container, Coroutine, Sequence

from bot.core.models import Difficulty, NumericQuestion
from bot.core.ports import Checkers, seed_for

log = logging.getLogger(__name__)

SEED_DRAWS = 1_000_000
STOCK_DEPTH = 8  # numeric questions generated ahead per family and difficulty
RESTOCK_WHEN_IDLE_S = 0.25  # restock once no question was served for this long
RESTOCK_CHUNK = 16  # questions per trip to the worker thread while restocking


class Background:
    """Tasks the engine started and has not awaited; `close` cancels what is left."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[object, object, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def random_seed(rng: random.Random, level: Difficulty) -> int:
    return seed_for(level, rng.randrange(SEED_DRAWS))


class NumericStock:
    """Generated numeric questions ready to serve, per (family, difficulty).

    `fill` generates the stock (before the first user); `take` hands one out without calling
    torch, or None when that shelf is empty (the caller generates one then). What is taken
    is replaced when the engine has been idle for a moment, a chunk at a time in a worker
    thread, so that restocking never competes with a reply.
    """

    def __init__(self, checkers: Checkers, rng: random.Random, background: Background) -> None:
        self._checkers = checkers
        self._rng = rng
        self._background = background
        self._shelves: dict[tuple[str, Difficulty], list[NumericQuestion]] = {}
        self._last_take = 0.0
        self._restocking: asyncio.Task[None] | None = None
        self._generation = 0  # bumped by clear(): a restock under way then is discarded

    def __len__(self) -> int:
        return sum(len(shelf) for shelf in self._shelves.values())

    async def fill(self, families: Sequence[str], depth: int = STOCK_DEPTH) -> None:
        for family in families:
            for level in Difficulty:
                self._shelves.setdefault((family, level), [])
        await self._restock(depth)

    def clear(self) -> None:
        """Empty the shelves (they are restocked once idle)."""
        for shelf in self._shelves.values():
            shelf.clear()
        self._generation += 1

    def take(
        self, family: str, level: Difficulty, avoid: Container[str] = frozenset()
    ) -> NumericQuestion | None:
        """A question of the shelf whose key is not in `avoid` (the rest stay on it); None if
        it has none."""
        shelf = self._shelves.get((family, level))
        if shelf is None:  # a family not stocked (stock not filled): generate on demand
            return None
        self._last_take = asyncio.get_running_loop().time()
        if self._restocking is None or self._restocking.done():
            self._restocking = self._background.spawn(self._restock_when_idle())
        for index in range(len(shelf) - 1, -1, -1):  # the newest first, as before
            if shelf[index].key not in avoid:
                return shelf.pop(index)
        return None

    def _missing(self, depth: int) -> list[tuple[str, int]]:
        return [
            (family, random_seed(self._rng, level))
            for (family, level), shelf in self._shelves.items()
            for _ in range(depth - len(shelf))
        ]

    async def _restock_when_idle(self) -> None:
        loop = asyncio.get_running_loop()
        while True:  # each take pushes the restock back
            busy_for = RESTOCK_WHEN_IDLE_S - (loop.time() - self._last_take)
            if busy_for <= 0:
                break
            await asyncio.sleep(busy_for)
        await self._restock(STOCK_DEPTH)

    async def _restock(self, depth: int) -> None:
        generation, missing = self._generation, self._missing(depth)
        for start in range(0, len(missing), RESTOCK_CHUNK):
            chunk = missing[start : start + RESTOCK_CHUNK]
            try:
                made = await asyncio.to_thread(self._generate, chunk)
            except Exception:  # serving generates on demand instead, and reports it there
                log.exception("generating numeric questions ahead failed")
                return
            if generation != self._generation:  # drawn before a clear(): not reproducible
                return
            for numeric in made:
                self._shelves[(numeric.family, numeric.difficulty)].append(numeric)

    def _generate(self, wanted: list[tuple[str, int]]) -> list[NumericQuestion]:
        return [self._checkers.generate(family, seed) for family, seed in wanted]
