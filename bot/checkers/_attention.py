"""Attention: the parameters of nn.MultiheadAttention and one scaled dot-product attention.

The parameter count is read off the real module on the meta device; the attention output is
`F.scaled_dot_product_attention` in float64 on the given tiny matrices.
"""

from __future__ import annotations

import math
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
import torch.nn.functional as F
from pydantic import BeforeValidator, Field, model_validator
from torch import nn

from bot.checkers._base import Family, Params, Real, Solved, _not_bool, mistake
from bot.checkers._params import n
from bot.checkers._recurrent import fm
from bot.checkers._telling import TellingFamily
from bot.checkers._torch import F64, count_params, meta_module
from bot.checkers._values import f, fl, list_request
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized
from bot.core.validation import refused

Width = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=100_000)]
Heads = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=1024)]


# --- mha_params -------------------------------------------------------------------------------


class MhaParamsParams(Params):
    embed_dim: Width
    num_heads: Heads
    bias: bool = True
    kdim: Width | None = Field(default=None, description="key features (default: embed_dim)")
    vdim: Width | None = Field(default=None, description="value features (default: embed_dim)")

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.embed_dim % self.num_heads:
            raise refused(
                f"embed_dim={self.embed_dim} is not divisible by num_heads={self.num_heads}",
                f"embed_dim={self.embed_dim} 不能被 num_heads={self.num_heads} 整除",
            )
        return self


def mha_formula(e: int, h: int, bias: bool, k: int, v: int, *, heads_full: bool = False) -> int:
    """Q, K, V projections (E×E, E×kdim, E×vdim), their biases, the output projection."""
    copies = h if heads_full else 1
    projections = copies * e * (e + k + v) + (copies * 3 * e if bias else 0)
    return projections + e * e + (e if bias else 0)


