"""Benchmark the numeric checkers, side by side in one run.

1. The `check` command: the same requests answered by one process per request versus one
   `--batch` process (grades per second, start-up included), plus a long batch for the
   steady-state rate.
2. In-process: p50/p99 of generate + grade for every family after warm-up (goal: p99 < 5 ms).

    .venv/bin/python bench/checkers.py [--requests 25] [--batch-size 2000] [--samples 300]

The CLI is run as `python -m bot.checkers.cli`, the module `python -m bot check` calls.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.checkers import TorchCheckers, make_checkers  # noqa: E402 - after the path set-up

CLI = [sys.executable, "-m", "bot.checkers.cli"]


def requests_for(checkers: TorchCheckers, count: int, offset: int = 0) -> list[dict[str, object]]:
    """`count` seeded requests cycling through the families, each with its correct answer."""
    names = checkers.family_names()
    out: list[dict[str, object]] = []
    for i in range(count):
        family = names[i % len(names)]
        seed = offset + i
        expected = checkers.generate(family, seed).expected
        out.append({"family": family, "seed": seed, "answer": json.dumps(expected)})
    return out


def run_per_process(requests: list[dict[str, object]]) -> float:
    start = time.perf_counter()
    for request in requests:
        argv = [
            *CLI,
            str(request["family"]),
            "--seed",
            str(request["seed"]),
            "--answer",
            str(request["answer"]),
        ]
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not json.loads(done.stdout)["correct"]:
            raise SystemExit(f"per-process request failed: {argv}: {done.stderr.strip()}")
    return time.perf_counter() - start


def run_batch(requests: list[dict[str, object]]) -> float:
    payload = "".join(json.dumps(r) + "\n" for r in requests)
    start = time.perf_counter()
    done = subprocess.run(
        [*CLI, "--batch", "-"], cwd=ROOT, input=payload, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    lines = done.stdout.splitlines()
    if done.returncode != 0 or len(lines) != len(requests):
        raise SystemExit(f"batch failed: {done.stderr.strip()}")
    wrong = [line for line in lines if not json.loads(line).get("correct")]
    if wrong:
        raise SystemExit(f"batch graded {len(wrong)} correct answers as wrong: {wrong[0][:200]}")
    return elapsed


def in_process(
    checkers: TorchCheckers, samples: int
) -> list[tuple[str, float, float, float, float]]:
    """(family, p50 ms, p99 ms, max ms, CPU p99 ms) of generate + grade, fresh seeds, after
    warm-up. The families take turns sample by sample, so that a busy spell of a shared machine
    falls on all of them alike; the CPU time (this thread's) leaves out the time spent waiting
    for a core."""
    families = checkers.family_names()
    for family in families:
        for seed in range(30):  # warm-up: imports, torch kernels, the model-count cache
            checkers.grade(family, seed, "0")
    wall: dict[str, list[float]] = {family: [] for family in families}
    cpu: dict[str, list[float]] = {family: [] for family in families}
    for i in range(samples):
        seed = 10_000 + i
        for family in families:
            start, start_cpu = time.perf_counter(), time.thread_time()
            question = checkers.generate(family, seed)
            checkers.grade(family, seed, json.dumps(question.expected))
            wall[family].append((time.perf_counter() - start) * 1000)
            cpu[family].append((time.thread_time() - start_cpu) * 1000)
    rows = []
    for family in families:
        timings, cpu_times = sorted(wall[family]), sorted(cpu[family])
        p99 = timings[min(len(timings) - 1, int(0.99 * len(timings)))]
        cpu99 = cpu_times[min(len(cpu_times) - 1, int(0.99 * len(cpu_times)))]
        rows.append((family, statistics.median(timings), p99, timings[-1], cpu99))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=25, help="requests run both ways")
    parser.add_argument("--batch-size", type=int, default=2000, help="long batch for throughput")
    parser.add_argument("--samples", type=int, default=300, help="in-process samples per family")
    parser.add_argument(
        "--in-process-only", action="store_true", help="skip the `check` command part (1.)"
    )
    args = parser.parse_args()

    # No problem cache: grade() works the question out again, as after a restart. Torch on one
    # thread, as the bot and the console run it (make_checkers).
    checkers = make_checkers(cache_size=0)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s)")

    if not args.in_process_only:
        same = requests_for(checkers, args.requests)
        per_process = run_per_process(same)
        batch = run_batch(same)
        long_batch = run_batch(requests_for(checkers, args.batch_size, offset=100_000))
        print(f"\n`check` command, the same {len(same)} requests (start-up included):")
        rate = len(same) / per_process
        print(f"  one process per request: {per_process:7.2f} s  {rate:8.1f} grades/s")
        print(f"  one --batch process:     {batch:7.2f} s  {len(same) / batch:8.1f} grades/s")
        print(f"  speed-up: {per_process / batch:.1f}x")
        steady = (args.batch_size - len(same)) / max(long_batch - batch, 1e-9)
        print(
            f"  --batch of {args.batch_size} requests: {long_batch:.2f} s, "
            f"{args.batch_size / long_batch:.0f} grades/s overall, ~{steady:.0f} grades/s once "
            "started (start-up subtracted)"
        )

    load_before = os.getloadavg()[0]
    rows = in_process(checkers, args.samples)
    print(f"\nin-process generate + grade, {args.samples} fresh seeds per family after warm-up")
    print(f"(load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after)")
    print(f"  {'family':28} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'CPU p99':>8}")
    for family, p50, p99, worst, cpu99 in rows:
        flag = "" if p99 < 5 else "  <- over 5 ms"
        print(f"  {family:28} {p50:8.3f} {p99:8.3f} {worst:8.3f} {cpu99:8.3f}{flag}")
    slowest = max(rows, key=lambda row: row[2])
    busiest = max(rows, key=lambda row: row[4])
    print(f"  worst p99: {slowest[0]} {slowest[2]:.3f} ms (goal < 5 ms)")
    print(f"  worst CPU p99: {busiest[0]} {busiest[4]:.3f} ms (the rest of a wall time is waiting)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
