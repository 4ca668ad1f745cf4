"""mlp_backprop: one forward/backward pass and one SGD step of a small two-layer MLP.

The key comes from autograd and `torch.optim.SGD`; a hand-written backward pass in plain
Python produces the worked solution and the classic wrong answers (each a variant of it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
from pydantic import BeforeValidator, Field, model_validator

from bot.checkers._base import Family, Params, Real, Solved, _not_bool, mistake
from bot.checkers._torch import F64
from bot.checkers._values import f, fl, fp
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

Vector = Annotated[list[Real], Field(min_length=1, max_length=8)]
Matrix = Annotated[list[Vector], Field(min_length=1, max_length=8)]
Index = Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=7)]
Act = Literal["sigmoid", "tanh", "relu", "identity"]
Output = Literal["loss", "grad_W1", "grad_W2", "new_W1", "new_W2"]

# Matt Mazur's well-known worked example, in PyTorch's [out][in] layout.
MAZUR: dict[str, Any] = {
    "x": [0.05, 0.10],
    "t": [0.01, 0.99],
    "W1": [[0.15, 0.20], [0.25, 0.30]],
    "b1": 0.35,
    "W2": [[0.40, 0.45], [0.50, 0.55]],
    "b2": 0.60,
}


class MlpBackpropParams(Params):
    x: Vector
    t: Vector | Real
    W1: Matrix
    b1: Vector | Real
    W2: Matrix
    b2: Vector | Real
    activation: Act = "sigmoid"
    loss: Literal["half_mse", "mse"] = "half_mse"
    lr: Annotated[float, BeforeValidator(_not_bool), Field(ge=0, le=100, allow_inf_nan=False)] = 0.5
    output: Output = "loss"
    i: Index = 0
    j: Index = 0

    @model_validator(mode="after")
    def _possible(self) -> Self:
        hidden, inputs = len(self.W1), len(self.x)
        for name, matrix, cols in (("W1", self.W1, inputs), ("W2", self.W2, hidden)):
            if any(len(row) != cols for row in matrix):
                raise ValueError(f"every row of {name} needs {cols} entries ([out][in] layout)")
        outputs = len(self.W2)
        for name, bias, size in (("b1", self.b1, hidden), ("b2", self.b2, outputs)):
            if isinstance(bias, list) and len(bias) != size:
                raise ValueError(f"{name} needs {size} entries (or one number shared by the layer)")
        if len(self.targets) != outputs:
            raise ValueError(f"t needs {outputs} entries, one per output")
        if self.output != "loss":
            rows, cols = (hidden, inputs) if self.output.endswith("W1") else (outputs, hidden)
            if self.i >= rows or self.j >= cols:
                raise ValueError(f"entry [{self.i}][{self.j}] is outside the {rows}×{cols} matrix")
        return self

    @property
    def targets(self) -> list[float]:
        return self.t if isinstance(self.t, list) else [self.t]


def _act(name: str, z: float) -> float:
    if name == "sigmoid":
        return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
    if name == "tanh":
        return math.tanh(z)
    if name == "relu":
        return max(0.0, z)
    return z


def _act_grad(name: str, z: float, a: float) -> float:
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    if name == "relu":
        return 1.0 if z > 0 else 0.0  # autograd's convention at 0
    return 1.0


def _bias(value: list[float] | float, size: int) -> list[float]:
    return value if isinstance(value, list) else [value] * size


@dataclass(frozen=True, slots=True)
class Pass:
    """A hand-computed forward and backward pass (possibly with a classic mistake in it)."""

    net_h: list[float]
    h: list[float]
    net_y: list[float]
    y: list[float]
    loss: float
    delta_out: list[float]
    delta_hidden: list[float]
    grad_w1: list[list[float]]
    grad_w2: list[list[float]]


def manual_pass(
    p: MlpBackpropParams, *, output_slope: bool = True, hidden_slope: bool = True
) -> Pass:
    """Backpropagation by hand; `*_slope=False` drops that layer's activation derivative."""
    act = p.activation
    b1, b2 = _bias(p.b1, len(p.W1)), _bias(p.b2, len(p.W2))
    net_h = [
        sum(w * v for w, v in zip(row, p.x, strict=True)) + b
        for row, b in zip(p.W1, b1, strict=True)
    ]
    h = [_act(act, z) for z in net_h]
    net_y = [
        sum(w * v for w, v in zip(row, h, strict=True)) + b for row, b in zip(p.W2, b2, strict=True)
    ]
    y = [_act(act, z) for z in net_y]
    t = p.targets
    squares = sum((ti - yi) ** 2 for ti, yi in zip(t, y, strict=True))
    if p.loss == "half_mse":
        loss, scale = 0.5 * squares, 1.0
    else:
        loss, scale = squares / len(y), 2.0 / len(y)
    delta_out = [
        scale * (yi - ti) * (_act_grad(act, z, yi) if output_slope else 1.0)
        for yi, ti, z in zip(y, t, net_y, strict=True)
    ]
    delta_hidden = [
        sum(delta_out[k] * p.W2[k][i] for k in range(len(y)))
        * (_act_grad(act, net_h[i], h[i]) if hidden_slope else 1.0)
        for i in range(len(h))
    ]
    grad_w2 = [[d * hj for hj in h] for d in delta_out]
    grad_w1 = [[d * xj for xj in p.x] for d in delta_hidden]
    return Pass(net_h, h, net_y, y, loss, delta_out, delta_hidden, grad_w1, grad_w2)


