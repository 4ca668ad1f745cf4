"""Compute and memory costs: self-attention in sequence length, depthwise-separable convs.

Attention FLOPs come from torch's own `FlopCounterMode` on meta tensors (a matmul of m×k by
k×n counts 2·m·n·k); the attention matrix's bytes from a meta tensor's numel × element size;
the separable conv's multiply-accumulates from the real layers' weights (meta device), each
weight used once per output position.
"""

from __future__ import annotations

from collections.abc import Mapping
from random import Random
from typing import Annotated, Any, ClassVar, Literal, Self

import torch
from pydantic import BeforeValidator, Field, model_validator
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from bot.checkers._base import Family, Params, Size, Solved, _not_bool, mistake
from bot.checkers._params import n
from bot.checkers._torch import META, meta_module
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized
from bot.core.validation import refused

Width = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=100_000)]
Heads = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=1024)]
Kernel = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=31)]
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


# --- attention_cost ---------------------------------------------------------------------------


class AttentionCostParams(Params):
    seq_len: Size
    d_model: Width
    heads: Heads = 1
    batch: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=4096)] = 1
    quantity: Literal["flops", "macs", "memory"] = "flops"
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.d_model % self.heads:
            raise refused(
                f"d_model={self.d_model} is not divisible by heads={self.heads}",
                f"d_model={self.d_model} 不能被 heads={self.heads} 整除",
            )
        return self


def attention_flops(batch: int, heads: int, seq: int, head_dim: int) -> int:
    """FLOPs of Q·K^T and A·V for one layer, counted by torch on meta tensors.

    The (batch, heads) pairs are one batch dimension of `bmm`, which the 4-D `@` also ends in
    (after an expand and reshapes, each a trip through the counter's dispatch: 3x the time);
    the softmax between the products counts no FLOPs, so A is any n×n tensor."""
    q = torch.empty(batch * heads, seq, head_dim, device=META)
    k_t = q.transpose(1, 2)
    with FlopCounterMode(display=False) as counter:
        torch.bmm(torch.bmm(q, k_t), q)
    return int(counter.get_total_flops())


