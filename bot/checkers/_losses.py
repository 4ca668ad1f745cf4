"""Loss values: softmax_cross_entropy (loss and gradient by torch in float64)."""

from __future__ import annotations

import math
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator

from bot.checkers._base import Family, Int, Params, Real, Solved, mistake
from bot.checkers._torch import vector
from bot.checkers._values import f, fl, list_request
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

Logits = Annotated[list[Real], Field(min_length=2, max_length=64)]

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
