"""WGAN families: the 1-D Wasserstein-1 distance between two samples, and WGAN-GP's penalty.

W1 between two equal-size 1-D samples is the mean gap between their sorted values (torch.sort);
the gradient penalty differentiates a small critic at the interpolated point with autograd.
"""

from __future__ import annotations

import math
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
from pydantic import BeforeValidator, Field, model_validator

from bot.checkers._base import Params, Real, Solved, _not_bool, mistake
from bot.checkers._telling import TellingFamily
from bot.checkers._torch import F64
from bot.checkers._values import f, fl
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

Sample = Annotated[list[Real], Field(min_length=1, max_length=64)]


# --- wasserstein_1d ---------------------------------------------------------------------------


class Wasserstein1dParams(Params):
    x: Sample = Field(description="the first sample (equal weights)")
    y: Sample = Field(description="the second sample, same size")

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if len(self.x) != len(self.y):
            raise ValueError("x and y must have the same number of points")
        return self


def _sample(rng: Random, size: int, low: int, high: int) -> list[float]:
    return [float(rng.randint(low, high)) for _ in range(size)]


class Wasserstein1d(TellingFamily[Wasserstein1dParams]):
    name = "wasserstein_1d"
    summary = "W1 between two equal-size 1-D samples: mean |sorted x - sorted y|"
    params_model = Wasserstein1dParams

    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        size = {Difficulty.EASY: 3, Difficulty.MEDIUM: 4, Difficulty.HARD: 5}[level]
        while True:
            x = _sample(rng, size, 0, 9)
            y = _sample(rng, size, -3, 12) if level is Difficulty.HARD else _sample(rng, size, 0, 9)
            if level is Difficulty.HARD:
                x = [v + rng.choice([0.0, 0.5]) for v in x]
            pairs_sorted = sorted(x) != x or sorted(y) != y
            gaps = [a - b for a, b in zip(sorted(x), sorted(y), strict=True)]
            # Unsorted input (so that sorting matters) and crossing quantiles (so that W1 is
            # more than the gap between the means).
            if pairs_sorted and min(gaps) < 0 < max(gaps) and sorted(x) != sorted(y):
                pairs = [abs(a - b) for a, b in zip(x, y, strict=True)]
                if sum(pairs) != sum(abs(g) for g in gaps):
                    return {"x": x, "y": y}

    def ask(self, p: Wasserstein1dParams) -> Localized:
        return Localized(
            en=f"Two empirical distributions on the real line put equal mass on the points "
            f"x = {fl(p.x)} and y = {fl(p.y)}. What is the Wasserstein-1 (earth mover's) "
            "distance between them?",
            zh=f"实数轴上的两个经验分布分别在点 x = {fl(p.x)} 和 y = {fl(p.y)} 上均匀分配质量。"
            "它们之间的 Wasserstein-1 距离（推土机距离）是多少？",
        )

    def quick(self, p: Wasserstein1dParams) -> tuple[float, dict[str, float]]:
        """`work`'s key and mistakes in floats."""
        size = len(p.x)
        gaps = [abs(a - b) for a, b in zip(sorted(p.x), sorted(p.y), strict=True)]
        values = {
            "unsorted": sum(abs(a - b) for a, b in zip(p.x, p.y, strict=True)) / size,
            "mean_difference": abs(sum(p.x) / size - sum(p.y) / size),
        }
        if size > 1:
            values["sum_not_mean"] = sum(gaps)
        values["w2_distance"] = math.sqrt(sum(g * g for g in gaps) / size)
        return sum(gaps) / size, values

    def work(self, p: Wasserstein1dParams) -> Solved:
        x, y = torch.tensor(p.x, dtype=F64), torch.tensor(p.y, dtype=F64)
        xs, ys = torch.sort(x).values, torch.sort(y).values
        gaps = (xs - ys).abs()
        w1 = float(gaps.mean())
        solution = Localized(
            en=f"In 1-D the optimal transport matches the sorted points: sorted x = "
            f"{fl(xs.tolist())}, sorted y = {fl(ys.tolist())}; |gaps| = {fl(gaps.tolist())}; "
            f"W1 = their mean = {f(w1)}.",
            zh=f"一维情形下最优传输把排序后的点一一配对：x 排序后为 {fl(xs.tolist())}，y 排序后为 "
            f"{fl(ys.tolist())}；|差| = {fl(gaps.tolist())}；W1 = 它们的平均值 = {f(w1)}。",
        )
        candidates: list[KnownMistake | None] = [
            mistake(
                "unsorted",
                float((x - y).abs().mean()),
                "Pairing the points in the given order is a transport plan, but not the optimal "
                "one: in 1-D, sort both samples and pair them in order.",
                "按给定顺序配对也是一种传输方案，但不是最优的：一维时要把两个样本都排序后按顺序配对。",
            ),
            mistake(
                "mean_difference",
                abs(float(x.mean() - y.mean())),
                "The gap between the means is only a lower bound on W1; it equals W1 only when "
                "one sample lies entirely to one side of the other, quantile by quantile.",
                "均值之差只是 W1 的下界；只有当一个样本在每个分位点上都位于另一个的同一侧时"
                "才相等。",
            ),
            mistake(
                "sum_not_mean",
                float(gaps.sum()),
                f"Each point carries mass 1/{len(p.x)}: average the gaps, do not add them.",
                f"每个点的质量是 1/{len(p.x)}：要对差值求平均，而不是求和。",
            )
            if len(p.x) > 1
            else None,
            mistake(
                "w2_distance",
                math.sqrt(float((gaps**2).mean())),
                "That is the Wasserstein-2 distance (root mean squared gap); W1 averages the "
                "absolute gaps.",
                "这是 Wasserstein-2 距离（差的均方根）；W1 是绝对差的平均。",
            ),
        ]
        hint = Localized(
            en="In 1-D the optimal transport pairs the points in sorted order: sort both samples, "
            "pair them up, and average the absolute gaps (every point carries the same mass).",
            zh="一维时最优传输按排序后的顺序配对：把两个样本都排序，一一配对，再对绝对差取平均"
            "（每个点的质量相同）。",
        )
        return Solved(w1, solution, tuple(m for m in candidates if m is not None), hint=hint)