class AttentionCost(Family[AttentionCostParams]):
    name = "attention_cost"
    summary = "FLOPs or MACs of Q·K^T and A·V, or the bytes of the attention matrix"
    params_model = AttentionCostParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        # Lengths in hundreds and widths in multiples of 32 never coincide, and the batch sizes
        # are no head counts or byte sizes: every named mistake stays a different number.
        seq = rng.choice([100, 200, 300, 500, 1000, 2000, 4000, 8000])
        if level is Difficulty.EASY:
            return {
                "seq_len": seq,
                "d_model": rng.choice([64, 128, 256, 512, 768, 1024]),
                "quantity": rng.choice(["flops", "macs", "memory"]),
            }
        heads = rng.choice([6, 8, 12, 16])
        params: dict[str, Any] = {
            "seq_len": seq,
            "d_model": heads * rng.choice([32, 64, 96]),
            "heads": heads,
            "quantity": rng.choice(["flops", "macs", "memory"]),
        }
        if level is Difficulty.HARD:
            params["batch"] = rng.choice([3, 5, 10, 24, 32])
            params["dtype"] = rng.choice(["float16", "bfloat16", "float32"])
        return params

    def ask(self, p: AttentionCostParams) -> Localized:
        setup_en = (
            f"Self-attention over a sequence of n = {p.seq_len} tokens, d_model = {p.d_model}, "
            f"{p.heads} head{'s' if p.heads > 1 else ''} (head dimension "
            f"{p.d_model // p.heads}), batch {p.batch}."
        )
        setup_zh = (
            f"对长度 n = {p.seq_len} 的序列做自注意力，d_model = {p.d_model}，{p.heads} 个头"
            f"（每头维度 {p.d_model // p.heads}），批大小 {p.batch}。"
        )
        if p.quantity == "memory":
            return Localized(
                en=f"{setup_en} How many bytes does the attention-weight tensor "
                f"softmax(QK^T/√d) of one layer take (all heads, whole batch) in {p.dtype}?",
                zh=f"{setup_zh}一层的注意力权重张量 softmax(QK^T/√d)（所有头、整个批次）"
                f"以 {p.dtype} 存储要占多少字节？",
            )
        unit_en = (
            "FLOPs (a multiply-add counts as 2 FLOPs)"
            if p.quantity == "flops"
            else "multiply-accumulates (MACs)"
        )
        how_many_zh = (  # a space between Chinese and Latin letters, none between Chinese
            "多少 FLOPs（一次乘加算 2 个 FLOPs）" if p.quantity == "flops" else "多少次乘加（MACs）"
        )
        return Localized(
            en=f"{setup_en} Counting only the two matrix products Q·K^T and A·V of one layer "
            f"(no projections, softmax or scaling), how many {unit_en} does the forward pass "
            "take?",
            zh=f"{setup_zh}只计一层中的两个矩阵乘法 Q·K^T 和 A·V（不计投影、softmax 和缩放），"
            f"前向计算需要{how_many_zh}？",
        )

    def solve(self, p: AttentionCostParams) -> Solved:
        b, h, t, d = p.batch, p.heads, p.seq_len, p.d_model
        head_dim = d // h
        if p.quantity == "memory":
            weights = torch.empty(b, h, t, t, dtype=_DTYPES[p.dtype], device=META)
            size = weights.element_size()
            total = weights.numel() * size
            solution = Localized(
                en=f"The weights have shape (batch, heads, n, n) = ({b}, {h}, {t}, {t}): "
                f"{n(weights.numel())} elements × {size} bytes = {n(total)} bytes, quadratic in "
                "the sequence length.",
                zh=f"权重张量的形状是 (batch, heads, n, n) = ({b}, {h}, {t}, {t})："
                f"{n(weights.numel())} 个元素 × {size} 字节 = {n(total)} 字节，"
                "随序列长度平方增长。",
            )
            candidates: list[KnownMistake | None] = [
                mistake(
                    "forgot_heads",
                    total // h,
                    "Every head has its own n×n attention matrix: multiply by the heads.",
                    "每个头都有自己的 n×n 注意力矩阵：要乘以头数。",
                )
                if h > 1
                else None,
                mistake(
                    "forgot_batch",
                    total // b,
                    "Every sequence of the batch has its own attention matrices.",
                    "批次中的每条序列都有自己的注意力矩阵。",
                )
                if b > 1
                else None,
                mistake(
                    "elements_not_bytes",
                    weights.numel(),
                    f"That is the number of elements; each takes {size} bytes in {p.dtype}.",
                    f"这是元素个数；{p.dtype} 每个元素占 {size} 字节。",
                ),
                mistake(
                    "float32_bytes",
                    weights.numel() * 4,
                    f"{p.dtype} takes 2 bytes per element, not 4.",
                    f"{p.dtype} 每个元素占 2 字节，不是 4 字节。",
                )
                if size == 2
                else None,
                mistake(
                    "bits_not_bytes",
                    total * 8,
                    "That is in bits; the question asks for bytes (8 bits each).",
                    "这是比特数；题目问的是字节数（1 字节 = 8 比特）。",
                ),
                mistake(
                    "linear_in_n",
                    b * t * d * size,
                    "That is the size of Q (n × d_model); the attention matrix is n × n per "
                    "head, quadratic in n.",
                    "这是 Q 的大小（n × d_model）；注意力矩阵每个头是 n × n，随 n 平方增长。",
                ),
            ]
            return Solved(total, solution, tuple(m for m in candidates if m is not None))
        flops = attention_flops(b, h, t, head_dim)
        macs = flops // 2
        total = flops if p.quantity == "flops" else macs
        solution = Localized(
            en=f"Per head, Q·K^T is (n×{head_dim})·({head_dim}×n): n²·d_head = {t}²·{head_dim} "
            f"MACs, and A·V is (n×n)·(n×{head_dim}): the same again. Over {h} head(s) and batch "
            f"{b}: 2·batch·n²·d_model = {n(macs)} MACs = {n(flops)} FLOPs (2 per MAC). Answer: "
            f"{n(total)}.",
            zh=f"每个头 Q·K^T 是 (n×{head_dim})·({head_dim}×n)："
            f"n²·d_head = {t}²·{head_dim} 次乘加，"
            f"A·V 是 (n×n)·(n×{head_dim})：同样多。乘上 {h} 个头和批大小 {b}："
            f"2·batch·n²·d_model = {n(macs)} 次乘加 = {n(flops)} FLOPs（每次乘加 2 个）。"
            f"答案：{n(total)}。",
        )
        candidates = [
            mistake(
                "macs_not_flops",
                macs,
                "That is the number of MACs; a multiply-add counts as 2 FLOPs.",
                "这是乘加次数（MACs）；一次乘加算 2 个 FLOPs。",
            )
            if p.quantity == "flops"
            else mistake(
                "flops_not_macs",
                flops,
                "That counts FLOPs (2 per multiply-add); a MAC is one multiply-accumulate.",
                "这是 FLOPs（每次乘加算 2 个）；一次 MAC 就是一次乘加。",
            ),
            mistake(
                "one_matmul",
                macs // 2,
                "There are two products of the same cost: Q·K^T and the weights times V.",
                "有两个代价相同的矩阵乘法：Q·K^T 以及权重乘以 V。",
            )
            if p.quantity == "macs"
            else mistake(
                "one_matmul_macs",
                macs // 2,
                "Count both products (Q·K^T and A·V), and 2 FLOPs per multiply-add.",
                "两个矩阵乘法（Q·K^T 和 A·V）都要算，而且每次乘加算 2 个 FLOPs。",
            ),
            mistake(
                "heads_times_d_model",
                total * h,
                "Each head works on d_model/heads features: the heads together cost the same as "
                "one head of width d_model, not heads times that.",
                "每个头只处理 d_model/heads 维：所有头合起来的代价等于一个 d_model 宽的头，"
                "而不是它的 heads 倍。",
            )
            if h > 1
            else None,
            mistake(
                "forgot_batch",
                total // b,
                "Every sequence of the batch is attended separately: multiply by the batch.",
                "批次中每条序列都要单独计算注意力：要乘以批大小。",
            )
            if b > 1
            else None,
            mistake(
                "linear_in_n",
                2 * t * d * d * b * (2 if p.quantity == "flops" else 1),
                "That is the n·d² cost of the projections; the attention products cost n²·d.",
                "这是投影的 n·d² 代价；注意力的矩阵乘法代价是 n²·d。",
            )
            if t != d
            else None,
        ]
        return Solved(total, solution, tuple(m for m in candidates if m is not None))


