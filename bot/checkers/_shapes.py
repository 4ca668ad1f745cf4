"""Conv output sizes: conv_output, conv_shape (a conv's full output shape), shared helpers."""

from __future__ import annotations

from random import Random
from typing import Annotated, Any, Literal, Self

import torch
from pydantic import BeforeValidator, Field, model_validator
from torch import nn

from bot.checkers._base import (
    Family,
    NonNegative,
    Params,
    Size,
    Solved,
    _not_bool,
    mistake,
)
from bot.checkers._torch import META, meta_module, quiet
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized
from bot.core.validation import refused

Kernel = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=1000)]
Stride = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=1000)]
Padding = NonNegative | Literal["same", "valid"]


def conv_size(n: int, k: int, s: int, p: int, d: int) -> int:
    """The closed form PyTorch's conv and (floor-mode) pooling follow."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def pool_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling size, with its ceil-mode rule: the last window must start inside the
    input or the left padding, otherwise it is dropped."""
    span = n + 2 * p - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= n + p:
        out -= 1
    return out


def _pad(p: int | str) -> int:
    """The padding per side of an explicit or 'valid' padding ('same' is handled apart: it
    is not symmetric in general)."""
    assert p != "same"
    return 0 if p == "valid" else int(p)


def _kernel_words(k: int, s: int, p: int | str, d: int) -> tuple[str, str]:
    pad_en = f"padding='{p}'" if isinstance(p, str) else f"padding {p}"
    pad_zh = f"padding='{p}'" if isinstance(p, str) else f"填充 {p}"
    en = f"kernel size {k}, stride {s}, {pad_en}"
    zh = f"卷积核大小 {k}，步长 {s}，{pad_zh}"
    if d != 1:
        en += f", dilation {d}"
        zh += f"，膨胀率（dilation）{d}"
    return en, zh


# --- conv_output -------------------------------------------------------------------------


class ConvOutputParams(Params):
    n: Size = Field(description="input size along one spatial dimension")
    k: Kernel = Field(description="kernel size")
    s: Stride = 1
    p: Padding = 0
    d: Kernel = 1

    @model_validator(mode="after")
    def _possible(self) -> Self:
        _check_conv(self.n, self.k, self.s, self.p, self.d)
        return self


def _check_conv(n: int, k: int, s: int, p: int | str, d: int) -> None:
    if p == "same":
        if s != 1:
            raise refused(
                f"padding='same' needs stride 1 (PyTorch rejects it with stride {s})",
                f"padding='same' 要求 stride 为 1（stride 为 {s} 时 PyTorch 会报错）",
            )
        return
    pad = _pad(p)
    span = d * (k - 1) + 1
    if n + 2 * pad < span:
        size, padded = conv_size(n, k, s, pad, d), n + 2 * pad
        raise refused(
            f"the output size would be {size} (< 1): the kernel spans {span} pixels but the "
            f"padded input has {padded}",
            f"输出尺寸会是 {size}（小于 1）：卷积核覆盖 {span} 个像素，"
            f"而填充后的输入只有 {padded} 个",
        )


def conv_module_size(n: int, k: int, s: int, p: int | str, d: int) -> int:
    """The output size read off a real `nn.Conv2d` on the meta device (one spatial dim)."""
    padding: str | tuple[int, int] = p if isinstance(p, str) else (p, 0)
    conv = meta_module(
        nn.Conv2d, 1, 1, (k, 1), stride=(s, 1), padding=padding, dilation=(d, 1), bias=False
    )
    with quiet():
        return int(conv(torch.empty(1, 1, n, 1, device=META)).shape[2])


