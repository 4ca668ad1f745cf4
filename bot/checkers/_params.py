"""Parameter counts of single layers (recurrent ones: `_rnn_params`; a conv's MACs: `_conv_macs`).

Every count is read off the real `torch.nn` module built on the meta device.
"""

from __future__ import annotations

from random import Random
from typing import Annotated, Any, Self

import torch
from pydantic import BeforeValidator, Field, model_validator
from torch import nn

from bot.checkers._base import Family, Params, Solved, _not_bool, mistake
from bot.checkers._torch import META, count_params, meta_module
from bot.core.answers import format_number
from bot.core.models import Difficulty, Localized
from bot.core.validation import refused

Kernel = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=31)]
Width = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=100_000)]
Groups = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=100_000)]


def n(value: int) -> str:
    """An integer as the solutions show it: 34,944."""
    return format_number(value)


def _bias_words(bias: bool) -> tuple[str, str]:
    return (
        ("with bias", "带偏置") if bias else ("without bias (bias=False)", "不带偏置，bias=False")
    )


_FORGOT_BIAS = (
    "forgot_bias",
    "You forgot the biases: one per output channel (unit).",
    "漏算了偏置：每个输出通道（单元）一个偏置。",
)
_ADDED_BIAS = (
    "added_bias",
    "This layer has bias=False: there are no bias parameters to count.",
    "这一层 bias=False：没有偏置参数需要计算。",
)


# --- conv_params ----------------------------------------------------------------------------


class ConvParamsParams(Params):
    c_in: Width
    c_out: Width
    k: Kernel
    bias: bool = True
    groups: Groups = 1

    @model_validator(mode="after")
    def _possible(self) -> Self:
        for name in ("c_in", "c_out"):
            if getattr(self, name) % self.groups:
                value = getattr(self, name)
                raise refused(
                    f"{name}={value} is not divisible by groups={self.groups}",
                    f"{name}={value} 不能被 groups={self.groups} 整除",
                )
        return self


