"""Value families: activations, softmax cross-entropy, BatchNorm, dropout, the sigmoid bound.

Every answer key is computed in float64 by torch: forward values directly, derivatives by
autograd, BatchNorm with a real `nn.BatchNorm1d` in train mode.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
import torch.nn.functional as F
from pydantic import BeforeValidator, Field, model_validator
from torch import nn

from bot.checkers._base import Family, Int, Params, Real, Solved, _not_bool, mistake
from bot.checkers._torch import F64, scalar, vector
from bot.core.answers import DEFAULT_TOLERANCE, KnownMistake, Tolerance
from bot.core.models import Difficulty, Localized


def f(x: float) -> str:
    """A real number as the worked solutions show it (6 significant figures)."""
    text = f"{x:.6g}"
    return "0" if text == "-0" else text


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


Logits = Annotated[list[Real], Field(min_length=2, max_length=64)]
Batch = Annotated[list[Real], Field(min_length=2, max_length=64)]


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
        "softplus": F.softplus,
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
            "leaky_relu": f"{f(x)} > 0 → {f(value)}" if x > 0 else f"{f(a)} × {f(x)} = {f(value)}",
            "elu": f"{f(x)} > 0 → {f(value)}" if x > 0 else f"e^{f(x)} - 1 = {f(value)}",
            "gelu": f"{f(x)} × Φ({f(x)}) = {f(x)} × {f(0.5 * (1 + math.erf(x / math.sqrt(2))))} "
            f"= {f(value)}",
            "gelu_tanh": f"0.5×{f(x)}×(1 + tanh(√(2/π)({f(x)} + 0.044715×{f(x)}³))) = {f(value)}",
            "silu": f"{f(x)} × σ({f(x)}) = {f(x)} × {f(s)} = {f(value)}",
            "softplus": f"ln(1 + e^{f(x)}) = {f(value)}",
        }
        step = steps[name]
        return Localized(en=f"Substituting x = {f(x)}: {step}.", zh=f"代入 x = {f(x)}：{step}。")
    phi = 0.5 * (1 + math.erf(x / math.sqrt(2)))
    density = math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    common = {
        "sigmoid": f"σ'(x) = σ(x)(1 - σ(x)) = {f(s)} × {f(1 - s)} = {f(value)}",
        "tanh": f"tanh'(x) = 1 - tanh²(x) = 1 - {f(math.tanh(x))}² = {f(value)}",
        "gelu": f"GELU'(x) = Φ(x) + x·φ(x) = {f(phi)} + {f(x)}×{f(density)} = {f(value)}",
        "silu": f"SiLU'(x) = σ(x) + x·σ(x)(1 - σ(x)) = {f(s)} + {f(x)}×{f(s)}×{f(1 - s)} = "
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
        )


# --- softmax_cross_entropy ----------------------------------------------------------------


class SoftmaxCrossEntropyParams(Params):
    logits: Logits
    target: Int
    output: Literal["loss", "grad"] = "loss"

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if not 0 <= self.target < len(self.logits):
            raise ValueError(f"target {self.target} is not a class index 0..{len(self.logits) - 1}")
        if max(self.logits) - min(self.logits) > 700:
            raise ValueError("logits more than 700 apart underflow a float64 softmax")
        return self


class SoftmaxCrossEntropy(Family[SoftmaxCrossEntropyParams]):
    name = "softmax_cross_entropy"
    summary = "the loss (natural log) or its gradient w.r.t. the logits (a list)"
    params_model = SoftmaxCrossEntropyParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:
            logits, target = rng.choice(
                [
                    ([2.0, 1.0, 0.1], 0),
                    ([1.0, 2.0, 3.0], 2),
                    ([0.0, 0.0], 1),
                    ([2.0, 0.0], 0),
                    ([1.0, 1.0, 1.0, 1.0], 3),
                ]
            )
            if rng.random() < 0.8:  # small integer logits, two or three classes
                logits = [float(rng.randint(-1, 3)) for _ in range(rng.choice([2, 3]))]
                target = rng.randrange(len(logits))
            return {"logits": logits, "target": target}
        if level is Difficulty.MEDIUM:
            logits, target = rng.choice(
                [
                    ([3.2, 5.1, -1.7], 0),  # the CS231n example: the cat scored lower than car
                    ([2.0, 1.0, 0.1], 1),
                    ([1.3, 4.9, 2.0], 2),
                    ([0.5, 1.5, -0.5], 1),
                ]
            )
            if rng.random() < 0.8:  # three classes with one decimal
                logits = [rng.randint(-20, 50) / 10 for _ in range(3)]
                target = rng.randrange(3)
            output = rng.choice(["loss", "grad"])
            return {"logits": logits, "target": target, "output": output}
        logits, target = rng.choice(
            [
                ([2.5, -1.0, 0.3, 1.2], 2),
                ([-0.4, 1.7, 0.9, 2.2, -1.3], 1),
                ([4.0, 2.0, 1.0, 0.5], 3),
                ([0.2, -0.3, 1.1, 0.7], 0),
            ]
        )
        if rng.random() < 0.8:  # four or five classes with one decimal
            logits = [rng.randint(-20, 40) / 10 for _ in range(rng.choice([4, 5]))]
            target = rng.randrange(len(logits))
        return {"logits": logits, "target": target, "output": "grad"}

    def ask(self, p: SoftmaxCrossEntropyParams) -> Localized:
        logits = fl(p.logits)
        if p.output == "loss":
            return Localized(
                en=f"A classifier outputs the logits z = {logits} and the true class is index "
                f"{p.target} (0-based). What is the softmax cross-entropy loss "
                "(F.cross_entropy, natural log)?",
                zh=f"分类器输出的 logits 为 z = {logits}，真实类别的下标是 {p.target}（从 0 开始）"
                "。"
                "softmax 交叉熵损失（F.cross_entropy，自然对数）是多少？",
            )
        request = list_request(len(p.logits), self.tolerance)
        return Localized(
            en=f"A classifier outputs the logits z = {logits} and the true class is index "
            f"{p.target} (0-based). What is the gradient of the softmax cross-entropy loss "
            f"(F.cross_entropy) with respect to the logits? {request.en}",
            zh=f"分类器输出的 logits 为 z = {logits}，真实类别的下标是 {p.target}（从 0 开始）。"
            f"softmax 交叉熵损失（F.cross_entropy）对 logits 的梯度是多少？{request.zh}",
        )

    def solve(self, p: SoftmaxCrossEntropyParams) -> Solved:
        z = vector(p.logits, grad=True)
        loss = F.cross_entropy(z.unsqueeze(0), torch.tensor([p.target]))
        (grad,) = torch.autograd.grad(loss, z)
        probs = torch.softmax(z.detach(), 0).tolist()
        exps = [math.exp(v - max(p.logits)) for v in p.logits]
        onehot = [1.0 if i == p.target else 0.0 for i in range(len(p.logits))]
        shift = max(p.logits)
        softmax_en = (
            f"softmax: p = e^(z - {f(shift)}) / Σ = {fl(exps)} / {f(sum(exps))} = {fl(probs)}"
        )
        softmax_zh = (
            f"softmax：p = e^(z - {f(shift)}) / Σ = {fl(exps)} / {f(sum(exps))} = {fl(probs)}"
        )
        pt = probs[p.target]
        candidates: list[KnownMistake | None]
        if p.output == "loss":
            loss_value = float(loss.item())
            value: float | list[float] = loss_value
            solution = Localized(
                en=f"{softmax_en}. Loss = -ln p[{p.target}] = -ln {f(pt)} = {f(loss_value)}.",
                zh=f"{softmax_zh}。损失 = -ln p[{p.target}] = -ln {f(pt)} = {f(loss_value)}。",
            )
            candidates = [
                mistake(
                    "log10",
                    loss_value / math.log(10),
                    "Cross-entropy uses the natural log ln, not log10.",
                    "交叉熵用的是自然对数 ln，不是 log10。",
                ),
                mistake(
                    "log2",
                    loss_value / math.log(2),
                    "PyTorch's cross-entropy uses the natural log ln, not log2 (bits).",
                    "PyTorch 的交叉熵用自然对数 ln，不是 log2（比特）。",
                ),
                mistake(
                    "sign",
                    -loss_value,
                    "The loss is -ln p, which is positive: ln p of a probability is negative.",
                    "损失是 -ln p，是正数：概率的对数 ln p 是负的。",
                ),
                mistake(
                    "probability",
                    pt,
                    "That is the softmax probability of the true class; the loss is -ln of it.",
                    "这是真实类别的 softmax 概率；损失是它的 -ln。",
                ),
                mistake(
                    "one_based_target",
                    -math.log(probs[p.target + 1]),
                    "Class indices are 0-based in PyTorch: target 1 is the second logit.",
                    "PyTorch 的类别下标从 0 开始：target 1 指第二个 logit。",
                )
                if p.target + 1 < len(probs)
                else None,
            ]
        else:
            value = [float(v) for v in grad.tolist()]
            solution = Localized(
                en=f"{softmax_en}. ∂L/∂z = p - onehot(target) = {fl(probs)} - {fl(onehot)} = "
                f"{fl(value)}.",
                zh=f"{softmax_zh}。梯度 ∂L/∂z = p - onehot(target) = {fl(probs)} - {fl(onehot)} = "
                f"{fl(value)}。",
            )
            candidates = [
                mistake(
                    "forgot_onehot",
                    probs,
                    "That is the softmax itself; subtract 1 at the true class: ∂L/∂z = p - y.",
                    "这只是 softmax 本身；还要在真实类别处减 1：∂L/∂z = p - y。",
                ),
                mistake(
                    "sign",
                    [-v for v in value],
                    "The sign is flipped: ∂L/∂z = p - y (it is negative only at the true class).",
                    "符号反了：∂L/∂z = p - y（只有真实类别处为负）。",
                ),
                mistake(
                    "one_based_target",
                    [q - (1.0 if i == p.target + 1 else 0.0) for i, q in enumerate(probs)],
                    "Class indices are 0-based in PyTorch: target 1 is the second logit.",
                    "PyTorch 的类别下标从 0 开始：target 1 指第二个 logit。",
                )
                if p.target + 1 < len(probs)
                else None,
            ]
        return Solved(value, solution, tuple(m for m in candidates if m is not None))


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
                en=f"{stats_en}. y = γ(x - μ)/√(σ² + ε) + β = {f(p.gamma)}·(x - {f(mean)})/"
                f"√({f(biased)} + {p.eps:g}) + {f(p.beta)} = {fl(value)}. Training mode "
                "normalises with the batch's biased variance (divide by N).",
                zh=f"{stats_zh}。y = γ(x - μ)/√(σ² + ε) + β = {f(p.gamma)}·(x - {f(mean)})/"
                f"√({f(biased)} + {p.eps:g}) + {f(p.beta)} = {fl(value)}。训练模式用批次的有偏方差"
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
        return Solved(bound, solution, tuple(candidates))
