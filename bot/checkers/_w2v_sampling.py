"""word2vec's sampling: the unigram^0.75 noise distribution negative samples are drawn from,
and the subsampling of frequent words (the probabilities from torch tensor arithmetic)."""

from __future__ import annotations

import math
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
from pydantic import BeforeValidator, Field, model_validator

from bot.checkers._base import Int, Params, Solved, _not_bool, mistake
from bot.checkers._params import n
from bot.checkers._telling import TellingFamily
from bot.checkers._torch import F64
from bot.checkers._values import f, fl
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

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
            # plain digits: a thousands comma inside the braces would read as another entry
            ", ".join(f"'{w}': {c}" for w, c in zip(_WORDS, p.counts, strict=False))
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
            zh=f"count^{p.power:g} = {fl(powered.tolist())}；总和为 {f(float(powered.sum()))}；"
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
