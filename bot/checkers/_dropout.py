"""Dropout values: dropout_scale (the inverted-dropout scale PyTorch applies in training)."""

from __future__ import annotations

import threading
from random import Random
from typing import Annotated, Any

import torch
from pydantic import BeforeValidator, Field
from torch import nn

from bot.checkers._base import Family, Params, Solved, _not_bool, mistake
from bot.checkers._torch import F64
from bot.checkers._values import f
from bot.core.models import Difficulty, Localized

# --- dropout_scale ------------------------------------------------------------------------


class DropoutScaleParams(Params):
    p: Annotated[float, BeforeValidator(_not_bool), Field(ge=0, le=0.99, allow_inf_nan=False)]


def dropout_train_scale(p: float, lock: threading.Lock) -> float:
    """Read the scale off nn.Dropout itself: the value a kept unit of a ones-tensor takes.

    The global RNG is forked (and restored) so that asking a question never disturbs anyone
    else's random stream; the lock keeps two threads from interleaving their fork/restore.
    4096 units make 'everything dropped' impossible in practice for p <= 0.99.
    """
    if p == 0:
        return 1.0
    with lock, torch.random.fork_rng(devices=[]):
        # Seed the CPU generator only: torch.manual_seed would also queue lazy seeding of
        # every accelerator backend, formatting a stack trace each time (milliseconds).
        torch.default_generator.manual_seed(0)
        out = nn.Dropout(p).train()(torch.ones(4096, dtype=F64))
    kept = out[out != 0]
    return float(kept[0].item())


class DropoutScale(Family[DropoutScaleParams]):
    name = "dropout_scale"
    summary = "the train-time scale of inverted dropout"
    params_model = DropoutScaleParams

    def __init__(self) -> None:
        self._rng_lock = threading.Lock()

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        # AlexNet's classifier uses 0.5, Transformers 0.1; hard ones drop most units (p is the
        # drop probability, not the keep probability).
        options = {
            Difficulty.EASY: [i / 100 for i in range(5, 65)],
            Difficulty.MEDIUM: [i / 100 for i in range(10, 80)],
            Difficulty.HARD: [i / 200 for i in range(120, 196)],
        }
        return {"p": rng.choice(options[level])}

    def ask(self, p: DropoutScaleParams) -> Localized:
        return Localized(
            en=f"nn.Dropout(p={f(p.p)}) in training mode (PyTorch's inverted dropout; p is the "
            "probability of zeroing a unit). By what factor are the units that are kept "
            "multiplied?",
            zh=f"训练模式下的 nn.Dropout(p={f(p.p)})（PyTorch 使用 inverted dropout；p "
            "是把单元置零的概率）。"
            "被保留下来的单元要乘以多少？",
        )

    def solve(self, p: DropoutScaleParams) -> Solved:
        scale = dropout_train_scale(p.p, self._rng_lock)
        solution = Localized(
            en=f"Each unit is kept with probability 1 - p = {f(1 - p.p)} and scaled by "
            f"1/(1 - p) = 1/{f(1 - p.p)} = {f(scale)}, so the expected activation is unchanged "
            "and evaluation needs no rescaling.",
            zh=f"每个单元以概率 1 - p = {f(1 - p.p)} 被保留，并乘以 1/(1 - p) = 1/{f(1 - p.p)} = "
            f"{f(scale)}，这样激活的期望不变，测试时不需要再缩放。",
        )
        candidates = [
            mistake(
                "keep_probability",
                1 - p.p,
                "Multiplying by the keep probability 1 - p is the original (non-inverted) "
                "dropout at test time; PyTorch divides by it during training instead.",
                "乘以保留概率 1 - p 是原始（非 inverted）dropout 在测试时的做法；PyTorch "
                "是在训练时除以它。",
            ),
            mistake(
                "one_over_p",
                1 / p.p if p.p else 0.0,
                "p is the drop probability in PyTorch; the scale is 1/(1 - p), not 1/p.",
                "PyTorch 中 p 是丢弃概率；缩放因子是 1/(1 - p)，不是 1/p。",
            ),
            mistake(
                "p_itself",
                p.p,
                "p is the probability of dropping a unit; kept units are scaled by 1/(1 - p).",
                "p 是丢弃一个单元的概率；保留的单元要乘以 1/(1 - p)。",
            ),
            mistake(
                "no_scaling",
                1.0,
                "PyTorch's dropout is inverted: kept units are scaled up during training so that "
                "nothing changes at evaluation.",
                "PyTorch 的 dropout 是 inverted 的：训练时放大保留的单元，评估时就不用做任何改变。",
            ),
        ]
        return Solved(scale, solution, tuple(candidates))
