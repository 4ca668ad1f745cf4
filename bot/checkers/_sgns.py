"""word2vec's negative sampling: the SGNS loss and its gradients, the unigram^0.75 noise
distribution, and frequent-word subsampling.

The loss and gradients come from torch autograd in float64; the probabilities from torch tensor
arithmetic.
"""

from __future__ import annotations

import math
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
import torch.nn.functional as F
from pydantic import BeforeValidator, Field, model_validator

from bot.checkers._base import Int, Params, Real, Solved, _not_bool, mistake
from bot.checkers._params import n
from bot.checkers._recurrent import fm
from bot.checkers._telling import TellingFamily
from bot.checkers._torch import F64
from bot.checkers._values import f, fl, list_request
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

Vec = Annotated[list[Real], Field(min_length=1, max_length=8)]
Negatives = Annotated[list[Vec], Field(min_length=1, max_length=20)]
_VALUES = [-1.0, -0.5, 0.5, 1.0, 1.5, 2.0]


class SgnsParams(Params):
    v_c: Vec = Field(description="the centre word's input vector")
    u_o: Vec = Field(description="the true context word's output vector")
    u_neg: Negatives = Field(description="the K negative samples' output vectors")

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if len(self.u_o) != len(self.v_c) or any(len(u) != len(self.v_c) for u in self.u_neg):
            raise ValueError("every vector must have the length of v_c")
        return self


class SgnsGradParams(SgnsParams):
    wrt: Literal["center", "context", "negative"] = "center"
    k: Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=19)] = Field(
        default=0, description="which negative (0-based) when wrt=negative"
    )

    @model_validator(mode="after")
    def _index(self) -> Self:
        if self.k >= len(self.u_neg):
            raise ValueError(f"k={self.k} but there are {len(self.u_neg)} negatives")
        return self


def _draw_sgns(rng: Random, level: Difficulty) -> dict[str, Any]:
    size = 2 if level is not Difficulty.HARD else 3
    negatives = {Difficulty.EASY: 1, Difficulty.MEDIUM: 2, Difficulty.HARD: 2}[level]

    def vector() -> list[float]:
        return [rng.choice(_VALUES) for _ in range(size)]

    v_c = vector()
    scores: set[float] = set()
    vectors: list[list[float]] = []
    while len(vectors) < 1 + negatives:  # distinct, nonzero scores keep every mistake visible
        u = vector()
        score = sum(a * b for a, b in zip(u, v_c, strict=True))
        if score != 0 and score not in scores:
            scores.add(score)
            vectors.append(u)
    return {"v_c": v_c, "u_o": vectors[0], "u_neg": vectors[1:]}


