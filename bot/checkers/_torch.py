"""Small torch helpers shared by the families.

Shapes and parameter counts come from real `torch.nn` modules built on the meta device (no
memory, no initialisation work); values come from float64 computations on the CPU so that the
answer key is exact to far more digits than any tolerance.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar, cast

import torch
from torch import nn

META = torch.device("meta")
F64 = torch.float64

M = TypeVar("M", bound=nn.Module)


_BARE: dict[type[nn.Module], type[nn.Module]] = {}


def _bare(cls: type[M]) -> type[M]:
    """``cls`` whose constructor creates every parameter as usual but skips the random
    initialisation (``reset_parameters``; ``_reset_parameters`` in ``nn.MultiheadAttention``),
    which on the meta device is pure overhead: 60-80% of building an ``nn.Conv2d``."""
    bare = _BARE.get(cls)
    if bare is None:

        def skip(self: nn.Module) -> None:
            del self

        names = ("reset_parameters", "_reset_parameters")
        attrs = {name: skip for name in names if hasattr(cls, name)}
        bare = _BARE[cls] = type(cls.__name__, (cls,), attrs)
    return cast("type[M]", bare)


def meta_module(cls: type[M], *args: Any, **kwargs: Any) -> M:
    """``cls(*args, **kwargs)`` on the meta device, without the random initialisation: the same
    parameters, buffers and forward (tests/checkers/test_shortcuts.py), for reading shapes
    and counts.

    Built afresh each time: a cache of them (most configurations are drawn once, so it would
    keep evicting) moves every module it holds into the collector's oldest generation, and
    that churn set off a full collection of the whole process (~180 ms with torch loaded) in a
    run of 12,000 questions that otherwise has none."""
    built: M = _bare(cls)(*args, device=META, **kwargs)
    return built


def count_params(module: nn.Module) -> int:
    """Learnable parameters, exactly as `sum(p.numel() for p in m.parameters())`."""
    return sum(p.numel() for p in module.parameters())


RnnCell = Literal["rnn", "lstm", "gru"]
_RNN_CLASSES: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _without_init(cls: type[nn.RNNBase]) -> Callable[..., nn.RNNBase]:
    """``cls`` whose constructor creates every parameter as usual but skips the random
    initialisation (on the meta device it is pure overhead: about half of the build)."""

    def reset_parameters(self: nn.RNNBase) -> None:
        del self

    built: Callable[..., Any] = type(cls.__name__, (cls,), {"reset_parameters": reset_parameters})
    return built


_UNINITIALISED = {name: _without_init(cls) for name, cls in _RNN_CLASSES.items()}


@functools.lru_cache(maxsize=1024)
def meta_rnn(
    cell: RnnCell,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    bias: bool = True,
    batch_first: bool = False,
) -> nn.RNNBase:
    """``nn.RNN``/``nn.LSTM``/``nn.GRU`` with these arguments on the meta device, built once per
    configuration (the families read its parameters and shape rules, never change it).

    The class is a subclass that only skips ``reset_parameters``: the parameters themselves are
    the ones the real constructor creates."""
    return _UNINITIALISED[cell](
        input_size,
        hidden_size,
        num_layers=num_layers,
        bidirectional=bidirectional,
        bias=bias,
        batch_first=batch_first,
        device=META,
    )


def scalar(value: float, *, grad: bool = False) -> torch.Tensor:
    return torch.tensor(value, dtype=F64, requires_grad=grad)


def vector(values: list[float], *, grad: bool = False) -> torch.Tensor:
    return torch.tensor(values, dtype=F64, requires_grad=grad)


@contextmanager
def quiet() -> Iterator[None]:
    """Silence torch's user warnings (e.g. 'same' padding with an even kernel) for one call.

    The warnings are about performance, not about the shapes we read, and would clutter the
    `check` command's stderr.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
