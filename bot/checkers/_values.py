"""Value families: activations and the sigmoid bound, and the number formatting they all share.

Every answer key is computed in float64 by torch: forward values directly, derivatives by
autograd. The other value families live beside it: softmax cross-entropy in `_losses`,
BatchNorm in `_batchnorm`, dropout in `_dropout`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from random import Random
from typing import Annotated, Any, Literal

import torch
import torch.nn.functional as F
from pydantic import BeforeValidator, Field

from bot.checkers._base import Family, Params, Real, Solved, _not_bool, mistake
from bot.checkers._torch import F64, scalar
from bot.core.answers import DEFAULT_TOLERANCE, KnownMistake, Tolerance
from bot.core.models import Difficulty, Localized


def f(x: float) -> str:
    """A real number as the worked solutions show it (6 significant figures)."""
    text = f"{x:.6g}"
    return "0" if text == "-0" else text


def fp(x: float) -> str:
    """`f(x)`, in brackets if negative: after an operator or under a power (1 - (-0.9)², not
    1 - -0.9², which reads as 1 - (-(0.9²)))."""
    text = f(x)
    return f"({text})" if text.startswith("-") else text


def fl(values: list[float]) -> str:
    return "[" + ", ".join(f(v) for v in values) + "]"


def list_request(n: int, tolerance: Tolerance = DEFAULT_TOLERANCE) -> Localized:
    """The last sentence of a question whose answer is a list of reals: how many numbers, and
    how precisely each one is graded."""
    rel = f"{tolerance.rel:.0e}".replace("e-0", "e-")
    absolute = f"{tolerance.abs:.0e}".replace("e-0", "e-")
    numbers = "number" if n == 1 else "numbers"
    return Localized(
        en=f"Give a list of {n} {numbers}, each to at least four significant figures (every "
        f"number is graded with relative tolerance {rel}, absolute {absolute} near zero).",
        zh=f"请给出由 {n} 个数组成的列表，每个数至少保留四位有效数字（每个数按相对误差 {rel} "
        f"评分，接近 0 时按绝对误差 {absolute}）。",
    )


# --- activation ---------------------------------------------------------------------------

Activation = Literal[
    "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "silu", "softplus"
]


class ActivationParams(Params):
    fn: Activation
    x: Annotated[float, BeforeValidator(_not_bool), Field(ge=-1000, le=1000, allow_inf_nan=False)]
    derivative: bool = False
    negative_slope: Real = 0.01


def _torch_fn(name: str, slope: float) -> Callable[[torch.Tensor], torch.Tensor]:
    table: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, slope),
        "elu": F.elu,
        "gelu": F.gelu,
        "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
        "silu": F.silu,
        # threshold 50, not 20: past it softplus is the identity (off by e^-x, which float64
        # shows below 50; the same in bot/checkers/_sgns.py)
        "softplus": lambda t: F.softplus(t, threshold=50),
    }
    return table[name]


def activation_value(name: str, x: float, slope: float, derivative: bool) -> float:
    """f(x), or f'(x) as autograd computes it (so relu'(0) = 0, leaky_relu'(0) = slope)."""
    t = scalar(x, grad=derivative)
    y = _torch_fn(name, slope)(t)
    if not derivative:
        return float(y.item())
    (grad,) = torch.autograd.grad(y, t)
    return float(grad.item())


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