class ConvParams(Family[ConvParamsParams]):
    name = "conv_params"
    summary = "learnable parameters of nn.Conv2d"
    params_model = ConvParamsParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        options: dict[Difficulty, list[tuple[int, int, int, bool, int]]] = {
            Difficulty.EASY: [
                (3, 64, 3, True, 1),  # VGG conv1_1: 1,792
                (64, 64, 3, True, 1),  # VGG conv1_2: 36,928
                (1, 6, 5, True, 1),  # LeNet-5 C1: 156
                (6, 16, 5, True, 1),  # LeNet-5 C3 (full connectivity): 2,416
                (64, 128, 3, True, 1),
                (3, 96, 11, True, 1),  # AlexNet (2012) conv1: 34,944
            ],
            Difficulty.MEDIUM: [
                (3, 64, 11, True, 1),  # torchvision AlexNet conv1: 23,296
                (64, 192, 5, True, 1),  # AlexNet conv2
                (3, 64, 7, False, 1),  # ResNet stem (followed by BatchNorm): 9,408
                (256, 64, 1, False, 1),  # bottleneck 1x1 reduce
                (512, 512, 3, True, 1),  # VGG conv5: 2,359,808
                (256, 512, 3, False, 1),
            ],
            Difficulty.HARD: [
                (32, 32, 3, False, 32),  # MobileNet depthwise: 288
                (128, 128, 3, False, 32),  # ResNeXt 32x4d grouped conv
                (256, 256, 3, False, 32),
                (96, 256, 5, True, 2),  # AlexNet 2012 conv2, split over two GPUs
                (384, 256, 3, True, 2),
                (512, 512, 3, True, 512),
            ],
        }
        c_in, c_out, k, bias, groups = rng.choice(options[level])
        if level is not Difficulty.HARD and rng.random() < 0.8:  # same layer, another width
            c_out = rng.choice([8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 1024])
            bias = bias if level is Difficulty.EASY else rng.random() < 0.5
        elif level is Difficulty.HARD and rng.random() < 0.7:  # depthwise: groups = channels
            c_in = c_out = groups = rng.choice([32, 64, 96, 128, 144, 192, 256, 384, 576, 960])
            k, bias = rng.choice([3, 5, 7]), rng.random() < 0.3
        return {"c_in": c_in, "c_out": c_out, "k": k, "bias": bias, "groups": groups}

    def ask(self, p: ConvParamsParams) -> Localized:
        bias_en, bias_zh = _bias_words(p.bias)
        groups = f", groups={p.groups}" if p.groups != 1 else ""
        kind_zh = "分组卷积，" if p.groups != 1 else ""
        return Localized(
            en=f"How many learnable parameters does nn.Conv2d({p.c_in}, {p.c_out}, "
            f"kernel_size={p.k}{groups}) {bias_en} have?",
            zh=f"nn.Conv2d({p.c_in}, {p.c_out}, kernel_size={p.k}{groups})（{kind_zh}{bias_zh}）"
            "有多少个可学习参数（参数量）？",
        )

    def solve(self, p: ConvParamsParams) -> Solved:
        conv = meta_module(nn.Conv2d, p.c_in, p.c_out, p.k, groups=p.groups, bias=p.bias)
        total = count_params(conv)
        per_filter = p.c_in // p.groups * p.k * p.k
        weights = p.c_out * per_filter
        biases = p.c_out if p.bias else 0
        group_en = (
            f" (c_in/groups = {p.c_in}/{p.groups} = {p.c_in // p.groups})" if p.groups > 1 else ""
        )
        group_zh = (
            f"（c_in/groups = {p.c_in}/{p.groups} = {p.c_in // p.groups}）" if p.groups > 1 else ""
        )
        solution = Localized(
            en=f"Each of the {p.c_out} filters has (c_in/groups)·k·k = "
            f"{p.c_in // p.groups}×{p.k}×{p.k} "
            f"= {n(per_filter)} weights{group_en}; weights = {p.c_out} × {n(per_filter)} = "
            f"{n(weights)}; biases = {biases}. Total = {n(total)}.",
            zh=f"{p.c_out} 个卷积核，每个有 (c_in/groups)·k·k = {p.c_in // p.groups}×{p.k}×{p.k} "
            f"= {n(per_filter)} 个权重{group_zh}；权重共 {p.c_out} × {n(per_filter)} = "
            f"{n(weights)}；"
            f"偏置 {biases} 个。合计 {n(total)}。",
        )
        candidates = [
            mistake(_FORGOT_BIAS[0], weights, *_FORGOT_BIAS[1:]) if p.bias else None,
            mistake(_ADDED_BIAS[0], weights + p.c_out, *_ADDED_BIAS[1:]) if not p.bias else None,
            mistake(
                "ignored_groups",
                p.c_out * p.c_in * p.k * p.k + biases,
                "With groups=g each filter only sees c_in/g input channels, which divides the "
                "weights by g.",
                "groups=g 时每个卷积核只连接 c_in/g 个输入通道，权重数要除以 g。",
            )
            if p.groups > 1
            else None,
            mistake(
                "forgot_input_channels",
                p.c_out * p.k * p.k + biases,
                "A filter spans every input channel (of its group): multiply k·k by c_in/groups.",
                "每个卷积核覆盖（所在组的）全部输入通道：k·k 还要乘以 c_in/groups。",
            ),
            mistake(
                "kernel_not_squared",
                p.c_out * (p.c_in // p.groups) * p.k + biases,
                "nn.Conv2d(kernel_size=k) has a k×k kernel: use k², not k.",
                "nn.Conv2d(kernel_size=k) 的卷积核是 k×k：要用 k²，而不是 k。",
            ),
            mistake(
                "bias_per_weight",
                2 * weights,
                "There is one bias per output channel, not one per weight.",
                "偏置是每个输出通道一个，而不是每个权重一个。",
            )
            if p.bias
            else None,
        ]
        return Solved(total, solution, tuple(m for m in candidates if m is not None))


# --- separable_conv_params ------------------------------------------------------------------


class SeparableConvParamsParams(Params):
    c_in: Width
    c_out: Width
    k: Kernel
    bias: bool = False


class SeparableConvParams(Family[SeparableConvParamsParams]):
    name = "separable_conv_params"
    summary = "depthwise (groups=c_in) + 1x1 pointwise parameters"
    params_model = SeparableConvParamsParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        options = {
            Difficulty.EASY: [(32, 64, 3), (64, 128, 3), (16, 32, 3)],  # MobileNet v1 blocks
            Difficulty.MEDIUM: [(128, 256, 3), (256, 256, 3), (512, 512, 3), (32, 64, 5)],
            Difficulty.HARD: [(728, 728, 3), (512, 1024, 3), (1024, 1024, 3), (96, 192, 5)],
        }
        c_in, c_out, k = rng.choice(options[level])
        if rng.random() < 0.8:  # other widths of the same kind of block
            c_in = rng.choice([8, 16, 24, 32, 48, 64, 96, 128, 256, 512, 728, 1024])
            c_out = c_in * rng.choice([1, 2, 4]) if level is Difficulty.EASY else c_out
            k = rng.choice([3, 5] if level is Difficulty.EASY else [3, 5, 7])
        bias = level is Difficulty.HARD and rng.random() < 0.5
        return {"c_in": c_in, "c_out": c_out, "k": k, "bias": bias}

    def ask(self, p: SeparableConvParamsParams) -> Localized:
        bias_en, bias_zh = _bias_words(p.bias)
        return Localized(
            en=f"A depthwise separable conv maps {p.c_in} channels to {p.c_out} with a {p.k}×{p.k} "
            f"depthwise conv (groups={p.c_in}) followed by a 1×1 pointwise conv, both "
            f"{bias_en.replace('(bias=False)', '').strip()}. "
            "How many learnable parameters does it have?",
            zh=f"一个深度可分离卷积把 {p.c_in} 个通道映射到 {p.c_out} 个：先做 {p.k}×{p.k} 的逐通道"
            f"（depthwise，groups={p.c_in}）卷积，再做 1×1 的逐点（pointwise）卷积，"
            f"两者都{bias_zh.split('，')[0]}。"
            "它有多少个可学习参数？",
        )

    def solve(self, p: SeparableConvParamsParams) -> Solved:
        block = nn.Sequential(
            meta_module(nn.Conv2d, p.c_in, p.c_in, p.k, groups=p.c_in, bias=p.bias),
            meta_module(nn.Conv2d, p.c_in, p.c_out, 1, bias=p.bias),
        )
        total = count_params(block)
        depthwise = count_params(block[0])
        pointwise = count_params(block[1])
        b_dw = p.c_in if p.bias else 0
        b_pw = p.c_out if p.bias else 0
        solution = Localized(
            en=f"Depthwise: c_in·k·k{' + c_in' if p.bias else ''} = {p.c_in}×{p.k}×{p.k}"
            f"{f' + {p.c_in}' if p.bias else ''} = {n(depthwise)}. Pointwise: c_in·c_out"
            f"{' + c_out' if p.bias else ''} = "
            f"{p.c_in}×{p.c_out}{f' + {p.c_out}' if p.bias else ''}"
            f" = {n(pointwise)}. Total = {n(total)} (a standard conv would need "
            f"{n(p.c_in * p.c_out * p.k * p.k + b_pw)}).",
            zh=f"逐通道卷积：c_in·k·k{' + c_in' if p.bias else ''} = {p.c_in}×{p.k}×{p.k}"
            f"{f' + {p.c_in}' if p.bias else ''} = {n(depthwise)}。逐点卷积：c_in·c_out"
            f"{' + c_out' if p.bias else ''} = "
            f"{p.c_in}×{p.c_out}{f' + {p.c_out}' if p.bias else ''}"
            f" = {n(pointwise)}。合计 {n(total)}（普通卷积需要 "
            f"{n(p.c_in * p.c_out * p.k * p.k + b_pw)}）。",
        )
        candidates = [
            mistake(
                "standard_conv",
                p.c_in * p.c_out * p.k * p.k + b_pw,
                "That is an ordinary k×k conv; the separable version factorises it into a "
                "depthwise k×k conv (c_in·k·k) plus a 1×1 conv (c_in·c_out).",
                "这是普通 k×k 卷积的参数量；深度可分离卷积把它分解为逐通道 k×k 卷积（c_in·k·k）"
                "加 1×1 卷积（c_in·c_out）。",
            ),
            mistake(
                "depthwise_only",
                depthwise,
                "You counted only the depthwise part; add the 1×1 pointwise conv.",
                "只算了逐通道卷积部分，还要加上 1×1 的逐点卷积。",
            ),
            mistake(
                "pointwise_only",
                pointwise,
                "You counted only the 1×1 pointwise conv; add the depthwise k×k part.",
                "只算了 1×1 逐点卷积，还要加上逐通道的 k×k 卷积。",
            ),
            mistake(
                "depthwise_full",
                p.c_in * p.c_in * p.k * p.k + b_dw + pointwise,
                "The depthwise conv has groups=c_in: each filter sees one channel, so it has "
                "c_in·k·k weights, not c_in·c_in·k·k.",
                "逐通道卷积 groups=c_in：每个卷积核只看一个通道，权重是 c_in·k·k，不是 "
                "c_in·c_in·k·k。",
            ),
            mistake(_FORGOT_BIAS[0], total - b_dw - b_pw, *_FORGOT_BIAS[1:]) if p.bias else None,
            mistake(_ADDED_BIAS[0], total + p.c_in + p.c_out, *_ADDED_BIAS[1:])
            if not p.bias
            else None,
        ]
        return Solved(total, solution, tuple(m for m in candidates if m is not None))


# --- linear_params ---------------------------------------------------------------------------


class LinearParamsParams(Params):
    n_in: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=10_000_000)]
    n_out: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=10_000_000)]
    bias: bool = True


