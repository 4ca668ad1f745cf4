"""The vanishing-gradient demo (deep MLP, per-layer weight-gradient norms)."""

from __future__ import annotations

import pytest

from bot.demos.base import DemoParamsError, DemoResult, parse_params
from bot.demos.vanishing import VanishingParams, run_vanishing

from ._helpers import assert_plain_figures, assert_png, assert_same_result, has_cjk


@pytest.fixture(scope="module")
def default_runs() -> tuple[DemoResult, DemoResult]:
    return run_vanishing(VanishingParams()), run_vanishing(VanishingParams())


def _ratio(result: DemoResult, act: str) -> float:
    value = result.figures[f"ratio_{act}"]
    assert isinstance(value, float)
    return value


def test_default_is_deterministic(default_runs: tuple[DemoResult, DemoResult]) -> None:
    a, b = default_runs
    assert_png(a.png)
    assert_same_result(a, b)
    assert_plain_figures(a)
    assert a.figures["layers"] == 20


def test_sigmoid_vanishes_with_20_layers(default_runs: tuple[DemoResult, DemoResult]) -> None:
    assert _ratio(default_runs[0], "sigmoid") < 1e-3


def test_relu_with_he_init_stays_within_a_factor_of_10(
    default_runs: tuple[DemoResult, DemoResult],
) -> None:
    assert 0.1 <= _ratio(default_runs[0], "relu") <= 10.0


def test_one_norm_per_layer(default_runs: tuple[DemoResult, DemoResult]) -> None:
    for act in ("sigmoid", "tanh", "relu"):
        norms = default_runs[0].figures[f"norms_{act}"]
        assert isinstance(norms, list) and len(norms) == 20
        assert all(isinstance(v, float) and v > 0 for v in norms)


def test_caption(default_runs: tuple[DemoResult, DemoResult]) -> None:
    en, zh = default_runs[0].caption["en"], default_runs[0].caption["zh"]
    assert "sigmoid + Xavier" in en and "ReLU + He" in en and "20-layer" in en
    assert has_cjk(zh) and "20 层" in zh


def test_single_activation_and_deep_nets_do_not_underflow() -> None:
    result = run_vanishing(VanishingParams(activation="sigmoid", layers=60, width=16))
    assert result.figures["activations"] == ["sigmoid"]
    assert 0.0 < _ratio(result, "sigmoid") < 1e-20


@pytest.mark.parametrize(
    ("raw", "field"),
    [({"layers": 1}, "layers"), ({"layers": 61}, "layers"), ({"activation": "gelu"}, "activation")],
)
def test_invalid_params(raw: dict[str, object], field: str) -> None:
    with pytest.raises(DemoParamsError) as info:
        parse_params(VanishingParams, raw, "vanishing")
    assert field in str(info.value)
