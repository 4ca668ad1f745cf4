"""One scheduler for the deadlines of every quiz round (and anything else keyed the same way).

A heap of (deadline, key) and one asyncio task that sleeps until the earliest; setting a nearer
deadline wakes it. A due key's callback runs as its own short task, so a slow one (a reveal
edits a message) never delays the others. No task per user, no poll loop per round: a
thousand rounds cost one sleeping task and a heap.

Time comes from a `Timer` (the clock, and a way to sleep until a time): tests pass a fake one
that the test moves, so nothing races a real clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from bot.core.ports import Clock

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)


class Timer(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime) -> None:
        """Return at `when` or later (a fake timer: once the test has moved time there)."""
        ...


class SystemTimer:
    """Real time: the clock and `asyncio.sleep`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> datetime:
        return self._clock.now()

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self._clock.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


class Deadlines(Generic[K]):
    """Deadlines by key; `fire(key)` is awaited (in a task of its own) once a key's deadline
    has passed. Setting a key again moves its deadline; `cancel` forgets it."""

    def __init__(self, timer: Timer, fire: Callable[[K], Awaitable[None]]) -> None:
        self._timer = timer
        self._fire = fire
        self._when: dict[K, datetime] = {}  # the live deadline of each key
        self._heap: list[tuple[datetime, int, K]] = []  # may hold stale entries
        self._order = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._firing: set[asyncio.Task[None]] = set()
        self._closed = False

    def __len__(self) -> int:
        return len(self._when)

    def when(self, key: K) -> datetime | None:
        return self._when.get(key)

    def set(self, key: K, when: datetime) -> None:
        """Fire `key` at `when` (at once if that has passed); replaces its earlier deadline."""
        if self._closed:
            return
        earliest = self._heap[0][0] if self._heap else None
        self._when[key] = when
        heapq.heappush(self._heap, (when, next(self._order), key))
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="quiz-deadlines")
        if earliest is None or when < earliest:
            self._wake.set()

    def cancel(self, key: K) -> None:
        self._when.pop(key, None)  # its heap entry is skipped when it comes up

    async def idle(self) -> None:
        """Wait until no callback is running (tests; shutdown)."""
        while self._firing:
            await asyncio.gather(*self._firing, return_exceptions=True)

    async def aclose(self) -> None:
        """Stop the scheduler; callbacks already running finish."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.idle()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            now = self._timer.now()
            while self._heap and self._heap[0][0] <= now:
                when, _, key = heapq.heappop(self._heap)
                if self._when.get(key) == when:
                    del self._when[key]
                    self._start(key)
            while self._heap and self._when.get(self._heap[0][2]) != self._heap[0][0]:
                heapq.heappop(self._heap)  # stale: cancelled or moved
            if not self._heap:
                await self._wake.wait()
                continue
            sleeper = asyncio.ensure_future(self._timer.sleep_until(self._heap[0][0]))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sleeper, waker):
                    task.cancel()
                await asyncio.gather(sleeper, waker, return_exceptions=True)

    def _start(self, key: K) -> None:
        task = asyncio.create_task(self._call(key), name=f"deadline-{key}")
        self._firing.add(task)
        task.add_done_callback(self._firing.discard)

    async def _call(self, key: K) -> None:
        try:
            await self._fire(key)
        except Exception:  # one failed reveal must not stop the others
            log.exception("the deadline callback for %s failed", key)
