"""The worked solution of `mlp_backprop` writes act'(z) with its brackets: (y - t)·(1 - y²) for
tanh, not (y - t)·1 - y², which reads as a different formula."""

from __future__ import annotations

import pytest

from bot.checkers._backprop import MlpBackprop, MlpBackpropParams

NET = {
    "x": [0.05, 0.10],
    "t": [0.01, 0.99],
    "W1": [[0.15, 0.20], [0.25, 0.30]],
    "b1": 0.35,
    "W2": [[0.40, 0.45], [0.50, 0.55]],
    "b2": 0.60,
}


@pytest.mark.parametrize(
    ("activation", "written"),
    [("tanh", "(y - t)·(1 - y²) = ["), ("sigmoid", "(y - t)·y·(1 - y) = [")],
)
@pytest.mark.parametrize("output", ["grad_W2", "grad_W1", "new_W1"])
def test_the_output_delta_is_written_with_its_brackets(
    activation: str, written: str, output: str
) -> None:
    params = MlpBackpropParams.model_validate(
        {**NET, "activation": activation, "output": output, "i": 1, "j": 0}
    )
    solved = MlpBackprop().solve(params)
    for text in (solved.solution.en, solved.solution.zh):
        assert written in text, text
        assert "·1 - y²" not in text