class MhaParams(Family[MhaParamsParams]):
    name = "mha_params"
    summary = "learnable parameters of nn.MultiheadAttention (in and out projections)"
    params_model = MhaParamsParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        heads = rng.choice([1, 2, 4, 8, 12, 16])
        if level is Difficulty.EASY:
            dim = heads * rng.choice([8, 16, 32, 64, 24, 48, 96, 128, 10, 20])
            return {"embed_dim": dim, "num_heads": heads}
        if level is Difficulty.MEDIUM:
            dim = rng.choice([256, 384, 512, 768, 1024, 1280, 1536, 2048, 4096, 5120, 960, 640])
            heads = rng.choice([h for h in (4, 6, 8, 12, 16, 20, 32, 40) if dim % h == 0])
            return {"embed_dim": dim, "num_heads": heads, "bias": rng.random() < 0.7}
        dim = rng.choice([256, 512, 768, 1024])
        heads = rng.choice([4, 8, 16])
        kdim = rng.choice([64, 128, 300, 512, 2048])
        vdim = rng.choice([64, 128, 300, 512, 2048, kdim])
        return {
            "embed_dim": dim,
            "num_heads": heads,
            "bias": rng.random() < 0.7,
            "kdim": kdim,
            "vdim": vdim,
        }

    def ask(self, p: MhaParamsParams) -> Localized:
        args = [f"embed_dim={p.embed_dim}", f"num_heads={p.num_heads}"]
        args += ["bias=False"] if not p.bias else []
        args += [f"kdim={p.kdim}"] if p.kdim is not None else []
        args += [f"vdim={p.vdim}"] if p.vdim is not None else []
        call = f"nn.MultiheadAttention({', '.join(args)})"
        return Localized(
            en=f"How many learnable parameters does {call} have (input projections for Q, K "
            "and V, and the output projection)?",
            zh=f"{call} 有多少个可学习参数（包括 Q、K、V 的输入投影和输出投影）？",
        )

    def solve(self, p: MhaParamsParams) -> Solved:
        module = meta_module(
            nn.MultiheadAttention, p.embed_dim, p.num_heads, bias=p.bias, kdim=p.kdim, vdim=p.vdim
        )
        total = count_params(module)
        e, h = p.embed_dim, p.num_heads
        k = p.kdim if p.kdim is not None else e
        v = p.vdim if p.vdim is not None else e
        in_w, in_b = e * (e + k + v), (3 * e if p.bias else 0)
        out_w, out_b = e * e, (e if p.bias else 0)
        bias_en = f" + biases 3·E = {n(in_b)}" if p.bias else " (no biases)"
        bias_zh = f" + 偏置 3·E = {n(in_b)}" if p.bias else "（无偏置）"
        solution = Localized(
            en=f"The heads split E = {e} into {h} heads of {e // h}, so the projections have the "
            f"same size whatever the number of heads. Input projections W_q, W_k, W_v: "
            f"E·(E + kdim + vdim) = {e}·({e} + {k} + {v}) = {n(in_w)}{bias_en}; output "
            f"projection E·E = {n(out_w)}{f' + E = {n(out_b)}' if p.bias else ''}. "
            f"Total = {n(total)}.",
            zh=f"多头只是把 E = {e} 分成 {h} 个 {e // h} 维的头，所以投影矩阵的大小与头数无关。"
            f"输入投影 W_q、W_k、W_v：E·(E + kdim + vdim) = {e}·({e} + {k} + {v}) = {n(in_w)}"
            f"{bias_zh}；输出投影 E·E = {n(out_w)}{f' + E = {n(out_b)}' if p.bias else ''}。"
            f"合计 {n(total)}。",
        )
        candidates: list[KnownMistake | None] = [
            mistake(
                "forgot_output_projection",
                in_w + in_b,
                "nn.MultiheadAttention also has the output projection out_proj (E×E plus its "
                "bias) that mixes the concatenated heads.",
                "nn.MultiheadAttention 还有输出投影 out_proj（E×E 加偏置），用来混合拼接后的各头。",
            ),
            mistake(
                "per_head_full",
                mha_formula(e, h, p.bias, k, v, heads_full=True),
                "Each head projects to E/num_heads dimensions, not E: together the heads use "
                "one E×E matrix per projection, whatever num_heads is.",
                "每个头只投影到 E/num_heads 维，而不是 E 维：所有头合起来每种投影只有一个 E×E "
                "矩阵，与头数无关。",
            )
            if h > 1
            else None,
            mistake(
                "divided_by_heads",
                (in_w + out_w) // h + in_b + out_b,
                "Splitting into heads does not divide the parameters: the heads' E/num_heads "
                "slices together make full E×E projections.",
                "分成多个头并不会减少参数：各头 E/num_heads 维的切片合起来就是完整的 E×E 投影。",
            )
            if h > 1
            else None,
            mistake(
                "forgot_bias",
                in_w + out_w,
                "The projections have biases: 3·E for the input projections and E for out_proj.",
                "投影带有偏置：输入投影 3·E 个，out_proj 有 E 个。",
            )
            if p.bias
            else None,
            mistake(
                "added_bias",
                total + 4 * e,
                "With bias=False the projections have no biases.",
                "bias=False 时各投影都没有偏置。",
            )
            if not p.bias
            else None,
            mistake(
                "ignored_kdim",
                4 * e * e + (4 * e if p.bias else 0),
                "With kdim/vdim the key and value projections are E×kdim and E×vdim, not E×E.",
                "设置了 kdim/vdim 时，键和值的投影是 E×kdim 和 E×vdim，而不是 E×E。",
            )
            if (k, v) != (e, e)
            else None,
        ]
        return Solved(total, solution, tuple(m for m in candidates if m is not None))


# --- sdpa_output ------------------------------------------------------------------------------

Vec = Annotated[list[Real], Field(min_length=1, max_length=8)]
Rows = Annotated[list[Vec], Field(min_length=2, max_length=8)]
_VALUES = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]