# --- separable_conv_macs ----------------------------------------------------------------------


class SeparableConvMacsParams(Params):
    c_in: Width
    c_out: Width
    k: Kernel
    h_out: Size
    w_out: Size | None = Field(default=None, description="output width (default: h_out)")

    @model_validator(mode="after")
    def _default_width(self) -> Self:
        if self.w_out is None:
            object.__setattr__(self, "w_out", self.h_out)
        return self

    @property
    def width(self) -> int:
        return self.w_out if self.w_out is not None else self.h_out


class SeparableConvMacs(Family[SeparableConvMacsParams]):
    name = "separable_conv_macs"
    summary = "multiply-accumulates of a depthwise k×k + pointwise 1×1 conv, bias excluded"
    params_model = SeparableConvMacsParams
    derived_defaults: ClassVar[Mapping[str, str]] = {"w_out": "h_out"}

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:
            c_in = rng.choice([16, 32, 64, 128, 256, 512])
            c_out = c_in * rng.choice([1, 2])
            k, h = 3, rng.choice([7, 14, 28, 56, 112])
        elif level is Difficulty.MEDIUM:
            c_in = rng.choice([32, 64, 128, 256, 512])
            c_out = rng.choice([64, 128, 256, 512, 1024])
            k, h = rng.choice([3, 5]), rng.choice([7, 14, 28, 56])
        else:
            c_in = rng.choice([96, 144, 192, 384, 576, 728])
            c_out = rng.choice([24, 32, 64, 96, 160, 728])
            k, h = rng.choice([3, 5, 7]), rng.choice([7, 10, 14, 19, 28])
        return {"c_in": c_in, "c_out": c_out, "k": k, "h_out": h}

    def ask(self, p: SeparableConvMacsParams) -> Localized:
        return Localized(
            en=f"A depthwise separable conv maps {p.c_in} channels to {p.c_out}: a {p.k}×{p.k} "
            f"depthwise conv (groups={p.c_in}) then a 1×1 pointwise conv, both producing a "
            f"{p.h_out}×{p.width} map. How many multiply-accumulates (MACs) does it take for one "
            "image? Ignore biases.",
            zh=f"一个深度可分离卷积把 {p.c_in} 个通道映射到 {p.c_out} 个：先做 {p.k}×{p.k} 的逐通道"
            f"卷积（groups={p.c_in}），再做 1×1 的逐点卷积，两者的输出都是 {p.h_out}×{p.width}。"
            "处理一张图像需要多少次乘加（MACs）？忽略偏置。",
        )

    def solve(self, p: SeparableConvMacsParams) -> Solved:
        depthwise = meta_module(nn.Conv2d, p.c_in, p.c_in, p.k, groups=p.c_in, bias=False)
        pointwise = meta_module(nn.Conv2d, p.c_in, p.c_out, 1, bias=False)
        positions = p.h_out * p.width
        dw = depthwise.weight.numel() * positions
        pw = pointwise.weight.numel() * positions
        total = dw + pw
        standard = p.c_in * p.c_out * p.k * p.k * positions
        solution = Localized(
            en=f"Depthwise: c_in·k²·h·w = {p.c_in}·{p.k}²·{positions} = {n(dw)}; pointwise: "
            f"c_in·c_out·h·w = {p.c_in}·{p.c_out}·{positions} = {n(pw)}. Total = {n(total)} "
            f"(a standard conv would take {n(standard)}, {standard / total:.1f}× more).",
            zh=f"逐通道卷积：c_in·k²·h·w = {p.c_in}·{p.k}²·{positions} = {n(dw)}；逐点卷积："
            f"c_in·c_out·h·w = {p.c_in}·{p.c_out}·{positions} = {n(pw)}。合计 {n(total)}"
            f"（普通卷积需要 {n(standard)}，是它的 {standard / total:.1f} 倍）。",
        )
        candidates = [
            mistake(
                "standard_conv",
                standard,
                "That is an ordinary k×k conv; the separable one is depthwise (c_in·k²) plus "
                "pointwise (c_in·c_out) per position.",
                "这是普通 k×k 卷积的计算量；深度可分离卷积每个位置是逐通道（c_in·k²）加逐点"
                "（c_in·c_out）。",
            ),
            mistake(
                "depthwise_only",
                dw,
                "You counted only the depthwise part; add the 1×1 pointwise conv.",
                "只算了逐通道卷积部分，还要加上 1×1 的逐点卷积。",
            ),
            mistake(
                "pointwise_only",
                pw,
                "You counted only the 1×1 pointwise conv; add the depthwise k×k part.",
                "只算了 1×1 逐点卷积，还要加上逐通道的 k×k 卷积。",
            ),
            mistake(
                "flops",
                2 * total,
                "That counts FLOPs (2 per multiply-add); MACs are half that.",
                "这是 FLOPs（每次乘加算 2 个）；MACs 是它的一半。",
            ),
            mistake(
                "depthwise_full",
                p.c_in * p.c_in * p.k * p.k * positions + pw,
                "The depthwise conv has groups=c_in: each output channel sees one input "
                "channel, so c_in·k² MACs per position, not c_in²·k².",
                "逐通道卷积 groups=c_in：每个输出通道只看一个输入通道，每个位置是 c_in·k² 次"
                "乘加，而不是 c_in²·k²。",
            ),
            mistake(
                "parameters_only",
                depthwise.weight.numel() + pointwise.weight.numel(),
                "That is the number of weights; each is used at every one of the h·w positions.",
                "这是权重个数；每个权重在 h·w 个位置上都要用一次。",
            ),
        ]
        return Solved(total, solution, tuple(candidates))
