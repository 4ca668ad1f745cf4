"""The one scheduler of every round's deadlines, with a timer the test moves."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Generic, TypeVar

from bot.core.quiz_deadlines import Deadlines

from ..conftest import FakeClock
from ._quiz_harness import WAIT, FakeTimer

K = TypeVar("K")


class Fired(Generic[K]):
    def __init__(self) -> None:
        self.keys: asyncio.Queue[K] = asyncio.Queue()

    async def __call__(self, key: K) -> None:
        await self.keys.put(key)

    async def next(self) -> K:
        return await asyncio.wait_for(self.keys.get(), WAIT)


async def test_deadlines_fire_in_order_and_a_nearer_one_wakes_the_scheduler() -> None:
    timer = FakeTimer(FakeClock())
    fired: Fired[str] = Fired()
    deadlines: Deadlines[str] = Deadlines(timer, fired)
    start = timer.now()
    deadlines.set("late", start + timedelta(seconds=100))
    await asyncio.sleep(0)  # the scheduler now sleeps until +100 s
    deadlines.set("soon", start + timedelta(seconds=5))
    deadlines.set("gone", start + timedelta(seconds=6))
    deadlines.cancel("gone")
    deadlines.set("moved", start + timedelta(seconds=1))
    deadlines.set("moved", start + timedelta(seconds=50))
    timer.advance(seconds=10)
    assert await fired.next() == "soon"  # it did not sleep on until +100 s
    assert fired.keys.empty() and len(deadlines) == 2
    timer.advance(seconds=90)
    assert [await fired.next(), await fired.next()] == ["moved", "late"]
    deadlines.set("past", start)  # a deadline that passed fires at once
    assert await fired.next() == "past"
    await deadlines.idle()
    assert fired.keys.empty() and len(deadlines) == 0
    await deadlines.aclose()


async def test_a_thousand_rounds_cost_one_sleeping_task() -> None:
    timer = FakeTimer(FakeClock())
    fired: Fired[int] = Fired()
    deadlines: Deadlines[int] = Deadlines(timer, fired)
    before = len(asyncio.all_tasks())
    for n in range(1000):
        deadlines.set(n, timer.now() + timedelta(seconds=10 + n % 50))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) - before <= 3  # the scheduler, its sleep and its wake-up
    timer.advance(seconds=60)
    assert sorted([await fired.next() for _ in range(1000)]) == list(range(1000))
    await deadlines.aclose()


async def test_a_failing_callback_does_not_stop_the_others() -> None:
    timer = FakeTimer(FakeClock())
    fired: Fired[str] = Fired()

    async def fire(key: str) -> None:
        if key == "bad":
            raise RuntimeError("a reveal failed")
        await fired(key)

    deadlines: Deadlines[str] = Deadlines(timer, fire)
    deadlines.set("bad", timer.now() + timedelta(seconds=1))
    deadlines.set("good", timer.now() + timedelta(seconds=2))
    timer.advance(seconds=3)
    assert await fired.next() == "good"
    await deadlines.aclose()
