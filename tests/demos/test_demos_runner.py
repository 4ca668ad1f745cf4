"""DemoRunner: the process pool, progress, cooldown, queue cap, timeouts, crashes, loop lag."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from bot.demos.base import DemoParamsError
from bot.demos.rnn import RnnParams, run_rnn
from bot.demos.runner import (
    DemoBusy,
    DemoCooldown,
    DemoCrashed,
    DemoRunner,
    DemoRunnerClosed,
    DemoTimeout,
)

from ._helpers import assert_png, assert_same_result

pytestmark = pytest.mark.asyncio(loop_scope="module")

COOLDOWN_S = 60.0


class FakeClock:
    """A monotonic clock the test moves by hand (used only for cooldowns)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def runner(clock: FakeClock) -> AsyncIterator[DemoRunner]:
    """One warm pool shared by the tests that do not break it (distinct user keys)."""
    async with DemoRunner(
        workers=1,
        timeout_s=30.0,
        queue_cap=1,
        cooldown_s=COOLDOWN_S,
        clock=clock,
        allow_test_demos=True,
    ) as r:
        yield r


async def wait_until(predicate: Callable[[], bool], limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_demo_runs_in_the_pool_and_matches_in_process(runner: DemoRunner) -> None:
    result = await runner.run("user-run", "rnn", {})
    assert_png(result.png)
    # The worker computes exactly what an in-process run computes.
    assert_same_result(result, run_rnn(RnnParams()))


async def test_progress_arrives_in_order_on_the_loop_and_ends_at_one(runner: DemoRunner) -> None:
    loop = asyncio.get_running_loop()
    seen: list[float] = []

    def on_progress(fraction: float) -> None:
        assert asyncio.get_running_loop() is loop  # delivered on the event loop
        seen.append(fraction)

    await runner.run("user-progress", "sleep", {"seconds": 0.4}, progress=on_progress)
    assert seen == [0.25, 0.5, 0.75, 1.0]


async def test_async_progress_callback(runner: DemoRunner) -> None:
    seen: list[float] = []

    async def on_progress(fraction: float) -> None:
        await asyncio.sleep(0.01)  # e.g. editing a Discord message
        seen.append(fraction)

    result = await runner.run("user-async", "vanishing", {"layers": 4}, progress=on_progress)
    assert_png(result.png)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert len(seen) == len(set(seen))


async def test_cooldown_refuses_a_second_request(runner: DemoRunner, clock: FakeClock) -> None:
    await runner.run("alice", "sleep", {})
    with pytest.raises(DemoCooldown) as info:
        await runner.run("alice", "sleep", {})
    assert 0 < info.value.retry_after_s <= COOLDOWN_S
    assert "about 60 s" in str(info.value)
    clock.now += 30
    with pytest.raises(DemoCooldown) as info:
        await runner.run("alice", "sleep", {})
    assert info.value.retry_after_s == pytest.approx(COOLDOWN_S - 30)
    await runner.run("bob", "sleep", {})  # other users are not affected
    clock.now += 31
    await runner.run("alice", "sleep", {})  # cooldown over


async def test_refused_requests_do_not_start_a_cooldown(runner: DemoRunner) -> None:
    with pytest.raises(DemoParamsError, match="unknown demo 'nope'"):
        await runner.run("carol", "nope", {})
    with pytest.raises(DemoParamsError, match="steps"):
        await runner.run("carol", "gan", {"steps": 1})
    await runner.run("carol", "sleep", {})


async def test_queue_cap_refuses_with_busy(runner: DemoRunner) -> None:
    first = asyncio.create_task(runner.run("q1", "sleep", {"seconds": 1.0}))
    second = asyncio.create_task(runner.run("q2", "sleep", {"seconds": 0.1}))
    await wait_until(lambda: runner.status()["running"] == 1 and runner.status()["waiting"] == 1)
    with pytest.raises(DemoBusy) as info:
        await runner.run("q3", "sleep", {})
    assert info.value.retry_after_s >= 1.0
    assert "try again in about" in str(info.value)
    await asyncio.gather(first, second)
    await runner.run("q3", "sleep", {})  # refused requests are not charged a cooldown


async def test_cancelled_caller_keeps_the_slot_until_the_job_ends(runner: DemoRunner) -> None:
    task = asyncio.create_task(runner.run("c1", "sleep", {"seconds": 0.8}))
    await wait_until(lambda: runner.status()["running"] == 1)
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runner.status()["running"] == 1  # the worker is still busy with it
    await runner.run("c2", "sleep", {})
    await wait_until(lambda: runner.status()["running"] == 0)
    assert runner.restarts == 0


async def test_event_loop_stays_responsive_while_a_demo_runs(runner: DemoRunner) -> None:
    lags: list[float] = []
    stop = asyncio.Event()
    interval = 0.005

    async def ticker() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(interval)
            lags.append(time.perf_counter() - t0 - interval)

    tick = asyncio.create_task(ticker())
    result = await runner.run("user-lag", "gan", {})  # the default GAN: ~2 s of torch
    stop.set()
    await tick
    assert_png(result.png)
    assert len(lags) > 100
    assert max(lags) < 0.050, f"max loop lag {max(lags) * 1000:.1f} ms"


async def test_timeout_kills_and_replaces_the_worker() -> None:
    async with DemoRunner(
        timeout_s=1.0, cooldown_s=0, warmup=False, allow_test_demos=True
    ) as runner:
        t0 = time.perf_counter()
        with pytest.raises(DemoTimeout) as info:
            await runner.run("u", "sleep", {"seconds": 30})
        assert time.perf_counter() - t0 < 5.0
        assert info.value.timeout_s == 1.0
        assert runner.restarts == 1
        result = await runner.run("u", "sleep", {"seconds": 0.1})  # the new pool works
        assert_png(result.png, min_bytes=50)
        assert runner.restarts == 1


async def test_crash_raises_and_the_pool_recovers() -> None:
    async with DemoRunner(timeout_s=20.0, cooldown_s=0, warmup=False, allow_test_demos=True) as r:
        with pytest.raises(DemoCrashed, match="worker process died"):
            await r.run("u", "crash", {"exit_code": 7})
        assert r.restarts == 1
        result = await r.run("u", "rnn", {"T": 10})
        assert_png(result.png)


async def test_job_sharing_a_pool_with_a_timed_out_job_is_rerun() -> None:
    # forkserver: workers are forked from a server that has imported torch, so the
    # two-worker pool (and its replacement) start fast; also covers that option.
    async with DemoRunner(
        workers=2,
        timeout_s=1.0,
        cooldown_s=0,
        warmup=False,
        mp_context="forkserver",
        allow_test_demos=True,
    ) as r:
        slow = asyncio.create_task(r.run("a", "sleep", {"seconds": 30}))
        await asyncio.sleep(0.3)
        bystander = asyncio.create_task(r.run("b", "sleep", {"seconds": 0.9}))
        with pytest.raises(DemoTimeout):
            await slow
        result = await bystander  # its pool was killed under it; it ran again on the new one
        assert result.figures == {"seconds": 0.9}
        assert r.restarts == 1


async def test_test_demos_need_the_flag_and_closed_runner_refuses() -> None:
    runner = DemoRunner(cooldown_s=0, warmup=False, mp_context="forkserver")
    with pytest.raises(DemoRunnerClosed):
        await runner.run("u", "rnn", {})
    await runner.start()
    with pytest.raises(DemoParamsError, match="unknown demo 'sleep'"):
        await runner.run("u", "sleep", {})
    await runner.close()
    with pytest.raises(DemoRunnerClosed):
        await runner.run("u", "rnn", {})