def torch_step(p: MlpBackpropParams) -> dict[str, Any]:
    """Forward, then as far as `p.output` needs, backward and one plain SGD step with torch:
    the loss; the asked layer's gradient; that layer's weights after the step. (Each is what
    the full pass over every parameter gives: tests/checkers/test_shortcuts.py.)"""
    w1 = torch.tensor(p.W1, dtype=F64, requires_grad=True)
    w2 = torch.tensor(p.W2, dtype=F64, requires_grad=True)
    # A bias given as one number is one shared parameter, broadcast over the layer.
    b1 = torch.tensor(p.b1, dtype=F64, requires_grad=True)
    b2 = torch.tensor(p.b2, dtype=F64, requires_grad=True)
    x = torch.tensor(p.x, dtype=F64)
    t = torch.tensor(p.targets, dtype=F64)
    activations: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "identity": lambda v: v,
    }
    act = activations[p.activation]
    y = act(w2 @ act(w1 @ x + b1) + b2)
    squares: torch.Tensor = (t - y) ** 2
    loss = 0.5 * squares.sum() if p.loss == "half_mse" else squares.mean()
    result: dict[str, Any] = {"loss": float(loss.item())}
    if p.output == "loss":
        return result
    layer = p.output[-2:]
    weight = w1 if layer == "W1" else w2
    (weight.grad,) = torch.autograd.grad(loss, [weight])
    result[f"grad_{layer}"] = weight.grad.tolist()
    if p.output.startswith("new"):
        torch.optim.SGD([weight], lr=p.lr).step()
        result[f"new_{layer}"] = weight.detach().tolist()
    return result


def _new_example(rng: Random, net: dict[str, Any]) -> dict[str, Any]:
    """The same network on another input and target (most of the time)."""
    if rng.random() < 0.2:
        return net
    return {
        **net,
        "x": [rng.choice([-1.0, -0.5, 0.05, 0.1, 0.5, 1.0, 2.0]) for _ in net["x"]],
        "t": [rng.choice([0.0, 0.01, 0.2, 0.5, 0.8, 0.99, 1.0]) for _ in net["t"]],
    }