_DEFINITIONS = {
    "sigmoid": ("σ(x) = 1 / (1 + e^(-x))", "σ(x) = 1 / (1 + e^(-x))"),
    "tanh": ("tanh(x)", "tanh(x)"),
    "relu": ("ReLU(x) = max(0, x)", "ReLU(x) = max(0, x)"),
    "leaky_relu": (
        "LeakyReLU(x) = x if x > 0 else a·x, with negative_slope a = {a}",
        "LeakyReLU(x) = x（x > 0）否则 a·x，negative_slope a = {a}",
    ),
    "elu": ("ELU(x) = x if x > 0 else e^x - 1 (α = 1)", "ELU(x) = x（x > 0）否则 e^x - 1（α = 1）"),
    "gelu": (
        "GELU(x) = x·Φ(x), Φ the standard normal CDF (exact, erf-based: PyTorch's default)",
        "GELU(x) = x·Φ(x)，Φ 为标准正态分布函数（精确的 erf 版本，PyTorch 默认）",
    ),
    "gelu_tanh": (
        "GELU with the tanh approximation: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))",
        "tanh 近似的 GELU：0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))",
    ),
    "silu": ("SiLU(x) = x·σ(x) (swish)", "SiLU(x) = x·σ(x)（swish）"),
    "softplus": ("softplus(x) = ln(1 + e^x) (β = 1)", "softplus(x) = ln(1 + e^x)（β = 1）"),
}


def _working(name: str, x: float, a: float, derivative: bool, value: float) -> Localized:
    s = _sigmoid(x)
    if not derivative:
        steps = {
            "sigmoid": f"σ({f(x)}) = 1 / (1 + e^{f(-x)}) = {f(value)}",
            "tanh": f"tanh({f(x)}) = (e^{f(x)} - e^{f(-x)}) / (e^{f(x)} + e^{f(-x)}) = {f(value)}",
            "relu": f"max(0, {f(x)}) = {f(value)}",
            "leaky_relu": f"{f(x)} > 0 → {f(value)}" if x > 0 else f"{f(a)} × {fp(x)} = {f(value)}",
            "elu": f"{f(x)} > 0 → {f(value)}" if x > 0 else f"e^{f(x)} - 1 = {f(value)}",
            "gelu": f"{f(x)} × Φ({f(x)}) = {f(x)} × {f(0.5 * (1 + math.erf(x / math.sqrt(2))))} "
            f"= {f(value)}",
            "gelu_tanh": f"0.5×{fp(x)}×(1 + tanh(√(2/π)({f(x)} + 0.044715×{fp(x)}³))) = {f(value)}",
            "silu": f"{f(x)} × σ({f(x)}) = {f(x)} × {f(s)} = {f(value)}",
            "softplus": f"ln(1 + e^{f(x)}) = {f(value)}",
        }
        step = steps[name]
        return Localized(en=f"Substituting x = {f(x)}: {step}.", zh=f"代入 x = {f(x)}：{step}。")
    phi = 0.5 * (1 + math.erf(x / math.sqrt(2)))
    density = math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    common = {
        "sigmoid": f"σ'(x) = σ(x)(1 - σ(x)) = {f(s)} × {f(1 - s)} = {f(value)}",
        "tanh": f"tanh'(x) = 1 - tanh²(x) = 1 - {fp(math.tanh(x))}² = {f(value)}",
        "gelu": f"GELU'(x) = Φ(x) + x·φ(x) = {f(phi)} + {fp(x)}×{f(density)} = {f(value)}",
        "silu": f"SiLU'(x) = σ(x) + x·σ(x)(1 - σ(x)) = {f(s)} + {fp(x)}×{f(s)}×{f(1 - s)} = "
        f"{f(value)}",
        "softplus": f"softplus'(x) = e^x / (1 + e^x) = σ(x) = {f(value)}",
    }
    if name in common:
        return Localized(en=f"Derivative: {common[name]}.", zh=f"求导：{common[name]}。")
    slope_formula = "√(2/π)(1 + 3×0.044715x²)"
    en, zh = {
        "relu": (
            f"ReLU'(x) is 1 for x > 0 and 0 otherwise; autograd uses 0 at x = 0: {f(value)}",
            f"x > 0 时 ReLU'(x) = 1，否则为 0；autograd 在 x = 0 处取 0：{f(value)}",
        ),
        "leaky_relu": (
            f"LeakyReLU'(x) is 1 for x > 0, else the slope {f(a)} (autograd uses the slope at "
            f"x = 0): {f(value)}",
            f"x > 0 时 LeakyReLU'(x) = 1，否则为斜率 {f(a)}（autograd 在 x = 0 处取斜率）："
            f"{f(value)}",
        ),
        "elu": (
            f"ELU'(x) is 1 for x > 0, else e^x (autograd: 1 at x = 0): {f(value)}",
            f"x > 0 时 ELU'(x) = 1，否则为 e^x（autograd 在 x = 0 处取 1）：{f(value)}",
        ),
        "gelu_tanh": (
            "with u = √(2/π)(x + 0.044715x³), the derivative is 0.5(1 + tanh u) + "
            f"0.5x(1 - tanh²u)·{slope_formula} = {f(value)}",
            "记 u = √(2/π)(x + 0.044715x³)，导数为 0.5(1 + tanh u) + "
            f"0.5x(1 - tanh²u)·{slope_formula} = {f(value)}",
        ),
    }[name]
    return Localized(en=f"{en}.", zh=f"{zh}。")


