"""Normalisation values: batchnorm_forward (a real `nn.BatchNorm1d` in train mode)."""

from __future__ import annotations

import math
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
from pydantic import BeforeValidator, Field, model_validator
from torch import nn

from bot.checkers._base import Family, Params, Real, Solved, _not_bool, mistake
from bot.checkers._torch import F64, vector
from bot.checkers._values import f, fl, fp, list_request
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

Batch = Annotated[list[Real], Field(min_length=2, max_length=64)]

# --- batchnorm_forward --------------------------------------------------------------------


class BatchnormForwardParams(Params):
    x: Batch = Field(description="one feature over the batch")
    gamma: Real = 1.0
    beta: Real = 0.0
    eps: Annotated[float, BeforeValidator(_not_bool), Field(ge=0, le=1, allow_inf_nan=False)] = 1e-5
    momentum: Annotated[
        float, BeforeValidator(_not_bool), Field(ge=0, le=1, allow_inf_nan=False)
    ] = 0.1
    output: Literal["y", "running_mean", "running_var"] = "y"

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.eps == 0 and max(self.x) == min(self.x):
            raise ValueError("all x are equal and eps = 0: the normalisation divides by zero")
        return self


class BatchnormForward(Family[BatchnormForwardParams]):
    name = "batchnorm_forward"
    summary = "train-mode output (a list) or a running statistic after one step from (0, 1)"
    params_model = BatchnormForwardParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        batches = [
            [1.0, 2.0, 3.0, 4.0],
            [2.0, 4.0, 6.0, 8.0],
            [0.5, 1.5, -1.0, 2.0],
            [1.0, 3.0],
            [-1.0, 0.0, 1.0, 4.0],
            [0.2, 0.4, 0.9],
        ]
        x = rng.choice(batches)
        if rng.random() < 0.8:  # a small batch of distinct integers
            x = [float(v) for v in rng.sample(range(-2, 9), rng.choice([2, 3, 4]))]
        if level is Difficulty.EASY:
            return {"x": x}
        if level is Difficulty.MEDIUM:
            return {
                "x": x,
                "gamma": rng.choice([1.0, 2.0, 0.5]),
                "beta": rng.choice([0.0, 0.5, 1.0]),
                "output": rng.choice(["y", "running_mean"]),
            }
        return {"x": x, "output": "running_var", "momentum": rng.choice([0.1, 0.1, 0.2])}

    def ask(self, p: BatchnormForwardParams) -> Localized:
        setup_en = (
            f"nn.BatchNorm1d(1, eps={p.eps:g}, momentum={p.momentum:g}) in training mode, with "
            f"γ = {f(p.gamma)} and β = {f(p.beta)}, receives one feature over a batch of "
            f"{len(p.x)}: x = {fl(p.x)}."
        )
        setup_zh = (
            f"训练模式下的 nn.BatchNorm1d(1, eps={p.eps:g}, momentum={p.momentum:g})，γ = "
            f"{f(p.gamma)}，"
            f"β = {f(p.beta)}，输入一个特征在大小为 {len(p.x)} 的批次上的值：x = {fl(p.x)}。"
        )
        if p.output == "y":
            request = list_request(len(p.x), self.tolerance)
            return Localized(
                en=f"{setup_en} What is the output? {request.en}",
                zh=f"{setup_zh}输出是什么？{request.zh}",
            )
        stat = p.output
        return Localized(
            en=f"{setup_en} Starting from running_mean = 0 and running_var = 1, what is {stat} "
            "after this forward pass (PyTorch's update rule)?",
            zh=f"{setup_zh}初始 running_mean = 0、running_var = 1，这次前向传播之后 {stat} 是多少"
            "（按 PyTorch 的更新规则）？",
        )

    def solve(self, p: BatchnormForwardParams) -> Solved:
        bn = nn.BatchNorm1d(1, eps=p.eps, momentum=p.momentum, dtype=F64)
        with torch.no_grad():
            bn.weight.fill_(p.gamma)
            bn.bias.fill_(p.beta)
            bn.train()
            y = bn(vector(p.x).unsqueeze(1)).squeeze(1).tolist()
        running_mean = float(bn.running_mean.item())  # type: ignore[union-attr]
        running_var = float(bn.running_var.item())  # type: ignore[union-attr]
        count = len(p.x)
        mean = sum(p.x) / count
        squares = sum((v - mean) ** 2 for v in p.x)
        biased, unbiased = squares / count, squares / (count - 1)
        m = p.momentum
        stats_en = (
            f"mean μ = {f(sum(p.x))}/{count} = {f(mean)}; biased variance σ² = Σ(x - μ)²/N = "
            f"{f(squares)}/{count} = {f(biased)}"
        )
        stats_zh = (
            f"均值 μ = {f(sum(p.x))}/{count} = {f(mean)}；有偏方差 σ² = Σ(x - μ)²/N = "
            f"{f(squares)}/{count} = {f(biased)}"
        )

        def normalise(var: float, eps: float, affine: bool) -> list[float]:
            scale, shift = (p.gamma, p.beta) if affine else (1.0, 0.0)
            return [scale * (v - mean) / math.sqrt(var + eps) + shift for v in p.x]

        candidates: list[KnownMistake | None]
        value: float | list[float]
        if p.output == "y":
            value = [float(v) for v in y]
            solution = Localized(
                en=f"{stats_en}. y = γ(x - μ)/√(σ² + ε) + β = {f(p.gamma)}·(x - {fp(mean)})/"
                f"√({f(biased)} + {p.eps:g}) + {fp(p.beta)} = {fl(value)}. Training mode "
                "normalises with the batch's biased variance (divide by N).",
                zh=f"{stats_zh}。y = γ(x - μ)/√(σ² + ε) + β = {f(p.gamma)}·(x - {fp(mean)})/"
                f"√({f(biased)} + {p.eps:g}) + {fp(p.beta)} = {fl(value)}。训练模式用批次的有偏方差"
                "（除以 N）做归一化。",
            )
            candidates = [
                mistake(
                    "unbiased_variance",
                    normalise(unbiased, p.eps, True),
                    "BatchNorm normalises with the biased batch variance (divide by N); the "
                    "unbiased one (N - 1) is only used to update running_var.",
                    "BatchNorm 归一化时用有偏方差（除以 N）；无偏方差（除以 N - 1）只用来更新 "
                    "running_var。",
                ),
                mistake(
                    "forgot_affine",
                    normalise(biased, p.eps, False),
                    "You stopped after normalising: apply the learned scale and shift, γ·x̂ + β.",
                    "只做了归一化：还要乘以 γ 再加上 β（γ·x̂ + β）。",
                ),
                mistake(
                    "running_stats",
                    [p.gamma * (v - 0.0) / math.sqrt(1.0 + p.eps) + p.beta for v in p.x],
                    "In training mode BatchNorm uses the batch's statistics, not the running "
                    "ones (those are for eval mode).",
                    "训练模式下 BatchNorm 用当前批次的统计量，而不是 running 统计量（那是 eval "
                    "模式用的）。",
                ),
            ]
        elif p.output == "running_mean":
            value = running_mean
            solution = Localized(
                en=f"{stats_en}. running_mean = (1 - momentum)·0 + momentum·μ = "
                f"{f(1 - m)}×0 + {f(m)}×{f(mean)} = {f(value)}.",
                zh=f"{stats_zh}。running_mean = (1 - momentum)·0 + momentum·μ = "
                f"{f(1 - m)}×0 + {f(m)}×{f(mean)} = {f(value)}。",
            )
            candidates = [
                mistake(
                    "keras_momentum",
                    (1 - m) * mean,
                    "PyTorch's momentum weighs the new batch statistic: running = (1 - m)·running "
                    "+ m·batch. Keras uses the opposite convention (momentum 0.99 keeps the old).",
                    "PyTorch 的 momentum 是新批次统计量的权重：running = (1 - m)·running + "
                    "m·batch。"
                    "Keras 的约定正好相反（momentum 0.99 表示保留旧值）。",
                ),
                mistake(
                    "batch_statistic",
                    mean,
                    "The running mean is a moving average starting from 0; one step moves it "
                    "only a fraction momentum of the way to the batch mean.",
                    "running_mean 是从 0 开始的滑动平均；一步只向批次均值移动 momentum 这一比例。",
                ),
            ]
        else:
            value = running_var
            solution = Localized(
                en=f"{stats_en}; the running variance uses the unbiased estimate Σ(x - μ)²/(N - 1) "
                f"= {f(squares)}/{count - 1} = {f(unbiased)}. running_var = (1 - momentum)·1 + "
                f"momentum·{f(unbiased)} = {f(1 - m)} + {f(m)}×{f(unbiased)} = {f(value)}.",
                zh=f"{stats_zh}；running 方差使用无偏估计 Σ(x - μ)²/(N - 1) = "
                f"{f(squares)}/{count - 1} "
                f"= {f(unbiased)}。running_var = (1 - momentum)·1 + momentum·{f(unbiased)} = "
                f"{f(1 - m)} + {f(m)}×{f(unbiased)} = {f(value)}。",
            )
            candidates = [
                mistake(
                    "biased_running_var",
                    (1 - m) + m * biased,
                    "BatchNorm normalises with the biased variance but updates running_var with "
                    "the unbiased one (N - 1).",
                    "BatchNorm 归一化用有偏方差，但更新 running_var 时用无偏方差（除以 N - 1）。",
                ),
                mistake(
                    "keras_momentum",
                    m + (1 - m) * unbiased,
                    "PyTorch's momentum weighs the new batch statistic: running = (1 - m)·running "
                    "+ m·batch. Keras uses the opposite convention.",
                    "PyTorch 的 momentum 是新批次统计量的权重：running = (1 - m)·running + "
                    "m·batch。"
                    "Keras 的约定正好相反。",
                ),
                mistake(
                    "batch_statistic",
                    unbiased,
                    "running_var is a moving average starting from 1; one step moves it only a "
                    "fraction momentum of the way.",
                    "running_var 是从 1 开始的滑动平均；一步只移动 momentum 这一比例。",
                ),
                mistake(
                    "batch_statistic",
                    biased,
                    "running_var is a moving average starting from 1 (and it uses the unbiased "
                    "variance).",
                    "running_var 是从 1 开始的滑动平均（而且用的是无偏方差）。",
                ),
            ]
        return Solved(value, solution, tuple(m for m in candidates if m is not None))
