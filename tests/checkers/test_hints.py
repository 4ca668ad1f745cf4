"""The interview hint of a numeric question (`NumericQuestion.hint`): the method to start from,
in both languages, never the answer and never a clause cut in the middle. Checked on every
family over many seeds (a hint drawn from the worked solution's first step used to give the
answer for batchnorm_params and gan_loss, and to stop at "peaks at z" or "sorted y")."""

from __future__ import annotations

import re

import pytest

from bot.checkers import TorchCheckers

CHECKERS = TorchCheckers()
SEEDS = range(1, 61)
# A number as written in a hint: 1,184 · -0.314711 · 5.5e-17 (thousands separators allowed).
NUMBER = re.compile(
    r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?"
)
# How a clause cut in the middle ends: an opening bracket, "at z", "sorted y", ", h".
DANGLING = re.compile(r"(?:\(\w*|\bat \w+|\bsorted \w+|, \w{1,2})$")


def values_in(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in NUMBER.findall(text)]


def close(a: float, b: float) -> bool:
    """Whether `a` would be graded right for `b`: whole numbers exactly, others within 0.1%."""
    if b.is_integer():
        return a == b
    return abs(a - b) <= max(1e-3 * abs(b), 1e-9)


@pytest.mark.parametrize("family", CHECKERS.family_names())
def test_the_hint_is_a_method_not_the_answer(family: str) -> None:
    for seed in SEEDS:
        question = CHECKERS.generate(family, seed)
        hint = question.hint
        assert hint is not None and hint.en.strip() and hint.zh.strip(), (family, seed)
        expected = question.expected if isinstance(question.expected, list) else [question.expected]
        for lang in ("en", "zh"):
            text = getattr(hint, lang)
            # What the question says already gives nothing away (clip_grad_norm's answer can
            # be its gradient, unchanged); small whole numbers (0 to 3) are also the constants
            # of formulas (`1 - σ(x)`).
            given = values_in(getattr(question.text, lang))
            telling = [
                float(v)
                for v in expected
                if not (float(v).is_integer() and abs(v) <= 3)
                and not any(close(x, float(v)) for x in given)
            ]
            found = [x for x in values_in(text) if not (x.is_integer() and abs(x) <= 3)]
            leaked = [v for v in telling if any(close(x, v) for x in found)]
            assert not leaked, (family, seed, lang, text, question.expected)
            assert not DANGLING.search(text.rstrip(".。")), (family, seed, lang, text)


@pytest.mark.parametrize("family", CHECKERS.family_names())
def test_the_chinese_hint_gives_no_number_the_english_one_does_not(family: str) -> None:
    """Both languages start from the same step (the Chinese solution of noise_distribution
    joined its first two clauses with a comma, so its hint gave the sum too)."""
    for seed in SEEDS:
        hint = CHECKERS.generate(family, seed).hint
        assert hint is not None
        extra = set(values_in(hint.zh)) - set(values_in(hint.en))
        assert not extra, (family, seed, hint.en, hint.zh)
