"""Pooling output sizes: pool_output."""

from __future__ import annotations

from collections.abc import Mapping
from random import Random
from typing import Any, ClassVar, Self

import torch
from pydantic import Field, model_validator
from torch import nn

from bot.checkers._base import (
    Family,
    NonNegative,
    Params,
    Size,
    Solved,
    mistake,
)
from bot.checkers._shapes import Kernel, Stride, pool_size
from bot.checkers._torch import META
from bot.core.models import Difficulty, Localized
from bot.core.validation import refused

# --- pool_output --------------------------------------------------------------------------


class PoolOutputParams(Params):
    n: Size
    k: Kernel
    s: Stride | None = Field(default=None, description="stride (default: k)")
    p: NonNegative = 0
    d: Kernel = 1
    ceil_mode: bool = False

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.s is None:
            object.__setattr__(self, "s", self.k)  # PyTorch's default stride is kernel_size
        if self.p > self.k // 2:
            raise refused(
                f"padding {self.p} is more than half the kernel size {self.k} "
                "(PyTorch requires p <= k // 2 for pooling)",
                f"padding {self.p} 超过了窗口大小 {self.k} 的一半（PyTorch 池化要求 p <= k // 2）",
            )
        out = pool_size(self.n, self.k, self.stride, self.p, self.d, self.ceil_mode)
        if self.n + 2 * self.p < self.d * (self.k - 1) + 1 or out < 1:
            span, padded = self.d * (self.k - 1) + 1, self.n + 2 * self.p
            raise refused(
                f"the output size would be {out} (< 1): the window spans {span} pixels but the "
                f"padded input has {padded}",
                f"输出尺寸会是 {out}（小于 1）：池化窗口覆盖 {span} 个像素，"
                f"而填充后的输入只有 {padded} 个",
            )
        return self

    @property
    def stride(self) -> int:
        return self.s if self.s is not None else self.k