# The interview hint: the function or its derivative in symbols, no value substituted.
_VALUE_FORMULAS = {
    "sigmoid": "σ(x) = 1 / (1 + e^(-x))",
    "tanh": "tanh(x) = (e^x - e^(-x)) / (e^x + e^(-x))",
    "relu": "ReLU(x) = max(0, x)",
    "leaky_relu": "LeakyReLU(x) = x for x > 0, else negative_slope·x",
    "elu": "ELU(x) = x for x > 0, else e^x - 1",
    "gelu": "GELU(x) = x·Φ(x), Φ the standard normal CDF",
    "gelu_tanh": "GELU(x) ≈ 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))",
    "silu": "SiLU(x) = x·σ(x)",
    "softplus": "softplus(x) = ln(1 + e^x)",
}
_DERIVATIVE_FORMULAS = {
    "sigmoid": ("σ'(x) = σ(x)(1 - σ(x))", "σ'(x) = σ(x)(1 - σ(x))"),
    "tanh": ("tanh'(x) = 1 - tanh²(x)", "tanh'(x) = 1 - tanh²(x)"),
    "relu": (
        "ReLU'(x) is 1 for x > 0, else 0 (autograd takes 0 at x = 0)",
        "x > 0 时 ReLU'(x) = 1，否则为 0（autograd 在 x = 0 处取 0）",
    ),
    "leaky_relu": (
        "LeakyReLU'(x) is 1 for x > 0, else negative_slope (autograd takes the slope at x = 0)",
        "x > 0 时 LeakyReLU'(x) = 1，否则为 negative_slope（autograd 在 x = 0 处取斜率）",
    ),
    "elu": (
        "ELU'(x) is 1 for x > 0, else e^x (autograd takes 1 at x = 0)",
        "x > 0 时 ELU'(x) = 1，否则为 e^x（autograd 在 x = 0 处取 1）",
    ),
    "gelu": (
        "GELU'(x) = Φ(x) + x·φ(x), φ the standard normal density",
        "GELU'(x) = Φ(x) + x·φ(x)，φ 为标准正态密度",
    ),
    "gelu_tanh": (
        "with u = √(2/π)(x + 0.044715x³): 0.5(1 + tanh u) + 0.5x(1 - tanh²u)·du/dx",
        "记 u = √(2/π)(x + 0.044715x³)：0.5(1 + tanh u) + 0.5x(1 - tanh²u)·du/dx",
    ),
    "silu": ("SiLU'(x) = σ(x) + x·σ(x)(1 - σ(x))", "SiLU'(x) = σ(x) + x·σ(x)(1 - σ(x))"),
    "softplus": ("softplus'(x) = e^x / (1 + e^x) = σ(x)", "softplus'(x) = e^x / (1 + e^x) = σ(x)"),
}


def _formula_hint(name: str, derivative: bool) -> Localized:
    if derivative:
        en, zh = _DERIVATIVE_FORMULAS[name]
        return Localized(en=en, zh=zh)
    return Localized(en=_VALUE_FORMULAS[name], zh=_VALUE_FORMULAS[name])


