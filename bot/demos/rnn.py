"""How far back does the gradient reach? ||dL/dh_t|| over time for RNN, LSTM and GRU.

Setup (fixed and documented; only the fields of :class:`RnnParams` vary):

* one cell per kind, ``nn.RNNCell`` (tanh), ``nn.LSTMCell`` and ``nn.GRUCell``,
  with PyTorch's default initialisation (uniform in +-1/sqrt(hidden)), stepped
  by hand for T steps from a zero state h_0; input size 32, a batch of 8
  sequences with inputs x_t ~ N(0, 1) (the same inputs for every cell).
* the one non-default, common-practice choice: the LSTM's forget-gate bias is
  set to 1 (``bias_ih`` forget slice = 1, ``bias_hh`` forget slice = 0), as
  recommended by Gers et al. (2000) and Jozefowicz et al. (2015).
* the loss looks at the last step only: L = mean((w . h_T - y)^2) / 2 with a
  readout ``nn.Linear(hidden, 1)`` (default init) and targets y ~ N(0, 1).
* float64 throughout, so gradients of 1e-60 are still represented.
* the gradient dL/dh_t is taken with ``torch.autograd.grad`` w.r.t. every
  h_t (t = 0..T); for the LSTM it includes the paths through the cell state.
  The figure reported per cell is ||dL/dh_0|| / ||dL/dh_T|| (Frobenius norm
  over the batch).
"""

from __future__ import annotations

import time
from typing import Final, Literal

import numpy as np
import torch
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
from bot.demos.params import RnnParams

__all__ = ["RnnParams", "run_rnn"]

INPUT_SIZE: Final = 32
BATCH: Final = 8
LSTM_FORGET_BIAS: Final = 1.0

Cell = Literal["rnn", "lstm", "gru"]
CELLS: Final[tuple[Cell, ...]] = ("rnn", "lstm", "gru")
_LABEL: Final = {"rnn": "vanilla RNN (tanh)", "lstm": "LSTM", "gru": "GRU"}
_LABEL_ZH: Final = {"rnn": "普通 RNN（tanh）", "lstm": "LSTM", "gru": "GRU"}
_COLOR: Final = {"rnn": "#d62728", "lstm": "#1f77b4", "gru": "#2ca02c"}


def _grad_norms(cell: Cell, xs: Tensor, readout: nn.Linear, y: Tensor) -> np.ndarray:
    """||dL/dh_t|| for t = 0..T, for a freshly initialised cell of kind ``cell``."""
    batch, hidden = xs.shape[1], readout.in_features
    h0 = torch.zeros(batch, hidden, dtype=torch.float64, requires_grad=True)
    states: list[Tensor] = [h0]
    if cell == "lstm":
        lstm = nn.LSTMCell(INPUT_SIZE, hidden).double()
        with torch.no_grad():  # gate order in PyTorch: input, forget, cell, output
            lstm.bias_ih[hidden : 2 * hidden].fill_(LSTM_FORGET_BIAS)
            lstm.bias_hh[hidden : 2 * hidden].zero_()
        h, c = h0, torch.zeros(batch, hidden, dtype=torch.float64)
        for x in xs:
            h, c = lstm(x, (h, c))
            states.append(h)
    else:
        step: nn.Module = (
            nn.RNNCell(INPUT_SIZE, hidden, nonlinearity="tanh")
            if cell == "rnn"
            else nn.GRUCell(INPUT_SIZE, hidden)
        ).double()
        h = h0
        for x in xs:
            h = step(x, h)
            states.append(h)
    loss = 0.5 * torch.square(readout(states[-1]).squeeze(1) - y).mean()
    grads = torch.autograd.grad(loss, states)
    return np.array([float(g.norm()) for g in grads], dtype=np.float64)