def _scores(p: SgnsParams, v_c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    u_o = torch.tensor(p.u_o, dtype=F64)
    u_neg = torch.tensor(p.u_neg, dtype=F64)
    return u_o @ v_c, u_neg @ v_c


def _setup(p: SgnsParams) -> tuple[str, str]:
    negatives = (
        f"negative sample has the output vector {fm(p.u_neg)}"
        if len(p.u_neg) == 1
        else f"{len(p.u_neg)} negative samples have the output vectors {fm(p.u_neg)}"
    )
    return (
        f"Skip-gram with negative sampling: the centre word's input vector is v_c = "
        f"{fl(p.v_c)}, the true context word's output vector is u_o = {fl(p.u_o)}, and the "
        f"{negatives}. The loss is L = -ln σ(u_o·v_c) - Σ_k ln σ(-u_k·v_c) (natural log).",
        f"带负采样的 skip-gram：中心词的输入向量为 v_c = {fl(p.v_c)}，真实上下文词的输出向量为 "
        f"u_o = {fl(p.u_o)}，{len(p.u_neg)} 个负样本的输出向量为 {fm(p.u_neg)}。损失为 "
        "L = -ln σ(u_o·v_c) - Σ_k ln σ(-u_k·v_c)（自然对数）。",
    )


def _nll(score: torch.Tensor) -> torch.Tensor:
    """-ln σ(s), written as softplus(-s): the same stable value as -F.logsigmoid, whose CPU
    kernel stalls for milliseconds on tiny tensors when torch runs several threads."""
    return F.softplus(-score)


def _nll_float(score: float) -> float:
    """-ln σ(s) in plain floats, stable on both sides."""
    if score >= 0:
        return math.log1p(math.exp(-score))
    return -score + math.log1p(math.exp(score))


def sgns(p: SgnsParams) -> tuple[float, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, ∂L/∂v_c, ∂L/∂u_o, ∂L/∂u_neg) by autograd."""
    v_c = torch.tensor(p.v_c, dtype=F64, requires_grad=True)
    u_o = torch.tensor(p.u_o, dtype=F64, requires_grad=True)
    u_neg = torch.tensor(p.u_neg, dtype=F64, requires_grad=True)
    loss = _nll(u_o @ v_c) + _nll(-(u_neg @ v_c)).sum()
    g_c, g_o, g_neg = torch.autograd.grad(loss, (v_c, u_o, u_neg))
    return float(loss.detach()), g_c, g_o, g_neg


class SgnsLoss(TellingFamily[SgnsParams]):
    name = "sgns_loss"
    summary = "skip-gram negative-sampling loss -ln σ(u_o·v_c) - Σ ln σ(-u_k·v_c)"
    params_model = SgnsParams

    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        return _draw_sgns(rng, level)

    def ask(self, p: SgnsParams) -> Localized:
        en, zh = _setup(p)
        return Localized(en=f"{en} What is L?", zh=f"{zh}求 L。")

    def quick(self, p: SgnsParams) -> tuple[float, dict[str, float]]:
        """`work`'s key and mistakes in floats (-ln σ(s) = ln(1 + e^-s))."""
        s_o = sum(a * b for a, b in zip(p.u_o, p.v_c, strict=True))
        s_neg = [sum(a * b for a, b in zip(u, p.v_c, strict=True)) for u in p.u_neg]
        pos, neg = _nll_float(s_o), [_nll_float(-s) for s in s_neg]
        loss = pos + sum(neg)
        top = max(s_o, *s_neg)
        values = {
            "log10": loss / math.log(10),
            "negatives_not_flipped": pos + sum(_nll_float(s) for s in s_neg),
            "forgot_negatives": pos,
            "softmax_loss": top + math.log(sum(math.exp(s - top) for s in (s_o, *s_neg))) - s_o,
        }
        if len(neg) > 1:
            values["mean_over_negatives"] = pos + sum(neg) / len(neg)
        return loss, values

    def work(self, p: SgnsParams) -> Solved:
        s_o, s_neg = _scores(p, torch.tensor(p.v_c, dtype=F64))
        loss = float(_nll(s_o) + _nll(-s_neg).sum())  # sgns(p)'s forward, without its backward
        pos = float(_nll(s_o))
        neg = [float(v) for v in _nll(-s_neg)]
        solution = Localized(
            en=f"u_o·v_c = {f(float(s_o))}, so -ln σ({f(float(s_o))}) = {f(pos)}; the negatives "
            f"score u_k·v_c = {fl(s_neg.tolist())}, each adding -ln σ(-u_k·v_c) = {fl(neg)}. "
            f"L = {f(loss)}.",
            zh=f"u_o·v_c = {f(float(s_o))}，所以 -ln σ({f(float(s_o))}) = {f(pos)}；负样本的分数 "
            f"u_k·v_c = {fl(s_neg.tolist())}，每个贡献 -ln σ(-u_k·v_c) = {fl(neg)}。"
            f"L = {f(loss)}。",
        )
        wrong_sign = pos + sum(float(v) for v in _nll(s_neg))
        softmax = float(-torch.log_softmax(torch.cat([s_o.view(1), s_neg]), dim=0)[0])
        candidates: list[KnownMistake | None] = [
            mistake(
                "log10",
                loss / math.log(10),
                "The loss uses the natural log ln, not log10.",
                "损失用的是自然对数 ln，不是 log10。",
            ),
            mistake(
                "negatives_not_flipped",
                wrong_sign,
                "A negative sample should score low: its term is -ln σ(-u_k·v_c), with the "
                "minus sign inside the sigmoid.",
                "负样本的分数应当低：它的项是 -ln σ(-u_k·v_c)，sigmoid 里面有负号。",
            ),
            mistake(
                "forgot_negatives",
                pos,
                "Add the negative samples' terms -ln σ(-u_k·v_c).",
                "还要加上负样本的项 -ln σ(-u_k·v_c)。",
            ),
            mistake(
                "softmax_loss",
                softmax,
                "That is a softmax cross-entropy over the true and negative words; SGNS uses "
                "independent sigmoids (logistic regression per word).",
                "这是对真实词和负样本做 softmax 交叉熵；SGNS 用的是相互独立的 sigmoid"
                "（对每个词做逻辑回归）。",
            ),
            mistake(
                "mean_over_negatives",
                pos + sum(neg) / len(neg),
                "The negative terms are summed over the K samples, not averaged.",
                "负样本的项是对 K 个样本求和，而不是求平均。",
            )
            if len(neg) > 1
            else None,
        ]
        return Solved(loss, solution, tuple(m for m in candidates if m is not None))


class SgnsGrad(TellingFamily[SgnsGradParams]):
    name = "sgns_grad"
    summary = "gradient of the SGNS loss w.r.t. v_c, u_o or one negative u_k (a list)"
    params_model = SgnsGradParams

    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        params = _draw_sgns(rng, level)
        params["wrt"] = rng.choice(
            ["context", "negative", "center"] if level is not Difficulty.HARD else ["center"]
        )
        if params["wrt"] == "negative":
            params["k"] = rng.randrange(len(params["u_neg"]))
        return params

    def ask(self, p: SgnsGradParams) -> Localized:
        en, zh = _setup(p)
        target_en = {
            "center": "the centre vector v_c",
            "context": "the context vector u_o",
            "negative": f"the negative vector u_{p.k} (0-based, row {p.k})",
        }[p.wrt]
        target_zh = {
            "center": "中心词向量 v_c ",
            "context": "上下文向量 u_o ",
            "negative": f"负样本向量 u_{p.k}（从 0 开始，第 {p.k} 行）",
        }[p.wrt]
        symbol = {"center": "v_c", "context": "u_o", "negative": f"u_{p.k}"}[p.wrt]
        request = list_request(len(p.v_c), self.tolerance)
        return Localized(
            en=f"{en} What is the gradient ∂L/∂{symbol} of the loss with respect to {target_en}? "
            f"{request.en}",
            zh=f"{zh}求 L 对{target_zh}的梯度 ∂L/∂{symbol}。{request.zh}",
        )

    def quick(self, p: SgnsGradParams) -> tuple[list[float], dict[str, list[float]]]:
        """`work`'s key and mistakes in floats."""

        def sigmoid(score: float) -> float:
            return 1 / (1 + math.exp(-score))

        def scaled(weight: float, vector: list[float]) -> list[float]:
            return [weight * v for v in vector]

        def plus(*vectors: list[float]) -> list[float]:
            return [sum(column) for column in zip(*vectors, strict=True)]

        sig_o = sigmoid(sum(a * b for a, b in zip(p.u_o, p.v_c, strict=True)))
        sig_neg = [sigmoid(sum(a * b for a, b in zip(u, p.v_c, strict=True))) for u in p.u_neg]
        if p.wrt == "center":
            positive = scaled(sig_o - 1, p.u_o)
            key = plus(positive, *(scaled(s, u) for s, u in zip(sig_neg, p.u_neg, strict=True)))
            wrong = {
                "forgot_negatives": positive,
                "negative_term_flipped": plus(
                    positive, *(scaled(s - 1, u) for s, u in zip(sig_neg, p.u_neg, strict=True))
                ),
            }
        elif p.wrt == "context":
            key = scaled(sig_o - 1, p.v_c)
            wrong = {
                "sigmoid_not_minus_one": scaled(sig_o, p.v_c),
                "wrong_vector": scaled(sig_o - 1, p.u_o),
            }
        else:
            key = scaled(sig_neg[p.k], p.v_c)
            wrong = {
                "treated_as_positive": scaled(sig_neg[p.k] - 1, p.v_c),
                "one_minus_sigmoid": scaled(1 - sig_neg[p.k], p.v_c),
            }
        return key, {"sign": [-v for v in key], **wrong}

    def work(self, p: SgnsGradParams) -> Solved:
        _, g_c, g_o, g_neg = sgns(p)
        v_c = torch.tensor(p.v_c, dtype=F64)
        u_o = torch.tensor(p.u_o, dtype=F64)
        u_neg = torch.tensor(p.u_neg, dtype=F64)
        s_o, s_neg = _scores(p, v_c)
        sig_o, sig_neg = torch.sigmoid(s_o), torch.sigmoid(s_neg)

        def listed(t: torch.Tensor) -> list[float]:
            return [float(v) for v in t]

        if p.wrt == "center":
            expected = listed(g_c)
            rule = (
                f"∂L/∂v_c = (σ(u_o·v_c) - 1)·u_o + Σ_k σ(u_k·v_c)·u_k with σ(u_o·v_c) = "
                f"{f(float(sig_o))}, σ(u_k·v_c) = {fl(sig_neg.tolist())}"
            )
            wrong = [
                (
                    "forgot_negatives",
                    listed((sig_o - 1) * u_o),
                    "The negatives depend on v_c too: add Σ_k σ(u_k·v_c)·u_k.",
                    "负样本的项也依赖 v_c：还要加上 Σ_k σ(u_k·v_c)·u_k。",
                ),
                (
                    "negative_term_flipped",
                    listed((sig_o - 1) * u_o + ((sig_neg - 1)[:, None] * u_neg).sum(0)),
                    "d/ds of -ln σ(-s) is σ(s), not σ(s) - 1: a negative pushes v_c away "
                    "with weight σ(u_k·v_c).",
                    "-ln σ(-s) 对 s 的导数是 σ(s)，不是 σ(s) - 1：负样本以权重 σ(u_k·v_c) "
                    "把 v_c 推开。",
                ),
            ]
        elif p.wrt == "context":
            expected = listed(g_o)
            rule = f"∂L/∂u_o = (σ(u_o·v_c) - 1)·v_c with σ(u_o·v_c) = {f(float(sig_o))}"
            wrong = [
                (
                    "sigmoid_not_minus_one",
                    listed(sig_o * v_c),
                    "d/ds of -ln σ(s) is σ(s) - 1 (negative: the step pulls u_o towards v_c).",
                    "-ln σ(s) 对 s 的导数是 σ(s) - 1（为负：更新把 u_o 拉向 v_c）。",
                ),
                (
                    "wrong_vector",
                    listed((sig_o - 1) * u_o),
                    "The derivative of u_o·v_c with respect to u_o is v_c, not u_o.",
                    "u_o·v_c 对 u_o 的导数是 v_c，而不是 u_o。",
                ),
            ]
        else:
            expected = listed(g_neg[p.k])
            rule = f"∂L/∂u_k = σ(u_k·v_c)·v_c with σ(u_{p.k}·v_c) = {f(float(sig_neg[p.k]))}"
            wrong = [
                (
                    "treated_as_positive",
                    listed((sig_neg[p.k] - 1) * v_c),
                    "A negative sample's term is -ln σ(-u_k·v_c): its gradient is "
                    "σ(u_k·v_c)·v_c, not (σ(u_k·v_c) - 1)·v_c.",
                    "负样本的项是 -ln σ(-u_k·v_c)：梯度是 σ(u_k·v_c)·v_c，而不是 "
                    "(σ(u_k·v_c) - 1)·v_c。",
                ),
                (
                    "one_minus_sigmoid",
                    listed((1 - sig_neg[p.k]) * v_c),
                    "The weight is σ(u_k·v_c), how likely the model still finds the negative, "
                    "not 1 - σ(u_k·v_c).",
                    "权重是 σ(u_k·v_c)（模型仍认为负样本可能出现的程度），而不是 1 - σ(u_k·v_c)。",
                ),
            ]
        solution = Localized(
            en=f"{rule}. Gradient = {fl(expected)}.",
            zh=f"{rule.replace(' with ', '，其中 ').replace(', σ(u_k', '，σ(u_k')}。"
            f"梯度 = {fl(expected)}。",
        )
        candidates = [
            mistake(
                "sign",
                [-v for v in expected],
                "The sign is flipped: that is the descent direction -∂L, not the gradient.",
                "符号反了：这是下降方向 -∂L，而不是梯度本身。",
            ),
            *(mistake(*item) for item in wrong),
        ]
        return Solved(expected, solution, tuple(candidates))


# --- noise_distribution -----------------------------------------------------------------------

Count = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=10**12)]
_WORDS = ["the", "of", "cat", "sat", "mat", "on", "dog", "ran"]


