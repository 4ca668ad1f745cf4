"""Gradient clipping: clip_grad_norm (torch's `clip_grad_norm_` in float64)."""

from __future__ import annotations

from random import Random
from typing import Annotated, Any, Literal

import torch
from pydantic import BeforeValidator, Field

from bot.checkers._base import Family, Params, Real, Solved, _not_bool, mistake
from bot.checkers._torch import F64
from bot.checkers._values import f, fl, list_request
from bot.core.models import Difficulty, Localized

# --- clip_grad_norm -------------------------------------------------------------------------


class ClipGradNormParams(Params):
    g: Annotated[list[Real], Field(min_length=1, max_length=64)]
    max_norm: Annotated[float, BeforeValidator(_not_bool), Field(gt=0, le=1e6, allow_inf_nan=False)]
    output: Literal["clipped", "norm"] = "clipped"


class ClipGradNorm(Family[ClipGradNormParams]):
    name = "clip_grad_norm"
    summary = "the clipped gradient or its original L2 norm"
    params_model = ClipGradNormParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:
            g, max_norm = rng.choice([([3.0, 4.0], 1.0), ([3.0, 4.0], 10.0), ([6.0, 8.0], 5.0)])
            if rng.random() < 0.8:  # a 3-4-5 triangle, scaled, with signs
                scale = rng.choice([0.5, 1.0, 2.0, 3.0, 10.0])
                g = [rng.choice([-1, 1]) * 3 * scale, rng.choice([-1, 1]) * 4 * scale]
                max_norm = rng.choice([1.0, 2.0, 5.0, 10.0, 20.0])
            return {"g": g, "max_norm": max_norm, "output": rng.choice(["clipped", "norm"])}
        if level is Difficulty.MEDIUM:
            g, max_norm = rng.choice(
                [
                    ([1.0, 2.0, 2.0], 1.0),
                    ([0.5, -1.2, 2.0], 1.0),
                    ([2.0, -2.0, 1.0], 5.0),
                    ([12.0, -5.0], 1.0),
                ]
            )
            if rng.random() < 0.8:  # integer-norm vectors (norms 3, 7, 9, 11, 13), signs, order
                g = [
                    rng.choice([-1.0, 1.0]) * v
                    for v in rng.choice([[1, 2, 2], [2, 3, 6], [1, 4, 8], [2, 6, 9], [12, 5]])
                ]
                rng.shuffle(g)
                max_norm = rng.choice([1.0, 2.0, 5.0, 0.5])
            return {"g": g, "max_norm": max_norm}
        g, max_norm = rng.choice(
            [
                ([1.0, -2.0, 2.0, 4.0], 2.0),
                ([0.3, -0.4, 1.2, 0.0, 2.5], 1.0),
                ([10.0, -3.0, 0.5, 4.0], 5.0),  # an exploding RNN gradient
                ([0.1, 0.2, -0.2], 0.5),  # below the threshold: untouched
            ]
        )
        if rng.random() < 0.8:
            g = [rng.randint(-40, 40) / 10 for _ in range(rng.choice([4, 5]))]
            max_norm = rng.choice([0.5, 1.0, 2.0, 5.0, 10.0])
        return {"g": g, "max_norm": max_norm, "output": rng.choice(["clipped", "clipped", "norm"])}

    def ask(self, p: ClipGradNormParams) -> Localized:
        call = f"torch.nn.utils.clip_grad_norm_(params, max_norm={f(p.max_norm)})"
        if p.output == "norm":
            return Localized(
                en=f"The parameters' gradients, concatenated, are g = {fl(p.g)}. What total norm "
                f"does {call} return (PyTorch's default L2 norm)?",
                zh=f"所有参数的梯度拼接起来为 g = {fl(p.g)}。{call} 返回的总范数是多少"
                "（PyTorch 默认的 L2 范数）？",
            )
        request = list_request(len(p.g), self.tolerance)
        return Localized(
            en=f"The parameters' gradients, concatenated, are g = {fl(p.g)}. What are they after "
            f"{call}? {request.en}",
            zh=f"所有参数的梯度拼接起来为 g = {fl(p.g)}。执行 {call} 之后梯度是多少？{request.zh}",
        )

    def solve(self, p: ClipGradNormParams) -> Solved:
        param = torch.zeros(len(p.g), dtype=F64, requires_grad=True)
        param.grad = torch.tensor(p.g, dtype=F64)
        norm = float(torch.nn.utils.clip_grad_norm_([param], p.max_norm).item())
        clipped = [float(v) for v in param.grad.tolist()]
        squares = " + ".join(f"({f(v)})²" if v < 0 else f"{f(v)}²" for v in p.g)
        scale = min(1.0, p.max_norm / (norm + 1e-6))
        action_en = (
            f"norm > max_norm, so every entry is scaled by max_norm/(norm + 1e-6) = {f(scale)}"
            if scale < 1
            else "norm <= max_norm, so the gradient is left unchanged"
        )
        action_zh = (
            f"范数大于 max_norm，每个分量乘以 max_norm/(范数 + 1e-6) = {f(scale)}"
            if scale < 1
            else "范数不超过 max_norm，梯度保持不变"
        )
        solution = Localized(
            en=f"‖g‖₂ = √({squares}) = {f(norm)}; {action_en}: {fl(clipped)}. The direction is "
            "kept; only the length is capped.",
            zh=f"‖g‖₂ = √({squares}) = {f(norm)}；{action_zh}：{fl(clipped)}。方向不变，"
            "只限制长度。",
        )
        l1 = sum(abs(v) for v in p.g)
        if p.output == "norm":
            candidates = [
                mistake(
                    "l1_norm",
                    l1,
                    "clip_grad_norm_ uses the L2 norm (norm_type=2): √Σg², not Σ|g|.",
                    "clip_grad_norm_ 用的是 L2 范数（norm_type=2）：√Σg²，而不是 Σ|g|。",
                ),
                mistake(
                    "squared_norm",
                    norm * norm,
                    "Take the square root: the L2 norm is √Σg².",
                    "要开平方：L2 范数是 √Σg²。",
                ),
                mistake(
                    "clipped_norm",
                    min(norm, p.max_norm),
                    "clip_grad_norm_ returns the norm before clipping.",
                    "clip_grad_norm_ 返回的是裁剪之前的范数。",
                ),
            ]
            return Solved(norm, solution, tuple(candidates))
        value_clip = [max(-p.max_norm, min(p.max_norm, v)) for v in p.g]
        by_l1 = [v * min(1.0, p.max_norm / l1) for v in p.g] if l1 else list(p.g)
        found = [
            mistake(
                "clip_by_value",
                value_clip,
                "That is clip_grad_value_ (clamping each entry); clip_grad_norm_ rescales the "
                "whole vector so its L2 norm is max_norm, keeping its direction.",
                "这是 clip_grad_value_（逐元素截断）；clip_grad_norm_ 是整体缩放，使 L2 范数等于 "
                "max_norm，方向不变。",
            ),
            mistake(
                "l1_norm",
                by_l1,
                "The norm is the L2 norm √Σg², not Σ|g|.",
                "范数是 L2 范数 √Σg²，不是 Σ|g|。",
            ),
            mistake(
                "scaled_anyway",
                [v * p.max_norm / norm for v in p.g] if norm else list(p.g),
                "Clipping only scales down: a gradient whose norm is already below max_norm is "
                "left as it is.",
                "裁剪只会缩小：范数本来就不超过 max_norm 的梯度保持原样。",
            ),
            mistake(
                "not_clipped",
                list(p.g),
                "The norm exceeds max_norm, so the gradient is scaled down.",
                "范数超过了 max_norm，梯度需要按比例缩小。",
            ),
        ]
        return Solved(clipped, solution, tuple(found))