class LinearParams(Family[LinearParamsParams]):
    name = "linear_params"
    summary = "parameters of nn.Linear"
    params_model = LinearParamsParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        options = {
            Difficulty.EASY: [(784, 128), (2, 2), (128, 10), (784, 10), (84, 10), (120, 84)],
            Difficulty.MEDIUM: [(400, 120), (512, 10), (2048, 1000), (4096, 1000), (768, 3072)],
            Difficulty.HARD: [(9216, 4096), (25088, 4096), (4096, 4096), (512 * 7 * 7, 4096)],
        }
        n_in, n_out = rng.choice(options[level])
        if rng.random() < 0.8:  # the same kind of layer with other sizes
            n_in = rng.choice([n for n, _ in options[level]] + [64, 100, 256, 300, 1024, 2048])
            n_out = rng.choice([m for _, m in options[level]] + [2, 10, 100, 512, 1000])
        bias = level is Difficulty.EASY or rng.random() < 0.8
        return {"n_in": n_in, "n_out": n_out, "bias": bias}

    def ask(self, p: LinearParamsParams) -> Localized:
        bias_en, bias_zh = _bias_words(p.bias)
        return Localized(
            en=f"How many learnable parameters does nn.Linear({p.n_in}, {p.n_out}) {bias_en} have?",
            zh=f"nn.Linear({p.n_in}, {p.n_out})（{bias_zh}）有多少个可学习参数？",
        )

    def solve(self, p: LinearParamsParams) -> Solved:
        total = count_params(meta_module(nn.Linear, p.n_in, p.n_out, bias=p.bias))
        weights = p.n_in * p.n_out
        biases = p.n_out if p.bias else 0
        solution = Localized(
            en=f"weights n_in·n_out = {n(p.n_in)}×{n(p.n_out)} = {n(weights)}; biases = "
            f"{n(biases)}. Total = {n(total)}.",
            zh=f"权重 n_in·n_out = {n(p.n_in)}×{n(p.n_out)} = {n(weights)}；偏置 {n(biases)} 个。"
            f"合计 {n(total)}。",
        )
        candidates = [
            mistake(_FORGOT_BIAS[0], weights, *_FORGOT_BIAS[1:]) if p.bias else None,
            mistake(_ADDED_BIAS[0], weights + p.n_out, *_ADDED_BIAS[1:]) if not p.bias else None,
            mistake(
                "bias_per_input",
                weights + p.n_in,
                "There is one bias per output unit (n_out), not per input.",
                "偏置是每个输出单元一个（n_out 个），不是每个输入一个。",
            )
            if p.bias
            else None,
        ]
        return Solved(total, solution, tuple(m for m in candidates if m is not None))


