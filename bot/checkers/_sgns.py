"""word2vec's negative sampling: the SGNS loss and its gradients (the noise distribution and
subsampling: bot/checkers/_w2v_sampling.py).

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

from bot.checkers._base import Params, Real, Solved, _not_bool, mistake
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
    kernel stalls for milliseconds on tiny tensors when torch runs several threads. Its
    `threshold` (where softplus turns into the identity) is 50, not the default 20: past 20
    the identity is off by e^-20 (σ(20.4) came out as exactly 1, its gradient 1.3e-9 off),
    past 50 by less than float64 can show."""
    return F.softplus(-score, threshold=50)


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
        formula = rule.partition(" with ")[0]  # in symbols, before the numbers
        hint = Localized(
            en=f"{formula}, σ the logistic function.", zh=f"{formula}，σ 为 logistic 函数。"
        )
        return Solved(expected, solution, tuple(candidates), hint=hint)
