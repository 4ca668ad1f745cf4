"""Work the engine does off a user's request: numeric questions generated ahead of time, and
posted questions stored just after they are shown.

Both keep the path from a slash command to its reply free of torch calls and database writes
(see `Postings.post` and `bench/roundtrip.py`). Nothing here touches the event loop for long:
torch runs in a worker thread, the database through the store.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Container, Coroutine, Sequence

from bot.core.errors import StorageUnavailable
from bot.core.models import Difficulty, NewInstance, NumericQuestion
from bot.core.ports import Checkers, QuestionStore, seed_for

log = logging.getLogger(__name__)

SEED_DRAWS = 1_000_000
STOCK_DEPTH = 8  # numeric questions generated ahead per family and difficulty
RESTOCK_WHEN_IDLE_S = 0.25  # restock once no question was served for this long
RESTOCK_CHUNK = 16  # questions per trip to the worker thread while restocking
STORE_AFTER_S = 0.05  # posted questions are stored in one write at most this long after


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


class PostedWriter:
    """Posted questions stored in one write, just after their replies went out.

    `shown(id)` marks an instance as shown but not stored; `store(new)` queues its row, written
    with the others queued within STORE_AFTER_S; `dropped(id)` forgets one whose reply failed.
    `wait_stored(id)` (an answer arriving first) has the queue written at once and waits for it.
    If the process dies first, the rows are lost, not the questions: see `Postings.instance`.
    """

    def __init__(self, store: QuestionStore, background: Background) -> None:
        self._store = store
        self._background = background
        self._queue: list[NewInstance] = []
        self._unstored: dict[int, asyncio.Event] = {}
        self._hurry = asyncio.Event()
        self._writing: asyncio.Task[None] | None = None

    def shown(self, instance_id: int) -> None:
        self._unstored[instance_id] = asyncio.Event()

    def store(self, new: NewInstance) -> None:
        self._queue.append(new)
        if self._writing is None or self._writing.done():
            self._writing = self._background.spawn(self._write())

    def dropped(self, instance_id: int) -> None:
        self._done([instance_id])

    async def wait_stored(self, instance_id: int) -> None:
        unstored = self._unstored.get(instance_id)
        if unstored is not None:
            self._hurry.set()
            await unstored.wait()

    async def flush(self) -> None:
        """Write what is queued now (at shutdown)."""
        self._hurry.set()
        while self._writing is not None and not self._writing.done():
            await asyncio.shield(self._writing)

    async def _write(self) -> None:
        try:
            while self._queue:
                try:  # gather what the next few milliseconds post (unless an answer waits)
                    await asyncio.wait_for(self._hurry.wait(), STORE_AFTER_S)
                except TimeoutError:
                    pass
                self._hurry.clear()
                batch, self._queue = self._queue, []
                try:
                    await self._store.create_instances(batch)
                except StorageUnavailable as exc:  # a full disk...: a click restores one
                    log.error("storing %d posted question(s) failed: %s", len(batch), exc)
                except Exception:
                    log.exception("storing %d posted question(s) failed", len(batch))
                finally:
                    self._done([new.instance.id for new in batch])
        finally:  # cancelled (shutdown): nobody may keep waiting for these
            self._done([new.instance.id for new in self._queue])

    def _done(self, instance_ids: list[int]) -> None:
        for instance_id in instance_ids:
            event = self._unstored.pop(instance_id, None)
            if event is not None:
                event.set()