class SdpaOutputParams(Params):
    q: Vec = Field(description="one query vector (length d)")
    K: Rows = Field(description="the keys, one row of length d per position")
    V: Rows = Field(description="the values, one row per position")
    output: Literal["output", "weights"] = "output"
    scale: Annotated[float, Field(gt=0, le=1e3, allow_inf_nan=False)] | None = Field(
        default=None, description="score scale (default 1/sqrt(d))"
    )

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if any(len(row) != len(self.q) for row in self.K):
            raise ValueError(f"every key must have len(q) = {len(self.q)} numbers")
        if len(self.V) != len(self.K):
            raise ValueError(f"V needs one row per key ({len(self.K)})")
        if len({len(row) for row in self.V}) != 1:
            raise ValueError("every row of V must have the same length")
        return self


class SdpaOutput(TellingFamily[SdpaOutputParams]):
    name = "sdpa_output"
    summary = "softmax(q·K^T/sqrt(d))·V for one query, or the attention weights (lists)"
    params_model = SdpaOutputParams

    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        d, positions, d_v = {
            Difficulty.EASY: (2, 2, 1),
            Difficulty.MEDIUM: (2, 3, 2),
            Difficulty.HARD: (4, 3, 2),
        }[level]
        q = [rng.choice(_VALUES) for _ in range(d)]
        keys: list[list[float]] = []
        while len(keys) < positions:  # distinct scores, so that no two keys tie
            key = [rng.choice(_VALUES) for _ in range(d)]
            score = sum(a * b for a, b in zip(q, key, strict=True))
            if all(score != sum(a * b for a, b in zip(q, k, strict=True)) for k in keys):
                keys.append(key)
        values: list[list[float]] = []
        while len(values) < positions:
            row = [rng.choice([*_VALUES, 0.0, 3.0]) for _ in range(d_v)]
            if row not in values:
                values.append(row)
        output = "weights" if level is Difficulty.EASY and rng.random() < 0.5 else "output"
        return {"q": q, "K": keys, "V": values, "output": output}

    def ask(self, p: SdpaOutputParams) -> Localized:
        d = len(p.q)
        scale_en = f"scaled by 1/√d = 1/√{d}" if p.scale is None else f"scaled by {f(p.scale)}"
        scale_zh = f"乘以 1/√d = 1/√{d}" if p.scale is None else f"乘以 {f(p.scale)}"
        if p.output == "weights":
            n_out = len(p.K)
            what_en = f"the attention weights over the {n_out} positions"
            what_zh = f"这 {n_out} 个位置上的注意力权重"
        else:
            n_out = len(p.V[0])
            what_en = "the attention output"
            what_zh = "注意力的输出"
        request = list_request(n_out, self.tolerance)
        return Localized(
            en=f"Scaled dot-product attention (F.scaled_dot_product_attention) with one query "
            f"q = {fl(p.q)}, keys K = {fm(p.K)} (one row per position) and values "
            f"V = {fm(p.V)}: the scores q·k are {scale_en}, then a softmax over the positions "
            f"weights the values. What is {what_en}? {request.en}",
            zh=f"缩放点积注意力（F.scaled_dot_product_attention）：一个查询 q = {fl(p.q)}，"
            f"键 K = {fm(p.K)}（每行一个位置），值 V = {fm(p.V)}。分数 q·k 先{scale_zh}，"
            f"再对各位置做 softmax，用得到的权重对值加权求和。求{what_zh}。{request.zh}",
        )

    def quick(self, p: SdpaOutputParams) -> tuple[list[float], dict[str, list[float]]]:
        """`work`'s key and mistakes in floats."""
        d = len(p.q)
        scale = p.scale if p.scale is not None else 1 / math.sqrt(d)
        scores = [sum(a * b for a, b in zip(p.q, row, strict=True)) for row in p.K]
        cols = range(len(p.V[0]))

        def variant(factor: float) -> list[float]:
            scaled = [s * factor for s in scores]
            top = max(scaled)
            exps = [math.exp(s - top) for s in scaled]
            weights = [e / sum(exps) for e in exps]
            if p.output == "weights":
                return weights
            return [sum(w * row[j] for w, row in zip(weights, p.V, strict=True)) for j in cols]

        values: dict[str, list[float]] = {}
        if scale != 1.0:
            values["no_scaling"] = variant(1.0)
        if p.scale is None and d > 1:
            values["scaled_by_d"] = variant(1 / d)
        if p.output == "weights":
            values["no_softmax"] = [s * scale for s in scores]
        else:
            best = max(range(len(scores)), key=lambda i: scores[i])
            values["hard_attention"] = [float(x) for x in p.V[best]]
            values["uniform_average"] = [sum(row[j] for row in p.V) / len(p.V) for j in cols]
        return variant(scale), values

    def work(self, p: SdpaOutputParams) -> Solved:
        d = len(p.q)
        scale = p.scale if p.scale is not None else 1 / math.sqrt(d)
        q, k, v = (torch.tensor(m, dtype=F64) for m in (p.q, p.K, p.V))
        out = F.scaled_dot_product_attention(
            q.view(1, 1, d), k.unsqueeze(0), v.unsqueeze(0), scale=p.scale
        )[0, 0]
        scores = (k @ q).tolist()
        weights = torch.softmax(k @ q * scale, dim=0)
        output = [float(x) for x in out]
        scale_text = f"1/√{d}" if p.scale is None else f(p.scale)
        steps = (
            f"q·k = {fl(scores)}; × {scale_text} = {fl([s * scale for s in scores])}; softmax = "
            f"{fl(weights.tolist())}"
        )
        steps_zh = (
            f"q·k = {fl(scores)}；乘以 {scale_text} 得 {fl([s * scale for s in scores])}；"
            f"softmax 得 {fl(weights.tolist())}"
        )
        if p.output == "weights":
            expected = [float(w) for w in weights]
            solution = Localized(
                en=f"Scores {steps}. Those are the weights.",
                zh=f"分数 {steps_zh}。这就是注意力权重。",
            )
        else:
            expected = output
            solution = Localized(
                en=f"Scores {steps}. Output = Σ weight·V row = {fl(output)}.",
                zh=f"分数 {steps_zh}。输出 = Σ 权重·V 的行 = {fl(output)}。",
            )

        def variant(factor: float) -> list[float]:
            w = torch.softmax(k @ q * factor, dim=0)
            return [float(x) for x in (w if p.output == "weights" else w @ v)]

        candidates: list[KnownMistake | None] = [
            mistake(
                "no_scaling",
                variant(1.0),
                "The scores are divided by √d before the softmax (that is the 'scaled' in "
                "scaled dot-product attention).",
                "softmax 之前要把分数除以 √d（这就是“缩放”点积注意力中的“缩放”）。",
            )
            if scale != 1.0
            else None,
            mistake(
                "scaled_by_d",
                variant(1 / d),
                "The scale is 1/√d, not 1/d.",
                "缩放因子是 1/√d，不是 1/d。",
            )
            if p.scale is None and d > 1
            else None,
        ]
        if p.output == "weights":
            candidates.append(
                mistake(
                    "no_softmax",
                    [s * scale for s in scores],
                    "Those are the scaled scores; the weights are their softmax (positive, "
                    "summing to 1).",
                    "这只是缩放后的分数；权重是它们的 softmax（为正，且和为 1）。",
                )
            )
        else:
            best = max(range(len(scores)), key=lambda i: scores[i])
            candidates += [
                mistake(
                    "hard_attention",
                    [float(x) for x in p.V[best]],
                    "Softmax attention blends every value row by its weight; it does not pick "
                    "the best-scoring row.",
                    "softmax 注意力按权重混合所有值向量，而不是只取分数最高的那一行。",
                ),
                mistake(
                    "uniform_average",
                    [float(x) for x in v.mean(dim=0)],
                    "The weights come from the scores' softmax, not a plain average of the values.",
                    "权重来自分数的 softmax，而不是对值向量简单求平均。",
                ),
            ]
        return Solved(expected, solution, tuple(m for m in candidates if m is not None))
