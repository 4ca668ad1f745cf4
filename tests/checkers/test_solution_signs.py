"""A worked solution writes a negative number in brackets where a bare minus would be misread:
after an operator (`0.5×(-1)`, `x - (-0.5)`) and under a power (`1 - (-0.46)²`, which written
`1 - -0.46²` reads as 1 - (-(0.46²)), the wrong value). Every family, many seeds, both
languages."""

from __future__ import annotations

import re

import pytest

from bot.checkers import TorchCheckers

CHECKERS = TorchCheckers()
# An operator, then a minus sign glued to a digit: "×-1", "- -0.5", "+ -1.2".
AFTER_OPERATOR = re.compile(r"(?:[-+×*/]\s*|\s[-+]\s+)-\d")
# A bare negative number raised to a power: "-0.46²" (not "(-0.46)²", not "x-0.46²").
UNDER_POWER = re.compile(r"(?<![\w.(])-\d[\d.]*(?:e-?\d+)?[²³]")


@pytest.mark.parametrize("family", CHECKERS.family_names())
def test_negative_numbers_are_bracketed_where_a_minus_would_be_misread(family: str) -> None:
    for seed in range(150):
        solution = CHECKERS.generate(family, seed).solution
        for text in (solution.en, solution.zh):
            for pattern in (AFTER_OPERATOR, UNDER_POWER):
                found = pattern.search(text)
                assert found is None, (family, seed, text[max(0, found.start() - 50) :])