# --- batchnorm_params ------------------------------------------------------------------------


class BatchnormParamsParams(Params):
    c: Width


class BatchnormParams(Family[BatchnormParamsParams]):
    name = "batchnorm_params"
    summary = "learnable parameters of nn.BatchNorm2d (buffers excluded)"
    params_model = BatchnormParamsParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        # Channel counts of real CNNs: multiples of 8 up to 512 (easy), of 16 from 320 to
        # 1,440 (medium), of 32 from 1,280 to 4,096 (hard).
        options = {
            Difficulty.EASY: range(8, 513, 8),
            Difficulty.MEDIUM: range(320, 1441, 16),
            Difficulty.HARD: range(1280, 4097, 32),
        }
        return {"c": rng.choice(options[level])}

    def ask(self, p: BatchnormParamsParams) -> Localized:
        return Localized(
            en=f"How many learnable parameters does nn.BatchNorm2d({p.c}) have (buffers such as "
            "the running statistics are not parameters)?",
            zh=f"nn.BatchNorm2d({p.c}) 有多少个可学习参数？（running mean/var 等缓冲区不算参数）",
        )

    def solve(self, p: BatchnormParamsParams) -> Solved:
        bn = meta_module(nn.BatchNorm2d, p.c)
        total = count_params(bn)
        buffers = sum(b.numel() for b in bn.buffers())
        solution = Localized(
            en=f"One scale γ and one shift β per channel: 2 × {p.c} = {n(total)}. running_mean, "
            f"running_var and num_batches_tracked ({n(buffers)} numbers) are buffers, not "
            "learned by gradient descent.",
            zh=f"每个通道一个缩放 γ 和一个平移 β：2 × {p.c} = {n(total)}。running_mean、"
            "running_var "
            f"和 num_batches_tracked（共 {n(buffers)} 个数）是缓冲区，不通过梯度下降学习。",
        )
        candidates = [
            mistake(
                "counted_running_stats",
                total + 2 * p.c,
                "running_mean and running_var are buffers (updated by averaging, not by "
                "gradients), so they are not learnable parameters.",
                "running_mean 和 running_var 是缓冲区（靠滑动平均更新，不靠梯度），"
                "不算可学习参数。",
            ),
            mistake(
                "counted_state_dict",
                total + buffers,
                "You counted the state_dict (running statistics and num_batches_tracked "
                "included); parameters() has only γ and β.",
                "你数的是 state_dict（包括 running 统计量和 num_batches_tracked）；"
                "parameters() 只有 γ 和 β。",
            ),
            mistake(
                "gamma_only",
                p.c,
                "BatchNorm learns a shift β as well as a scale γ for each channel.",
                "BatchNorm 每个通道除了缩放 γ 还要学习平移 β。",
            ),
        ]
        hint = Localized(
            en="Which of BatchNorm's tensors does gradient descent learn, and how many numbers "
            "does each hold per channel? (The running statistics are buffers.)",
            zh="BatchNorm 的哪些张量由梯度下降学习？每个通道各有几个数？"
            "（running 统计量是缓冲区。）",
        )
        return Solved(total, solution, tuple(candidates), hint=hint)


