"""Output sizes and receptive fields: conv, pooling, transposed conv, a conv's output shape."""

from __future__ import annotations

from collections.abc import Mapping
from random import Random
from typing import Annotated, Any, ClassVar, Literal, Self

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
from bot.checkers._torch import META, quiet
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

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
            raise ValueError(f"padding='same' needs stride 1 (PyTorch rejects it with stride {s})")
        return
    pad = _pad(p)
    span = d * (k - 1) + 1
    if n + 2 * pad < span:
        raise ValueError(
            f"the output size would be {conv_size(n, k, s, pad, d)} (< 1): the kernel spans "
            f"{span} pixels but the padded input has {n + 2 * pad}"
        )


def conv_module_size(n: int, k: int, s: int, p: int | str, d: int) -> int:
    """The output size read off a real `nn.Conv2d` on the meta device (one spatial dim)."""
    padding: str | tuple[int, int] = p if isinstance(p, str) else (p, 0)
    conv = nn.Conv2d(
        1, 1, (k, 1), stride=(s, 1), padding=padding, dilation=(d, 1), bias=False, device=META
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
        conv = nn.Conv2d(
            p.c_in, p.c_out, p.k, stride=p.s, padding=padding, dilation=p.d, device=META
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
        return Solved(expected, solution, tuple(mistakes))


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
            raise ValueError(
                f"padding {self.p} is more than half the kernel size {self.k} "
                "(PyTorch requires p <= k // 2 for pooling)"
            )
        out = pool_size(self.n, self.k, self.stride, self.p, self.d, self.ceil_mode)
        if self.n + 2 * self.p < self.d * (self.k - 1) + 1 or out < 1:
            raise ValueError(
                f"the output size would be {out} (< 1): the window spans "
                f"{self.d * (self.k - 1) + 1} pixels but the padded input has "
                f"{self.n + 2 * self.p}"
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
        return Solved(out, solution, tuple(m for m in mistakes if m is not None))


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
            raise ValueError(
                f"output_padding {self.output_padding} must be smaller than the stride "
                f"{self.s} or the dilation {self.d} (PyTorch rejects it)"
            )
        out = convtranspose_size(self.n, self.k, self.s, self.p, self.output_padding, self.d)
        if out < 1:
            raise ValueError(f"the output size would be {out} (< 1): the padding is too large")
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


# --- receptive_field ----------------------------------------------------------------------

_MAX_RF = 100_000

LayerList = Annotated[list[Kernel], Field(min_length=1, max_length=32)]
OptionalLayerList = Annotated[list[Kernel], Field(min_length=1, max_length=32)] | None


class ReceptiveFieldParams(Params):
    k: LayerList = Field(description="kernel size of each layer, input side first")
    s: OptionalLayerList = Field(default=None, description="strides (default: all 1)")
    d: OptionalLayerList = Field(default=None, description="dilations (default: all 1)")

    @model_validator(mode="after")
    def _possible(self) -> Self:
        for name in ("s", "d"):
            values = getattr(self, name)
            if values is None:
                object.__setattr__(self, name, [1] * len(self.k))
            elif len(values) != len(self.k):
                raise ValueError(f"{name} has {len(values)} entries but k has {len(self.k)}")
        rf = receptive_field(self.k, self.strides, self.dilations)
        if rf > _MAX_RF:
            raise ValueError(f"the receptive field ({rf} pixels) is over {_MAX_RF:,}")
        return self

    @property
    def strides(self) -> list[int]:
        return self.s if self.s is not None else [1] * len(self.k)

    @property
    def dilations(self) -> list[int]:
        return self.d if self.d is not None else [1] * len(self.k)


def receptive_field(k: list[int], s: list[int], d: list[int]) -> int:
    rf, jump = 1, 1
    for kernel, stride, dilation in zip(k, s, d, strict=True):
        rf += dilation * (kernel - 1) * jump
        jump *= stride
    return rf


def receptive_field_by_autograd(k: list[int], s: list[int], d: list[int]) -> int:
    """Measure the input span that influences one output unit, by backpropagation.

    A stack of 1-D convolutions with positive weights (no padding, so no edge effects) is run
    on an input long enough for the first output's field; the nonzero entries of the gradient
    of that output mark the pixels it sees. The receptive field is their span, first to last:
    dilation after striding can leave holes inside it (the "gridding" effect), which a plain
    count of the nonzero entries would miss.
    """
    # The formula only sizes the input (with room to spare); the span below is measured.
    # No stride term: strides change how many outputs there are, not the first one's field.
    length = 2 * receptive_field(k, s, d) + 8
    x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)
    y = x
    for kernel, stride, dilation in zip(k, s, d, strict=True):
        weight = torch.full((1, 1, kernel), 1.0 / kernel, dtype=torch.float64)
        y = torch.nn.functional.conv1d(y, weight, stride=stride, dilation=dilation)
    (grad,) = torch.autograd.grad(y[0, 0, 0], x)
    seen = torch.nonzero(grad[0, 0]).flatten()
    return int(seen.max().item() - seen.min().item()) + 1


_KNOWN_STACKS: dict[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]], Localized] = {
    ((3, 3), (1, 1), (1, 1)): Localized(
        en="two 3×3 convs (VGG's replacement for one 5×5)",
        zh="两个 3×3 卷积（VGG 用来替代一个 5×5）",
    ),
    ((3, 3, 3), (1, 1, 1), (1, 1, 1)): Localized(
        en="three 3×3 convs (VGG's replacement for one 7×7)",
        zh="三个 3×3 卷积（VGG 用来替代一个 7×7）",
    ),
    ((7, 3), (2, 2), (1, 1)): Localized(
        en="the ResNet stem: conv 7×7 stride 2, then max-pool 3×3 stride 2",
        zh="ResNet 的 stem：7×7 步长 2 的卷积，再接 3×3 步长 2 的最大池化",
    ),
    ((11, 3, 5, 3), (4, 2, 1, 2), (1, 1, 1, 1)): Localized(
        en="AlexNet up to pool2: conv 11/4, pool 3/2, conv 5/1, pool 3/2",
        zh="AlexNet 到 pool2 为止：conv 11/4、pool 3/2、conv 5/1、pool 3/2",
    ),
    ((2, 2, 2, 2), (1, 1, 1, 1), (1, 2, 4, 8)): Localized(
        en="a WaveNet-style stack of kernel-2 convs with dilations 1, 2, 4, 8",
        zh="WaveNet 式的堆叠：核大小 2，膨胀率依次为 1、2、4、8",
    ),
    ((3, 3, 3), (1, 1, 1), (1, 2, 4)): Localized(
        en="three dilated 3×3 convs (dilations 1, 2, 4), as in context modules",
        zh="三个 3×3 空洞卷积（膨胀率 1、2、4），如上下文聚合模块",
    ),
}