class PoolOutput(Family[PoolOutputParams]):
    name = "pool_output"
    summary = "output size of nn.MaxPool2d (PyTorch's ceil-mode rule included)"
    params_model = PoolOutputParams
    derived_defaults: ClassVar[Mapping[str, str]] = {"s": "k"}

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        sizes = [6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 48, 56, 64, 96, 112, 128, 160, 224]
        if level is Difficulty.EASY:  # VGG / LeNet-5 style pooling that halves (or thirds)
            k = rng.choice([2, 2, 3])
            n = rng.choice(sizes)
            return {"n": n, "k": k, "s": k} if rng.random() < 0.5 else {"n": n, "k": k}
        if level is Difficulty.MEDIUM:
            n, k, s, p = rng.choice(
                [
                    (55, 3, 2, 0),  # AlexNet pool1 -> 27
                    (27, 3, 2, 0),  # AlexNet pool2 -> 13
                    (13, 3, 2, 0),  # AlexNet pool5 -> 6
                    (112, 3, 2, 1),  # ResNet stem max-pool -> 56
                    (7, 3, 1, 1),  # Inception branch pooling
                    (35, 3, 2, 0),  # Inception-v3 reduction
                ]
            )
            if rng.random() < 0.8:  # the same overlapping pools on other map sizes
                n = rng.choice([*sizes[2:], 13, 15, 27, 31, 35, 55, 57, 63, 71, 111, 147])
            return {"n": n, "k": k, "s": s, "p": p}
        n, k, s, p = rng.choice(
            [
                (112, 3, 2, 0),  # GoogLeNet pools with ceil_mode=True
                (56, 3, 2, 0),
                (28, 3, 2, 0),
                (14, 2, 2, 0),
                (5, 2, 2, 1),  # the last window would start in the right padding
                (7, 2, 2, 1),
                (13, 3, 2, 1),
                (9, 4, 3, 2),
            ]
        )
        if rng.random() < 0.8:  # odd sizes are where ceil and floor differ
            n = rng.choice([5, 7, 9, 11, 13, 15, 17, 21, 25, 27, 29, 33, 55, 57, 111, 113])
        return {"n": n, "k": k, "s": s, "p": p, "ceil_mode": True}

    def ask(self, p: PoolOutputParams) -> Localized:
        stride_en = (
            f"stride {p.stride} (PyTorch's default: the kernel size)"
            if p.stride == p.k
            else f"stride {p.stride}"
        )
        stride_zh = (
            f"步长 {p.stride}（PyTorch 默认等于 kernel_size）"
            if p.stride == p.k
            else (f"步长 {p.stride}")
        )
        extra_en = f", dilation {p.d}" if p.d != 1 else ""
        extra_zh = f"，膨胀率 {p.d}" if p.d != 1 else ""
        mode_en = "ceil_mode=True" if p.ceil_mode else "ceil_mode=False (the default)"
        mode_zh = "ceil_mode=True" if p.ceil_mode else "ceil_mode=False（默认）"
        return Localized(
            en=f"nn.MaxPool2d with kernel size {p.k}, {stride_en}, padding {p.p}{extra_en} and "
            f"{mode_en} is applied to a {p.n}×{p.n} feature map. What is the output height "
            "(= width)?",
            zh=f"对 {p.n}×{p.n} 的特征图做 nn.MaxPool2d 池化：核大小 {p.k}，{stride_zh}，"
            f"填充 {p.p}{extra_zh}，{mode_zh}。输出的高（= 宽）是多少？",
        )

    def solve(self, p: PoolOutputParams) -> Solved:
        s = p.stride
        pool = nn.MaxPool2d((p.k, 1), (s, 1), (p.p, 0), (p.d, 1), ceil_mode=p.ceil_mode)
        out = int(pool(torch.empty(1, 1, p.n, 1, device=META)).shape[2])
        span = p.n + 2 * p.p - p.d * (p.k - 1) - 1
        head = f"({p.n} + 2×{p.p} - {p.d}×({p.k}-1) - 1) / {s}"
        if p.ceil_mode:
            raw = -(-span // s) + 1
            dropped = raw != out
            rule_en = (
                f" The last window would start at {(raw - 1) * s} >= n + p = {p.n + p.p}, "
                f"i.e. in the right padding, so PyTorch drops it: {out}."
                if dropped
                else f" Its last window starts at {(raw - 1) * s} < n + p = {p.n + p.p}, so it "
                "is kept."
            )
            rule_zh = (
                f"最后一个窗口的起点 {(raw - 1) * s} >= n + p = {p.n + p.p}，落在右侧填充里，"
                f"PyTorch 会去掉它：{out}。"
                if dropped
                else f"最后一个窗口起点 {(raw - 1) * s} < n + p = {p.n + p.p}，保留。"
            )
            solution = Localized(
                en=f"ceil_mode=True: out = ⌈{head}⌉ + 1 = ⌈{span}/{s}⌉ + 1 = {raw}.{rule_en}",
                zh=f"ceil_mode=True：输出 = ⌈{head}⌉ + 1 = ⌈{span}/{s}⌉ + 1 = {raw}。{rule_zh}",
            )
        else:
            solution = Localized(
                en=f"out = ⌊(n + 2p - d(k-1) - 1) / s⌋ + 1 = ⌊{head}⌋ + 1 = ⌊{span}/{s}⌋ + 1 = "
                f"{out} "
                "(floor, since ceil_mode=False).",
                zh=f"输出 = ⌊(n + 2p - d(k-1) - 1) / s⌋ + 1 = ⌊{head}⌋ + 1 = ⌊{span}/{s}⌋ + 1 = "
                f"{out}"
                "（ceil_mode=False，向下取整）。",
            )
        mistakes = [
            mistake(
                "ceil_instead_of_floor",
                -(-span // s) + 1,
                "nn.MaxPool2d floors by default (ceil_mode=False); it rounds up only with "
                "ceil_mode=True.",
                "nn.MaxPool2d 默认向下取整（ceil_mode=False），只有 ceil_mode=True 时才向上取整。",
            )
            if not p.ceil_mode
            else mistake(
                "floor_instead_of_ceil",
                span // s + 1,
                "With ceil_mode=True PyTorch rounds up, keeping a last, partial window.",
                "ceil_mode=True 时 PyTorch 向上取整，保留最后一个不完整的窗口。",
            ),
            mistake(
                "ceil_without_rule",
                -(-span // s) + 1,
                "PyTorch's ceil mode drops the last window when it would start in the right "
                "padding (it must start inside the input or the left padding).",
                "PyTorch 的 ceil 模式有一条额外规则：最后一个窗口如果从右侧填充区开始，就会被去掉"
                "（窗口必须从输入内部或左侧填充开始）。",
            ),
            mistake(
                "stride_one",
                pool_size(p.n, p.k, 1, p.p, p.d, p.ceil_mode),
                "nn.MaxPool2d's stride defaults to the kernel size, not 1 (unlike nn.Conv2d).",
                "nn.MaxPool2d 的步长默认等于 kernel_size，而不是 1（这点和 nn.Conv2d 不同）。",
            )
            if s == p.k
            else None,
            mistake(
                "forgot_plus_one",
                span // s,
                "You left out the + 1: there is one more window than strides between windows.",
                "漏掉了 +1：窗口个数比窗口之间的步数多 1。",
            ),
            mistake(
                "padding_once",
                pool_size(p.n - p.p, p.k, s, p.p, p.d, p.ceil_mode),
                "Padding is added on both sides: use 2p, not p.",
                "填充是在两侧都加的：应该用 2p，而不是 p。",
            )
            if p.p
            else None,
        ]
        rounding_en, rounding_zh = (
            (
                "rounded up (ceil_mode=True), but a last window that would start in the right "
                "padding is dropped",
                "向上取整（ceil_mode=True），但从右侧填充区开始的最后一个窗口要去掉",
            )
            if p.ceil_mode
            else ("rounded down (ceil_mode=False)", "向下取整（ceil_mode=False）")
        )
        hint = Localized(
            en=f"out = (n + 2p - d(k-1) - 1) / s + 1, {rounding_en}; the stride defaults to the "
            "kernel size.",
            zh=f"输出 = (n + 2p - d(k-1) - 1) / s + 1，{rounding_zh}；步长默认等于 kernel_size。",
        )
        return Solved(out, solution, tuple(m for m in mistakes if m is not None), hint=hint)