class NoiseDistributionParams(Params):
    counts: Annotated[list[Count], Field(min_length=2, max_length=50)]
    word: Int = Field(description="which word (0-based index into counts)")
    power: Annotated[float, Field(gt=0, le=2, allow_inf_nan=False)] = 0.75

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if not 0 <= self.word < len(self.counts):
            raise ValueError(f"word {self.word} is not an index 0..{len(self.counts) - 1}")
        return self


class NoiseDistribution(TellingFamily[NoiseDistributionParams]):
    name = "noise_distribution"
    summary = "word2vec's negative-sampling probability count^0.75 / Σ count^0.75"
    params_model = NoiseDistributionParams
    percent_ok = True

    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        size = {Difficulty.EASY: 2, Difficulty.MEDIUM: 3, Difficulty.HARD: 4}[level]
        pool = (
            [1, 16, 81, 256, 625, 10, 100, 1000, 50, 5, 2, 3]
            if level is not (Difficulty.HARD)
            else [7, 40, 300, 2500, 12, 900, 64, 10_000]
        )
        while True:
            counts = rng.sample(pool, size)
            if len(set(counts)) == size:
                break
        return {"counts": counts, "word": rng.randrange(size)}

    def ask(self, p: NoiseDistributionParams) -> Localized:
        words = (
            ", ".join(f"'{w}': {n(c)}" for w, c in zip(_WORDS, p.counts, strict=False))
            if len(p.counts) <= len(_WORDS)
            else fl([float(c) for c in p.counts])
        )
        name = f"'{_WORDS[p.word]}'" if len(p.counts) <= len(_WORDS) else f"number {p.word}"
        name_zh = f"“{_WORDS[p.word]}”" if len(p.counts) <= len(_WORDS) else f"第 {p.word} 个词"
        return Localized(
            en=f"A corpus has the word counts {{{words}}}. word2vec draws negative samples from "
            f"the unigram distribution raised to the power {p.power:g} (then renormalised). "
            f"What is the probability of drawing {name}?",
            zh=f"语料中各词的出现次数为 {{{words}}}。word2vec 从取 {p.power:g} 次幂（再归一化）的"
            f"一元分布中抽取负样本。抽到{name_zh}的概率是多少？",
        )

    def quick(self, p: NoiseDistributionParams) -> tuple[float, dict[str, float]]:
        """`work`'s key and mistakes in floats."""
        powered = [c**p.power for c in p.counts]
        total = sum(p.counts)
        return powered[p.word] / sum(powered), {
            "forgot_power": p.counts[p.word] / total,
            "not_renormalised": (p.counts[p.word] / total) ** p.power,
            "numerator_only": powered[p.word] / total,
        }

    def work(self, p: NoiseDistributionParams) -> Solved:
        counts = torch.tensor(p.counts, dtype=F64)
        powered = counts**p.power
        probs = powered / powered.sum()
        value = float(probs[p.word])
        total = float(counts.sum())
        solution = Localized(
            en=f"count^{p.power:g} = {fl(powered.tolist())}; their sum is "
            f"{f(float(powered.sum()))}; P = {f(float(powered[p.word]))} / "
            f"{f(float(powered.sum()))} = {f(value)} (raw frequency "
            f"{f(p.counts[p.word] / total)}: the power flattens the distribution).",
            zh=f"count^{p.power:g} = {fl(powered.tolist())}，总和为 {f(float(powered.sum()))}；"
            f"P = {f(float(powered[p.word]))} / {f(float(powered.sum()))} = {f(value)}"
            f"（原始频率为 {f(p.counts[p.word] / total)}：取幂让分布更平）。",
        )
        candidates = [
            mistake(
                "forgot_power",
                p.counts[p.word] / total,
                f"That is the raw unigram frequency; word2vec raises the counts to the power "
                f"{p.power:g} first, which gives rare words more negatives.",
                f"这是原始的一元频率；word2vec 先把次数取 {p.power:g} 次幂，让稀有词更常被抽到。",
            ),
            mistake(
                "not_renormalised",
                (p.counts[p.word] / total) ** p.power,
                "After raising the frequencies to the power, divide by their sum again: the "
                "probabilities must add up to 1.",
                "频率取幂之后要再除以它们的总和：概率之和必须为 1。",
            ),
            mistake(
                "numerator_only",
                float(powered[p.word]) / total,
                "Raise every count to the power, in the denominator too.",
                "分母中的每个次数也要取幂。",
            ),
        ]
        return Solved(value, solution, tuple(candidates))