_VGG16_TO_POOL = {
    3: ([3, 3, 2, 3, 3, 2], [1, 1, 2, 1, 1, 2]),  # through pool2
    4: ([3, 3, 2, 3, 3, 2, 3, 3, 3, 2], [1, 1, 2, 1, 1, 2, 1, 1, 1, 2]),  # through pool3
}


class ReceptiveField(Family[ReceptiveFieldParams]):
    name = "receptive_field"
    summary = "receptive field of the stacked layers, in input pixels"
    params_model = ReceptiveFieldParams
    derived_defaults: ClassVar[Mapping[str, str]] = {"s": "all 1", "d": "all 1"}

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:  # stride-1 stacks of 3×3 / 5×5 / 7×7 convs
            n = rng.choice([2, 3, 4, 5, 6])
            if rng.random() < 0.3:
                return {"k": [3] * n}
            return {"k": [rng.choice([3, 3, 5, 7]) for _ in range(n)]}
        if level is Difficulty.MEDIUM:
            if rng.random() < 0.3:
                k, s = rng.choice(
                    [
                        ([7, 3], [2, 2]),
                        ([11, 3, 5, 3], [4, 2, 1, 2]),
                        ([3, 3, 2, 3, 3], [1, 1, 2, 1, 1]),
                        ([3, 3, 3], [2, 1, 1]),
                        ([5, 2, 5, 2], [1, 2, 1, 2]),  # LeNet-5 conv/pool stack
                        _VGG16_TO_POOL[3],
                    ]
                )
                return {"k": k, "s": s}
            layers = rng.choice([2, 3, 4])  # conv (stride 1 or 2) and 2×2 pools
            pairs = [
                rng.choice([(3, 1), (3, 2), (5, 1), (2, 2), (7, 2), (3, 1)]) for _ in range(layers)
            ]
            return {"k": [k for k, _ in pairs], "s": [s for _, s in pairs]}
        if rng.random() < 0.3:
            k, s, d = rng.choice(
                [
                    ([2, 2, 2, 2], [1, 1, 1, 1], [1, 2, 4, 8]),
                    ([3, 3, 3], [1, 1, 1], [1, 2, 4]),
                    ([3, 3, 3, 3], [1, 1, 1, 1], [1, 2, 4, 8]),
                    ([7, 3, 3, 3], [2, 2, 1, 1], [1, 1, 1, 1]),
                    ([*_VGG16_TO_POOL[4][0]], [*_VGG16_TO_POOL[4][1]], [1] * 10),
                    ([3, 3, 3], [2, 2, 1], [1, 1, 2]),
                ]
            )
            return {"k": k, "s": s, "d": d}
        layers = rng.choice([3, 4, 5])  # dilated (WaveNet / DeepLab) and strided stacks
        k = [rng.choice([2, 3, 3]) for _ in range(layers)]
        s = [rng.choice([1, 1, 2]) for _ in range(layers)]
        d = [1 if stride > 1 else rng.choice([1, 2, 4]) for stride in s]
        return {"k": k, "s": s, "d": d}

    def ask(self, p: ReceptiveFieldParams) -> Localized:
        key = (tuple(p.k), tuple(p.strides), tuple(p.dilations))
        layers = "; ".join(
            f"k={k}, s={s}" + (f", d={d}" if d != 1 else "")
            for k, s, d in zip(p.k, p.strides, p.dilations, strict=True)
        )
        known = _KNOWN_STACKS.get(key)
        lead_en = f"{known.en} — " if known else ""
        lead_zh = f"{known.zh}——" if known else ""
        return Localized(
            en=f"Layers stacked in this order (input first; k kernel, s stride, d dilation): "
            f"{lead_en}{layers}. How many input pixels wide is the receptive field of one unit "
            "of the last layer (along one dimension)?",
            zh="按以下顺序堆叠的层（从输入开始；k 为核大小，s 为步长，d 为膨胀率）："
            f"{lead_zh}{layers}。"
            "最后一层的一个单元在输入上的感受野（一个维度上）有多少个像素？",
        )

    def solve(self, p: ReceptiveFieldParams) -> Solved:
        k, s, d = p.k, p.strides, p.dilations
        rf = receptive_field_by_autograd(k, s, d)
        steps_en, steps_zh = [], []
        field, jump = 1, 1
        for i, (kernel, stride, dilation) in enumerate(zip(k, s, d, strict=True), start=1):
            grown = field + dilation * (kernel - 1) * jump
            steps_en.append(
                f"layer {i}: {field} + {dilation}×({kernel}-1)×{jump} = {grown}"
                + (f", jump ×{stride} -> {jump * stride}" if stride != 1 else "")
            )
            steps_zh.append(
                f"第 {i} 层：{field} + {dilation}×({kernel}-1)×{jump} = {grown}"
                + (f"，跳距 ×{stride} -> {jump * stride}" if stride != 1 else "")
            )
            field, jump = grown, jump * stride
        solution = Localized(
            en="r = 1 + Σ d_i (k_i - 1) × (product of the strides before layer i). "
            + "; ".join(steps_en)
            + f". Receptive field: {rf} pixels.",
            zh="r = 1 + Σ d_i (k_i - 1) ×（第 i 层之前各层步长之积）。"
            + "；".join(steps_zh)
            + f"。感受野：{rf} 个像素。",
        )
        current = 1
        jump = 1
        for kernel, stride, dilation in zip(k, s, d, strict=True):
            jump *= stride
            current += dilation * (kernel - 1) * jump
        candidates = [
            mistake(
                "ignored_strides",
                receptive_field(k, [1] * len(k), d),
                "You ignored the strides: after a stride-s layer, each further kernel tap is "
                "s input pixels apart, so later kernels grow the field s times faster.",
                "忽略了步长：经过步长为 s 的层之后，后面卷积核的相邻采样点在输入上相隔 s 个像素，"
                "感受野的增长也要乘以 s。",
            ),
            mistake(
                "current_stride",
                current,
                "A layer's own stride does not widen its own field: multiply by the strides of "
                "the layers before it only.",
                "一层自己的步长不会扩大它自己的感受野：只乘以它之前各层的步长。",
            ),
            mistake(
                "no_dilation",
                receptive_field(k, s, [1] * len(k)),
                "You forgot the dilations: a dilated kernel spans d(k-1) + 1 positions.",
                "忘了膨胀率：膨胀卷积核覆盖 d(k-1) + 1 个位置。",
            ),
            mistake(
                "sum_of_kernels",
                sum(k),
                "Adding the kernel sizes counts the shared pixel between layers again: each "
                "layer adds d(k-1) (times the jump), not k.",
                "直接把核大小相加会重复计算层与层之间共享的像素：每一层只增加 d(k-1)（再乘以跳距）"
                "，"
                "而不是 k。",
            ),
        ]
        return Solved(rf, solution, tuple(candidates))