def _conv_mistakes(n: int, k: int, s: int, p: int | str, d: int) -> list[KnownMistake]:
    if p == "same":
        return [
            mistake(
                "same_as_valid",
                conv_size(n, k, 1, 0, d),
                "padding='same' pads so that the output keeps the input size (stride 1): "
                "you computed it without padding.",
                "padding='same' 会补足填充，使输出（步长 1 时）与输入大小相同：你按无填充算了。",
            )
        ]
    pad = _pad(p)
    span = n + 2 * pad - d * (k - 1) - 1
    found = [
        mistake(
            "forgot_plus_one",
            span // s,
            "You left out the + 1: (n + 2p - d(k-1) - 1)/s counts the strides between window "
            "positions; there is one more position than strides.",
            "漏掉了 +1：(n + 2p - d(k-1) - 1)/s 数的是窗口之间移动了几步，窗口位置数比步数多 1。",
        ),
        mistake(
            "padding_once",
            (n + pad - d * (k - 1) - 1) // s + 1,
            "Padding is added on both sides: use 2p, not p.",
            "填充是在两侧都加的：应该用 2p，而不是 p。",
        ),
        mistake(
            "no_padding",
            (n - d * (k - 1) - 1) // s + 1,
            "You ignored the padding: PyTorch adds p pixels on each side before sliding.",
            "忽略了填充：PyTorch 在滑动之前会先在每一侧补 p 个像素。",
        ),
        mistake(
            "no_dilation",
            (n + 2 * pad - k) // s + 1,
            "You forgot the dilation: a dilated kernel spans d(k-1) + 1 pixels, not k.",
            "忘了膨胀率（空洞卷积）：膨胀后的卷积核覆盖 d(k-1) + 1 个像素，而不是 k 个。",
        ),
        mistake(
            "dilation_times_k",
            (n + 2 * pad - d * k) // s + 1,
            "A dilated kernel spans d(k-1) + 1 pixels, not d·k: the gaps are only between taps.",
            "膨胀后的卷积核覆盖 d(k-1) + 1 个像素，而不是 d·k：空洞只出现在相邻采样点之间。",
        ),
        mistake(
            "ceil",
            -(-span // s) + 1,
            "PyTorch floors the division (nn.Conv2d has no ceil mode): a window that would run "
            "past the padded input is dropped.",
            "PyTorch 对除法向下取整（nn.Conv2d 没有 ceil 模式）：超出填充后输入的窗口会被丢弃。",
        ),
        mistake(
            "stride_ignored",
            span + 1,
            "You ignored the stride: the kernel moves s pixels at a time, so divide by s.",
            "忽略了步长：卷积核每次移动 s 个像素，所以要除以 s。",
        ),
    ]
    if p == "valid":
        found.append(
            mistake(
                "valid_as_same",
                n,
                "padding='valid' means no padding at all; it is 'same' that keeps the size.",
                "padding='valid' 表示完全不填充；保持尺寸不变的是 'same'。",
            )
        )
    return [m for m in found if isinstance(m.value, int) and m.value >= 1]


def _conv_working(n: int, k: int, s: int, p: int | str, d: int, out: int) -> Localized:
    if p == "same":
        total = d * (k - 1)
        left, right = total // 2, total - total // 2
        if left == right:
            sides_en, sides_zh = f"{left} on each side", f"两侧各 {left}"
        else:  # torch.nn.Conv2d: left = total // 2, the odd one goes right
            sides_en = f"{left} left, {right} right: PyTorch puts the odd one on the right"
            sides_zh = f"左 {left}，右 {right}，多出的一个放在右侧"
        return Localized(
            en=f"padding='same' (stride 1) pads d(k-1) = {d}×({k}-1) = {total} pixels in total "
            f"({sides_en}), so the size is kept: out = n = {out}.",
            zh=f"padding='same'（步长 1）共填充 d(k-1) = {d}×({k}-1) = {total} 个像素"
            f"（{sides_zh}），所以尺寸不变：输出 = n = {out}。",
        )
    pad = _pad(p)
    span = n + 2 * pad - d * (k - 1) - 1
    note_en = " (padding='valid' means p = 0)" if p == "valid" else ""
    note_zh = "（padding='valid' 即 p = 0）" if p == "valid" else ""
    formula = (
        f"⌊({n} + 2×{pad} - {d}×({k}-1) - 1) / {s}⌋ + 1 = ⌊{span} / {s}⌋ + 1 "
        f"= {span // s} + 1 = {out}"
    )
    return Localized(
        en=f"out = ⌊(n + 2p - d(k-1) - 1) / s⌋ + 1{note_en} = {formula}. "
        "PyTorch floors the division.",
        zh=f"输出 = ⌊(n + 2p - d(k-1) - 1) / s⌋ + 1{note_zh} = {formula}。PyTorch 向下取整。",
    )


class ConvOutput(Family[ConvOutputParams]):
    name = "conv_output"
    summary = "output size of nn.Conv2d along one spatial dim"
    params_model = ConvOutputParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:
            n, k, s, p, d = rng.choice(
                [
                    (32, 5, 1, 0, 1),  # LeNet-5 C1
                    (28, 5, 1, 2, 1),
                    (28, 3, 1, 0, 1),
                    (224, 3, 1, 1, 1),  # every VGG conv
                    (32, 3, 1, 1, 1),
                    (64, 5, 1, 0, 1),
                    (56, 3, 1, 0, 1),
                    (227, 11, 4, 0, 1),  # AlexNet conv1 as the paper's figure computes it
                ]
            )
            if rng.random() < 0.7:  # vary the size around the canonical layer
                n = rng.choice([28, 32, 48, 56, 64, 96, 100, 112, 128, 150, 160, 192, 224, 256])
            return {"n": n, "k": k, "s": s, "p": p}
        if level is Difficulty.MEDIUM:
            n, k, s, p = rng.choice(
                [
                    (224, 11, 4, 2),  # AlexNet conv1 (torchvision)
                    (224, 7, 2, 3),  # ResNet stem
                    (224, 7, 2, 1),  # ZFNet conv1
                    (56, 3, 2, 1),  # ResNet stage downsampling
                    (28, 3, 2, 1),
                    (56, 1, 2, 0),  # 1x1 projection shortcut
                    (32, 5, 2, 2),
                    (64, 4, 2, 1),  # DCGAN discriminator
                ]
            )
            if rng.random() < 0.7:
                n = rng.choice([32, 56, 64, 96, 112, 128, 160, 192, 224, 227, 256, 299, 320])
            return {"n": n, "k": k, "s": s, "p": p}
        kind = rng.choice(["dilated", "odd", "same", "valid"])
        if kind == "dilated":  # atrous convs of DeepLab / dilated ResNets
            d = rng.choice([2, 4, 6, 12])
            return {
                "n": rng.choice([33, 65, 64, 129, 513]),
                "k": 3,
                "s": rng.choice([1, 1, 2]),
                "p": rng.choice([0, d, d // 2]),
                "d": d,
            }
        if kind == "odd":  # the floor actually bites
            return {
                "n": rng.choice([225, 227, 55, 27, 13, 99, 15]),
                "k": rng.choice([3, 5, 7]),
                "s": rng.choice([2, 3, 4]),
                "p": rng.choice([0, 1]),
            }
        if kind == "same":
            return {"n": rng.choice([28, 56, 100, 224]), "k": rng.choice([3, 4, 5, 7]), "p": "same"}
        return {"n": rng.choice([28, 32, 100, 224]), "k": rng.choice([3, 5, 7]), "p": "valid"}

    def ask(self, p: ConvOutputParams) -> Localized:
        words_en, words_zh = _kernel_words(p.k, p.s, p.p, p.d)
        return Localized(
            en=f"An nn.Conv2d layer ({words_en}) is applied to a {p.n}×{p.n} input. "
            "What is the output height (= width)? Use PyTorch's convention.",
            zh=f"对 {p.n}×{p.n} 的输入施加一个 nn.Conv2d 卷积层（{words_zh}）。"
            "输出的高（= 宽）是多少？按 PyTorch 的约定计算。",
        )

    def solve(self, p: ConvOutputParams) -> Solved:
        out = conv_module_size(p.n, p.k, p.s, p.p, p.d)
        return Solved(
            out,
            _conv_working(p.n, p.k, p.s, p.p, p.d, out),
            tuple(_conv_mistakes(p.n, p.k, p.s, p.p, p.d)),
            hint=_CONV_HINT,
        )


_CONV_HINT = Localized(
    en="out = ⌊(n + 2p - d(k-1) - 1) / s⌋ + 1, rounded down; padding='valid' is p = 0, and "
    "padding='same' (stride 1 only) pads d(k-1) in total, split between the sides.",
    zh="输出 = ⌊(n + 2p - d(k-1) - 1) / s⌋ + 1，向下取整；padding='valid' 即 p = 0，"
    "padding='same'（仅限步长 1）两侧合计填充 d(k-1)。",
)


# --- conv_shape (an extra family: the full (C, H, W) shape) ------------------------------


class ConvShapeParams(Params):
    c_in: Size = Field(description="input channels")
    c_out: Size = Field(description="output channels (filters)")
    n: Size = Field(description="input height = width")
    k: Kernel
    s: Stride = 1
    p: Padding = 0
    d: Kernel = 1

    @model_validator(mode="after")
    def _possible(self) -> Self:
        _check_conv(self.n, self.k, self.s, self.p, self.d)
        return self


class ConvShape(Family[ConvShapeParams]):
    name = "conv_shape"
    summary = "output shape (C, H, W) of nn.Conv2d on a (C, H, W) input"
    params_model = ConvShapeParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        choices: dict[Difficulty, list[tuple[int, int, int, int, int, int | str, int]]] = {
            Difficulty.EASY: [
                (1, 6, 32, 5, 1, 0, 1),  # LeNet-5 C1
                (3, 64, 224, 3, 1, 1, 1),  # VGG conv1_1
                (64, 128, 112, 3, 1, 1, 1),
                (3, 32, 32, 3, 1, 0, 1),
                (3, 16, 28, 5, 1, 2, 1),
            ],
            Difficulty.MEDIUM: [
                (3, 64, 224, 11, 4, 2, 1),  # AlexNet conv1 -> (64, 55, 55)
                (3, 96, 227, 11, 4, 0, 1),  # the 2012 paper's conv1 -> (96, 55, 55)
                (3, 64, 224, 7, 2, 3, 1),  # ResNet stem -> (64, 112, 112)
                (64, 192, 27, 5, 1, 2, 1),  # AlexNet conv2
                (128, 256, 56, 3, 2, 1, 1),
                (3, 96, 224, 7, 2, 1, 1),  # ZFNet conv1
            ],
            Difficulty.HARD: [
                (512, 512, 65, 3, 1, 2, 2),  # dilated conv in a DeepLab backbone
                (256, 256, 33, 3, 1, 6, 6),
                (3, 64, 225, 3, 2, 0, 1),
                (256, 512, 28, 1, 2, 0, 1),  # 1x1 projection shortcut
                (64, 64, 56, 4, 1, "same", 1),
                (3, 32, 299, 3, 2, 0, 1),  # Inception-v3 stem
            ],
        }
        c_in, c_out, n, k, s, p, d = rng.choice(choices[level])
        if rng.random() < 0.7:  # the same layer with another width and input size
            c_out = rng.choice([8, 16, 32, 48, 64, 96, 128, 192, 256, 512])
            n = rng.choice([n, 32, 56, 64, 65, 96, 112, 128, 224, 227, 256])
        return {"c_in": c_in, "c_out": c_out, "n": n, "k": k, "s": s, "p": p, "d": d}

    def ask(self, p: ConvShapeParams) -> Localized:
        words_en, words_zh = _kernel_words(p.k, p.s, p.p, p.d)
        return Localized(
            en=f"A tensor of shape ({p.c_in}, {p.n}, {p.n}) (C, H, W) goes through "
            f"nn.Conv2d({p.c_in}, {p.c_out}) with {words_en}. What is the output shape "
            "(C, H, W)? Use PyTorch's convention.",
            zh=f"形状为 ({p.c_in}, {p.n}, {p.n})（C, H, W）的张量经过 "
            f"nn.Conv2d({p.c_in}, {p.c_out})（{words_zh}）。输出形状（C, H, W）是什么？"
            "按 PyTorch 的约定计算。",
        )

    def solve(self, p: ConvShapeParams) -> Solved:
        padding: str | int = p.p
        conv = meta_module(
            nn.Conv2d, p.c_in, p.c_out, p.k, stride=p.s, padding=padding, dilation=p.d
        )
        with quiet():
            shape = conv(torch.empty(p.c_in, p.n, p.n, device=META)).shape
        expected = [int(v) for v in shape]
        side = _conv_working(p.n, p.k, p.s, p.p, p.d, expected[1])
        solution = Localized(
            en=f"The channels are the number of filters, {p.c_out}. Each spatial side: "
            f"{side.en} Shape: ({', '.join(str(v) for v in expected)}).",
            zh=f"通道数等于卷积核（滤波器）个数 {p.c_out}。每个空间维度：{side.zh}"
            f"形状：({', '.join(str(v) for v in expected)})。",
        )
        mistakes = [
            mistake(
                "input_channels",
                [p.c_in, expected[1], expected[2]],
                "The output has one channel per filter: c_out, not c_in.",
                "输出的通道数等于卷积核个数 c_out，而不是输入通道数 c_in。",
            )
        ]
        for m in _conv_mistakes(p.n, p.k, p.s, p.p, p.d):
            assert isinstance(m.value, int)
            mistakes.append(
                mistake(m.id, [p.c_out, m.value, m.value], m.feedback.en, m.feedback.zh)
            )
        hint = Localized(
            en="One output channel per filter; each spatial side is "
            "⌊(n + 2p - d(k-1) - 1) / s⌋ + 1.",
            zh="每个卷积核输出一个通道；每个空间维度为 ⌊(n + 2p - d(k-1) - 1) / s⌋ + 1。",
        )
        return Solved(expected, solution, tuple(mistakes), hint=hint)