# --- subsample_keep ---------------------------------------------------------------------------


class SubsampleKeepParams(Params):
    count: Count
    total: Count
    t: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1e-5
    formula: Literal["paper", "code"] = "paper"

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.count > self.total:
            raise ValueError("count is larger than total")
        return self


def keep_probability(count: int, total: int, t: float, formula: str) -> float:
    f_w = torch.tensor(count, dtype=F64) / total
    threshold = torch.tensor(t, dtype=F64)
    if formula == "paper":
        keep = torch.sqrt(threshold / f_w)
    else:
        keep = (torch.sqrt(f_w / threshold) + 1) * threshold / f_w
    return float(keep.clamp(max=1.0))


class SubsampleKeep(TellingFamily[SubsampleKeepParams]):
    name = "subsample_keep"
    summary = "word2vec's probability of keeping a frequent word (paper or word2vec.c formula)"
    params_model = SubsampleKeepParams
    percent_ok = True

    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        total = rng.choice([1, 2, 5, 10, 17, 50, 100]) * 1_000_000
        share = rng.choice([0.05, 0.03, 0.01, 0.005, 0.002, 0.0007, 0.0004, 0.06, 0.02, 0.001])
        params: dict[str, Any] = {"count": int(total * share), "total": total}
        if level is Difficulty.EASY:
            params["t"] = 1e-5
        else:
            params["t"] = rng.choice([1e-5, 1e-4, 1e-3])
        if level is Difficulty.HARD:
            params["formula"] = "code"
        return params

    def ask(self, p: SubsampleKeepParams) -> Localized:
        rule_en = (
            "the word2vec paper's subsampling (Mikolov et al., 2013: discard a word with "
            "probability 1 - √(t/f))"
            if p.formula == "paper"
            else "the subsampling rule of the original word2vec C code (also gensim's)"
        )
        rule_zh = (
            "word2vec 论文中的下采样规则（Mikolov 等，2013：以概率 1 - √(t/f) 丢弃一个词）"
            if p.formula == "paper"
            else "word2vec 原始 C 代码（gensim 也一样）中的下采样规则"
        )
        return Localized(
            en=f"A word occurs {n(p.count)} times in a corpus of {n(p.total)} tokens. With "
            f"{rule_en} and threshold t = {p.t:g}, what is the probability that an occurrence "
            "of the word is kept?",
            zh=f"一个词在 {n(p.total)} 个词的语料中出现了 {n(p.count)} 次。按 {rule_zh}，"
            f"阈值 t = {p.t:g}，该词的一次出现被保留的概率是多少？",
        )

    def quick(self, p: SubsampleKeepParams) -> tuple[float, dict[str, float]]:
        """`work`'s key and mistakes in floats. A mistake that `work` names only on one side of
        1 is left out within 1e-9 of it, where torch's rounding could put it on the other."""

        def rule(share: float, formula: str) -> float:
            if formula == "paper":
                return math.sqrt(p.t / share)
            return (math.sqrt(share / p.t) + 1) * p.t / share

        freq = p.count / p.total
        raw = rule(freq, p.formula)
        keep = min(raw, 1.0)
        other = "code" if p.formula == "paper" else "paper"
        values = {f"{other}_formula": min(rule(freq, other), 1.0)}
        if keep < 1 - 1e-9:
            values["discard_not_keep"] = 1 - keep
        if raw > 1 + 1e-9:
            values["not_capped"] = raw
        values["count_not_frequency"] = min(1.0, rule(p.count, p.formula))
        return keep, values

    def work(self, p: SubsampleKeepParams) -> Solved:
        keep = keep_probability(p.count, p.total, p.t, p.formula)
        other = "code" if p.formula == "paper" else "paper"
        freq = p.count / p.total
        if p.formula == "paper":
            raw = math.sqrt(p.t / freq)
            rule = f"keep = √(t/f) = √({p.t:g}/{f(freq)}) = {f(raw)}"
        else:
            raw = (math.sqrt(freq / p.t) + 1) * p.t / freq
            rule = (
                f"keep = (√(f/t) + 1)·t/f = (√({f(freq)}/{p.t:g}) + 1)·{p.t:g}/{f(freq)} = {f(raw)}"
            )
        clipped_en = ", capped at 1" if raw > 1 else ""
        clipped_zh = "，上限为 1" if raw > 1 else ""
        solution = Localized(
            en=f"f = {n(p.count)}/{n(p.total)} = {f(freq)}; {rule}{clipped_en}: {f(keep)}.",
            zh=f"频率 f = {n(p.count)}/{n(p.total)} = {f(freq)}；{rule}{clipped_zh}：保留概率为 "
            f"{f(keep)}。",
        )
        other_value = keep_probability(p.count, p.total, p.t, other)
        candidates: list[KnownMistake | None] = [
            mistake(
                "code_formula" if other == "code" else "paper_formula",
                other_value,
                "That is the word2vec C code's rule, (√(f/t) + 1)·t/f, which keeps more words "
                "than the paper's √(t/f)."
                if other == "code"
                else "That is the paper's rule √(t/f); the C code (and gensim) keep "
                "(√(f/t) + 1)·t/f.",
                "这是 word2vec C 代码的规则 (√(f/t) + 1)·t/f，比论文的 √(t/f) 保留更多的词。"
                if other == "code"
                else "这是论文的规则 √(t/f)；C 代码（以及 gensim）保留的概率是 (√(f/t) + 1)·t/f。",
            ),
            mistake(
                "discard_not_keep",
                1 - keep,
                "That is the probability of discarding the word; the question asks for keeping it.",
                "这是丢弃该词的概率；题目问的是保留的概率。",
            )
            if keep < 1
            else None,
            mistake(
                "not_capped",
                raw,
                "A probability cannot exceed 1: rare words (f < t) are always kept.",
                "概率不能超过 1：稀有词（f < t）总是被保留。",
            )
            if raw > 1
            else None,
            mistake(
                "count_not_frequency",
                min(1.0, math.sqrt(p.t / p.count))
                if p.formula == "paper"
                else min(1.0, (math.sqrt(p.count / p.t) + 1) * p.t / p.count),
                "f is the word's frequency (count divided by the corpus size), not its raw count.",
                "f 是该词的频率（次数除以语料大小），而不是原始次数。",
            ),
        ]
        return Solved(keep, solution, tuple(m for m in candidates if m is not None))
