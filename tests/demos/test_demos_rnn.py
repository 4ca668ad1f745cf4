"""The RNN/LSTM/GRU gradient-through-time demo."""

from __future__ import annotations

import math

import pytest

from bot.demos.base import DemoParamsError, DemoResult, parse_params
from bot.demos.rnn import RnnParams, run_rnn

from ._helpers import assert_plain_figures, assert_png, assert_same_result, has_cjk


@pytest.fixture(scope="module")
def default_runs() -> tuple[DemoResult, DemoResult]:
    return run_rnn(RnnParams()), run_rnn(RnnParams())


def _ratio(result: DemoResult, cell: str) -> float:
    value = result.figures[f"ratio_{cell}"]
    assert isinstance(value, float)
    return value


def test_default_is_deterministic(default_runs: tuple[DemoResult, DemoResult]) -> None:
    a, b = default_runs
    assert_png(a.png)
    assert_same_result(a, b)
    assert_plain_figures(a)
    assert a.figures["T"] == 100
    assert a.figures["cells"] == ["rnn", "lstm", "gru"]


def test_lstm_keeps_far_more_gradient_than_vanilla_rnn_at_t100(
    default_runs: tuple[DemoResult, DemoResult],
) -> None:
    result = default_runs[0]
    rnn, lstm = _ratio(result, "rnn"), _ratio(result, "lstm")
    assert 0.0 < rnn < 1.0
    assert lstm >= 100 * rnn


def test_curves_are_the_ratios(default_runs: tuple[DemoResult, DemoResult]) -> None:
    f = default_runs[0].figures
    for cell in ("rnn", "lstm", "gru"):
        norms = f[f"norms_{cell}"]
        assert isinstance(norms, list) and len(norms) == 101
        first, last = float(norms[0]), float(norms[-1])
        assert math.isclose(_ratio(default_runs[0], cell), first / last, rel_tol=1e-5)


def test_caption_gives_every_ratio(default_runs: tuple[DemoResult, DemoResult]) -> None:
    result = default_runs[0]
    en, zh = result.caption["en"], result.caption["zh"]
    for name in ("vanilla RNN", "LSTM", "GRU"):
        assert name in en
    assert "forget-gate bias 1" in en
    assert has_cjk(zh) and "遗忘门偏置" in zh
    assert "T = 100" in en and "T = 100" in zh


def test_single_cell_matches_the_all_run(default_runs: tuple[DemoResult, DemoResult]) -> None:
    only = run_rnn(RnnParams(cell="lstm"))
    assert only.figures["cells"] == ["lstm"]
    assert only.figures["ratio_lstm"] == default_runs[0].figures["ratio_lstm"]
    assert "ratio_rnn" not in only.figures


def test_the_forget_gate_bias_is_named_only_when_an_lstm_ran() -> None:
    for cell in ("rnn", "gru"):
        caption = run_rnn(RnnParams(T=10, cell=cell)).caption
        assert "LSTM" not in caption["en"] and "LSTM" not in caption["zh"], cell
    caption = run_rnn(RnnParams(T=10, cell="lstm")).caption
    assert "LSTM forget-gate bias 1 as is common practice" in caption["en"]
    assert "LSTM 遗忘门偏置按惯例设为 1" in caption["zh"]


def test_long_sequences_do_not_underflow() -> None:
    result = run_rnn(RnnParams(T=200, cell="rnn"))
    assert 0.0 < _ratio(result, "rnn") < 1e-20


def test_progress_ends_at_one() -> None:
    seen: list[float] = []
    run_rnn(RnnParams(T=5), progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"T": 201}, "T"),
        ({"T": 1}, "T"),
        ({"cell": "transformer"}, "cell"),
        ({"hidden": 0}, "hidden"),
    ],
)
def test_invalid_params(raw: dict[str, object], field: str) -> None:
    with pytest.raises(DemoParamsError) as info:
        parse_params(RnnParams, raw, "rnn")
    assert field in str(info.value)