# --- gradient_penalty -------------------------------------------------------------------------

Point = Annotated[list[Real], Field(min_length=1, max_length=8)]


class GradientPenaltyParams(Params):
    x_real: Point
    x_fake: Point
    w: Point = Field(description="critic D(x) = w·x + (a/2)·|x|²")
    a: Real = Field(default=0.0, description="the critic's curvature a")
    eps: Annotated[float, BeforeValidator(_not_bool), Field(ge=0, le=1, allow_inf_nan=False)] = (
        Field(default=0.5, description="x̂ = eps·x_real + (1 - eps)·x_fake")
    )
    lam: Annotated[float, BeforeValidator(_not_bool), Field(ge=0, le=1e3, allow_inf_nan=False)] = 10
    output: Literal["penalty", "grad_norm"] = "penalty"

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if not len(self.x_real) == len(self.x_fake) == len(self.w):
            raise ValueError("x_real, x_fake and w must have the same length")
        return self


def critic_grad(p: GradientPenaltyParams, eps: float | None = None) -> torch.Tensor:
    """∇D at eps·x_real + (1 - eps)·x_fake, by autograd."""
    e = p.eps if eps is None else eps
    real, fake = torch.tensor(p.x_real, dtype=F64), torch.tensor(p.x_fake, dtype=F64)
    point = (e * real + (1 - e) * fake).requires_grad_(True)
    w = torch.tensor(p.w, dtype=F64)
    score = w @ point + p.a / 2 * (point @ point)
    (grad,) = torch.autograd.grad(score, point)
    return grad