class ActivationFamily(Family[ActivationParams]):
    name = "activation"
    summary = "f(x) or f'(x) as autograd gives it (so relu'(0) = 0)"
    params_model = ActivationParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:
            fn = rng.choice(["sigmoid", "sigmoid", "tanh", "relu"])
            points = [-3.0, -2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 3.0]
            x = rng.choice(points if fn == "relu" else [0.0, *points])  # relu's kink is hard
            return {"fn": fn, "x": x, "derivative": rng.random() < 0.4}
        if level is Difficulty.MEDIUM:
            fn = rng.choice(["sigmoid", "tanh", "leaky_relu", "elu", "softplus"])
            x = rng.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
            params: dict[str, Any] = {"fn": fn, "x": x, "derivative": rng.random() < 0.7}
            if fn == "leaky_relu":
                params["negative_slope"] = rng.choice([0.01, 0.1, 0.2])
            return params
        kind = rng.choice(["kink", "smooth", "smooth"])
        if kind == "kink":  # what autograd does where the derivative is undefined
            fn = rng.choice(["relu", "leaky_relu", "elu"])
            return {"fn": fn, "x": 0.0, "derivative": True}
        return {
            "fn": rng.choice(["gelu", "gelu_tanh", "silu", "softplus"]),
            "x": rng.choice([-3.0, -2.0, -1.0, -0.5, 0.5, 1.0, 1.5, 3.0]),
            "derivative": rng.random() < 0.6,
        }

    def ask(self, p: ActivationParams) -> Localized:
        en_def, zh_def = _DEFINITIONS[p.fn]
        en_def, zh_def = en_def.format(a=p.negative_slope), zh_def.format(a=p.negative_slope)
        if p.derivative:
            return Localized(
                en=f"With {en_def}: what is the derivative f'(x) at x = {f(p.x)}, as PyTorch's "
                "autograd computes it?",
                zh=f"设 {zh_def}。在 x = {f(p.x)} 处的导数 f'(x) 是多少（按 PyTorch autograd "
                "的结果）？",
            )
        return Localized(
            en=f"With {en_def}: what is f({f(p.x)})?",
            zh=f"设 {zh_def}。f({f(p.x)}) 等于多少？",
        )

    def solve(self, p: ActivationParams) -> Solved:
        value = activation_value(p.fn, p.x, p.negative_slope, p.derivative)
        other = activation_value(p.fn, p.x, p.negative_slope, not p.derivative)
        s = _sigmoid(p.x)
        candidates: list[KnownMistake | None] = [
            mistake(
                "value_not_derivative",
                other,
                "That is f(x), not its derivative.",
                "这是函数值 f(x)，不是导数。",
            )
            if p.derivative
            else mistake(
                "derivative_not_value",
                other,
                "That is the derivative f'(x); the question asks for the value f(x).",
                "这是导数 f'(x)；题目问的是函数值 f(x)。",
            )
        ]
        if p.fn in ("gelu", "gelu_tanh"):
            variant = "gelu" if p.fn == "gelu_tanh" else "gelu_tanh"
            candidates.append(
                mistake(
                    "other_gelu",
                    activation_value(variant, p.x, p.negative_slope, p.derivative),
                    "You used the other GELU: PyTorch's default is the exact erf form; "
                    "approximate='tanh' is the tanh approximation (they differ slightly).",
                    "用错了 GELU 的版本：PyTorch 默认是精确的 erf 形式，approximate='tanh' 才是 "
                    "tanh "
                    "近似（两者略有差别）。",
                )
            )
        if p.derivative:
            if p.x == 0 and p.fn in ("relu", "leaky_relu"):
                candidates.append(
                    mistake(
                        "kink_gradient",
                        1.0,
                        "At x = 0 the derivative is undefined; autograd takes the x <= 0 branch "
                        f"and returns {f(value)}, not 1.",
                        f"x = 0 处导数没有定义；autograd 取 x <= 0 那一支，返回 {f(value)}，而不是 "
                        "1。",
                    )
                )
                candidates.append(
                    mistake(
                        "kink_gradient",
                        0.5 if p.fn == "relu" else (1 + p.negative_slope) / 2,
                        "At x = 0 autograd does not average the two one-sided derivatives; it "
                        f"returns {f(value)}.",
                        f"在 x = 0 处 autograd 不取两侧导数的平均，而是返回 {f(value)}。",
                    )
                )
            if p.x == 0 and p.fn == "elu":
                candidates.append(
                    mistake(
                        "kink_gradient",
                        0.0,
                        "ELU with α = 1 is smooth at 0: e^0 = 1 from the left and 1 from the "
                        "right.",
                        "α = 1 的 ELU 在 0 处是光滑的：左导数 e^0 = 1，右导数也是 1。",
                    )
                )
            if p.fn == "tanh":
                candidates.append(
                    mistake(
                        "tanh_not_squared",
                        1 - math.tanh(p.x),
                        "tanh'(x) = 1 - tanh²(x): the tanh is squared.",
                        "tanh'(x) = 1 - tanh²(x)：tanh 要平方。",
                    )
                )
            if p.fn == "sigmoid":
                candidates.append(
                    mistake(
                        "sigmoid_one_minus",
                        1 - s,
                        "σ'(x) = σ(x)(1 - σ(x)): multiply by σ(x) as well.",
                        "σ'(x) = σ(x)(1 - σ(x))：还要再乘以 σ(x)。",
                    )
                )
            if p.fn == "silu":
                candidates.append(
                    mistake(
                        "product_rule",
                        s,
                        "SiLU is x·σ(x): by the product rule its derivative is σ(x) + x·σ'(x), "
                        "not σ(x).",
                        "SiLU 是 x·σ(x)：按乘积法则导数是 σ(x) + x·σ'(x)，而不是 σ(x)。",
                    )
                )
            if p.fn == "gelu":
                candidates.append(
                    mistake(
                        "product_rule",
                        0.5 * (1 + math.erf(p.x / math.sqrt(2))),
                        "GELU is x·Φ(x): its derivative is Φ(x) + x·φ(x), not Φ(x).",
                        "GELU 是 x·Φ(x)：导数是 Φ(x) + x·φ(x)，而不是 Φ(x)。",
                    )
                )
            if p.x < 0 and p.fn == "leaky_relu":
                candidates.append(
                    mistake(
                        "leaky_as_relu",
                        0.0,
                        f"Leaky ReLU keeps a slope {f(p.negative_slope)} for x < 0; that is the "
                        "point of it.",
                        f"Leaky ReLU 在 x < 0 时保留斜率 {f(p.negative_slope)}，这正是它的用意。",
                    )
                )
        else:
            if p.fn == "softplus":
                candidates.append(
                    mistake(
                        "log10",
                        (max(p.x, 0.0) + math.log1p(math.exp(-abs(p.x)))) / math.log(10),
                        "softplus uses the natural log ln, not log10.",
                        "softplus 用的是自然对数 ln，不是 log10。",
                    )
                )
            if p.fn == "sigmoid":
                candidates.append(
                    mistake(
                        "exponent_sign",
                        1 - s,
                        "σ(x) = 1 / (1 + e^(-x)): the exponent is -x.",
                        "σ(x) = 1 / (1 + e^(-x))：指数是 -x。",
                    )
                )
            if p.x < 0 and p.fn == "relu":
                candidates.append(
                    mistake(
                        "negative_passed",
                        p.x,
                        "ReLU zeroes negative inputs: max(0, x).",
                        "ReLU 会把负的输入置为 0：max(0, x)。",
                    )
                )
            if p.x < 0 and p.fn in ("leaky_relu", "elu"):
                candidates.append(
                    mistake(
                        "negative_as_relu",
                        0.0,
                        f"{p.fn} is not zero for x < 0 (unlike ReLU).",
                        f"{p.fn} 在 x < 0 时不为 0（不同于 ReLU）。",
                    )
                )
        return Solved(
            value,
            _working(p.fn, p.x, p.negative_slope, p.derivative, value),
            tuple(m for m in candidates if m is not None),
            hint=_formula_hint(p.fn, p.derivative),
        )


