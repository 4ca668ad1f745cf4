"""The multiply-accumulates of a conv layer: conv_macs."""

from __future__ import annotations

from collections.abc import Mapping
from random import Random
from typing import Any, ClassVar, Self

from pydantic import Field, model_validator
from torch import nn

from bot.checkers._base import Family, Params, Size, Solved, mistake
from bot.checkers._params import Groups, Kernel, Width, n
from bot.checkers._torch import meta_module
from bot.core.models import Difficulty, Localized
from bot.core.validation import refused

# --- conv_macs ---------------------------------------------------------------------------------


class ConvMacsParams(Params):
    c_in: Width
    c_out: Width
    k: Kernel
    h_out: Size
    w_out: Size | None = Field(default=None, description="output width (default: h_out)")
    groups: Groups = 1

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.w_out is None:
            object.__setattr__(self, "w_out", self.h_out)
        for name in ("c_in", "c_out"):
            if getattr(self, name) % self.groups:
                value = getattr(self, name)
                raise refused(
                    f"{name}={value} is not divisible by groups={self.groups}",
                    f"{name}={value} 不能被 groups={self.groups} 整除",
                )
        return self

    @property
    def width(self) -> int:
        return self.w_out if self.w_out is not None else self.h_out


class ConvMacs(Family[ConvMacsParams]):
    name = "conv_macs"
    summary = "multiply-accumulates of one conv layer, bias excluded"
    params_model = ConvMacsParams
    derived_defaults: ClassVar[Mapping[str, str]] = {"w_out": "h_out"}

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        options = {
            Difficulty.EASY: [
                (1, 6, 5, 28, 1),  # LeNet-5 C1
                (3, 64, 3, 224, 1),  # VGG conv1_1
                (6, 16, 5, 10, 1),
                (3, 32, 3, 112, 1),
            ],
            Difficulty.MEDIUM: [
                (64, 64, 3, 224, 1),  # VGG conv1_2: 1.85 GMACs
                (3, 64, 7, 112, 1),  # ResNet stem: 118 MMACs
                (3, 64, 11, 55, 1),  # AlexNet conv1
                (256, 64, 1, 56, 1),  # bottleneck 1x1
            ],
            Difficulty.HARD: [
                (32, 32, 3, 112, 32),  # MobileNet depthwise
                (512, 512, 3, 14, 512),
                (128, 128, 3, 56, 32),  # ResNeXt grouped conv
                (96, 256, 5, 27, 2),  # AlexNet 2012 conv2, two groups
            ],
        }
        c_in, c_out, k, h, groups = rng.choice(options[level])
        if rng.random() < 0.8:  # the same layer at another resolution and width
            h = rng.choice([7, 10, 13, 14, 27, 28, 32, 55, 56, 64, 112, 224])
            if groups == 1:
                c_out = rng.choice([6, 16, 32, 64, 96, 128, 256, 512])
            elif groups == c_in and groups == c_out:  # depthwise
                c_in = c_out = groups = rng.choice([32, 64, 128, 256, 512, 1024])
        return {"c_in": c_in, "c_out": c_out, "k": k, "h_out": h, "groups": groups}

    def ask(self, p: ConvMacsParams) -> Localized:
        groups_en = f", groups={p.groups}" if p.groups != 1 else ""
        return Localized(
            en=f"nn.Conv2d({p.c_in}, {p.c_out}, kernel_size={p.k}{groups_en}) produces a "
            f"{p.h_out}×{p.width} output map. How many multiply-accumulate operations (MACs) does "
            "one forward pass of this layer take for one image? Ignore the bias additions.",
            zh=f"nn.Conv2d({p.c_in}, {p.c_out}, kernel_size={p.k}{groups_en}) 输出 "
            f"{p.h_out}×{p.width} "
            "的特征图。对一张图像前向计算一次需要多少次乘加运算（MACs）？忽略偏置的加法。",
        )

    def solve(self, p: ConvMacsParams) -> Solved:
        conv = meta_module(nn.Conv2d, p.c_in, p.c_out, p.k, groups=p.groups, bias=False)
        weights = conv.weight.numel()
        positions = p.h_out * p.width
        macs = weights * positions  # every weight is used once per output position
        solution = Localized(
            en=f"Each output value needs (c_in/groups)·k·k = {p.c_in // p.groups}×{p.k}×{p.k} "
            "MACs; "
            f"there are c_out·h·w = {p.c_out}×{p.h_out}×{p.width} outputs. MACs = {n(weights)} "
            f"weights × {n(positions)} positions = {n(macs)} (FLOPs ≈ 2 × MACs).",
            zh=f"每个输出值需要 (c_in/groups)·k·k = {p.c_in // p.groups}×{p.k}×{p.k} 次乘加；"
            f"共有 c_out·h·w = {p.c_out}×{p.h_out}×{p.width} 个输出。MACs = {n(weights)} 个权重 × "
            f"{n(positions)} 个位置 = {n(macs)}（FLOPs 约为 2 × MACs）。",
        )
        candidates = [
            mistake(
                "flops",
                2 * macs,
                "That counts FLOPs (a multiply and an add each): one MAC is one multiply-"
                "accumulate, so MACs are half that.",
                "这是 FLOPs（乘法和加法各算一次）：一次 MAC 就是一次乘加，所以 MACs 是它的一半。",
            ),
            mistake(
                "bias_included",
                macs + p.c_out * positions,
                "The question excludes the bias additions.",
                "题目要求忽略偏置的加法。",
            ),
            mistake(
                "ignored_groups",
                p.c_in * p.c_out * p.k * p.k * positions,
                "With groups=g each output only sees c_in/g input channels: divide by g.",
                "groups=g 时每个输出只连接 c_in/g 个输入通道：要除以 g。",
            )
            if p.groups > 1
            else None,
            mistake(
                "parameters_only",
                weights,
                "That is the number of weights; each weight is reused at every one of the "
                "h·w output positions.",
                "这是权重个数；每个权重在 h·w 个输出位置上都要用一次。",
            ),
        ]
        return Solved(macs, solution, tuple(m for m in candidates if m is not None))
