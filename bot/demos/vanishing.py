"""Vanishing gradients in a deep MLP: weight-gradient norm per layer.

Setup (fixed and documented; only the fields of :class:`VanishingParams` vary):

* an MLP of ``layers`` linear layers, ``width`` -> ``width`` each, the
  activation after every layer but the last; biases zero.
* initialisation to match the activation, as usually taught: sigmoid and tanh
  with Xavier/Glorot normal (std = sqrt(2 / (fan_in + fan_out)), gain 1),
  ReLU with He/Kaiming normal (std = sqrt(2 / fan_in)).
* one batch of 128 inputs x ~ N(0, 1), regression targets y ~ N(0, 1) (the same
  for every activation), loss = mean squared error at the output.
* float64 throughout, so tiny gradients do not underflow to zero.
* the figure reported per activation is the first-to-last ratio
  ||dL/dW_1|| / ||dL/dW_L|| of the weight gradients' Frobenius norms.
"""

from __future__ import annotations

import time
from typing import Final, Literal

import numpy as np
import torch
from matplotlib.ticker import MaxNLocator
from torch import Tensor, nn

from bot.demos._util import (
    add_curves,
    first_to_last,
    fmt_sig,
    new_figure,
    progress_or_noop,
    render_png,
    torch_session,
)
from bot.demos.base import DemoResult, FigureValue, ProgressFn
from bot.demos.params import VanishingParams

__all__ = ["VanishingParams", "run_vanishing"]

BATCH: Final = 128

Activation = Literal["sigmoid", "tanh", "relu"]
ACTIVATIONS: Final[tuple[Activation, ...]] = ("sigmoid", "tanh", "relu")
_LABEL: Final = {"sigmoid": "sigmoid + Xavier", "tanh": "tanh + Xavier", "relu": "ReLU + He"}
_LABEL_ZH: Final = {
    "sigmoid": "sigmoid + Xavier 初始化",
    "tanh": "tanh + Xavier 初始化",
    "relu": "ReLU + He 初始化",
}
_COLOR: Final = {"sigmoid": "#d62728", "tanh": "#ff7f0e", "relu": "#1f77b4"}


def _layer_grad_norms(act: Activation, x: Tensor, y: Tensor, layers: int) -> np.ndarray:
    width = x.shape[1]
    linears = [nn.Linear(width, width, dtype=torch.float64) for _ in range(layers)]
    with torch.no_grad():
        for lin in linears:
            if act == "relu":
                nn.init.kaiming_normal_(lin.weight, mode="fan_in", nonlinearity="relu")
            else:
                nn.init.xavier_normal_(lin.weight, gain=1.0)
            nn.init.zeros_(lin.bias)
    fn = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[act]
    h = x
    for i, lin in enumerate(linears):
        h = lin(h)
        if i < layers - 1:
            h = fn(h)
    loss = torch.square(h - y).mean()
    grads = torch.autograd.grad(loss, [lin.weight for lin in linears])
    return np.array([float(g.norm()) for g in grads], dtype=np.float64)


def run_vanishing(params: VanishingParams, progress: ProgressFn | None = None) -> DemoResult:
    """Plot per-layer weight-gradient norms (see the module docstring).

    Figures: layers, width, seed, activations, and per activation
    ``ratio_<act>`` = ||dL/dW_1|| / ||dL/dW_L|| and ``norms_<act>`` (layers 1..L).
    """
    report = progress_or_noop(progress)
    t_start = time.perf_counter()
    acts: tuple[Activation, ...] = (
        ACTIVATIONS if params.activation == "all" else (params.activation,)
    )
    curves: dict[Activation, np.ndarray] = {}
    with torch_session(params.seed) as gen:
        x = torch.randn(BATCH, params.width, generator=gen, dtype=torch.float64)
        y = torch.randn(BATCH, params.width, generator=gen, dtype=torch.float64)
        for i, act in enumerate(acts):
            # every activation starts from the same RNG state, whichever are drawn
            torch.manual_seed(params.seed * 7919 + ACTIVATIONS.index(act) + 1)
            curves[act] = _layer_grad_norms(act, x, y, params.layers)
            report(0.8 * (i + 1) / len(acts))

    ratios = {act: first_to_last(curve) for act, curve in curves.items()}
    figures: dict[str, FigureValue] = {
        "layers": params.layers,
        "width": params.width,
        "seed": params.seed,
        "activations": [str(a) for a in acts],
    }
    add_curves(figures, curves, ratios)
    png = _draw(params, curves, ratios)
    wall = time.perf_counter() - t_start
    report(1.0)
    return DemoResult(png=png, figures=figures, caption=_caption(params, ratios, wall), wall_s=wall)


def _draw(
    params: VanishingParams, curves: dict[Activation, np.ndarray], ratios: dict[Activation, float]
) -> bytes:
    fig = new_figure(8.0, 4.8)
    ax = fig.add_subplot()
    layer = np.arange(1, params.layers + 1)
    floor = np.finfo(np.float64).tiny
    for act, curve in curves.items():
        label = f"{_LABEL[act]}: ratio {fmt_sig(ratios[act])}"
        ax.semilogy(
            layer, np.maximum(curve, floor), "o-", color=_COLOR[act], ms=3.5, lw=1.6, label=label
        )
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel("||dL/dW||  (log scale)")
    ax.set_xlim(0.5, params.layers + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=9, title="ratio = layer 1 / last layer")
    ax.set_title(
        f"Weight-gradient norm per layer, {params.layers} layers of width {params.width}",
        fontsize=11,
    )
    return render_png(fig)


def _caption(
    params: VanishingParams, ratios: dict[Activation, float], wall: float
) -> dict[str, str]:
    parts_en = [f"{_LABEL[a]} {fmt_sig(r)}" for a, r in ratios.items()]
    parts_zh = [f"{_LABEL_ZH[a]} {fmt_sig(r)}" for a, r in ratios.items()]
    en = (
        f"Weight-gradient norm per layer of a {params.layers}-layer MLP (width {params.width}, "
        f"biases zero, one batch, MSE loss at the output); {wall:.1f} s. "
        f"First-to-last-layer ratio ||dL/dW_1|| / ||dL/dW_{params.layers}||: "
        + "; ".join(parts_en)
        + "."
    )
    zh = (
        f"{params.layers} 层 MLP（宽度 {params.width}，偏置为零，单个批次，输出端 MSE 损失）"
        f"各层权重梯度的范数；用时 {wall:.1f} 秒。"
        f"第一层与最后一层之比 ||dL/dW_1|| / ||dL/dW_{params.layers}||："
        + "；".join(parts_zh)
        + "。"
    )
    if "sigmoid" in ratios:
        en += " The sigmoid's slope is at most 1/4, so each layer shrinks the gradient."
        zh += "sigmoid 的导数最大只有 1/4，梯度每经过一层都会缩小。"
    return {"en": en, "zh": zh}
