"""Group commit: the writes waiting at a moment share one transaction and one commit.

`GroupWriter(write_batch)` takes items from any number of tasks (`submit`). While a batch is
being written (its commit waiting on the disk), the items that arrive queue up; when the
commit returns, the next batch takes every item waiting then. No timer: one item alone is
written at once, a burst of a hundred shares a few commits instead of a hundred.

With `writers` above one (a pool of connections), up to that many batches are written at
once, each taking what waits when it starts.

`write_batch(items)` returns one result per item, a `Failed` for an item that failed alone
(its neighbours are written); if it raises, the whole batch failed and every item gets the
exception. An item's `submit` returns only once `write_batch` returned, i.e. after the commit:
nobody hears that their write counted before it is durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.core.models import AttemptRecord
from bot.core.ports import AnswerDraft

I = TypeVar("I")  # noqa: E741 (an item)
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Failed:
    """An item of a batch that failed alone (its savepoint rolled back)."""

    error: BaseException


class GroupWriter(Generic[I, R]):
    """Coalesces concurrent writes into batches (see the module's docstring)."""

    def __init__(
        self,
        write_batch: Callable[[list[I]], Awaitable[Sequence[R | Failed]]],
        writers: int = 1,
    ) -> None:
        """`writers`: batches written at once (1 on one connection; more on a pool, where
        the next batch need not wait for the previous commit)."""
        self._write_batch = write_batch
        self._writers = writers
        # Items waiting, with their futures and whether they are background work.
        self._waiting: list[tuple[I, asyncio.Future[R], bool]] = []
        self._running: set[asyncio.Task[None]] = set()
        self._here = 0  # batches written in their caller's task (`_write_here`)
        self._last = 0  # the size of the last batch begun (background items not counted)
        self.batches = 0  # how many batches were written (for benches and tests)
        self.largest = 0  # the largest batch so far

    async def submit(self, item: I, *, background: bool = False) -> R:
        """Write `item` with whatever else is waiting; its result once committed.
        `background`: work nobody waits on (the leaderboard totals behind the answers), never
        written in the caller's task and not counted in the size of the last batch (a lone
        one between two bursts would have the next burst's first item written alone)."""
        if not background and self._last == 1 and not self._waiting and not self._writing():
            return await self._write_here(item)
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future, background))
        if self._writing() < self._writers:
            self._start_writer()
        return await future

    def _start_writer(self) -> None:
        writer = asyncio.create_task(self._drain())
        self._running.add(writer)
        writer.add_done_callback(self._running.discard)

    def _writing(self) -> int:
        """Batches being written now."""
        return self._here + sum(not writer.done() for writer in self._running)

    async def _write_here(self, item: I) -> R:
        """`item` alone, nobody else writing or waiting and the last batch one item (no burst:
        one user answering, say): written in the caller's task (no writer task, no future to
        hand its result over: fewer turns of the event loop). What arrives meanwhile waits for
        a writer task, started when this one is written. After a larger batch, an item waits
        for a writer task, which takes it with the others submitted in the same turn."""
        self._here += 1
        self._last = 1
        self.batches += 1
        self.largest = max(self.largest, 1)
        try:
            (result,) = await self._write_batch([item])
        finally:
            self._here -= 1
            if self._waiting and self._writing() < self._writers:
                self._start_writer()
        if isinstance(result, Failed):
            raise result.error
        return result

    async def close(self) -> None:
        """Wait for what is queued to be written."""
        while self._running:
            await asyncio.shield(asyncio.gather(*self._running, return_exceptions=True))

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                self._last = sum(not background for _, _, background in batch) or self._last
                self.batches += 1
                self.largest = max(self.largest, len(batch))
                try:
                    results = await self._write_batch([item for item, _, _ in batch])
                except Exception as exc:  # the whole batch failed: nothing of it is kept
                    for _, future, _ in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                except BaseException:  # cancelled: nobody may wait for ever
                    for _, future, _ in batch:
                        future.cancel()
                    raise
                for (_, future, _), result in zip(batch, results, strict=True):
                    if future.done():  # its caller gave up waiting (cancelled)
                        continue
                    if isinstance(result, Failed):
                        future.set_exception(result.error)
                    else:
                        future.set_result(result)
        finally:
            if self._writing() <= 1:  # nobody else will
                waiting, self._waiting = self._waiting, []
                for _, future, _ in waiting:
                    future.cancel()


def draft_of(attempt: AttemptRecord) -> AnswerDraft:
    """The draft of an attempt decided already (`record_attempt` through `record_answer`):
    no reward window to read, the attempt's own review card item."""
    item = attempt.review.item if attempt.review is not None else ""
    return AnswerDraft(attempt.instance_id, attempt.user_id, (), attempt.at, item)
