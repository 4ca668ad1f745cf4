"""Names of the demos, their parameter models, and where their code lives.

Cheap to import (no torch): the runner validates parameters in the bot process
with :func:`get_spec`, and the worker process imports the demo's module lazily
with :func:`load_demo`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bot.demos.base import DemoParams, DemoParamsError, DemoResult, ProgressFn
from bot.demos.params import (
    WGAN_STEP_OVERHEAD,
    CrashParams,
    GanParams,
    RnnParams,
    SleepParams,
    VanishingParams,
)

__all__ = ["DemoFn", "DemoSpec", "demo_names", "get_spec", "load_demo"]

DemoFn = Callable[[DemoParams, ProgressFn | None], DemoResult]


def _gan_cost(p: DemoParams) -> float:
    assert isinstance(p, GanParams)
    if p.loss == "wgan":  # 5 critic steps (the penalty through autograd) + 1 G step
        return 0.2 + (p.steps / 1200) * 10.3 * (p.batch + WGAN_STEP_OVERHEAD) / 320
    return 0.2 + 0.8 * (p.steps / 1200) * max(p.batch / 128, 0.25)


def _rnn_cost(p: DemoParams) -> float:
    assert isinstance(p, RnnParams)
    return 0.6 + 0.4 * (p.T / 100) * (3 if p.cell == "all" else 1) / 3


def _unit_cost(_p: DemoParams) -> float:
    return 1.0


def _sleep_cost(p: DemoParams) -> float:
    assert isinstance(p, SleepParams)
    return max(p.seconds, 0.05)


@dataclass(frozen=True, slots=True)
class DemoSpec:
    """One demo: its name, parameter model and code.

    ``expected_s`` is a rough wall time of the default run, used by the runner's
    queue estimates until it has measured the demo; ``cost`` scales it for other
    parameters (1.0 at the defaults).
    """

    name: str
    params: type[DemoParams]
    target: str  # "module:function"
    expected_s: float
    cost: Callable[[DemoParams], float] = _unit_cost
    test_only: bool = False


_SPECS: Final[tuple[DemoSpec, ...]] = (
    DemoSpec("gan", GanParams, "bot.demos.gan:run_gan", 1.0, _gan_cost),
    DemoSpec("rnn", RnnParams, "bot.demos.rnn:run_rnn", 0.5, _rnn_cost),
    DemoSpec("vanishing", VanishingParams, "bot.demos.vanishing:run_vanishing", 0.5),
    # Test-only demos; the runner accepts them only when built with allow_test_demos=True.
    DemoSpec("sleep", SleepParams, "bot.demos._testing:run_sleep", 1.0, _sleep_cost, True),
    DemoSpec("crash", CrashParams, "bot.demos._testing:run_crash", 0.1, test_only=True),
)


def demo_names(*, include_test: bool = False) -> list[str]:
    """Names of the available demos."""
    return [s.name for s in _SPECS if include_test or not s.test_only]


def get_spec(name: str, *, include_test: bool = False) -> DemoSpec:
    """The spec of demo ``name``; :class:`DemoParamsError` if there is none."""
    for spec in _SPECS:
        if spec.name == name and (include_test or not spec.test_only):
            return spec
    known = demo_names(include_test=include_test)
    raise DemoParamsError(
        f"unknown demo {name!r}; available: {', '.join(known)}",
        zh=f"没有演示 {name!r}；可用的演示：{'、'.join(known)}",
    )


def load_demo(spec: DemoSpec) -> DemoFn:
    """Import the demo's function (imports torch and matplotlib: workers only)."""
    module_name, _, attr = spec.target.partition(":")
    fn: DemoFn = getattr(importlib.import_module(module_name), attr)
    return fn
