"""Benchmark the mini demos: wall time (in-process and through the runner) and loop lag.

Run: ``.venv/bin/python bench/demos.py [--repeats N]`` (from the repository root). Prints a
small table and exits 0. Goals: default GAN <= 3 s, the other demos <= 1.5 s
(PNG included) on every run, so the table gives the max beside the median; event-loop lag
p99 < 50 ms while 4 demos run through the runner.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

GOALS_S = {"gan": 3.0, "rnn": 1.5, "vanishing": 1.5}
REPEATS = 10  # runs of each demo in each path (--repeats): the goal is on the max
LAG_GOAL_MS = 50.0
TICK_S = 0.005


def in_process_times(repeats: int) -> dict[str, list[float]]:
    """Wall time of each default demo run in this process (after a warm-up run)."""
    from bot.demos._worker import warm_up
    from bot.demos.gan import GanParams, run_gan
    from bot.demos.rnn import RnnParams, run_rnn
    from bot.demos.vanishing import VanishingParams, run_vanishing

    runs: dict[str, Callable[[], object]] = {
        "gan": lambda: run_gan(GanParams()),
        "rnn": lambda: run_rnn(RnnParams()),
        "vanishing": lambda: run_vanishing(VanishingParams()),
    }
    warm_up()  # as the runner's workers do: first-call costs, then the heap frozen
    times: dict[str, list[float]] = {}
    for name, fn in runs.items():
        times[name] = []
        CPU_TIMES[name] = []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.perf_counter() - t0)
            CPU_TIMES[name].append(time.process_time() - c0)
    return times


#: CPU seconds of each in-process run (this process; the demos use one torch thread): on a
#: shared machine the wall time also counts the time spent waiting for a core.
CPU_TIMES: dict[str, list[float]] = {}


class LagMeter:
    """Measures how late an asyncio.sleep(TICK_S) wakes up, i.e. event-loop lag."""

    def __init__(self) -> None:
        self.lags_ms: list[float] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while not self._stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(TICK_S)
            self.lags_ms.append((time.perf_counter() - t0 - TICK_S) * 1000)

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def runner_bench(
    repeats: int,
) -> tuple[float, dict[str, list[float]], LagMeter, LagMeter, float]:
    from bot.demos.runner import DemoRunner

    t0 = time.perf_counter()
    async with DemoRunner(workers=1, cooldown_s=0, queue_cap=8, timeout_s=60) as runner:
        start_s = time.perf_counter() - t0
        times: dict[str, list[float]] = {}
        for name in GOALS_S:
            times[name] = []
            for _ in range(repeats):
                t = time.perf_counter()
                await runner.run("bench", name, {})
                times[name].append(time.perf_counter() - t)

        idle = LagMeter()
        idle.start()
        await asyncio.sleep(2.0)
        await idle.stop()

        busy = LagMeter()
        busy.start()
        t = time.perf_counter()
        await asyncio.gather(
            *(
                runner.run(f"user{i}", name, {})
                for i, name in enumerate(["gan", "rnn", "vanishing", "gan"])
            )
        )
        four_s = time.perf_counter() - t
        await busy.stop()
    return start_s, times, idle, busy, four_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs of each demo per path")
    repeats = parser.parse_args().repeats
    print("Mini demos benchmark (defaults, PNG included)")
    print(f"python {sys.version.split()[0]}; ", end="")
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads by default")
    load1, load5, _ = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load1:.2f} (1 min), {load5:.2f} (5 min)")
    print("demos run with 1 torch thread; times are over", repeats, "runs after a warm-up\n")

    local = in_process_times(repeats)
    start_s, remote, idle, busy, four_s = asyncio.run(runner_bench(repeats))

    header = (
        f"{'demo':<10} {'goal':>6} {'in-proc med':>12} {'max':>7} {'CPU med':>8}"
        f" {'runner med':>11} {'max':>7}  ok"
    )
    print(header)
    print("-" * len(header))
    for name, goal in GOALS_S.items():
        lm, lx = statistics.median(local[name]), max(local[name])
        cm = statistics.median(CPU_TIMES[name])
        rm, rx = statistics.median(remote[name]), max(remote[name])
        ok = "yes" if max(lx, rx) <= goal else "NO"
        print(
            f"{name:<10} {goal:>5.1f}s {lm:>11.2f}s {lx:>6.2f}s {cm:>7.2f}s"
            f" {rm:>10.2f}s {rx:>6.2f}s  {ok}"
        )
    load1, load5, _ = os.getloadavg()
    print(f"load average at the end: {load1:.2f} (1 min), {load5:.2f} (5 min)")
    print(f"\nrunner start (spawn 1 worker, import + warm-up): {start_s:.2f} s")
    print(f"4 demos through the runner (gan, rnn, vanishing, gan; 1 worker): {four_s:.2f} s\n")

    header = f"{'event-loop lag':<26} {'ticks':>6} {'p50':>8} {'p99':>8} {'max':>8}"
    print(header)
    print("-" * len(header))
    for label, meter in (("idle loop", idle), ("while 4 demos run", busy)):
        lags = meter.lags_ms
        print(
            f"{label:<26} {len(lags):>6} {pct(lags, 50):>6.2f}ms {pct(lags, 99):>6.2f}ms"
            f" {max(lags):>6.2f}ms"
        )
    p99 = pct(busy.lags_ms, 99)
    verdict = "met" if p99 < LAG_GOAL_MS else "NOT met"
    print(f"\ngoal: p99 lag under {LAG_GOAL_MS:.0f} ms while demos run: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