# --- embedding_params ------------------------------------------------------------------------


class EmbeddingParamsParams(Params):
    vocab: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=10_000_000)]
    dim: Width


class EmbeddingParams(Family[EmbeddingParamsParams]):
    name = "embedding_params"
    summary = "parameters of nn.Embedding"
    params_model = EmbeddingParamsParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.HARD:  # real tokenizers' vocabularies (BERT, GPT-2, LLaMA, ...)
            vocab = rng.choice([30522, 50257, 32000, 49408, 128256, 151936, 250002, 32128, 65024])
            dim = rng.choice([512, 768, 1024, 1280, 2048, 4096])
        else:
            vocab = rng.choice([5_000, 8_000, 10_000, 12_000, 15_000, 20_000, 25_000, 30_000])
            vocab = rng.choice([vocab, 40_000, 50_000, 60_000, 80_000, 100_000])
            dim = rng.choice(
                [50, 64, 100, 128, 200, 300]
                if level is Difficulty.EASY
                else [128, 256, 300, 512, 768, 1024]
            )
            vocab = vocab if level is Difficulty.EASY else vocab * rng.choice([1, 2, 10])
        return {"vocab": vocab, "dim": dim}

    def ask(self, p: EmbeddingParamsParams) -> Localized:
        return Localized(
            en=f"How many learnable parameters does nn.Embedding({p.vocab}, {p.dim}) have "
            f"(a vocabulary of {n(p.vocab)} words, {p.dim}-dimensional vectors)?",
            zh=f"nn.Embedding({p.vocab}, {p.dim})（词表 {n(p.vocab)} 个词，词向量 {p.dim} 维）"
            "有多少个可学习参数？",
        )

    def solve(self, p: EmbeddingParamsParams) -> Solved:
        # Passing the (meta) weight skips nn.Embedding's normal_ initialisation, whose meta
        # kernel costs about a second on first use; the module and its count are the same.
        table = torch.empty(p.vocab, p.dim, device=META)
        total = count_params(nn.Embedding(p.vocab, p.dim, _weight=table))
        solution = Localized(
            en=f"One {p.dim}-dimensional row per word, no bias: vocab × dim = {n(p.vocab)} × "
            f"{p.dim} "
            f"= {n(total)}.",
            zh=f"每个词一行 {p.dim} 维向量，没有偏置：vocab × dim = {n(p.vocab)} × {p.dim} = "
            f"{n(total)}。",
        )
        candidates = [
            mistake(
                "two_matrices",
                2 * total,
                "nn.Embedding is a single lookup table; word2vec's separate input and output "
                "(context) matrices are two such tables, not one.",
                "nn.Embedding 只是一张查找表；word2vec 的输入矩阵和输出（上下文）"
                "矩阵是两张这样的表。",
            ),
            mistake(
                "added_bias",
                total + p.dim,
                "An embedding is a lookup table with no bias.",
                "Embedding 只是查找表，没有偏置。",
            ),
        ]
        return Solved(total, solution, tuple(candidates))