def run_rnn(params: RnnParams, progress: ProgressFn | None = None) -> DemoResult:
    """Plot ||dL/dh_t|| against t for the chosen cell(s) (see the module docstring).

    Figures: T, hidden, seed, cells, and for each cell ``ratio_<cell>`` =
    ||dL/dh_0|| / ||dL/dh_T|| and ``norms_<cell>`` (the curve, t = 0..T).
    """
    report = progress_or_noop(progress)
    t_start = time.perf_counter()
    cells: tuple[Cell, ...] = CELLS if params.cell == "all" else (params.cell,)
    curves: dict[Cell, np.ndarray] = {}
    with torch_session(params.seed) as gen:
        xs = torch.randn(params.T, BATCH, INPUT_SIZE, generator=gen, dtype=torch.float64)
        y = torch.randn(BATCH, generator=gen, dtype=torch.float64)
        readout = nn.Linear(params.hidden, 1).double()
        for i, cell in enumerate(cells):
            # every cell starts from the same RNG state, whichever cells are drawn
            torch.manual_seed(params.seed * 7919 + CELLS.index(cell) + 1)
            curves[cell] = _grad_norms(cell, xs, readout, y)
            report(0.8 * (i + 1) / len(cells))

    ratios = {cell: first_to_last(curve) for cell, curve in curves.items()}
    figures: dict[str, FigureValue] = {
        "T": params.T,
        "hidden": params.hidden,
        "seed": params.seed,
        "cells": [str(c) for c in cells],
    }
    add_curves(figures, curves, ratios)
    png = _draw(params, curves, ratios)
    wall = time.perf_counter() - t_start
    report(1.0)
    return DemoResult(png=png, figures=figures, caption=_caption(params, ratios, wall), wall_s=wall)


def _draw(params: RnnParams, curves: dict[Cell, np.ndarray], ratios: dict[Cell, float]) -> bytes:
    fig = new_figure(8.0, 4.8)
    ax = fig.add_subplot()
    t = np.arange(params.T + 1)
    floor = np.finfo(np.float64).tiny
    for cell, curve in curves.items():
        label = f"{_LABEL[cell]}: ratio {fmt_sig(ratios[cell])}"
        ax.semilogy(t, np.maximum(curve, floor), color=_COLOR[cell], linewidth=1.8, label=label)
    ax.set_xlabel("time step t (loss at t = T)")
    ax.set_ylabel("||dL/dh_t||  (log scale)")
    ax.set_xlim(0, params.T)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=9, title="ratio = ||dL/dh_0|| / ||dL/dh_T||")
    init = "PyTorch default init" + (
        f"; LSTM forget-gate bias {LSTM_FORGET_BIAS:g}" if "lstm" in curves else ""
    )
    ax.set_title(
        f"Gradient flowing back through time, T = {params.T}, hidden {params.hidden}\n({init})",
        fontsize=11,
    )
    return render_png(fig)


def _caption(params: RnnParams, ratios: dict[Cell, float], wall: float) -> dict[str, str]:
    parts_en = [f"{_LABEL[c]} {fmt_sig(r)}" for c, r in ratios.items()]
    parts_zh = [f"{_LABEL_ZH[c]} {fmt_sig(r)}" for c, r in ratios.items()]
    lstm = "lstm" in ratios  # the one non-default choice is the LSTM's: said only if it ran
    bias_en = f", LSTM forget-gate bias {LSTM_FORGET_BIAS:g} as is common practice" if lstm else ""
    bias_zh = f"，LSTM 遗忘门偏置按惯例设为 {LSTM_FORGET_BIAS:g}" if lstm else ""
    en = (
        f"Gradient of a last-step loss with respect to each hidden state h_t, T = {params.T} "
        f"(hidden {params.hidden}, PyTorch default init{bias_en}); {wall:.1f} s. "
        f"Ratio ||dL/dh_0|| / ||dL/dh_T||: " + "; ".join(parts_en) + "."
    )
    zh = (
        f"只在最后一步计算损失，求它对每个隐状态 h_t 的梯度，T = {params.T}"
        f"（隐藏维度 {params.hidden}，PyTorch 默认初始化{bias_zh}）；用时 {wall:.1f} 秒。"
        f"比值 ||dL/dh_0|| / ||dL/dh_T||：" + "；".join(parts_zh) + "。"
    )
    if "rnn" in ratios and "lstm" in ratios and ratios["rnn"] > 0:
        factor = ratios["lstm"] / ratios["rnn"]
        en += f" The LSTM keeps {fmt_sig(factor)} times more of the gradient than the vanilla RNN."
        zh += f"LSTM 保留下来的梯度是普通 RNN 的 {fmt_sig(factor)} 倍。"
    return {"en": en, "zh": zh}
