"""`meta_rnn`: the recurrent modules the rnn families read, built once per configuration and
without the random initialisation, have exactly the parameters of the modules torch builds."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch
from torch import nn

from bot.checkers._torch import RnnCell, meta_rnn

_CLASSES: dict[RnnCell, Any] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@pytest.mark.parametrize(
    ("cell", "layers", "bidirectional", "bias"),
    list(itertools.product(("rnn", "lstm", "gru"), (1, 3), (False, True), (False, True))),
)
def test_same_parameters_as_the_module_torch_builds(
    cell: RnnCell, layers: int, bidirectional: bool, bias: bool
) -> None:
    built = meta_rnn(cell, 7, 5, layers, bidirectional, bias)
    reference = _CLASSES[cell](
        7, 5, num_layers=layers, bidirectional=bidirectional, bias=bias, device="meta"
    )
    assert isinstance(built, _CLASSES[cell])
    assert [(name, p.shape) for name, p in built.named_parameters()] == [
        (name, p.shape) for name, p in reference.named_parameters()
    ]
    x = torch.empty(4, 3, 7, device="meta")
    assert built.get_expected_hidden_size(x, None) == reference.get_expected_hidden_size(x, None)


def test_built_once_per_configuration() -> None:
    # the families ask for the same few shapes again and again: no second build
    assert meta_rnn("lstm", 300, 1024, 4, True) is meta_rnn("lstm", 300, 1024, 4, True)
    assert meta_rnn("lstm", 300, 1024, 4, True) is not meta_rnn("gru", 300, 1024, 4, True)