class MlpBackprop(Family[MlpBackpropParams]):
    name = "mlp_backprop"
    summary = (
        "one step of a 2-layer MLP: loss, a gradient entry or an updated weight [i][j] "
        "(PyTorch layout [out][in])"
    )
    params_model = MlpBackpropParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        nets = [
            MAZUR,
            {  # a 2-2-1 net on an XOR input
                "x": [1.0, 0.0],
                "t": [1.0],
                "W1": [[0.5, -0.4], [0.3, 0.8]],
                "b1": [0.1, -0.2],
                "W2": [[0.7, -0.6]],
                "b2": 0.05,
            },
            {
                "x": [0.5, -0.2],
                "t": [0.8],
                "W1": [[0.2, 0.6], [-0.5, 0.1]],
                "b1": 0.0,
                "W2": [[0.9, 0.3]],
                "b2": 0.1,
            },
            {
                "x": [1.0, 2.0],
                "t": [0.0, 1.0],
                "W1": [[0.1, 0.2], [0.3, 0.4]],
                "b1": [0.5, 0.5],
                "W2": [[0.6, 0.7], [0.8, 0.9]],
                "b2": [0.0, 0.0],
            },
        ]
        if level is Difficulty.EASY:
            net = MAZUR if rng.random() < 0.2 else rng.choice(nets)
            return {**_new_example(rng, net), "output": "loss"}
        net = _new_example(rng, rng.choice(nets))
        if level is Difficulty.MEDIUM:
            output = rng.choice(["grad_W2", "new_W2"])
            rows, cols = len(net["W2"]), len(net["W1"])
            return {**net, "output": output, "i": rng.randrange(rows), "j": rng.randrange(cols)}
        output = rng.choice(["grad_W1", "new_W1"])
        rows, cols = len(net["W1"]), len(net["x"])
        return {
            **net,
            "output": output,
            "i": rng.randrange(rows),
            "j": rng.randrange(cols),
            "activation": rng.choice(["sigmoid", "sigmoid", "tanh"]),
            "loss": rng.choice(["half_mse", "half_mse", "mse"]),
            "lr": rng.choice([0.5, 0.1, 1.0]),
        }

    def ask(self, p: MlpBackpropParams) -> Localized:
        loss_en = (
            "L = ½·Σ(t - y)²" if p.loss == "half_mse" else "L = mean((t - y)²) over the outputs"
        )
        loss_zh = "L = ½·Σ(t - y)²" if p.loss == "half_mse" else "L = 对各输出取 (t - y)² 的平均"
        setup_en = (
            f"A 2-layer MLP with {p.activation} activations on both layers: h = {p.activation}"
            f"(W1·x + b1), y = {p.activation}(W2·h + b2), loss {loss_en}. Weights use PyTorch's "
            f"[out][in] layout: W1 = {_matrix(p.W1)}, b1 = {_vec(p.b1)}, W2 = {_matrix(p.W2)}, "
            f"b2 = {_vec(p.b2)} (a single number is one bias shared by the layer); input "
            f"x = {fl(p.x)}, target t = {fl(p.targets)}."
        )
        setup_zh = (
            f"一个两层 MLP，两层都用 {p.activation} 激活：h = {p.activation}(W1·x + b1)，"
            f"y = {p.activation}(W2·h + b2)，损失 {loss_zh}。权重按 PyTorch 的 [输出][输入] 布局："
            f"W1 = {_matrix(p.W1)}，b1 = {_vec(p.b1)}，W2 = {_matrix(p.W2)}，b2 = {_vec(p.b2)}"
            f"（单个数表示整层共享一个偏置）；输入 x = {fl(p.x)}，目标 t = {fl(p.targets)}。"
        )
        if p.output == "loss":
            return Localized(
                en=f"{setup_en} What is the loss after the forward pass?",
                zh=f"{setup_zh}前向传播后的损失是多少？",
            )
        matrix = p.output[-2:]
        if p.output.startswith("grad"):
            return Localized(
                en=f"{setup_en} What is ∂L/∂{matrix}[{p.i}][{p.j}]?",
                zh=f"{setup_zh}∂L/∂{matrix}[{p.i}][{p.j}]（梯度）是多少？",
            )
        return Localized(
            en=f"{setup_en} After one plain SGD step with learning rate {f(p.lr)}, what is "
            f"{matrix}[{p.i}][{p.j}]?",
            zh=f"{setup_zh}用学习率 {f(p.lr)} 做一步普通 SGD 更新后，{matrix}[{p.i}][{p.j}] "
            "是多少？",
        )

    def solve(self, p: MlpBackpropParams) -> Solved:
        key = torch_step(p)
        manual = manual_pass(p)
        forward_en = (
            f"Forward: W1·x + b1 = {fl(manual.net_h)}, h = {fl(manual.h)}; W2·h + b2 = "
            f"{fl(manual.net_y)}, y = {fl(manual.y)}; L = {f(manual.loss)}"
        )
        forward_zh = (
            f"前向：W1·x + b1 = {fl(manual.net_h)}，h = {fl(manual.h)}；W2·h + b2 = "
            f"{fl(manual.net_y)}，y = {fl(manual.y)}；L = {f(manual.loss)}"
        )
        if p.output == "loss":
            value = float(key["loss"])
            solution = Localized(en=f"{forward_en}.", zh=f"{forward_zh}。")
            hint = Localized(
                en="Run the forward pass layer by layer (h first, then y), then the loss on y.",
                zh="逐层做前向传播（先算 h，再算 y），再对 y 计算损失。",
            )
            return Solved(value, solution, tuple(self._loss_mistakes(p, manual)), hint=hint)
        layer = p.output[-2:]
        i, j = p.i, p.j
        value = float(key[p.output][i][j])
        grad = float(key[f"grad_{layer}"][i][j])
        dloss = "(y - t)" if p.loss == "half_mse" else f"[2(y - t)/{len(manual.y)}]"
        # (bracketed: it follows "(y - t)·", and a product binds tighter than the minus)
        slope = {
            "sigmoid": "y·(1 - y)",
            "tanh": "(1 - y²)",
            "relu": "1[z > 0]",
            "identity": "1",
        }[p.activation]
        if layer == "W2":
            back_en = (
                f"δ_out = ∂L/∂y · act'(z) = {dloss}·{slope} = {fl(manual.delta_out)}; "
                f"∂L/∂W2[{i}][{j}] = δ_out[{i}]·h[{j}] = "
                f"{f(manual.delta_out[i])}×{fp(manual.h[j])} = {f(grad)}"
            )
        else:
            back_en = (
                f"δ_out = {dloss}·{slope} = {fl(manual.delta_out)}; δ_hidden[{i}] = "
                f"(Σ_k δ_out[k]·W2[k][{i}])·act'(net_h[{i}]) = {f(manual.delta_hidden[i])}; "
                f"∂L/∂W1[{i}][{j}] = δ_hidden[{i}]·x[{j}] = "
                f"{f(manual.delta_hidden[i])}×{fp(p.x[j])} = {f(grad)}"
            )
        back_zh = back_en.replace("; ", "；")
        weight = (p.W1 if layer == "W1" else p.W2)[i][j]
        step = ""
        if p.output.startswith("new"):
            step = f"{layer}[{i}][{j}] - lr·grad = {f(weight)} - {f(p.lr)}×{fp(grad)} = {f(value)}"
        solution = Localized(
            en=f"{forward_en}. Backward: {back_en}" + (f"; SGD: {step}." if step else "."),
            zh=f"{forward_zh}。反向传播：{back_zh}" + (f"；SGD：{step}。" if step else "。"),
        )
        # In symbols: the forward pass first, then the deltas back to the weight asked about.
        if layer == "W2":
            chain = f"δ_out = {dloss}·{slope}, ∂L/∂W2[{i}][{j}] = δ_out[{i}]·h[{j}]"
        else:
            chain = (
                f"δ_out = {dloss}·{slope}, δ_hidden[{i}] = (Σ_k δ_out[k]·W2[k][{i}])·"
                f"act'(net_h[{i}]), ∂L/∂W1[{i}][{j}] = δ_hidden[{i}]·x[{j}]"
            )
        if step:
            chain += f"; then {layer}[{i}][{j}] - lr·grad"
        hint = Localized(
            en=f"Forward pass first (h, then y); then backward: {chain}.",
            zh=f"先做前向传播（先 h 后 y）；再反向传播：{chain.replace('; then', '；然后')}。",
        )
        return Solved(
            value, solution, tuple(self._step_mistakes(p, key, layer, grad, weight)), hint=hint
        )

    def _loss_mistakes(self, p: MlpBackpropParams, manual: Pass) -> list[KnownMistake]:
        squares = sum((t - y) ** 2 for t, y in zip(p.targets, manual.y, strict=True))
        if p.loss == "half_mse":
            return [
                mistake(
                    "forgot_half",
                    squares,
                    "The loss here is ½·Σ(t - y)²: you left out the ½.",
                    "这里的损失是 ½·Σ(t - y)²：漏掉了 ½。",
                ),
                mistake(
                    "mean_not_half",
                    squares / len(manual.y),
                    "The loss here is ½·Σ(t - y)² (half the sum), not the mean.",
                    "这里的损失是 ½·Σ(t - y)²（平方和的一半），不是平均值。",
                ),
            ]
        return [
            mistake(
                "half_sum_not_mean",
                squares / 2,
                "The loss here is the mean over the outputs, not ½·Σ.",
                "这里的损失是对输出取平均，而不是 ½·Σ。",
            ),
            mistake(
                "sum_not_mean",
                squares,
                "The loss here is the mean over the outputs, not the sum.",
                "这里的损失是对输出取平均，而不是求和。",
            ),
        ]

    def _step_mistakes(
        self, p: MlpBackpropParams, key: dict[str, Any], layer: str, grad: float, weight: float
    ) -> list[KnownMistake]:
        i, j = p.i, p.j
        as_step = p.output.startswith("new")

        def shown(g: float) -> float:
            # A wrong gradient leads to a wrong updated weight the same way.
            return weight - p.lr * g if as_step else g

        found: list[KnownMistake] = []
        no_output = manual_pass(p, output_slope=False)
        found.append(
            mistake(
                "forgot_output_derivative",
                shown((no_output.grad_w1 if layer == "W1" else no_output.grad_w2)[i][j]),
                "You left out the output activation's derivative act'(z) in δ_out.",
                "δ_out 中漏掉了输出层激活函数的导数 act'(z)。",
            )
        )
        if layer == "W1":
            no_hidden = manual_pass(p, hidden_slope=False)
            found.append(
                mistake(
                    "forgot_hidden_derivative",
                    shown(no_hidden.grad_w1[i][j]),
                    "Backpropagating into the hidden layer multiplies by the hidden activation's "
                    "derivative act'(net_h) too.",
                    "反向传播到隐藏层时还要乘以隐藏层激活函数的导数 act'(net_h)。",
                )
            )
        matrix = key[f"grad_{layer}"]
        if j < len(matrix) and i < len(matrix[0]):
            found.append(
                mistake(
                    "transposed",
                    shown(float(matrix[j][i])),
                    f"PyTorch stores weights as [out][in]: {layer}[{i}][{j}] connects input {j} "
                    f"to output {i}, not the other way round.",
                    f"PyTorch 的权重按 [输出][输入] 存放：{layer}[{i}][{j}] 连接的是输入 {j} "
                    f"到输出 {i}，"
                    "而不是反过来。",
                )
            )
        if as_step:
            found += [
                mistake(
                    "added_gradient",
                    weight + p.lr * grad,
                    "Gradient descent subtracts the gradient: w ← w - lr·∂L/∂w.",
                    "梯度下降是减去梯度：w ← w - lr·∂L/∂w。",
                ),
                mistake(
                    "forgot_lr",
                    weight - grad,
                    f"Scale the gradient by the learning rate {f(p.lr)}.",
                    f"梯度要乘以学习率 {f(p.lr)}。",
                ),
                mistake(
                    "gradient_not_weight",
                    grad,
                    "That is the gradient; the question asks for the updated weight.",
                    "这是梯度；题目问的是更新后的权重。",
                ),
            ]
        else:
            found.append(
                mistake(
                    "sign",
                    -grad,
                    "The sign is flipped: with L = ½(t - y)², ∂L/∂y = y - t, not t - y.",
                    "符号反了：L = ½(t - y)² 时 ∂L/∂y = y - t，而不是 t - y。",
                )
            )
        return found


def _vec(value: list[float] | float) -> str:
    return fl(value) if isinstance(value, list) else f(value)


def _matrix(rows: list[list[float]]) -> str:
    return "[" + ", ".join(fl(row) for row in rows) + "]"