class GradientPenalty(TellingFamily[GradientPenaltyParams]):
    name = "gradient_penalty"
    summary = "WGAN-GP: lam·(|∇D(x̂)|₂ - 1)² at the interpolate x̂, or the gradient norm"
    params_model = GradientPenaltyParams

    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        size = 1 if level is Difficulty.EASY else 2
        values = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0]
        params: dict[str, Any] = {
            "x_real": [rng.choice(values) for _ in range(size)],
            "x_fake": [rng.choice(values) for _ in range(size)],
            "w": [rng.choice([0.5, -1.5, 2.0, 3.0, -0.5]) for _ in range(size)],
        }
        if level is not Difficulty.EASY:
            params["a"] = rng.choice([0.5, 1.0, -1.0, 2.0])
            params["eps"] = rng.choice([0.25, 0.3, 0.75, 0.8])
            while params["x_real"] == params["x_fake"]:
                params["x_fake"] = [rng.choice(values) for _ in range(size)]
        if level is Difficulty.HARD:
            params["output"] = rng.choice(["penalty", "grad_norm"])
            params["lam"] = rng.choice([10, 1, 5])
        return params

    def quick(self, p: GradientPenaltyParams) -> tuple[float, dict[str, float]]:
        """`work`'s key and mistakes in floats: ∇D(x) = w + a·x."""

        def norm_at(e: float) -> float:
            return math.sqrt(
                sum(
                    (w + p.a * (e * r + (1 - e) * g)) ** 2
                    for w, r, g in zip(p.w, p.x_real, p.x_fake, strict=True)
                )
            )

        def value(size: float) -> float:
            return p.lam * (size - 1) ** 2 if p.output == "penalty" else size

        norm = norm_at(p.eps)
        values: dict[str, float] = {}
        moves = p.a != 0 and p.x_real != p.x_fake
        if moves and p.eps != 1:
            values["at_real_sample"] = value(norm_at(1.0))
        if moves and p.eps != 0.5:
            values["eps_swapped"] = value(norm_at(1 - p.eps))
        if p.output == "penalty":
            if p.lam != 1:
                values["forgot_lambda"] = (norm - 1) ** 2
            values["squared_norm"] = p.lam * (norm**2 - 1) ** 2
            values["not_squared"] = p.lam * abs(norm - 1)
            if norm < 1:
                values["one_sided"] = 0.0
        else:
            values["squared_norm"] = norm**2
            values["l1_norm"] = sum(
                abs(w + p.a * (p.eps * r + (1 - p.eps) * g))
                for w, r, g in zip(p.w, p.x_real, p.x_fake, strict=True)
            )
        return value(norm), values

    def ask(self, p: GradientPenaltyParams) -> Localized:
        critic = "D(x) = w·x" + (f" + ({f(p.a)}/2)·‖x‖²" if p.a else "")
        what_en = (
            f"the gradient penalty λ·(‖∇D(x̂)‖₂ - 1)² with λ = {p.lam:g}"
            if p.output == "penalty"
            else "the gradient norm ‖∇D(x̂)‖₂"
        )
        what_zh = (
            f"梯度惩罚项 λ·(‖∇D(x̂)‖₂ - 1)²（λ = {p.lam:g}）"
            if p.output == "penalty"
            else "梯度的范数 ‖∇D(x̂)‖₂"
        )
        return Localized(
            en=f"WGAN-GP with the critic {critic}, w = {fl(p.w)}. A real sample "
            f"x_real = {fl(p.x_real)} and a generated one x_fake = {fl(p.x_fake)} are "
            f"interpolated with ε = {f(p.eps)}: x̂ = ε·x_real + (1 - ε)·x_fake. What is "
            f"{what_en}?",
            zh=f"WGAN-GP 的判别器（critic）为 {critic}，w = {fl(p.w)}。真实样本 "
            f"x_real = {fl(p.x_real)} 和生成样本 x_fake = {fl(p.x_fake)} 以 ε = {f(p.eps)} "
            f"插值：x̂ = ε·x_real + (1 - ε)·x_fake。求{what_zh}。",
        )

    def work(self, p: GradientPenaltyParams) -> Solved:
        grad = critic_grad(p)
        norm = float(torch.linalg.vector_norm(grad))
        penalty = float(p.lam * (torch.linalg.vector_norm(grad) - 1) ** 2)
        expected = penalty if p.output == "penalty" else norm
        point = [p.eps * r + (1 - p.eps) * g for r, g in zip(p.x_real, p.x_fake, strict=True)]
        grad_rule = "∇D(x) = w + a·x" if p.a else "∇D(x) = w (the same everywhere)"
        grad_rule_zh = "∇D(x) = w + a·x" if p.a else "∇D(x) = w（处处相同）"
        tail_en = f"; penalty = {p.lam:g}·({f(norm)} - 1)² = {f(penalty)}"
        tail_zh = f"；惩罚项 = {p.lam:g}·({f(norm)} - 1)² = {f(penalty)}"
        solution = Localized(
            en=f"x̂ = {fl(point)}; {grad_rule}, so ∇D(x̂) = {fl(grad.tolist())}; "
            f"‖∇D(x̂)‖₂ = {f(norm)}{tail_en if p.output == 'penalty' else ''}.",
            zh=f"x̂ = {fl(point)}；{grad_rule_zh}，所以 ∇D(x̂) = {fl(grad.tolist())}；"
            f"‖∇D(x̂)‖₂ = {f(norm)}{tail_zh if p.output == 'penalty' else ''}。",
        )

        def value(g: torch.Tensor) -> float:
            size = float(torch.linalg.vector_norm(g))
            return p.lam * (size - 1) ** 2 if p.output == "penalty" else size

        moves = p.a != 0 and p.x_real != p.x_fake
        candidates: list[KnownMistake | None] = [
            mistake(
                "at_real_sample",
                value(critic_grad(p, eps=1.0)),
                "WGAN-GP takes the gradient at the interpolate x̂ between a real and a fake "
                "sample, not at the real sample.",
                "WGAN-GP 在真实样本与生成样本之间的插值点 x̂ 处求梯度，而不是在真实样本处。",
            )
            if moves and p.eps != 1
            else None,
            mistake(
                "eps_swapped",
                value(critic_grad(p, eps=1 - p.eps)),
                "x̂ = ε·x_real + (1 - ε)·x_fake: ε weighs the real sample.",
                "x̂ = ε·x_real + (1 - ε)·x_fake：ε 是真实样本的权重。",
            )
            if moves and p.eps != 0.5
            else None,
        ]
        if p.output == "penalty":
            candidates += [
                mistake(
                    "forgot_lambda",
                    (norm - 1) ** 2,
                    f"Multiply by the penalty weight λ = {p.lam:g}.",
                    f"还要乘以惩罚系数 λ = {p.lam:g}。",
                )
                if p.lam != 1
                else None,
                mistake(
                    "squared_norm",
                    p.lam * (norm**2 - 1) ** 2,
                    "The penalty uses the norm itself, (‖∇D‖₂ - 1)², not the squared norm.",
                    "惩罚项用的是范数本身 (‖∇D‖₂ - 1)²，不是范数的平方。",
                ),
                mistake(
                    "not_squared",
                    p.lam * abs(norm - 1),
                    "The deviation from 1 is squared: λ·(‖∇D‖₂ - 1)².",
                    "与 1 的偏差要平方：λ·(‖∇D‖₂ - 1)²。",
                ),
                mistake(
                    "one_sided",
                    0.0,
                    "WGAN-GP's penalty is two-sided: gradients shorter than 1 are penalised too "
                    "(the one-sided max(0, ‖∇D‖ - 1)² is a variant).",
                    "WGAN-GP 的惩罚是双侧的：梯度范数小于 1 也会被惩罚"
                    "（单侧的 max(0, ‖∇D‖ - 1)² 是另一种变体）。",
                )
                if norm < 1
                else None,
            ]
        else:
            candidates += [
                mistake(
                    "squared_norm",
                    norm**2,
                    "That is the squared norm; take its square root.",
                    "这是范数的平方；还要开平方根。",
                ),
                mistake(
                    "l1_norm",
                    float(grad.abs().sum()),
                    "Use the Euclidean (L2) norm, not the sum of absolute values.",
                    "要用欧几里得（L2）范数，而不是绝对值之和。",
                ),
            ]
        return Solved(expected, solution, tuple(m for m in candidates if m is not None))
