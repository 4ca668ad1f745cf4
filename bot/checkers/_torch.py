"""Small torch helpers shared by the families.

Shapes and parameter counts come from real `torch.nn` modules built on the meta device (no
memory, no initialisation work); values come from float64 computations on the CPU so that the
answer key is exact to far more digits than any tolerance.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

META = torch.device("meta")
F64 = torch.float64


def count_params(module: nn.Module) -> int:
    """Learnable parameters, exactly as `sum(p.numel() for p in m.parameters())`."""
    return sum(p.numel() for p in module.parameters())


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
