"""skipgram_pairs: how many (center, context) training pairs a text yields."""

from __future__ import annotations

from random import Random
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field

from bot.checkers._base import Family, Params, Solved, _not_bool, mistake
from bot.core.answers import format_number
from bot.core.models import Difficulty, Localized

_SENTENCES = {
    4: "i like deep learning",
    6: "the cat sat on the mat",
    9: "the quick brown fox jumps over the lazy dog",
    10: "you shall know a word by the company it keeps",
}


_LONG_TEXTS = [1_000, 2_500, 5_000, 10_000, 30_000, 50_000, 100_000, 250_000, 1_000_000]
_LONG_TEXTS += [3_000_000, 17_000_000, 100_000_000]


class SkipgramPairsParams(Params):
    n_tokens: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=10_000_000_000)]
    window: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=1000)]


def count_pairs(n_tokens: int, window: int) -> int:
    """Count the pairs offset by offset: a context at distance o exists for n - o centres on
    each side (none once o >= n); NumPy sums the 2·window offsets exactly in int64."""
    offsets = np.arange(1, window + 1, dtype=np.int64)
    per_side = np.clip(np.int64(n_tokens) - offsets, 0, None)
    return int(2 * per_side.sum())


class SkipgramPairs(Family[SkipgramPairsParams]):
    name = "skipgram_pairs"
    summary = "(center, context) pairs with a fixed window, truncated at the ends"
    params_model = SkipgramPairsParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:
            return {
                "n_tokens": rng.choice([4, 6, 9, *range(5, 26)]),
                "window": rng.choice([1, 2, 3]),
            }
        if level is Difficulty.MEDIUM:
            return {
                "n_tokens": rng.choice([9, 10, 20, 50, 30, 40, 64, 80, 100, 128, 200]),
                "window": rng.choice([2, 3, 4, 5, 8]),
            }
        return {
            "n_tokens": rng.choice(_LONG_TEXTS),  # text8 is 17M tokens
            "window": rng.choice([5, 10, 2, 8, 15]),
        }

    def ask(self, p: SkipgramPairsParams) -> Localized:
        sentence = _SENTENCES.get(p.n_tokens)
        text_en = (
            f'the {p.n_tokens}-token sentence "{sentence}"'
            if sentence
            else (f"a text of {format_number(p.n_tokens)} tokens")
        )
        text_zh = (
            f"包含 {p.n_tokens} 个词的句子 “{sentence}”"
            if sentence
            else (f"一段 {format_number(p.n_tokens)} 个词的文本")
        )
        return Localized(
            en=f"word2vec skip-gram with a fixed window of {p.window} "
            f"{'word' if p.window == 1 else 'words'} on each side is "
            f"trained on {text_en}. How many (center, context) pairs does it produce? The window "
            "is truncated at the ends of the text (no padding), and the window size is not "
            "sampled.",
            zh=f"用 word2vec 的 skip-gram 模型在{text_zh}上训练，固定窗口为每侧 {p.window} 个词。"
            "一共产生多少个（中心词，上下文词）训练对？窗口在文本两端截断（不补齐），"
            "窗口大小不随机采样。",
        )

    def solve(self, p: SkipgramPairsParams) -> Solved:
        n, w = p.n_tokens, p.window
        total = count_pairs(n, w)
        full = 2 * w * n
        lost = full - total
        solution = Localized(
            en=f"Without the ends every token would have 2·{w} contexts: 2·{w}·{format_number(n)} "
            f"= {format_number(full)}. Near each end the window is cut: at distance o there are "
            f"only n - o centres per side, so the total is 2·Σ_(o=1..{w}) max(0, n - o) = "
            f"{format_number(total)} ({format_number(lost)} fewer).",
            zh=f"如果不考虑两端，每个词都有 2·{w} 个上下文：2·{w}·{format_number(n)} = "
            f"{format_number(full)}。两端的窗口会被截断：距离为 o 的上下文每侧只有 n - o 个中心词，"
            f"所以总数为 2·Σ_(o=1..{w}) max(0, n - o) = {format_number(total)}"
            f"（少了 {format_number(lost)} 个）。",
        )
        candidates = [
            mistake(
                "no_truncation",
                full,
                "Tokens near the ends have fewer than 2·window neighbours: the window is "
                "truncated there.",
                "靠近两端的词没有 2·window 个邻居：窗口在两端被截断了。",
            ),
            mistake(
                "one_side",
                total // 2,
                "Each token looks at both sides: a pair is produced for the context on the left "
                "and on the right.",
                "每个中心词两侧都要看：左边和右边的上下文都会产生训练对。",
            ),
            mistake(
                "included_center",
                total + n,
                "A word is not its own context: the centre is excluded from the window.",
                "中心词不是自己的上下文：窗口不包括中心词本身。",
            ),
        ]
        return Solved(total, solution, tuple(candidates))