# --- vanishing_sigmoid_bound --------------------------------------------------------------


class VanishingSigmoidBoundParams(Params):
    layers: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=200)]


def sigmoid_derivative_max() -> float:
    """max σ'(x), found by autograd on a grid around 0 (it peaks at x = 0)."""
    grid = torch.linspace(-8, 8, 1601, dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(torch.sigmoid(grid).sum(), grid)
    return float(grad.max().item())


class VanishingSigmoidBound(Family[VanishingSigmoidBoundParams]):
    name = "vanishing_sigmoid_bound"
    summary = "the largest possible product of that many sigmoid derivatives"
    params_model = VanishingSigmoidBoundParams
    # The answer gets tiny fast (0.25^10 ≈ 9.5e-7); an absolute tolerance would accept 0.
    tolerance = Tolerance(rel=1e-3, abs=0.0)
    percent_ok = True

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        options = {
            Difficulty.EASY: range(1, 61),
            Difficulty.MEDIUM: range(10, 90),
            Difficulty.HARD: range(30, 130),
        }
        return {"layers": rng.choice(options[level])}

    def ask(self, p: VanishingSigmoidBoundParams) -> Localized:
        return Localized(
            en=f"Backpropagating through {p.layers} sigmoid layers multiplies the gradient by one "
            "sigmoid derivative σ'(z) per layer (take every weight as 1). What is the largest "
            f"possible value of the product of those {p.layers} derivatives?",
            zh=f"反向传播经过 {p.layers} 个 sigmoid 层时，每层都会让梯度乘上一个 sigmoid 的导数 "
            "σ'(z)"
            f"（权重都取 1）。这 {p.layers} 个导数的乘积最大可能是多少？",
        )

    def solve(self, p: VanishingSigmoidBoundParams) -> Solved:
        peak = sigmoid_derivative_max()
        bound = float(torch.tensor(peak, dtype=F64).pow(p.layers).item())
        solution = Localized(
            en=f"σ'(z) = σ(z)(1 - σ(z)) peaks at z = 0 with σ(0) = 0.5: 0.5 × 0.5 = {f(peak)}. "
            f"The product is at most {f(peak)}^{p.layers} = {f(bound)}: the gradient shrinks "
            "geometrically with depth (vanishing gradients).",
            zh=f"σ'(z) = σ(z)(1 - σ(z)) 在 z = 0 处最大，σ(0) = 0.5：0.5 × 0.5 = {f(peak)}。"
            f"乘积最大为 {f(peak)}^{p.layers} = {f(bound)}：梯度随深度呈几何级数衰减（梯度消失）。",
        )
        candidates = [
            mistake(
                "sigmoid_max_one",
                1.0,
                "The sigmoid's derivative is at most 0.25, not 1 (that is tanh's maximum).",
                "sigmoid 的导数最大是 0.25，不是 1（1 是 tanh 导数的最大值）。",
            ),
            mistake(
                "sigmoid_value",
                0.5**p.layers,
                "0.5 is σ(0), the value of the sigmoid; its derivative there is 0.5 × 0.5 = 0.25.",
                "0.5 是 σ(0)，即函数值；那里的导数是 0.5 × 0.5 = 0.25。",
            ),
            mistake(
                "added_not_multiplied",
                0.25 * p.layers,
                "The chain rule multiplies the per-layer derivatives; it does not add them.",
                "链式法则是把每层的导数相乘，而不是相加。",
            ),
            mistake(
                "off_by_one",
                0.25 ** (p.layers - 1),
                f"There is one derivative per layer: {p.layers} factors of 0.25.",
                f"每层一个导数：共 {p.layers} 个 0.25 相乘。",
            ),
        ]
        hint = Localized(
            en="σ'(z) = σ(z)(1 - σ(z)): where is it largest, and what is the most each layer "
            "can multiply the gradient by?",
            zh="σ'(z) = σ(z)(1 - σ(z))：它在哪里取最大值？每一层最多能让梯度乘上多少？",
        )
        return Solved(bound, solution, tuple(candidates), hint=hint)
