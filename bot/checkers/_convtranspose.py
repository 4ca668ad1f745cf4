"""Transposed conv output sizes: convtranspose_output."""

from __future__ import annotations

from random import Random
from typing import Any, Self

import torch
from pydantic import model_validator
from torch import nn

from bot.checkers._base import (
    Family,
    NonNegative,
    Params,
    Size,
    Solved,
    mistake,
)
from bot.checkers._shapes import Kernel, Stride, conv_size
from bot.checkers._torch import META
from bot.core.models import Difficulty, Localized
from bot.core.validation import refused

# --- convtranspose_output -----------------------------------------------------------------


class ConvTransposeOutputParams(Params):
    n: Size
    k: Kernel
    s: Stride = 1
    p: NonNegative = 0
    output_padding: NonNegative = 0
    d: Kernel = 1

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.output_padding >= max(self.s, self.d):
            raise refused(
                f"output_padding {self.output_padding} must be smaller than the stride "
                f"{self.s} or the dilation {self.d} (PyTorch rejects it)",
                f"output_padding {self.output_padding} 必须小于 stride {self.s} 或 dilation "
                f"{self.d}（否则 PyTorch 会报错）",
            )
        out = convtranspose_size(self.n, self.k, self.s, self.p, self.output_padding, self.d)
        if out < 1:
            raise refused(
                f"the output size would be {out} (< 1): the padding is too large",
                f"输出尺寸会是 {out}（小于 1）：padding 太大",
            )
        return self


def convtranspose_size(n: int, k: int, s: int, p: int, op: int, d: int) -> int:
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


class ConvTransposeOutput(Family[ConvTransposeOutputParams]):
    name = "convtranspose_output"
    summary = "output size of nn.ConvTranspose2d"
    params_model = ConvTransposeOutputParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        sizes = [4, 5, 7, 8, 10, 13, 14, 16, 20, 25, 28, 32, 50, 56, 64, 100]
        if level is Difficulty.EASY:
            k, s, p, op = rng.choice(
                [
                    (2, 2, 0, 0),  # U-Net up-convolution doubles the size
                    (4, 2, 1, 0),  # DCGAN generator 4 -> 8
                    (3, 1, 1, 0),  # keeps the size
                    (1, 1, 0, 0),
                ]
            )
            n = rng.choice(sizes)
        elif level is Difficulty.MEDIUM:
            n, k, s, p, op = rng.choice(
                [
                    (1, 4, 1, 0, 0),  # DCGAN's first layer: 1x1 noise -> 4x4
                    (7, 3, 1, 1, 0),
                    (7, 5, 2, 2, 0),
                    (14, 3, 2, 0, 0),
                    (32, 4, 2, 1, 0),
                    (7, 4, 2, 1, 0),  # MNIST GAN: 7 -> 14
                    (5, 3, 2, 0, 0),
                ]
            )
            if n > 1 and rng.random() < 0.8:
                n = rng.choice(sizes)
        else:
            n, k, s, p, op = rng.choice(
                [
                    (14, 3, 2, 1, 1),  # output_padding resolves the stride-2 ambiguity: 28
                    (7, 3, 2, 1, 1),
                    (16, 5, 2, 2, 1),
                    (10, 3, 3, 1, 2),
                    (8, 3, 2, 1, 0),  # 15, not 16: why output_padding exists
                ]
            )
            if rng.random() < 0.8:
                n = rng.choice(sizes)
        return {"n": n, "k": k, "s": s, "p": p, "output_padding": op}

    def ask(self, p: ConvTransposeOutputParams) -> Localized:
        extra_en = f", output_padding {p.output_padding}" if p.output_padding else ""
        extra_zh = f"，output_padding {p.output_padding}" if p.output_padding else ""
        if p.d != 1:
            extra_en += f", dilation {p.d}"
            extra_zh += f"，膨胀率 {p.d}"
        return Localized(
            en=f"nn.ConvTranspose2d with kernel size {p.k}, stride {p.s}, padding {p.p}"
            f"{extra_en} upsamples a {p.n}×{p.n} feature map. What is the output height "
            "(= width)? Use PyTorch's convention.",
            zh=f"用 nn.ConvTranspose2d（转置卷积）对 {p.n}×{p.n} 的特征图上采样：卷积核大小 {p.k}，"
            f"步长 {p.s}，填充 {p.p}{extra_zh}。输出的高（= 宽）是多少？按 PyTorch 的约定计算。",
        )

    def solve(self, p: ConvTransposeOutputParams) -> Solved:
        deconv = nn.ConvTranspose2d(
            1,
            1,
            (p.k, 1),
            stride=(p.s, 1),
            padding=(p.p, 0),
            output_padding=(p.output_padding, 0),
            dilation=(p.d, 1),
            bias=False,
            device=META,
        )
        out = int(deconv(torch.empty(1, 1, p.n, 1, device=META)).shape[2])
        formula = f"({p.n}-1)×{p.s} - 2×{p.p} + {p.d}×({p.k}-1) + {p.output_padding} + 1 = {out}"
        solution = Localized(
            en=f"out = (n-1)s - 2p + d(k-1) + output_padding + 1 = {formula}. It inverts the "
            "conv formula: padding removes rows here instead of adding them.",
            zh=f"输出 = (n-1)s - 2p + d(k-1) + output_padding + 1 = {formula}。"
            "这是卷积公式的逆：这里的 padding 是裁掉像素，而不是补像素。",
        )
        conv_like = conv_size(p.n, p.k, p.s, p.p, p.d)
        candidates = [
            mistake(
                "conv_formula",
                conv_like,
                "That is the forward convolution's formula; a transposed conv maps sizes the "
                "other way: (n-1)s - 2p + d(k-1) + output_padding + 1.",
                "这是普通卷积的公式；转置卷积的尺寸关系正好反过来："
                "(n-1)s - 2p + d(k-1) + output_padding + 1。",
            )
            if conv_like >= 1
            else None,
            mistake(
                "padding_added",
                out + 4 * p.p,
                "In nn.ConvTranspose2d, padding trims p pixels from each side of the output; "
                "it does not add any.",
                "在 nn.ConvTranspose2d 里，padding 会从输出的每一侧裁掉 p 个像素，而不是增加。",
            )
            if p.p
            else None,
            mistake(
                "padding_once",
                out + p.p,
                "Padding trims both sides: subtract 2p, not p.",
                "padding 会裁掉两侧：应减去 2p，而不是 p。",
            )
            if p.p
            else None,
            mistake(
                "no_output_padding",
                out - p.output_padding,
                "You forgot output_padding: it adds that many rows to one side of the output.",
                "忘了 output_padding：它会在输出的一侧额外加上这么多行。",
            )
            if p.output_padding
            else None,
            mistake(
                "n_times_s",
                p.n * p.s,
                "A stride-s transposed conv only roughly multiplies the size by s; the exact "
                "size is (n-1)s - 2p + d(k-1) + output_padding + 1.",
                "步长为 s 的转置卷积只是大致把尺寸放大 s 倍；精确值是 "
                "(n-1)s - 2p + d(k-1) + output_padding + 1。",
            ),
            mistake(
                "no_dilation",
                convtranspose_size(p.n, p.k, p.s, p.p, p.output_padding, 1),
                "You forgot the dilation: the kernel spans d(k-1) + 1 pixels.",
                "忘了膨胀率：卷积核覆盖 d(k-1) + 1 个像素。",
            )
            if p.d != 1
            else None,
        ]
        return Solved(out, solution, tuple(m for m in candidates if m is not None))
