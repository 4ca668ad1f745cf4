"""Registry and runner pieces that need no process pool."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.demos.base import DemoParamsError
from bot.demos.params import GanParams, SleepParams
from bot.demos.registry import demo_names, get_spec
from bot.demos.runner import DemoRunner

REPO = Path(__file__).resolve().parents[2]


def test_registry_lists_the_demos_and_hides_test_demos() -> None:
    assert demo_names() == ["gan", "rnn", "vanishing"]
    assert demo_names(include_test=True) == ["gan", "rnn", "vanishing", "sleep", "crash"]
    assert get_spec("gan").params is GanParams
    assert get_spec("sleep", include_test=True).params is SleepParams
    with pytest.raises(
        DemoParamsError, match="unknown demo 'sleep'; available: gan, rnn, vanishing"
    ):
        get_spec("sleep")


def test_cost_estimates_scale_with_the_parameters() -> None:
    spec = get_spec("gan")
    assert spec.cost(GanParams()) == pytest.approx(1.0)
    assert spec.cost(GanParams(loss="wgan")) > 4 * spec.cost(GanParams())
    assert spec.cost(GanParams(steps=600)) < spec.cost(GanParams())


def test_constructor_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="workers"):
        DemoRunner(workers=0)
    with pytest.raises(ValueError, match="fork"):
        DemoRunner(mp_context="fork")  # type: ignore[arg-type]


def test_bot_process_does_not_import_torch_or_matplotlib() -> None:
    code = (
        "import sys, bot.demos.runner, bot.demos.registry;"
        "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
