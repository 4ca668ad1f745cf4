"""Test-only demos used to exercise the runner (timeouts, crashes, queueing).

They are registered under the names "sleep" and "crash", which the runner
accepts only when constructed with ``allow_test_demos=True``.
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

from bot.demos._util import new_figure, progress_or_noop, render_png
from bot.demos.base import DemoResult, ProgressFn
from bot.demos.params import CrashParams, SleepParams

__all__ = ["run_crash", "run_sleep"]


GATE_LIMIT_S = 60.0
GATE_POLL_S = 0.01


def run_sleep(params: SleepParams, progress: ProgressFn | None = None) -> DemoResult:
    """Sleep ``params.seconds`` in ten slices, reporting progress; return a tiny PNG.

    Its figures also say how many objects this process's garbage collector has frozen
    (``frozen_objects``: a worker freezes what its imports and warm-up left).

    With ``params.gate``: report a quarter at once, then wait until the gate file exists
    (at most GATE_LIMIT_S), then report the rest.
    """
    report = progress_or_noop(progress)
    t0 = time.perf_counter()
    if params.gate:
        report(0.25)  # the job has started: a test waiting for this knows it is in a worker
        gate = Path(params.gate)
        while not gate.exists() and time.perf_counter() - t0 < GATE_LIMIT_S:
            time.sleep(GATE_POLL_S)
        report(0.9)
    else:
        for i in range(10):
            time.sleep(params.seconds / 10)
            report((i + 1) / 10)
    fig = new_figure(1.0, 1.0)
    fig.add_subplot().plot([0, 1], [0, 1])
    wall = time.perf_counter() - t0
    return DemoResult(
        png=render_png(fig, dpi=32),
        figures={"seconds": params.seconds, "frozen_objects": gc.get_freeze_count()},
        caption={"en": f"slept {params.seconds:g} s", "zh": f"睡了 {params.seconds:g} 秒"},
        wall_s=wall,
    )


def run_crash(params: CrashParams, progress: ProgressFn | None = None) -> DemoResult:
    """Kill the current process at once, as a segfault or the OOM killer would."""
    os._exit(params.exit_code)
