"""Generated questions do not repeat: every family offers at least 50 different questions at
each difficulty, counted as distinct parameter sets over the seeds of that difficulty."""

from __future__ import annotations

import json

import pytest

from bot.checkers import TorchCheckers
from bot.core.models import Difficulty
from bot.core.ports import seed_for

SEEDS = 2000
MIN_DISTINCT = 50

# Families that cannot offer 50 variants, and the most they can (a lower bound is still
# asserted, so a family that shrinks further fails).
EXCEPTIONS: dict[str, int] = {
    # A question per named architecture: 11 models (LeNet-5 for easy, 4 medium, 6 hard).
    "model_params": 1,
}


def distinct_params(checkers: TorchCheckers, family: str, level: Difficulty) -> int:
    return len(
        {
            json.dumps(checkers.params_for_seed(family, seed_for(level, draw)), sort_keys=True)
            for draw in range(SEEDS)
        }
    )


@pytest.mark.parametrize("level", list(Difficulty), ids=lambda level: level.value)
def test_every_family_offers_fifty_questions(checkers: TorchCheckers, level: Difficulty) -> None:
    short = {}
    for family in checkers.family_names():
        count = distinct_params(checkers, family, level)
        if count < EXCEPTIONS.get(family, MIN_DISTINCT):
            short[family] = count
    assert not short, f"fewer than {MIN_DISTINCT} distinct {level.value} questions: {short}"


def test_the_exception_list_is_real(checkers: TorchCheckers) -> None:
    """An excepted family really is short (else it should leave the list) and exists."""
    for family in EXCEPTIONS:
        assert family in checkers.family_names()
        counts = [distinct_params(checkers, family, level) for level in Difficulty]
        assert min(counts) < MIN_DISTINCT, (family, counts)
