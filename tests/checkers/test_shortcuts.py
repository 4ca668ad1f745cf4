"""The shortcuts the families take are the computations they replace: `meta_module` (torch
modules on the meta device without the random initialisation) has the parameters, buffers and
output shapes of the module torch builds, `attention_flops` (two 3-D `bmm`s) counts what torch
counts for the 4-D attention products, and mlp_backprop's pass, which stops where its output
needs, gives what the full pass over every parameter gives."""

from __future__ import annotations

from random import Random
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from bot.checkers._backprop import MlpBackprop, MlpBackpropParams, torch_step
from bot.checkers._costs import attention_flops
from bot.checkers._torch import meta_module, quiet
from bot.core.models import Difficulty


def layout(module: nn.Module) -> list[tuple[str, tuple[int, ...], bool]]:
    params = [(name, tuple(p.shape), p.requires_grad) for name, p in module.named_parameters()]
    buffers = [(name, tuple(b.shape), False) for name, b in module.named_buffers()]
    return params + buffers


CASES: list[tuple[type[nn.Module], tuple[Any, ...], dict[str, Any]]] = [
    (nn.Conv2d, (3, 64, 7), {"stride": 2, "padding": 3}),
    (nn.Conv2d, (128, 128, 3), {"groups": 32, "bias": False}),
    (nn.Conv2d, (32, 32, 3), {"groups": 32, "padding": "same", "dilation": 2}),
    (nn.Conv2d, (1, 1, (5, 1)), {"stride": (2, 1), "padding": (1, 0), "bias": False}),
    (nn.Linear, (9216, 4096), {}),
    (nn.Linear, (10, 3), {"bias": False}),
    (nn.BatchNorm2d, (64,), {}),
    (nn.MultiheadAttention, (512, 8), {}),
    (nn.MultiheadAttention, (256, 4), {"bias": False, "kdim": 100, "vdim": 60}),
]


@pytest.mark.parametrize(("cls", "args", "kwargs"), CASES)
def test_same_parameters_and_buffers_as_torch_builds(
    cls: type[nn.Module], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    built = meta_module(cls, *args, **kwargs)
    reference = cls(*args, device="meta", **kwargs)
    assert isinstance(built, cls)
    assert layout(built) == layout(reference)
    assert repr(built) == repr(reference)


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 64),
    k=st.integers(1, 7),
    s=st.integers(1, 4),
    p=st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid"])),
    d=st.integers(1, 3),
)
def test_conv_output_shape_as_torch_builds(n: int, k: int, s: int, p: Any, d: int) -> None:
    if p == "same":
        s = 1
    if n + 2 * (p if isinstance(p, int) else 0) < d * (k - 1) + 1 and p != "same":
        return
    kwargs = {"stride": s, "padding": p, "dilation": d}
    x = torch.empty(3, n, n, device="meta")
    with quiet():
        built = meta_module(nn.Conv2d, 3, 8, k, **kwargs)(x).shape
        reference = nn.Conv2d(3, 8, k, device="meta", **kwargs)(x).shape
    assert built == reference


def flops_of_the_4d_products(batch: int, heads: int, seq: int, head_dim: int) -> int:
    """The count as first written: `@` on (batch, heads, n, d) tensors, softmax between."""
    q = torch.empty(batch, heads, seq, head_dim, device="meta")
    with FlopCounterMode(display=False) as counter:
        scores = q @ q.transpose(-1, -2)
        torch.softmax(scores, dim=-1) @ q
    return int(counter.get_total_flops())


@settings(max_examples=100, deadline=None)
@given(
    batch=st.integers(1, 64),
    heads=st.integers(1, 32),
    seq=st.integers(1, 10_000),
    head_dim=st.integers(1, 256),
)
def test_attention_flops_count_the_4d_products(
    batch: int, heads: int, seq: int, head_dim: int
) -> None:
    assert attention_flops(batch, heads, seq, head_dim) == flops_of_the_4d_products(
        batch, heads, seq, head_dim
    )


def full_step(p: MlpBackpropParams) -> dict[str, Any]:
    """mlp_backprop's pass as first written: every output, gradients of all four parameters
    and an SGD step over all of them."""
    w1 = torch.tensor(p.W1, dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor(p.W2, dtype=torch.float64, requires_grad=True)
    b1 = torch.tensor(p.b1, dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor(p.b2, dtype=torch.float64, requires_grad=True)
    x = torch.tensor(p.x, dtype=torch.float64)
    t = torch.tensor(p.targets, dtype=torch.float64)
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}.get(
        p.activation, lambda v: v
    )
    y = act(w2 @ act(w1 @ x + b1) + b2)
    squares = (t - y) ** 2
    loss = 0.5 * squares.sum() if p.loss == "half_mse" else squares.mean()
    parameters = [w1, b1, w2, b2]
    optimizer = torch.optim.SGD(parameters, lr=p.lr)
    for param, grad in zip(parameters, torch.autograd.grad(loss, parameters), strict=True):
        param.grad = grad
    assert w1.grad is not None and w2.grad is not None
    grads = {"grad_W1": w1.grad.tolist(), "grad_W2": w2.grad.tolist()}
    optimizer.step()
    return {
        "loss": float(loss.item()),
        **grads,
        "new_W1": w1.detach().tolist(),
        "new_W2": w2.detach().tolist(),
    }


@pytest.mark.parametrize("level", list(Difficulty), ids=lambda level: level.value)
def test_mlp_step_computes_what_the_full_pass_does(level: Difficulty) -> None:
    family = MlpBackprop()
    for seed in range(300):
        p = family.parse(family.draw(Random(seed), level))
        for activation in ("sigmoid", "tanh", "relu", "identity"):
            for output in ("loss", "grad_W1", "grad_W2", "new_W1", "new_W2"):
                variant = p.model_copy(update={"activation": activation, "output": output})
                full = full_step(variant)
                partial = torch_step(variant)
                assert partial == {key: full[key] for key in partial}, (seed, variant)
                assert output in partial
