"""Receptive fields: receptive_field (closed form and by autograd)."""

from __future__ import annotations

from collections.abc import Mapping
from random import Random
from typing import Annotated, Any, ClassVar, Self

import torch
from pydantic import Field, model_validator

from bot.checkers._base import (
    Family,
    Params,
    Solved,
    mistake,
)
from bot.checkers._shapes import Kernel
from bot.core.models import Difficulty, Localized

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
