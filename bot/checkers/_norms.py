"""layernorm_forward: one token's features through nn.LayerNorm (float64, torch's own kernel)."""

from __future__ import annotations

import math
from random import Random
from typing import Annotated, Any, Self

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator

from bot.checkers._base import Params, Real, Solved, mistake
from bot.checkers._telling import TellingFamily
from bot.checkers._torch import F64
from bot.checkers._values import f, fl, list_request
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

Features = Annotated[list[Real], Field(min_length=2, max_length=64)]
Affine = Real | Annotated[list[Real], Field(min_length=2, max_length=64)]


class LayernormForwardParams(Params):
    x: Features = Field(description="one token's features")
    gamma: Affine = Field(default=1.0, description="weight: a number (shared) or one per feature")
    beta: Affine = Field(default=0.0, description="bias: a number (shared) or one per feature")
    eps: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 1e-5

    @model_validator(mode="after")
    def _possible(self) -> Self:
        for name in ("gamma", "beta"):
            value = getattr(self, name)
            if isinstance(value, list) and len(value) != len(self.x):
                raise ValueError(f"{name} must be a number or one number per feature")
        if self.eps == 0 and len(set(self.x)) == 1:
            raise ValueError("constant features with eps=0 divide by zero")
        return self


def _per_feature(value: float | list[float], size: int) -> list[float]:
    return list(value) if isinstance(value, list) else [float(value)] * size


def _affine(values: torch.Tensor, p: LayernormForwardParams) -> list[float]:
    gamma = torch.tensor(_per_feature(p.gamma, len(p.x)), dtype=F64)
    beta = torch.tensor(_per_feature(p.beta, len(p.x)), dtype=F64)
    return [float(v) for v in values * gamma + beta]


