"""optimizer_step (torch.optim on one scalar weight); clip_grad_norm is in `_clipping`."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
from pydantic import BeforeValidator, Field, model_validator

from bot.checkers._base import Family, Params, Real, Solved, _not_bool, mistake
from bot.checkers._torch import F64
from bot.checkers._values import f, fl
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

Unit = Annotated[float, BeforeValidator(_not_bool), Field(ge=0, lt=1, allow_inf_nan=False)]
NonNegativeReal = Annotated[
    float, BeforeValidator(_not_bool), Field(ge=0, le=1e6, allow_inf_nan=False)
]
Grads = Annotated[list[Real], Field(min_length=1, max_length=50)]
OptimizerName = Literal["sgd", "adam", "adamw", "rmsprop", "adagrad"]


class OptimizerStepParams(Params):
    optimizer: OptimizerName
    w: Real = Field(description="the initial weight")
    g: Grads | Real = Field(description="the gradient at each step (a number: one step)")
    lr: NonNegativeReal
    momentum: Unit = 0.0
    nesterov: bool = False
    weight_decay: NonNegativeReal = 0.0
    betas: tuple[Unit, Unit] = (0.9, 0.999)
    eps: NonNegativeReal = 1e-8
    alpha: Unit = 0.99

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ValueError("nesterov=true needs optimizer=sgd and a momentum above 0")
        if self.momentum and self.optimizer not in ("sgd", "rmsprop"):
            raise ValueError(f"momentum applies to sgd and rmsprop, not {self.optimizer}")
        if self.betas != (0.9, 0.999) and self.optimizer not in ("adam", "adamw"):
            raise ValueError(f"betas apply to adam and adamw, not {self.optimizer}")
        if self.alpha != 0.99 and self.optimizer != "rmsprop":
            raise ValueError(f"alpha applies to rmsprop, not {self.optimizer}")
        if self.eps == 0 and self.optimizer != "sgd" and 0 in self.grads:
            raise ValueError("eps = 0 with a zero gradient divides by zero")
        return self

    @property
    def grads(self) -> list[float]:
        return self.g if isinstance(self.g, list) else [self.g]


def torch_optimize(p: OptimizerStepParams) -> float:
    """Run the real torch.optim optimizer over the gradients and return the final weight."""
    w = torch.tensor([p.w], dtype=F64, requires_grad=True)
    beta1, beta2 = p.betas
    optimizer: torch.optim.Optimizer
    if p.optimizer == "sgd":
        optimizer = torch.optim.SGD(
            [w], lr=p.lr, momentum=p.momentum, nesterov=p.nesterov, weight_decay=p.weight_decay
        )
    elif p.optimizer == "adam":
        optimizer = torch.optim.Adam(
            [w], lr=p.lr, betas=(beta1, beta2), eps=p.eps, weight_decay=p.weight_decay
        )
    elif p.optimizer == "adamw":
        optimizer = torch.optim.AdamW(
            [w], lr=p.lr, betas=(beta1, beta2), eps=p.eps, weight_decay=p.weight_decay
        )
    elif p.optimizer == "rmsprop":
        optimizer = torch.optim.RMSprop(
            [w],
            lr=p.lr,
            alpha=p.alpha,
            eps=p.eps,
            weight_decay=p.weight_decay,
            momentum=p.momentum,
        )
    else:
        optimizer = torch.optim.Adagrad([w], lr=p.lr, eps=p.eps, weight_decay=p.weight_decay)
    for g in p.grads:
        w.grad = torch.tensor([g], dtype=F64)
        optimizer.step()
    return float(w.item())


@dataclass(frozen=True, slots=True)
class Variant:
    """How a hand computation deviates from torch.optim (each flag is a classic mistake)."""

    bias_correction: bool = True
    decoupled: bool | None = None  # None: what the optimizer does
    decay_times_lr: bool = True
    use_weight_decay: bool = True
    use_momentum: bool = True
    use_nesterov: bool = True
    ema_momentum: bool = False
    swap_alpha: bool = False
    sqrt: bool = True
    accumulate: bool = True


def manual_optimize(p: OptimizerStepParams, v: Variant = Variant()) -> tuple[float, list[str]]:
    """The update rules written out, step by step; returns the weight and the steps as text."""
    w = p.w
    beta1, beta2 = p.betas
    wd = p.weight_decay if v.use_weight_decay else 0.0
    decoupled = (p.optimizer == "adamw") if v.decoupled is None else v.decoupled
    mu = p.momentum if v.use_momentum else 0.0
    m = s = buf = 0.0
    steps: list[str] = []
    for t, g in enumerate(p.grads, start=1):
        if p.optimizer in ("adam", "adamw"):
            if decoupled:
                w -= (p.lr * wd if v.decay_times_lr else wd) * w
                gt = g
            else:
                gt = g + wd * w
            m = beta1 * m + (1 - beta1) * gt
            s = beta2 * s + (1 - beta2) * gt * gt
            m_hat = m / (1 - beta1**t) if v.bias_correction else m
            v_hat = s / (1 - beta2**t) if v.bias_correction else s
            w -= p.lr * m_hat / (math.sqrt(v_hat) + p.eps)
            steps.append(
                f"t={t}: g={f(gt)}, m={f(m)}, v={f(s)}, m̂={f(m_hat)}, v̂={f(v_hat)}, w={f(w)}"
            )
        elif p.optimizer == "sgd":
            d = g + wd * w
            if mu and v.ema_momentum:  # the textbook moving average: from 0, with (1 - μ)
                buf = mu * buf + (1 - mu) * d
                d = d + mu * buf if (p.nesterov and v.use_nesterov) else buf
            elif mu:
                buf = d if t == 1 else mu * buf + d
                d = d + mu * buf if (p.nesterov and v.use_nesterov) else buf
            w -= p.lr * d
            steps.append(f"t={t}: step={f(d)}" + (f", buf={f(buf)}" if mu else "") + f", w={f(w)}")
        elif p.optimizer == "rmsprop":
            d = g + wd * w
            a = (1 - p.alpha) if v.swap_alpha else p.alpha
            s = a * s + (1 - a) * d * d
            denom = (math.sqrt(s) if v.sqrt else s) + p.eps
            if mu:
                buf = mu * buf + d / denom
                w -= p.lr * buf
            else:
                w -= p.lr * d / denom
            steps.append(f"t={t}: v={f(s)}, w={f(w)}")
        else:  # adagrad
            d = g + wd * w
            s = s + d * d if v.accumulate else d * d
            denom = (math.sqrt(s) if v.sqrt else s) + p.eps
            w -= p.lr * d / denom
            steps.append(f"t={t}: Σg²={f(s)}, w={f(w)}")
    return w, steps


_RULES = {
    "sgd": (
        "SGD: d = g + λw; with momentum μ: buf = d at the first step, then buf = μ·buf + d "
        "(PyTorch: no dampening); Nesterov uses d + μ·buf; w ← w - lr·d",
        "SGD：d = g + λw；有动量 μ 时，第一步 buf = d，之后 buf = μ·buf + d（PyTorch 不做阻尼）；"
        "Nesterov 用 d + μ·buf；w ← w - lr·d",
    ),
    "adam": (
        "Adam: g ← g + λw (L2 in the gradient); m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; "
        "m̂ = m/(1-β1^t), v̂ = v/(1-β2^t); w ← w - lr·m̂/(√v̂ + ε)",
        "Adam：g ← g + λw（L2 加在梯度上）；m = β1·m + (1-β1)·g；v = β2·v + (1-β2)·g²；"
        "m̂ = m/(1-β1^t)，v̂ = v/(1-β2^t)；w ← w - lr·m̂/(√v̂ + ε)",
    ),
    "adamw": (
        "AdamW: first w ← w·(1 - lr·λ) (decoupled weight decay), then the Adam step with the "
        "raw gradient: m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; m̂ = m/(1-β1^t), "
        "v̂ = v/(1-β2^t); w ← w - lr·m̂/(√v̂ + ε)",
        "AdamW：先 w ← w·(1 - lr·λ)（解耦的权重衰减），再用原始梯度做 Adam 更新："
        "m = β1·m + (1-β1)·g；v = β2·v + (1-β2)·g²；m̂ = m/(1-β1^t)，v̂ = v/(1-β2^t)；"
        "w ← w - lr·m̂/(√v̂ + ε)",
    ),
    "rmsprop": (
        "RMSprop: g ← g + λw; v = α·v + (1-α)·g²; w ← w - lr·g/(√v + ε) (with momentum μ: "
        "buf = μ·buf + g/(√v + ε), w ← w - lr·buf)",
        "RMSprop：g ← g + λw；v = α·v + (1-α)·g²；w ← w - lr·g/(√v + ε)（有动量 μ 时："
        "buf = μ·buf + g/(√v + ε)，w ← w - lr·buf）",
    ),
    "adagrad": (
        "Adagrad: g ← g + λw; Σ ← Σ + g² (starting at 0); w ← w - lr·g/(√Σ + ε)",
        "Adagrad：g ← g + λw；Σ ← Σ + g²（初始为 0）；w ← w - lr·g/(√Σ + ε)",
    ),
}


class OptimizerStep(Family[OptimizerStepParams]):
    name = "optimizer_step"
    summary = "the scalar weight after the last step, as torch.optim computes it"
    params_model = OptimizerStepParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        params = self._template(rng, level)
        if rng.random() < 0.8:  # the same optimizer on another weight, gradients and rate
            scale = rng.choice([0.5, 2.0, -1.0, 1.5, 4.0])
            g = params["g"]
            params["g"] = [v * scale for v in g] if isinstance(g, list) else g * scale
            params["w"] = rng.choice([0.0, 0.5, 1.0, -1.0, 2.0, 3.0])
            params["lr"] = rng.choice([0.001, 0.01, 0.05, 0.1, 0.5])
        return params

    def _template(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:
            return rng.choice(
                [
                    {"optimizer": "sgd", "w": 1.0, "g": 0.5, "lr": 0.1},
                    {"optimizer": "sgd", "w": 2.0, "g": -1.5, "lr": 0.01},
                    {"optimizer": "sgd", "w": 1.0, "g": [0.5, 0.5], "lr": 0.1, "momentum": 0.9},
                    {"optimizer": "adam", "w": 1.0, "g": 0.2, "lr": 0.1},  # first step ≈ lr
                    {"optimizer": "adam", "w": 0.5, "g": -3.0, "lr": 0.01},
                ]
            )
        if level is Difficulty.MEDIUM:
            return rng.choice(
                [
                    {"optimizer": "adam", "w": 1.0, "g": [0.5, 0.3], "lr": 0.1},
                    {"optimizer": "adam", "w": 1.0, "g": [1.0, -1.0, 0.5], "lr": 0.01},
                    {"optimizer": "rmsprop", "w": 1.0, "g": [0.5, 0.5], "lr": 0.01},
                    {"optimizer": "adagrad", "w": 1.0, "g": [1.0, 2.0], "lr": 0.1},
                    {
                        "optimizer": "sgd",
                        "w": 1.0,
                        "g": [1.0, 0.5, 0.25],
                        "lr": 0.1,
                        "momentum": 0.9,
                    },
                    {
                        "optimizer": "sgd",
                        "w": 1.0,
                        "g": [1.0, 1.0],
                        "lr": 0.1,
                        "momentum": 0.9,
                        "nesterov": True,
                    },
                ]
            )
        return rng.choice(
            [
                {"optimizer": "adamw", "w": 2.0, "g": 0.5, "lr": 0.1, "weight_decay": 0.1},
                {"optimizer": "adamw", "w": 1.0, "g": [0.4, -0.2], "lr": 0.05, "weight_decay": 0.5},
                {"optimizer": "adam", "w": 2.0, "g": 0.5, "lr": 0.1, "weight_decay": 0.1},
                {
                    "optimizer": "sgd",
                    "w": 1.5,
                    "g": [0.5, 0.2],
                    "lr": 0.1,
                    "momentum": 0.9,
                    "weight_decay": 0.01,
                },
                {
                    "optimizer": "rmsprop",
                    "w": 1.0,
                    "g": [0.5, -0.5],
                    "lr": 0.01,
                    "momentum": 0.9,
                },
                {"optimizer": "adam", "w": 0.0, "g": [0.1, 0.1, 0.1], "lr": 0.001},
            ]
        )

    def ask(self, p: OptimizerStepParams) -> Localized:
        name = {
            "sgd": "SGD",
            "adam": "Adam",
            "adamw": "AdamW",
            "rmsprop": "RMSprop",
            "adagrad": "Adagrad",
        }[p.optimizer]
        settings = [f"lr={f(p.lr)}"]
        if p.optimizer == "sgd" and p.momentum:
            settings.append(f"momentum={f(p.momentum)}")
        if p.nesterov:
            settings.append("nesterov=True")
        if p.optimizer in ("adam", "adamw"):
            settings.append(f"betas=({f(p.betas[0])}, {f(p.betas[1])})")
        if p.optimizer == "rmsprop":
            settings.append(f"alpha={f(p.alpha)}")
            if p.momentum:
                settings.append(f"momentum={f(p.momentum)}")
        if p.optimizer != "sgd":
            settings.append(f"eps={p.eps:g}")
        settings.append(f"weight_decay={f(p.weight_decay)}")
        call = f"torch.optim.{name}([w], {', '.join(settings)})"
        grads = p.grads
        if len(grads) == 1:
            return Localized(
                en=f"A scalar weight w = {f(p.w)} is updated by {call} with gradient "
                f"g = {f(grads[0])}. What is w after one step?",
                zh=f"标量权重 w = {f(p.w)}，用 {call} 更新，梯度 g = {f(grads[0])}。一步之后 w "
                "是多少？",
            )
        return Localized(
            en=f"A scalar weight w = {f(p.w)} is updated by {call} (fresh optimizer state) over "
            f"{len(grads)} steps with the gradients {fl(grads)}, one per step. What is w after "
            "the last step?",
            zh=f"标量权重 w = {f(p.w)}，用 {call}（优化器状态从零开始）更新 {len(grads)} 步，"
            f"每步的梯度依次为 {fl(grads)}。最后一步之后 w 是多少？",
        )

    def solve(self, p: OptimizerStepParams) -> Solved:
        value = torch_optimize(p)
        _, steps = manual_optimize(p)
        rule_en, rule_zh = _RULES[p.optimizer]
        solution = Localized(
            en=f"{rule_en}. " + "; ".join(steps) + f". Final w = {f(value)}.",
            zh=f"{rule_zh}。" + "；".join(steps) + f"。最终 w = {f(value)}。",
        )
        return Solved(value, solution, tuple(self._mistakes(p, value)))

    def _mistakes(self, p: OptimizerStepParams, value: float) -> list[KnownMistake]:
        def variant(**changes: Any) -> float:
            return manual_optimize(p, replace(Variant(), **changes))[0]

        found = [
            mistake(
                "added_update",
                2 * p.w - value,
                "The update goes against the gradient: w ← w - step, not w + step.",
                "更新方向与梯度相反：w ← w - 步长，而不是 w + 步长。",
            )
        ]
        if p.optimizer in ("adam", "adamw"):
            found.append(
                mistake(
                    "no_bias_correction",
                    variant(bias_correction=False),
                    "You forgot Adam's bias correction m̂ = m/(1-β1^t), v̂ = v/(1-β2^t): without "
                    "it the first steps are far too small/large because m and v start at 0.",
                    "忘了 Adam 的偏差修正 m̂ = m/(1-β1^t)、v̂ = v/(1-β2^t)：m 和 v 从 0 开始，"
                    "不修正的话最初几步的步长会严重失真。",
                )
            )
        if p.weight_decay:
            # The optimizer-specific decay mistakes first: they explain more when two coincide
            # (after one Adam step, L2 in the gradient and no decay at all give the same w).
            if p.optimizer == "adam":
                found.append(
                    mistake(
                        "decoupled_weight_decay",
                        variant(decoupled=True),
                        "That is AdamW's decoupled weight decay; torch.optim.Adam adds λw to the "
                        "gradient (L2), so the decay also goes through m and v.",
                        "这是 AdamW 的解耦权重衰减；torch.optim.Adam 是把 λw 加到梯度上（L2），"
                        "衰减项也会经过 m 和 v。",
                    )
                )
            if p.optimizer == "adamw":
                found += [
                    mistake(
                        "l2_in_gradient",
                        variant(decoupled=False),
                        "AdamW decouples weight decay: it shrinks w by lr·λ·w directly instead of "
                        "adding λw to the gradient (that is Adam with L2).",
                        "AdamW 的权重衰减是解耦的：直接把 w 缩小 lr·λ·w，而不是把 λw 加到梯度上"
                        "（那是带 L2 的 Adam）。",
                    ),
                    mistake(
                        "decay_without_lr",
                        variant(decay_times_lr=False),
                        "torch.optim.AdamW multiplies the decay by the learning rate: "
                        "w ← w·(1 - lr·λ), not w·(1 - λ).",
                        "torch.optim.AdamW 的衰减要乘以学习率："
                        "w ← w·(1 - lr·λ)，而不是 w·(1 - λ)。",
                    ),
                ]
            found.append(
                mistake(
                    "ignored_weight_decay",
                    variant(use_weight_decay=False),
                    f"You ignored weight_decay={f(p.weight_decay)}.",
                    f"忽略了 weight_decay={f(p.weight_decay)}。",
                )
            )
        if p.optimizer == "sgd" and p.momentum:
            found += [
                mistake(
                    "ignored_momentum",
                    variant(use_momentum=False),
                    f"You ignored the momentum {f(p.momentum)}: that is plain SGD, w ← w - lr·g. "
                    "With momentum each step is lr·buf, where buf = μ·buf + g.",
                    f"忽略了动量 {f(p.momentum)}：那是普通 SGD，w ← w - lr·g。"
                    "有动量时每一步是 lr·buf，其中 buf = μ·buf + g。",
                ),
                mistake(
                    "ema_momentum",
                    variant(ema_momentum=True),
                    "That is the exponential moving average of some courses, v = μ·v + (1 - μ)·g "
                    "starting from v = 0. PyTorch's SGD momentum has no (1 - μ) factor "
                    "(dampening=0): buf = g at the first step, then buf = μ·buf + g.",
                    "这是某些课程里的指数滑动平均：v 从 0 开始，v = μ·v + (1 - μ)·g。"
                    "PyTorch 的 SGD 动量没有 (1 - μ) 系数（dampening=0）：第一步 buf = g，"
                    "之后 buf = μ·buf + g。",
                ),
            ]
            if p.nesterov:
                found.append(
                    mistake(
                        "ignored_nesterov",
                        variant(use_nesterov=False),
                        "With nesterov=True PyTorch steps along g + μ·buf, not buf.",
                        "nesterov=True 时 PyTorch 沿 g + μ·buf 更新，而不是 buf。",
                    )
                )
        if p.optimizer == "rmsprop":
            found += [
                mistake(
                    "alpha_swapped",
                    variant(swap_alpha=True),
                    "alpha weighs the old average: v = α·v + (1-α)·g², not the other way round.",
                    "alpha 是旧平均值的权重：v = α·v + (1-α)·g²，不要反过来。",
                ),
                mistake(
                    "no_sqrt",
                    variant(sqrt=False),
                    "Divide by the root of the running average, √v + ε.",
                    "要除以滑动平均的平方根 √v + ε。",
                ),
            ]
        if p.optimizer == "adagrad":
            found += [
                mistake(
                    "no_accumulation",
                    variant(accumulate=False),
                    "Adagrad divides by the root of the sum of all squared gradients so far, "
                    "not only the current one.",
                    "Adagrad 除以的是到目前为止所有梯度平方之和的平方根，而不只是当前梯度。",
                ),
                mistake(
                    "no_sqrt",
                    variant(sqrt=False),
                    "Divide by the square root of the accumulated squares, √Σg² + ε.",
                    "要除以累积平方和的平方根 √Σg² + ε。",
                ),
            ]
        return found