class LayernormForward(TellingFamily[LayernormForwardParams]):
    name = "layernorm_forward"
    summary = "nn.LayerNorm over one token's features (biased variance, eps inside the root)"
    params_model = LayernormForwardParams

    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        size = {Difficulty.EASY: 2, Difficulty.MEDIUM: 3, Difficulty.HARD: 4}[level]
        while True:  # features that are not all equal and do not already average to zero
            x = [float(rng.choice(range(-4, 9))) for _ in range(size)]
            if len(set(x)) > 1 and sum(x) != 0:
                break
        params: dict[str, Any] = {"x": x}
        if level is not Difficulty.EASY:
            params["gamma"] = rng.choice([0.5, 2.0, 1.5, 3.0])
            params["beta"] = rng.choice([0.5, -1.0, 1.0, 0.1])
        if level is Difficulty.HARD:
            params["gamma"] = [rng.choice([0.5, 1.0, 2.0, -1.0]) for _ in range(size)]
            params["eps"] = rng.choice([1e-5, 0.1, 0.5])
        return params

    def ask(self, p: LayernormForwardParams) -> Localized:
        gamma = fl(p.gamma) if isinstance(p.gamma, list) else f(p.gamma)
        beta = fl(p.beta) if isinstance(p.beta, list) else f(p.beta)
        request = list_request(len(p.x), self.tolerance)
        return Localized(
            en=f"One token has the features x = {fl(p.x)}. It goes through "
            f"nn.LayerNorm({len(p.x)}, eps={p.eps:g}) with weight γ = {gamma} and bias "
            f"β = {beta} (normalising over the features). What is the output? {request.en}",
            zh=f"一个词元的特征为 x = {fl(p.x)}，经过 nn.LayerNorm({len(p.x)}, eps={p.eps:g})，"
            f"权重 γ = {gamma}，偏置 β = {beta}（在特征维上归一化）。输出是什么？{request.zh}",
        )

    def quick(self, p: LayernormForwardParams) -> tuple[list[float], dict[str, list[float]]]:
        """`work`'s key and mistakes in floats."""
        size = len(p.x)
        gamma, beta = _per_feature(p.gamma, size), _per_feature(p.beta, size)

        def affine(values: list[float]) -> list[float]:
            return [v * g + b for v, g, b in zip(values, gamma, beta, strict=True)]

        mean = sum(p.x) / size
        centred = [v - mean for v in p.x]
        squares = sum(c * c for c in centred)
        var, unbiased = squares / size, squares / (size - 1)
        values: dict[str, list[float]] = {
            "unbiased_variance": affine([c / math.sqrt(unbiased + p.eps) for c in centred]),
        }
        rms = math.sqrt(sum(v * v for v in p.x) / size + p.eps)
        values["rms_norm"] = affine([v / rms for v in p.x])
        if not (gamma == [1.0] * size and beta == [0.0] * size):
            values["forgot_affine"] = [c / math.sqrt(var + p.eps) for c in centred]
        if abs(var + p.eps - 1) > 0.01:
            values["divided_by_variance"] = affine([c / (var + p.eps) for c in centred])
        if p.eps >= 0.01:
            values["eps_outside_root"] = affine([c / (math.sqrt(var) + p.eps) for c in centred])
        return affine([c / math.sqrt(var + p.eps) for c in centred]), values

    def work(self, p: LayernormForwardParams) -> Solved:
        x = torch.tensor(p.x, dtype=F64)
        size = len(p.x)
        weight = torch.tensor(_per_feature(p.gamma, size), dtype=F64)
        bias = torch.tensor(_per_feature(p.beta, size), dtype=F64)
        y = [float(v) for v in F.layer_norm(x, (size,), weight, bias, p.eps)]
        mean = float(x.mean())
        var = float(x.var(unbiased=False))
        unbiased = float(x.var(unbiased=True))
        centred = x - mean
        solution = Localized(
            en=f"mean = {f(mean)}; variance (biased, over n = {size}) = {f(var)}; x̂ = (x - mean)"
            f" / √(var + eps) = {fl((centred / math.sqrt(var + p.eps)).tolist())}; y = γ·x̂ + β "
            f"= {fl(y)}.",
            zh=f"均值 = {f(mean)}；方差（有偏，除以 n = {size}）= {f(var)}；x̂ = (x - 均值) / "
            f"√(方差 + eps) = {fl((centred / math.sqrt(var + p.eps)).tolist())}；"
            f"y = γ·x̂ + β = {fl(y)}。",
        )
        affine_set = not (
            _per_feature(p.gamma, size) == [1.0] * size
            and _per_feature(p.beta, size) == [0.0] * size
        )
        rms = math.sqrt(float((x * x).mean()) + p.eps)
        candidates: list[KnownMistake | None] = [
            mistake(
                "unbiased_variance",
                _affine(centred / math.sqrt(unbiased + p.eps), p),
                "LayerNorm uses the biased variance (divide by n, not n - 1).",
                "LayerNorm 用的是有偏方差（除以 n，而不是 n - 1）。",
            ),
            mistake(
                "rms_norm",
                _affine(x / rms, p),
                "That is RMSNorm (no mean subtraction); LayerNorm first subtracts the mean.",
                "这是 RMSNorm（不减均值）；LayerNorm 要先减去均值。",
            ),
            mistake(
                "forgot_affine",
                [float(v) for v in centred / math.sqrt(var + p.eps)],
                "Apply the learned scale and shift after normalising: y = γ·x̂ + β.",
                "归一化之后还要做可学习的缩放和平移：y = γ·x̂ + β。",
            )
            if affine_set
            else None,
            mistake(
                "divided_by_variance",
                _affine(centred / (var + p.eps), p),
                "Divide by the standard deviation √(var + eps), not by the variance.",
                "要除以标准差 √(方差 + eps)，而不是除以方差。",
            )
            if abs(var + p.eps - 1) > 0.01
            else None,
            mistake(
                "eps_outside_root",
                _affine(centred / (math.sqrt(var) + p.eps), p),
                "PyTorch adds eps inside the square root: √(var + eps).",
                "PyTorch 把 eps 加在根号里面：√(方差 + eps)。",
            )
            if p.eps >= 0.01
            else None,
        ]
        return Solved(y, solution, tuple(m for m in candidates if m is not None))
